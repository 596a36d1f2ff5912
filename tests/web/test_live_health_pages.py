"""Live health on the pages: the system map coloured by each service's state, the catalog's
health column, and a service page with its health, open incidents, pending changes and
recent deployments."""

from __future__ import annotations

import re

import pytest
from helpers import api_client, bearer, make_dependency, make_service, make_team, make_user
from webclient import HTML
from webclient import sign_in as sign_in_at

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.demo.seed import DEMO_PASSWORD


@pytest.fixture
def org(db):
    make_team(db, "platform")
    make_service(db, "core-db", owner="platform", kind="resource", tier=1)
    make_service(db, "accounts-service", owner="platform", tier=1)
    make_service(db, "online-banking", owner="platform", kind="business_service", tier=1)
    make_service(db, "reports", owner="platform", tier=3)
    make_service(db, "unwatched", owner="platform", tier=3)
    make_service(db, "orphan", owner="platform", tier=4)
    make_dependency(db, "accounts-service", "core-db")
    make_dependency(db, "online-banking", "accounts-service")
    make_dependency(db, "reports", "accounts-service", type="soft")
    token = make_user(db, "ada", role="admin", password=DEMO_PASSWORD)
    with db.session() as session:
        key = create_integration(session, SYSTEM, "generic", team="platform")[1]
    client = api_client(db)
    answer = client.post("/api/v1/alerts", headers=bearer(key), json={
        "service": "core-db", "dedup_key": "db-down", "status": "firing",
        "severity": "critical", "summary": "core-db refuses connections"})
    assert answer.status_code == 202, answer.text
    number = answer.json()["results"][0]["incident_id"]
    change = client.post("/api/v1/changes", headers=bearer(token), json={
        "title": "Raise core-db connection limit", "services": ["core-db"]})
    assert change.status_code == 201, change.text
    deployed = client.post("/api/v1/deployments", headers=bearer(token), json={
        "service": "core-db", "environment": "production", "version": "v42"})
    assert deployed.status_code == 201, deployed.text
    warned = client.post("/api/v1/alerts", headers=bearer(key), json={
        "service": "unwatched", "dedup_key": "slow", "status": "firing",
        "severity": "warning", "summary": "unwatched is slow"})
    assert warned.status_code == 202, warned.text
    sign_in_at(client, "ada")
    client.warned = warned.json()["results"][0]["incident_id"]  # type: ignore[attr-defined]
    return client, number, change.json()["id"]


def node_states(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-service="([^"]+)" data-state="([a-z]+)"', page))


def test_the_map_colours_every_service_by_its_live_state(org):
    client, number, _ = org
    page = client.get("/map", headers=HTML)
    assert page.status_code == 200
    assert node_states(page.text) == {
        "core-db": "down", "accounts-service": "down", "online-banking": "down",
        "reports": "degraded", "unwatched": "degraded", "orphan": "unknown"}
    # Colour is never the only sign: each box and the legend say the state in words.
    assert "\u2715 DOWN" in page.text and "! degraded" in page.text
    assert 'class="legend-item state-degraded"' in page.text
    live = page.text[page.text.index('id="live-health"'):]
    assert f'href="/incidents/{number}">INC-{number}</a> (P1, triggered)' in live
    assert "<strong>3</strong>" in live
    # A what-if shows the failure asked about instead.
    what_if = client.get("/map?failing=reports", headers=HTML).text
    assert node_states(what_if)["core-db"] == "up"
    assert node_states(what_if)["reports"] == "down"
    assert 'id="live-health"' not in what_if


def test_the_catalog_lists_each_services_health(org):
    client, _, _ = org
    page = client.get("/catalog", headers=HTML).text
    rows = page[page.index('id="services"'):].split("<tr>")[2:]
    health = {re.search(r'href="/services/([^"]+)"', row).group(1):  # type: ignore[union-attr]
              re.search(r'data-health="([a-z]+)"', row).group(1)  # type: ignore[union-attr]
              for row in rows}
    assert health == {"accounts-service": "down", "core-db": "down", "online-banking": "down",
                      "reports": "degraded", "unwatched": "degraded", "orphan": "unknown"}
    assert "\u2715 down" in page and "! degraded" in page


def test_a_service_page_shows_its_health_and_what_is_going_on(org):
    client, number, change_id = org
    page = client.get("/services/online-banking", headers=HTML).text
    health = page[page.index('id="health"'):page.index('id="details"')]
    assert 'data-health="down"' in health
    assert "hard dependency accounts-service is down" in health
    assert f'href="/incidents/{number}">INC-{number}</a>' in health
    assert "No open incident on online-banking." in health

    core = client.get("/services/core-db", headers=HTML).text
    section = core[core.index('id="health"'):core.index('id="details"')]
    assert f"INC-{number} has a critical alert on it" in section
    incidents = section[section.index('id="service-incidents"'):]
    assert "core-db refuses connections" in incidents
    changes = section[section.index('id="service-changes"'):]
    assert f'href="/changes/{change_id}">CHG-{change_id}</a>' in changes
    assert "Raise core-db connection limit" in changes
    deployments = section[section.index('id="service-deployments"'):]
    assert "v42" in deployments and "production" in deployments

    quiet = client.get("/services/unwatched", headers=HTML).text
    assert 'data-health="degraded"' in quiet and "has a warning alert on it" in quiet
    orphan = client.get("/services/orphan", headers=HTML).text
    assert 'data-health="unknown"' in orphan and "nothing monitors it" in orphan


def test_an_incident_page_draws_its_services_in_the_states_their_alerts_give(org):
    client, number, _ = org
    cascade = client.get(f"/incidents/{number}", headers=HTML).text
    assert node_states(cascade)["online-banking"] == "down"
    warned = client.get(f"/incidents/{client.warned}", headers=HTML).text
    assert node_states(warned) == {"unwatched": "degraded"}
