"""Through the HTTP endpoints: clock skew never refuses an event, a time that does not
parse refuses its event only, unknown severities are recorded and said, and an alert's
lifecycle (resolve, reopen, recurrence) shows in the API."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import api_client, bearer, make_service, make_team, make_user

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.timeutil import isoformat_z, parse_timestamp, utcnow

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"


def capture(name: str) -> dict:
    return json.loads((PAYLOADS / "alertmanager" / name).read_text())["body"]


def key(db, type: str, service: str) -> str:
    with db.session() as session:
        return create_integration(session, SYSTEM, type, service=service)[1]


@pytest.fixture
def client(db):
    make_team(db, "shop")
    make_service(db, "checkout", owner="shop", tier=1)
    make_service(db, "search", owner="shop", tier=3)
    return api_client(db)


@pytest.fixture
def admin(db) -> dict[str, str]:
    return bearer(make_user(db, "root", role="admin"))


def incident(client, admin, incident_id: int) -> dict:
    answer = client.get(f"/api/v1/incidents/{incident_id}", headers=admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def alert_named(client, admin, incident_id: int, dedup_key: str) -> dict:
    [found] = [a for a in incident(client, admin, incident_id)["alerts"]
               if a["dedup_key"] == dedup_key]
    return found


def test_a_pagerduty_event_from_2015_starts_its_incident_within_the_bound(client, db, admin):
    routing = key(db, "pagerduty", "checkout")
    before = utcnow()
    sent = client.post("/v2/enqueue", json={
        "routing_key": routing, "event_action": "trigger", "dedup_key": "old-clock",
        "payload": {"summary": "Checkout failing", "source": "host-1", "severity": "critical",
                    "timestamp": "2015-03-01T00:00:00Z"}})
    assert sent.status_code == 202, sent.text
    [listed] = client.get("/api/v1/incidents", headers=admin).json()["items"]
    alert = alert_named(client, admin, listed["id"], "old-clock")
    assert alert["reported_at"] == "2015-03-01T00:00:00Z"  # kept as reported
    received = parse_timestamp(alert["received_at"])
    assert received >= before.replace(microsecond=0)
    assert parse_timestamp(alert["first_seen"]) == received - timedelta(hours=1)
    assert listed["started_at"] == alert["first_seen"]
    assert alert["details"]["time_note"].startswith(
        "reported 2015-03-01T00:00:00Z, 11 years before it was received")


def test_an_alert_six_minutes_ahead_is_accepted_with_its_group(client, db, admin):
    token = key(db, "alertmanager", "checkout")
    group = capture("am-webhook-v4-firing-2alerts.json")
    now = utcnow()
    group["alerts"][0]["startsAt"] = isoformat_z(now - timedelta(minutes=2))
    group["alerts"][1]["startsAt"] = isoformat_z(now + timedelta(minutes=6))
    sent = client.post("/ingest/alertmanager", headers=bearer(token), json=group)
    assert sent.status_code == 202, sent.text
    answer = sent.json()
    assert answer["alerts"] == 2 and answer["refused"] == []
    ahead = alert_named(client, admin, answer["results"][1]["incident_id"],
                        answer_key(group, 1))
    assert ahead["reported_at"] == group["alerts"][1]["startsAt"]
    assert parse_timestamp(ahead["first_seen"]) <= parse_timestamp(ahead["received_at"])
    assert "after it was received; counted from its receipt" in ahead["details"]["time_note"]


def answer_key(group: dict, index: int) -> str:
    return group["alerts"][index]["fingerprint"]


def test_a_bad_time_in_a_batch_of_three_refuses_that_alert_only(client, db, admin):
    token = key(db, "generic", "checkout")
    batch = [{"dedup_key": f"k{n}", "status": "firing", "summary": f"alert {n}"}
             for n in range(3)]
    batch[1]["occurred_at"] = "yesterday at noon"
    sent = client.post("/api/v1/alerts", headers=bearer(token), json=batch)
    assert sent.status_code == 202, sent.text
    answer = sent.json()
    assert answer["alerts"] == 2 and len(answer["results"]) == 2
    assert answer["refused"] == [{"index": 1, "field": "[1].occurred_at",
                                  "message": "'yesterday at noon' is not an ISO-8601 time"}]
    stored = client.get("/api/v1/alerts", headers=admin).json()["items"]
    assert sorted(a["dedup_key"] for a in stored) == ["k0", "k2"]


def test_one_alert_with_a_bad_time_is_refused_400_naming_the_field(client, db):
    token = key(db, "generic", "checkout")
    sent = client.post("/api/v1/alerts", headers=bearer(token), json={
        "dedup_key": "k", "status": "firing", "occurred_at": "17/07/2015"})
    assert sent.status_code == 400
    assert sent.json()["field"] == "occurred_at"
    every = client.post("/api/v1/alerts", headers=bearer(token), json=[
        {"dedup_key": "a", "status": "firing", "occurred_at": "soon"}])
    assert every.status_code == 400 and every.json()["field"] == "[0].occurred_at"
    # Not told to a sender without a valid key.
    assert client.post("/api/v1/alerts", headers=bearer("nope"), json={
        "dedup_key": "k", "status": "firing", "occurred_at": "soon"}).status_code == 401


def test_an_alertmanager_alert_whose_time_does_not_parse_is_refused_alone(client, db):
    token = key(db, "alertmanager", "checkout")
    group = capture("am-webhook-v4-firing-2alerts.json")
    broken = copy.deepcopy(group)
    broken["alerts"][0]["startsAt"] = "12/10/2021 09:56"
    sent = client.post("/ingest/alertmanager", headers=bearer(token), json=broken)
    assert sent.status_code == 202, sent.text
    assert sent.json()["alerts"] == 1
    assert sent.json()["refused"] == [{
        "index": 0, "field": "alerts[0].startsAt",
        "message": "'12/10/2021 09:56' is not an ISO-8601 time"}]


def test_an_unknown_severity_is_recorded_as_error_and_said(client, db, admin):
    generic, pagerduty = key(db, "generic", "checkout"), key(db, "pagerduty", "search")
    sent = client.post("/api/v1/alerts", headers=bearer(generic), json={
        "dedup_key": "odd", "status": "firing", "severity": "catastrophic"})
    assert sent.status_code == 202, sent.text
    alert = alert_named(client, admin, sent.json()["results"][0]["incident_id"], "odd")
    assert alert["severity"] == "error"
    assert alert["details"]["severity_reported"] == "catastrophic"
    assert "recorded as error" in alert["details"]["severity_note"]
    # PagerDuty's own words are read; one it does not have is mapped, not refused.
    paged = client.post("/v2/enqueue", json={
        "routing_key": pagerduty, "event_action": "trigger", "dedup_key": "pd-odd",
        "payload": {"summary": "Search slow", "source": "s1", "severity": "Sev-9"}})
    assert paged.status_code == 202, paged.text
    [listed] = client.get("/api/v1/incidents?service=search", headers=admin).json()["items"]
    alert = alert_named(client, admin, listed["id"], "pd-odd")
    assert (alert["severity"], alert["details"]["severity_reported"]) == ("error", "Sev-9")
    missing = client.post("/v2/enqueue", json={
        "routing_key": pagerduty, "event_action": "trigger",
        "payload": {"summary": "Search slow", "source": "s1"}})
    assert missing.status_code == 400  # PagerDuty's own answer for a missing severity


def test_resolve_and_recurrence_show_in_the_api(client, db, admin):
    token = key(db, "generic", "search")
    first = client.post("/api/v1/alerts", headers=bearer(token), json={
        "dedup_key": "idx", "status": "firing", "severity": "warning",
        "occurred_at": isoformat_z(utcnow() - timedelta(minutes=50))}).json()
    old = first["results"][0]["incident_id"]
    resolved = client.post(f"/api/v1/incidents/{old}/resolve", headers=admin,
                           json={"at": isoformat_z(utcnow() - timedelta(minutes=45))})
    assert resolved.status_code == 200, resolved.text
    assert [a["status"] for a in incident(client, admin, old)["alerts"]] == ["resolved"]
    again = client.post("/api/v1/alerts", headers=bearer(token), json={
        "dedup_key": "idx", "status": "firing", "severity": "warning"}).json()
    new = again["results"][0]["incident_id"]
    assert new != old and again["results"][0]["created"] is True
    shown = incident(client, admin, new)
    assert shown["recurrence_of"] == old
    assert any(e["text"].startswith(f"Recurrence of INC-{old} (resolved ")
               for e in shown["timeline"])


def test_a_batch_whose_every_time_is_unreadable_is_a_declared_400(client, db) -> None:
    """Every event refused: a 400 in the shape every error has (``details`` with each
    field, naming the event's place, and its message)."""
    token = key(db, "generic", "search")
    sent = client.post("/api/v1/alerts", headers=bearer(token), json=[
        {"dedup_key": "a", "status": "firing", "occurred_at": "nope"},
        {"dedup_key": "b", "status": "firing", "occurred_at": "later"}])
    assert sent.status_code == 400, sent.text
    assert sent.json()["details"] == [
        {"field": "[0].occurred_at", "message": "'nope' is not an ISO-8601 time"},
        {"field": "[1].occurred_at", "message": "'later' is not an ISO-8601 time"}]
