"""Stored-XSS probe: a URL field never renders as a link unless it is http(s).

Hostile values are sent through every way a URL enters Steward: people's API
writes (refused, naming the field), every ingest source (kept, the link
dropped), and rows written straight into the database as an older release
may have stored them. Then every page that shows them is parsed, and no
``href`` (nor any other URL attribute) may carry a scheme other than http(s).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from helpers import api_client, bearer, make_service, make_team, make_user
from sqlalchemy import select, update
from webclient import sign_in

from steward.auth.actor import SYSTEM
from steward.auth.integrations import create_integration
from steward.catalog import graph
from steward.catalog.models import Service
from steward.changes.models import Change, Deployment
from steward.demo.seed import DEMO_PASSWORD
from steward.incidents.commands import URL_NOT_LINKED
from steward.incidents.models import Alert, Incident

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
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


@pytest.fixture
def org(db):  # type: ignore[no-untyped-def]
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


def test_people_cannot_store_a_link_that_is_not_http(org):  # type: ignore[no-untyped-def]
    client, admin, _keys = org
    change = client.post("/api/v1/changes", headers=bearer(admin), json={
        "title": "Safe", "services": ["api"], "links": {"pr": "https://git.example/pr/2"}})
    assert change.status_code == 201, change.text
    for probe in PROBES:
        attempts = [
            ("POST", "/api/v1/services", {"name": "evil", "owner": "payments",
                                          "links": [{"url": probe, "title": "Runbook"}]},
             "links.0.url"),
            ("PATCH", "/api/v1/services/api", {"links": [{"url": probe}]}, "links.0.url"),
            ("POST", "/api/v1/changes", {"title": "Probe", "services": ["api"],
                                         "links": {"pipeline": probe}}, "links.pipeline"),
            ("POST", "/api/v1/gate", {"service": "api", "links": {"pipeline": probe}},
             "links.pipeline"),
        ]
        for method, path, body, field in attempts:
            answer = client.request(method, path, headers=bearer(admin), json=body)
            assert answer.status_code == 422, (method, path, probe, answer.text)
            assert field in answer.text and "http" in answer.text, answer.text
    detail = client.get(f"/api/v1/changes/{change.json()['id']}", headers=bearer(admin)).json()
    assert detail["links"] == {"pr": "https://git.example/pr/2"}
    assert client.get("/api/v1/services/evil", headers=bearer(admin)).status_code == 404


def test_ingest_keeps_every_event_and_drops_the_link(org, db):  # type: ignore[no-untyped-def]
    client, admin, keys = org
    for n, probe in enumerate(PROBES):
        for source, answer in ingest_everywhere(client, keys, admin, probe, n):
            assert answer.status_code in (200, 201, 202), (source, probe, answer.text)
    with db.read_session() as session:
        alerts = session.execute(select(Alert.url, Alert.details)).all()
        deployments = session.execute(select(Deployment.url, Deployment.description)).all()
        changes = session.scalars(select(Change.links)).all()
    # alertmanager and grafana update one alert each (their fingerprint); the others a new one.
    assert len(alerts) == 2 + 3 * len(PROBES)
    assert len(deployments) == 4 * len(PROBES)
    assert all(a.url == "" for a in alerts)
    assert {a.details[URL_NOT_LINKED] for a in alerts} == {p.strip() for p in PROBES}
    assert all(d.url == "" for d in deployments)
    assert all("not linked, not http(s)" in d.description.lower() for d in deployments)
    # The pipeline's in-progress deployments opened changes, with the good link only.
    assert changes and all(links == {"pr": "https://git.example/pr/1"} for links in changes)


def test_no_page_links_a_stored_url_that_is_not_http(org, db):  # type: ignore[no-untyped-def]
    client, admin, keys = org
    for n, probe in enumerate(PROBES):
        ingest_everywhere(client, keys, admin, probe, n)
    made = client.post("/api/v1/changes", headers=bearer(admin), json={
        "title": "Old links", "services": ["api"], "links": {"pr": "https://git.example/pr/3"}})
    assert made.status_code == 201, made.text
    # Rows as a release before the rule stored them: every probe in every URL column.
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
    sign_in(client, "root")
    pages = (["/catalog", "/services/api", "/services/db", "/teams", "/teams/payments",
              "/changes", "/deployments", "/deployments/unauthorised", "/incidents",
              "/integrations", "/map", "/changes/calendar", "/kpis"]
             + [f"/changes/{i}" for i in change_ids] + [f"/incidents/{i}" for i in incident_ids])
    shown: dict[str, str] = {}
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        bad, text = unsafe_urls(page.text)
        assert not bad, f"{path} links {bad}"
        shown[path] = text
    # The values are on the pages, as text: the check above looked at them.
    for path in ("/services/api", f"/changes/{change_ids[0]}", "/deployments",
                 f"/incidents/{incident_ids[0]}"):
        assert "javascript:alert(1)" in shown[path], path
    assert "data:text/html,<script>alert(1)</script>" in shown["/services/api"]
    services_page = client.get("/services/api").text
    assert 'href="https://grafana.example/d/1"' in services_page
    assert "<script>alert(1)</script>" not in services_page  # escaped, as ever
