"""Stored-XSS probe: a URL field never renders as a link unless it is http(s).

Hostile values are sent through every way a URL enters Steward: people's API
writes (refused, naming the field), every ingest source (kept, the link
dropped), and rows written straight into the database as an older release
may have stored them. Then every page that shows them is parsed, and no
``href`` (nor any other URL attribute) may carry a scheme other than http(s).
"""

from __future__ import annotations

import re

import pytest
from helpers import bearer
from sqlalchemy import select
from webclient import sign_in

from link_probes import PROBES, build_org, ingest_everywhere, store_probes, unsafe_urls
from steward.changes.models import Change, Deployment
from steward.incidents.commands import URL_NOT_LINKED
from steward.incidents.models import Alert


@pytest.fixture
def org(db):  # type: ignore[no-untyped-def]
    return build_org(db)


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
    pages = store_probes(client, db, admin, keys)
    change_ids = [p.rsplit("/", 1)[1] for p in pages if re.fullmatch(r"/changes/\d+", p)]
    incident_ids = [p.rsplit("/", 1)[1] for p in pages if re.fullmatch(r"/incidents/\d+", p)]
    sign_in(client, "root")
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
