"""Stored-XSS probes: hostile URLs sent through every way a URL enters Steward.

Shared by the page test (tests/web/test_stored_links.py) and the Chromium probe
(tests/web/test_ui_stored_links.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from helpers import api_client, bearer, make_service, make_team, make_user
from sqlalchemy import select, update

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.catalog import graph
from steward.catalog.models import Service
from steward.changes.models import Change, Deployment
from steward.demo.seed import DEMO_PASSWORD
from steward.incidents.models import Alert, Incident

PAYLOADS = Path(__file__).resolve().parent / "fixtures" / "payloads"
PROBES = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.domain)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "srcset",
                  "background", "cite", "data"}
SAFE_SCHEMES = {"", "http", "https", "mailto"}


class Links(HTMLParser):
    """Every URL-valued attribute of a page, and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.lower() in URL_ATTRIBUTES and value is not None:
                self.urls.append((tag, name, value))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def unsafe_urls(html: str) -> tuple[list[tuple[str, str, str]], str]:
    parser = Links()
    parser.feed(html)
    bad = []
    for tag, name, value in parser.urls:
        # What a browser does before it reads the scheme: trim, drop tabs and newlines.
        cleaned = value.strip("".join(chr(c) for c in range(0x21)))
        cleaned = "".join(ch for ch in cleaned if ch not in "\t\n\r")
        if urlsplit(cleaned).scheme.lower() not in SAFE_SCHEMES:
            bad.append((tag, name, value))
    return bad, " ".join(parser.text)


def payload(*parts: str) -> Any:
    return json.loads(PAYLOADS.joinpath(*parts).read_text())


def ingest_everywhere(client: Any, keys: dict[str, str], admin: str, probe: str,
                      n: int) -> list[tuple[str, Any]]:
    """One event from every source, with ``probe`` in each of its URL fields."""
    sent = []
    body = payload("alertmanager", "am-webhook-v4-firing.json")["body"]
    for alert in body["alerts"]:
        alert["labels"]["service"], alert["generatorURL"] = "api", probe
    sent.append(("alertmanager", client.post("/ingest/alertmanager",
                                             headers=bearer(keys["alertmanager"]), json=body)))
    body = payload("grafana", "webhook-docs-example.json")
    body["alerts"] = body["alerts"][:1]
    body["alerts"][0]["labels"]["service"], body["alerts"][0]["generatorURL"] = "api", probe
    sent.append(("grafana", client.post("/ingest/grafana", headers=bearer(keys["grafana"]),
                                        json=body)))
    body = payload("pagerduty", "alert-event-docs-trigger.json")
    body.update(routing_key=keys["pagerduty"], client_url=probe, dedup_key=f"pd-{n}",
                links=[{"href": probe, "text": "more"}])
    body["payload"]["custom_details"] = {"service": "api"}
    sent.append(("pagerduty", client.post("/v2/enqueue", json=body)))
    sent.append(("generic-alert", client.post(
        "/api/v1/alerts", headers=bearer(keys["generic"]),
        json={"dedup_key": f"generic-{n}", "status": "firing", "summary": "Probe",
              "url": probe})))
    event = payload("cdevents", "v0.5.1-incident_detected.json")
    event["context"]["id"] = f"cd-incident-{n}"
    event["subject"]["id"] = f"incident-{n}"
    event["subject"]["content"]["service"] = {"id": "/clusterA/namespaceB/api"}
    event["subject"]["content"]["ticketURI"] = probe
    sent.append(("cdevents", client.post("/ingest/cdevents", headers=bearer(keys["cdevents"]),
                                         json=event)))
    body = payload("github", "deployment_status", "payload.json")
    body["repository"]["full_name"] = "acme/api"
    body["deployment"]["id"] = 9000 + n
    body["deployment_status"].update(target_url=probe, log_url=probe, environment_url=probe)
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(keys["github"].encode(), raw, hashlib.sha256).hexdigest()
    sent.append(("github", client.post("/ingest/github", content=raw, headers={
        "X-GitHub-Event": "deployment_status", "X-GitHub-Delivery": f"delivery-{n}",
        "X-Hub-Signature-256": signature, "content-type": "application/json"})))
    body = payload("gitlab", "deployment-hook.json")
    body["project"]["path_with_namespace"] = "acme/api"
    body["deployment_id"] = 7000 + n
    body.update(deployable_url=probe, commit_url=probe, environment_external_url=probe)
    sent.append(("gitlab", client.post("/ingest/gitlab", json=body, headers={
        "X-Gitlab-Token": keys["gitlab"], "X-Gitlab-Event": "Deployment Hook"})))
    event = payload("pagerduty", "change-event-docs-example.json")
    event.update(routing_key=keys["pagerduty"], dedup_key=f"change-{n}",
                 links=[{"href": probe, "text": "pipeline"}])
    event["payload"]["custom_details"] = {"service": "api"}
    sent.append(("pagerduty-change", client.post("/v2/change/enqueue", json=event)))
    sent.append(("generic-deployment", client.post(
        "/api/v1/deployments", headers=bearer(admin),
        json={"service": "api", "environment": "production", "version": f"1.{n}",
              "status": "in_progress", "external_id": f"run-{n}", "url": probe,
              "links": {"pipeline": probe, "pr": "https://git.example/pr/1"}})))
    return sent


