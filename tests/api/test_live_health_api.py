"""Severity means impact, and every service's live health, through the public API."""

from __future__ import annotations

import pytest
from helpers import api_client, bearer, make_dependency, make_service, make_team, make_user

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration


@pytest.fixture
def org(db):
    make_team(db, "platform")
    make_service(db, "core-db", owner="platform", kind="resource", tier=1)
    make_service(db, "accounts-service", owner="platform", tier=1)
    make_service(db, "online-banking", owner="platform", kind="business_service", tier=1)
    make_service(db, "reports", owner="platform", tier=3)
    make_service(db, "support-desk", owner="platform", tier=3)
    make_service(db, "helpdesk-portal", owner="platform", tier=2)
    make_service(db, "web-pool", owner="platform", kind="pool", tier=2, min_up=1)
    make_service(db, "web-1", owner="platform", kind="resource", tier=3)
    make_service(db, "web-2", owner="platform", kind="resource", tier=3)
    make_service(db, "shop", owner="platform", tier=2)
    make_service(db, "unwatched", owner="platform", tier=3)
    make_dependency(db, "accounts-service", "core-db")
    make_dependency(db, "online-banking", "accounts-service")
    make_dependency(db, "reports", "accounts-service", type="soft")
    make_dependency(db, "helpdesk-portal", "support-desk")
    make_dependency(db, "web-pool", "web-1")
    make_dependency(db, "web-pool", "web-2")
    make_dependency(db, "shop", "web-pool")
    with db.session() as session:
        key = create_integration(session, SYSTEM, "generic", team="platform")[1]
    return api_client(db), key, make_user(db, "ada", role="admin")


def fire(org, service: str, severity: str, key: str | None = None) -> int:
    client, integration, _ = org
    answer = client.post("/api/v1/alerts", headers=bearer(integration), json={
        "service": service, "dedup_key": key or f"{service}-{severity}", "status": "firing",
        "severity": severity, "summary": f"{service} {severity}"})
    assert answer.status_code == 202, answer.text
    return answer.json()["results"][0]["incident_id"]


def incident(org, incident_id: int) -> dict:
    client, _, token = org
    return client.get(f"/api/v1/incidents/{incident_id}", headers=bearer(token)).json()


def health(org, **params: str) -> dict[str, dict]:
    client, _, token = org
    answer = client.get("/api/v1/health", headers=bearer(token), params=params)
    assert answer.status_code == 200, answer.text
    return {item["service"]: item for item in answer.json()["items"]}


def states(org) -> dict[str, str]:
    return {name: item["state"] for name, item in health(org).items()}


def test_a_critical_alert_on_the_core_downs_it_and_what_needs_it(org):
    number = fire(org, "core-db", "critical")
    found = states(org)
    assert {n: found[n] for n in ("core-db", "accounts-service", "online-banking",
                                  "reports")} == {
        "core-db": "down", "accounts-service": "down", "online-banking": "down",
        "reports": "degraded"}
    # Nothing monitors these and no incident reaches them: Steward cannot tell.
    assert found["unwatched"] == found["support-desk"] == "unknown"
    listed = health(org)
    assert listed["core-db"]["reason"] == f"INC-{number} has a critical alert on it"
    assert "hard dependency accounts-service is down" in listed["online-banking"]["reason"]
    assert [i["id"] for i in listed["online-banking"]["incidents"]] == [number]
    assert listed["online-banking"]["incidents"][0]["priority"] == "P1"
    assert incident(org, number)["priority"] == "P1"

    client, _, token = org
    service = client.get("/api/v1/services/online-banking", headers=bearer(token)).json()
    assert service["health"]["state"] == "down"
    assert service["health"]["incidents"] == [{
        "id": number, "title": "core-db critical", "priority": "P1", "status": "triggered"}]


def test_resolving_the_incident_brings_monitored_services_back_up(org):
    number = fire(org, "core-db", "critical")
    client, _, token = org
    assert client.post(f"/api/v1/incidents/{number}/resolve", headers=bearer(token),
                       json={"note": "fixed"}).status_code == 200
    found = health(org)
    assert found["core-db"]["state"] == "up"
    assert found["core-db"]["reason"] == "no open incident affects it"
    assert found["core-db"]["incidents"] == []
    # No alert was ever recorded on the business service: once nothing reaches it, unknown.
    assert found["online-banking"]["state"] == "unknown"


