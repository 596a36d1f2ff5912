"""Alert ingestion through the HTTP endpoints, with real captures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import api_client, bearer, make_dependency, make_service, make_team, make_user
from sqlalchemy import func, select

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.incidents.models import Alert, Incident

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"


def capture(name: str) -> dict:
    return json.loads((PAYLOADS / "alertmanager" / name).read_text())["body"]


def counts(db) -> tuple[int, int]:
    with db.read_session() as session:
        return (session.scalar(select(func.count()).select_from(Alert)),
                session.scalar(select(func.count()).select_from(Incident)))


def key(db, type: str, service: str) -> str:
    with db.session() as session:
        return create_integration(session, SYSTEM, type, service=service)[1]


@pytest.fixture
def setup(db):
    make_team(db, "platform")
    make_team(db, "shop")
    make_service(db, "core-db", owner="platform", kind="resource", tier=1)
    make_service(db, "checkout", owner="shop", tier=1)
    make_dependency(db, "checkout", "core-db")
    return api_client(db)


def service_labels(body: dict, service: str) -> dict:
    for alert in body["alerts"]:
        alert["labels"]["service"] = service
    return body


def test_alertmanager_webhook_opens_then_resolves(setup, db):
    client = setup
    token = key(db, "alertmanager", "checkout")
    firing = client.post("/ingest/alertmanager", headers=bearer(token),
                         json=capture("am-webhook-v4-firing-2alerts.json"))
    assert firing.status_code == 202, firing.text
    alerts, incidents = counts(db)
    assert alerts == 2 and incidents == 1
    again = client.post("/ingest/alertmanager", headers=bearer(token),
                        json=capture("am-webhook-v4-firing-2alerts.json"))
    assert again.status_code == 202 and counts(db) == (2, 1)
    incident_id = firing.json()["results"][0]["incident_id"]
    admin = make_user(db, "root", role="admin")
    detail = client.get(f"/api/v1/incidents/{incident_id}", headers=bearer(admin)).json()
    assert detail["origin_service"] == "checkout" and detail["status"] == "triggered"
    assert {a["count"] for a in detail["alerts"]} == {2}
    resolved = capture("am-webhook-v4-firing-2alerts.json")
    resolved["status"] = "resolved"
    for alert in resolved["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = alert["startsAt"]
    assert client.post("/ingest/alertmanager", headers=bearer(token),
                       json=resolved).status_code == 202
    detail = client.get(f"/api/v1/incidents/{incident_id}", headers=bearer(admin)).json()
    assert detail["status"] == "mitigated"


def test_alertmanager_bad_input(setup, db):
    client = setup
    token = key(db, "alertmanager", "core-db")
    assert client.post("/ingest/alertmanager", json=capture(
        "am-webhook-v4-firing.json")).status_code == 401
    wrong_version = {**capture("am-webhook-v4-firing.json"), "version": "3"}
    response = client.post("/ingest/alertmanager", headers=bearer(token), json=wrong_version)
    assert response.status_code == 422 and response.json()["field"] == "version"
    broken = client.post("/ingest/alertmanager", headers={**bearer(token),
                                                          "content-type": "application/json"},
                         content=b'{"version": "4", "alerts": [')
    assert broken.status_code == 422 and "JSON" in broken.json()["error"]
    body = capture("am-webhook-v4-firing.json")
    del body["alerts"][0]["startsAt"]
    missing = client.post("/ingest/alertmanager", headers=bearer(token), json=body)
    assert missing.status_code == 422 and "startsAt" in missing.json()["field"]
    huge = client.post("/ingest/alertmanager", headers={**bearer(token),
                                                        "content-type": "application/json"},
                       content=b" " * (6 * 1024 * 1024))
    assert huge.status_code == 413
    assert counts(db) == (0, 0)


def test_pagerduty_events_trigger_ack_resolve_and_retrigger(setup, db):
    client = setup
    routing = key(db, "pagerduty", "core-db")
    trigger = {"routing_key": routing, "event_action": "trigger", "dedup_key": "disk-db1",
               "payload": {"summary": "Disk 95% full on db1", "source": "db1",
                           "severity": "critical", "timestamp": "2026-11-26T05:44:11.880+0000"}}
    first = client.post("/v2/enqueue", json=trigger)
    assert first.status_code == 202
    assert first.json() == {"status": "success", "message": "Event processed",
                            "dedup_key": "disk-db1"}
    generated = client.post("/v2/enqueue", json={k: v for k, v in trigger.items()
                                                 if k != "dedup_key"}).json()
    assert len(generated["dedup_key"]) >= 16
    assert client.post("/v2/enqueue", json={"routing_key": routing, "event_action": "acknowledge",
                                            "dedup_key": "disk-db1"}).status_code == 202
    assert client.post("/v2/enqueue", json={"routing_key": routing, "event_action": "resolve",
                                            "dedup_key": "disk-db1"}).status_code == 202
    client.post("/v2/enqueue", json=trigger)
    with db.read_session() as session:
        keyed = session.scalars(select(Alert).where(Alert.dedup_key == "disk-db1")
                                .order_by(Alert.id)).all()
        assert [a.status for a in keyed] == ["resolved", "firing"]
    invalid = client.post("/v2/enqueue", json={"routing_key": routing, "event_action": "boom"})
    assert invalid.status_code == 400 and invalid.json()["status"] == "invalid event"
    unknown = client.post("/v2/enqueue", json={**trigger, "routing_key": "b" * 32})
    assert unknown.status_code == 400


def test_alertmanager_pagerduty_receiver_capture(setup, db):
    client = setup
    routing = key(db, "pagerduty", "checkout")
    body = json.loads((PAYLOADS / "alertmanager" / "am-pagerduty-v2-trigger.json").read_text())[
        "body"]
    body["routing_key"] = routing
    response = client.post("/v2/enqueue", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["dedup_key"] == body["dedup_key"]


def test_generic_alerts_single_batch_and_topology(setup, db):
    client = setup
    token = key(db, "generic", "core-db")
    one = client.post("/api/v1/alerts", headers=bearer(token), json={
        "service": "core-db", "dedup_key": "db-conn", "status": "firing",
        "severity": "critical", "summary": "Connections exhausted",
        "occurred_at": "2026-11-26T05:40:00Z", "labels": {}, "details": {}})
    assert one.status_code == 202, one.text
    shop = key(db, "generic", "checkout")  # checkout is another team's
    batch = client.post("/api/v1/alerts", headers=bearer(shop), json=[
        {"service": "checkout", "dedup_key": f"checkout-{i}", "status": "firing",
         "severity": "error", "summary": "5xx", "occurred_at": "2026-11-26T05:41:00Z"}
        for i in range(3)])
    assert batch.status_code == 202
    incidents = {r["incident_id"] for r in batch.json()["results"]} | {
        one.json()["results"][0]["incident_id"]}
    assert len(incidents) == 1
    bad = client.post("/api/v1/alerts", headers=bearer(token), json={
        "dedup_key": "x", "status": "burning"})
    assert bad.status_code == 422 and bad.json()["field"] == "status"
    # A service the key's team does not have falls back to the key's own service ...
    fallback = client.post("/api/v1/alerts", headers=bearer(token), json={
        "service": "ghost", "dedup_key": "x", "status": "firing"})
    assert fallback.status_code == 202
    # ... and a team-wide key with no service of its own names the problem.
    with db.session() as session:
        team_key = create_integration(session, SYSTEM, "generic", team="platform")[1]
    unknown = client.post("/api/v1/alerts", headers=bearer(team_key), json={
        "service": "ghost", "dedup_key": "y", "status": "firing"})
    assert unknown.status_code == 422 and "ghost" in unknown.json()["error"]
    user_token = make_user(db, "u", role="admin")
    assert client.post("/api/v1/alerts", headers=bearer(user_token), json={
        "dedup_key": "x", "status": "firing"}).status_code == 401


def test_generic_alerts_in_chunks_refusals_and_a_revoked_key(setup, db):
    """The hot route reads a body sent in pieces, answers refusals as before (nothing
    stored), and stops taking a key as soon as it is revoked."""
    from steward.auth.use_cases.integrations import revoke_integration

    client = setup
    with db.session() as session:
        integration, token = create_integration(session, SYSTEM, "generic",
                                                service="core-db")
    body = json.dumps([{"dedup_key": f"chunk-{i}", "status": "firing",
                        "summary": "in pieces"} for i in range(3)]).encode()
    parts = [body[:7], body[7:40], body[40:]]
    answer = client.post("/api/v1/alerts", content=iter(parts),
                         headers={**bearer(token), "Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text
    assert [r["created"] for r in answer.json()["results"]] == [True, True, True]
    assert counts(db)[0] == 3
    as_text = client.post("/api/v1/alerts", content=body,
                          headers={**bearer(token), "Content-Type": "text/plain"})
    assert as_text.status_code == 422  # not declared JSON: not parsed, as FastAPI does
    empty = client.post("/api/v1/alerts", content=b"",
                        headers={**bearer(token), "Content-Type": "application/json"})
    assert empty.status_code == 422 and empty.json()["field"] == "body"
    no_key = client.post("/api/v1/alerts", content=body,
                         headers={"Content-Type": "application/json"})
    assert no_key.status_code == 401
    with db.session() as session:
        revoke_integration(session, SYSTEM, integration.id)
    revoked = client.post("/api/v1/alerts", headers=bearer(token), json={
        "dedup_key": "after-revoke", "status": "firing"})
    assert revoked.status_code == 401
    assert counts(db)[0] == 3
