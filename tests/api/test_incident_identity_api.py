"""An incident's identity as alerts keep coming, through the HTTP API: alerts near an open
outage join it for its whole life, the probable origin is revised (and said) before
acknowledgement and kept after, other teams join as responding teams, and "What
changed?" looks at every service of the incident."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from helpers import api_client, bearer, make_dependency, make_service, make_team, make_user

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.changes.commands import RecordDeployment
from steward.changes.use_cases.deployments import record_deployment
from steward.timeutil import isoformat_z, utcnow

NOW = utcnow().replace(microsecond=0)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


@pytest.fixture
def org(db):  # type: ignore[no-untyped-def]
    """The issue's bank: accounts-service (banking-webapp) needs core-db (platform) and
    kafka (streaming); orders-service (order-to-cash) needs core-db; mail-relay stands
    alone."""
    for team in ("platform", "banking-webapp", "order-to-cash", "streaming", "messaging"):
        make_team(db, team)
    make_service(db, "core-db", owner="platform", kind="resource", tier=1)
    make_service(db, "kafka", owner="streaming", kind="resource", tier=1)
    make_service(db, "accounts-service", owner="banking-webapp", tier=1)
    make_service(db, "orders-service", owner="order-to-cash", tier=2)
    make_service(db, "mail-relay", owner="messaging", kind="resource", tier=3)
    make_dependency(db, "accounts-service", "core-db")
    make_dependency(db, "accounts-service", "kafka")
    make_dependency(db, "orders-service", "core-db")
    with db.session() as session:  # a key made by an admin for no team: any service
        key = create_integration(session, SYSTEM, "generic")[1]
    client = api_client(db)
    client.key = key  # type: ignore[attr-defined]
    client.admin = make_user(db, "root", role="admin")  # type: ignore[attr-defined]
    return client


def fire(client: Any, service: str, key: str, minutes_ago: float,
         severity: str = "critical") -> int:
    answer = client.post("/api/v1/alerts", headers=bearer(client.key), json={
        "service": service, "dedup_key": key, "status": "firing", "severity": severity,
        "summary": f"{service} failing", "occurred_at": isoformat_z(ago(minutes_ago))})
    assert answer.status_code == 202, answer.text
    return int(answer.json()["results"][0]["incident_id"])


def resolve(client: Any, service: str, key: str, minutes_ago: float) -> None:
    answer = client.post("/api/v1/alerts", headers=bearer(client.key), json={
        "service": service, "dedup_key": key, "status": "resolved",
        "occurred_at": isoformat_z(ago(minutes_ago))})
    assert answer.status_code == 202, answer.text


def incident(client: Any, number: int) -> dict[str, Any]:
    answer = client.get(f"/api/v1/incidents/{number}", headers=bearer(client.admin))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def entries(detail: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in detail["timeline"] if e["kind"] == kind]


def test_alerts_near_an_open_outage_join_it_however_late(org):
    first = fire(org, "core-db", "db-down", 40)
    # 25 minutes after the last alert, far outside the 5-minute windows: same outage
    assert fire(org, "orders-service", "orders-5xx", 15) == first
    assert fire(org, "core-db", "db-slow", 2) == first
    # an unrelated service never joins: two outages stay apart
    assert fire(org, "mail-relay", "mail-queue", 1) != first
    detail = incident(org, first)
    assert detail["services"] == ["core-db", "orders-service"]
    joined = entries(detail, "alert")[1]["text"]
    assert "orders-service depends on core-db (1 hop), which is in" in joined
    assert "(triggered, open since" in joined


def test_a_mitigated_incident_is_joined_only_within_the_window(org):
    first = fire(org, "core-db", "db-down", 40)
    resolve(org, "core-db", "db-down", 39)
    assert incident(org, first)["status"] == "mitigated"
    assert fire(org, "orders-service", "orders-5xx", 36) == first  # 4 minutes later
    assert incident(org, first)["status"] == "triggered"
    resolve(org, "orders-service", "orders-5xx", 35)
    later = fire(org, "orders-service", "orders-5xx-again", 10)  # 26 minutes later
    assert later != first


def test_before_acknowledgement_the_origin_is_revised_and_said(org):
    number = fire(org, "accounts-service", "slo-burn", 10)
    before = incident(org, number)
    assert (before["origin_service"], before["team"]) == ("accounts-service", "banking-webapp")
    assert before["responding_teams"] == []
    assert fire(org, "core-db", "db-down", 9) == number
    after = incident(org, number)
    assert (after["origin_service"], after["team"]) == ("core-db", "platform")
    [revision] = entries(after, "origin")
    assert revision["text"].startswith(
        "Probable origin revised: accounts-service -> core-db. core-db is the most upstream")
    assert "Owning team: team banking-webapp -> platform." in revision["text"]
    assert revision["data"]["from"] == "accounts-service"
    assert revision["data"]["to"] == "core-db"
    assert revision["data"]["reason"] == after["origin_reasoning"]
    # the team that owned it before now responds, for its service
    assert [(t["team"], t["reason"]) for t in after["responding_teams"]] == [
        ("banking-webapp", "owns accounts-service")]
    assert after["responding_teams"][0]["added_at"] == isoformat_z(ago(9))
    [team] = entries(after, "team")
    assert team["text"] == "banking-webapp added as a responding team: owns accounts-service"
    listed = org.get("/api/v1/incidents", headers=bearer(org.admin)).json()
    assert listed["items"][0]["responding_teams"] == after["responding_teams"]


def test_after_acknowledgement_origin_team_and_assignee_are_kept(org):
    number = fire(org, "accounts-service", "slo-burn", 10)
    make_user(org_db(org), "dana", teams=["banking-webapp"])
    headers = bearer(org.admin)
    assert org.post(f"/api/v1/incidents/{number}/assign", headers=headers,
                    json={"assignee": "dana"}).status_code == 200
    assert org.post(f"/api/v1/incidents/{number}/acknowledge", headers=headers,
                    json={}).status_code == 200
    assert fire(org, "kafka", "lag", 5) == number  # more upstream than accounts-service
    detail = incident(org, number)
    assert (detail["origin_service"], detail["team"], detail["assignee"]) == (
        "accounts-service", "banking-webapp", "dana")
    [kept] = entries(detail, "origin")
    assert kept["text"].startswith("Probable origin kept: accounts-service, as the incident "
                                   "is acknowledged")
    assert "the alerts now point to kafka" in kept["text"]
    assert kept["data"]["from"] == kept["data"]["to"] == "accounts-service"
    assert kept["data"]["candidate"] == "kafka"
    assert [t["team"] for t in detail["responding_teams"]] == ["streaming"]
    # another alert pointing the same way says nothing more; a new team still responds
    assert fire(org, "core-db", "db-slow", 4) == number
    detail = incident(org, number)
    assert len(entries(detail, "origin")) == 1
    assert (detail["origin_service"], detail["team"]) == ("accounts-service", "banking-webapp")
    assert [(t["team"], t["reason"]) for t in detail["responding_teams"]] == [
        ("streaming", "owns kafka"), ("platform", "owns core-db")]
    assert [e["text"] for e in entries(detail, "team")] == [
        "streaming added as a responding team: owns kafka",
        "platform added as a responding team: owns core-db"]


def org_db(client: Any) -> Any:
    return client.app.state.db


def test_suspects_cover_every_service_of_the_incident(org, db):
    with db.session() as session:
        for service, version, minutes in (("core-db", "15.2", 30), ("kafka", "3.7", 20),
                                          ("accounts-service", "9.1", 25)):
            record_deployment(session, SYSTEM, RecordDeployment(
                service=service, environment="production", status="succeeded",
                version=version, finished_at=ago(minutes)))
    number = fire(org, "orders-service", "orders-5xx", 10)
    assert fire(org, "accounts-service", "slo-burn", 9) == number
    assert fire(org, "core-db", "db-down", 8) == number
    detail = incident(org, number)
    assert detail["origin_service"] == "core-db"
    suspects = {s["service"]: s for s in detail["suspects"]}
    # kafka is no dependency of the origin, but accounts-service, in the incident, needs it
    assert set(suspects) == {"core-db", "kafka", "accounts-service"}
    assert "on core-db, the probable origin" in suspects["core-db"]["reasons"]
    assert "on accounts-service, a service of the incident" in \
        suspects["accounts-service"]["reasons"]
    assert ("on kafka, which accounts-service depends on (1 hop from accounts-service)"
            in suspects["kafka"]["reasons"])
    # ranked as ever: by score, the most likely first
    scores = [s["score"] for s in detail["suspects"]]
    assert scores == sorted(scores, reverse=True)