def build_org(db: Any) -> tuple[Any, str, dict[str, str]]:
    """A team, two services, an admin (demo password) and a key of every alert and
    deployment source for the ``api`` service: (API client, admin token, keys)."""
    graph._cache.clear()
    make_team(db, "payments")
    make_service(db, "api", owner="payments", tier=1, annotations={
        "github.com/project-slug": "acme/api", "gitlab.com/project-slug": "acme/api"})
    make_service(db, "db", owner="payments", kind="resource")
    admin = make_user(db, "root", role="admin", password=DEMO_PASSWORD)
    with db.session() as session:
        keys = {kind: create_integration(session, SYSTEM, kind, service="api")[1]
                for kind in ("alertmanager", "grafana", "pagerduty", "generic", "cdevents",
                             "github", "gitlab")}
    return api_client(db), admin, keys


def store_probes(client: Any, db: Any, admin: str, keys: dict[str, str]) -> list[str]:
    """Every probe through every ingest source, then straight into every URL column as
    an older release may have stored it; returns the pages that show them."""
    for n, probe in enumerate(PROBES):
        ingest_everywhere(client, keys, admin, probe, n)
    made = client.post("/api/v1/changes", headers=bearer(admin), json={
        "title": "Old links", "services": ["api"], "links": {"pr": "https://git.example/pr/3"}})
    assert made.status_code == 201, made.text
    with db.session() as session:
        session.execute(update(Service).values(links=[
            {"title": f"Link {i}", "url": p, "type": "runbook"} for i, p in enumerate(PROBES)]
            + [{"title": "Dashboard", "url": "https://grafana.example/d/1", "type": "dashboard"}]))
        session.execute(update(Change).values(
            links={f"link{i}": p for i, p in enumerate(PROBES)}))
        for i, dep_id in enumerate(session.scalars(select(Deployment.id).order_by(Deployment.id))):
            session.execute(update(Deployment).where(Deployment.id == dep_id).values(
                url=PROBES[i % len(PROBES)]))
        for i, alert_id in enumerate(session.scalars(select(Alert.id).order_by(Alert.id))):
            session.execute(update(Alert).where(Alert.id == alert_id).values(
                url=PROBES[i % len(PROBES)]))
        change_ids = list(session.scalars(select(Change.id)))
        incident_ids = list(session.scalars(select(Incident.id)))
    assert change_ids and incident_ids
    return (["/catalog", "/services/api", "/services/db", "/teams", "/teams/payments",
             "/changes", "/deployments", "/deployments/unauthorised", "/incidents",
             "/integrations", "/map", "/changes/calendar", "/kpis"]
            + [f"/changes/{i}" for i in change_ids] + [f"/incidents/{i}" for i in incident_ids])