def test_a_mitigated_incident_counts_at_most_as_degraded(org):
    number = fire(org, "core-db", "critical")
    client, _, token = org
    assert client.post(f"/api/v1/incidents/{number}/mitigate", headers=bearer(token),
                       json={}).status_code == 200
    found = health(org)
    assert found["core-db"]["state"] == found["online-banking"]["state"] == "degraded"
    assert found["core-db"]["reason"] == f"INC-{number} is mitigated (a critical alert on it)"


def test_a_warning_degrades_and_on_a_tier_three_service_is_p5(org):
    number = fire(org, "support-desk", "warning")
    found = states(org)
    assert found["support-desk"] == found["helpdesk-portal"] == "degraded"
    assert found["core-db"] == "unknown"
    opened = incident(org, number)
    assert (opened["impact"], opened["urgency"], opened["priority"]) == (3, 3, "P5")


def test_a_warning_on_a_tier_one_service_is_medium_impact(org):
    number = fire(org, "accounts-service", "warning")
    opened = incident(org, number)
    assert opened["impact"] == 2 and opened["priority"] == "P4"
    assert opened["business_services_degraded"] == ["online-banking"]
    assert states(org)["accounts-service"] == "degraded"


def test_info_alerts_only_affect_no_service(org):
    number = fire(org, "reports", "info")
    opened = incident(org, number)
    assert opened["impact"] == 3 and opened["priority"] == "P5"
    assert "low impact: no service is affected (info alerts only)" in opened["priority_reasons"]
    found = health(org)
    assert found["reports"]["state"] == "up"
    assert [i["id"] for i in found["reports"]["incidents"]] == [number]


def test_a_critical_after_a_warning_on_the_same_service_raises_the_impact(org):
    number = fire(org, "reports", "critical")  # as urgent as can be from the start
    assert incident(org, number)["priority"] == "P3"
    assert fire(org, "accounts-service", "warning") == number
    assert incident(org, number)["priority"] == "P2"  # online-banking degraded
    assert fire(org, "accounts-service", "critical") == number
    assert states(org)["online-banking"] == "down"
    assert incident(org, number)["priority"] == "P1"


def test_one_pool_member_down_degrades_the_pool_not_downs_it(org):
    fire(org, "web-1", "critical")
    found = states(org)
    assert (found["web-1"], found["web-pool"], found["shop"]) == ("down", "degraded",
                                                                  "degraded")


def test_an_integration_or_an_slo_makes_a_service_monitored(org, db):
    client, _, token = org
    with db.session() as session:
        create_integration(session, SYSTEM, "generic", service="unwatched")
    assert client.post("/api/v1/services/support-desk/slos", headers=bearer(token), json={
        "name": "availability", "objective": 0.99}).status_code == 201
    found = states(org)
    assert found["unwatched"] == found["support-desk"] == "up"
    assert found["helpdesk-portal"] == "unknown"


def test_the_listing_counts_states_and_filters_them(org):
    fire(org, "core-db", "critical")
    client, _, token = org
    answer = client.get("/api/v1/health", headers=bearer(token),
                        params={"state": "down,degraded"}).json()
    assert answer["counts"] == {"down": 3, "degraded": 1, "up": 0, "unknown": 7}
    assert [i["service"] for i in answer["items"]] == [
        "accounts-service", "core-db", "online-banking", "reports"]
    assert answer["total"] == 4
    bad = client.get("/api/v1/health", headers=bearer(token), params={"state": "sideways"})
    assert bad.status_code == 422 and bad.json()["field"] == "query.state"
    assert client.get("/api/v1/health").status_code == 401
    missing = client.get("/api/v1/services/ghost", headers=bearer(token))
    assert missing.status_code == 404


def test_the_health_command_prints_every_state(org, monkeypatch):
    import json

    from typer.testing import CliRunner

    from steward.cli import client as cli_client
    from steward.cli.main import app

    number = fire(org, "core-db", "critical")
    api, _, token = org
    # The command's HTTP client talks to the test application instead of a server.
    def test_client(**options):  # type: ignore[no-untyped-def]
        api.headers.update(options["headers"])
        return api

    monkeypatch.setattr(cli_client.httpx, "Client", test_client)
    runner = CliRunner()
    args = ["health", "--url", "http://testserver", "--token", token]
    shown = runner.invoke(app, [*args, "--state", "down"], env={"COLUMNS": "200"},
                          catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert "✕ DOWN" in shown.output and "online-banking" in shown.output
    assert f"INC-{number} P1 triggered" in shown.output
    assert "unwatched" not in shown.output
    as_json = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert json.loads(as_json.output)["counts"]["down"] == 3
