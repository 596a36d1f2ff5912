"""An alert's life: resolving an incident resolves its alerts; a resolved alert's key
triggering again reopens its incident within the reopen window, else opens a recurrence."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers import (
    alert_groups_as_counted,
    alert_groups_from_alerts,
    make_dependency,
    make_service,
    make_team,
    make_user,
)

from steward.auth.use_cases import accounts as auth
from steward.incidents import detail_queries
from steward.incidents.commands import RecordAlert
from steward.incidents.queries import incident_detail
from steward.incidents.use_cases import lifecycle, record_many
from steward.incidents.use_cases.alerts import record_alert
from steward.timeutil import utcnow

T0 = utcnow().replace(microsecond=0) - timedelta(hours=6)


@pytest.fixture
def org(db):
    make_team(db, "platform")
    make_team(db, "shop")
    make_service(db, "core-db", owner="platform", kind="resource", tier=1)
    make_service(db, "checkout", owner="shop", tier=2)
    make_service(db, "search", owner="shop", tier=3)
    make_dependency(db, "checkout", "core-db")
    make_user(db, "carol", teams=["platform"])
    return db


def fire(db, service: str, key: str, at: datetime, *, hot: bool = False,
         status: str = "firing") -> tuple[int | None, int | None]:
    """An alert event sent at ``at`` (and received then: history, replayed)."""
    cmd = RecordAlert(dedup_key=key, status=status, service=service, severity="critical",
                      summary=f"{service} {key}", occurred_at=at, received_at=at,
                      ended_at=at if status == "resolved" else None)
    with db.session() as session:
        if hot:  # the ingestion hot path, as the HTTP endpoints record alerts
            [outcome] = record_many.record_alerts(session, None, [cmd])
            return outcome.alert_id, outcome.incident_id
        recorded = record_alert(session, None, cmd)
        return (recorded.alert.id if recorded.alert else None,
                recorded.incident.id if recorded.incident else None)


def resolve(db, incident_id: int, at: datetime) -> None:
    with db.session() as session:
        carol = auth.actor_for_user(session, auth.get_user(session, "carol"))
        lifecycle.act(session, carol, incident_id, "resolve", at=at)


def detail(db, incident_id: int) -> dict:
    with db.read_session() as session:
        return incident_detail(session, incident_id)


def test_resolving_an_incident_resolves_its_alerts_in_one_entry(org):
    _, incident = fire(org, "core-db", "db-down", T0)
    fire(org, "checkout", "checkout-5xx", T0 + timedelta(minutes=1))
    assert incident is not None
    resolve(org, incident, T0 + timedelta(minutes=20))
    shown = detail(org, incident)
    assert {(a["status"], a["resolved_at"]) for a in shown["alerts"]} == {
        ("resolved", (T0 + timedelta(minutes=20)).isoformat().replace("+00:00", "Z"))}
    entries = [e["text"] for e in shown["timeline"] if "resolved with the incident" in e["text"]]
    assert entries == ["2 alerts resolved with the incident."]


@pytest.mark.parametrize("hot", [False, True], ids=["reference", "hot-path"])
def test_a_trigger_within_the_reopen_window_reopens_the_incident(org, hot):
    first_alert, incident = fire(org, "core-db", "db-down", T0)
    assert incident is not None
    resolve(org, incident, T0 + timedelta(minutes=20))
    again, joined = fire(org, "core-db", "db-down", T0 + timedelta(minutes=45), hot=hot)
    assert joined == incident and again != first_alert  # a new alert, on the old incident
    shown = detail(org, incident)
    assert shown["status"] == "triggered" and shown["reopen_count"] == 1
    assert shown["resolved_at"] is None
    assert [a["status"] for a in shown["alerts"]] == ["resolved", "firing"]
    assert any(e["kind"] == "state" and e["text"] == (
        "resolved -> triggered. Alert db-down triggered again within 30 min of resolution.")
        for e in shown["timeline"])


@pytest.mark.parametrize("hot", [False, True], ids=["reference", "hot-path"])
def test_a_trigger_after_the_reopen_window_opens_a_recurrence(org, hot):
    _, old = fire(org, "core-db", "db-down", T0)
    assert old is not None
    resolve(org, old, T0 + timedelta(minutes=20))
    _, new = fire(org, "core-db", "db-down", T0 + timedelta(minutes=51), hot=hot)
    assert new is not None and new != old
    assert detail(org, old)["status"] == "resolved"  # the old one stays as it was
    shown = detail(org, new)
    assert shown["recurrence_of"] == old and shown["status"] == "triggered"
    assert [e["text"] for e in shown["timeline"] if e["kind"] == "recurrence"] == [
        f"Recurrence of INC-{old} (resolved {T0 + timedelta(minutes=20):%Y-%m-%d %H:%M} UTC)."]


def test_a_closed_incident_is_reopened_too(org):
    _, incident = fire(org, "core-db", "db-down", T0)
    assert incident is not None
    resolve(org, incident, T0 + timedelta(minutes=5))
    with org.session() as session:
        carol = auth.actor_for_user(session, auth.get_user(session, "carol"))
        lifecycle.act(session, carol, incident, "close", at=T0 + timedelta(minutes=6))
    _, joined = fire(org, "core-db", "db-down", T0 + timedelta(minutes=10))
    assert joined == incident and detail(org, incident)["status"] == "triggered"


def test_correlation_comes_before_reopening(org):
    # db-down's incident is resolved; meanwhile another open incident holds core-db: the
    # retriggered alert joins that one (an open incident is where responders look).
    _, old = fire(org, "core-db", "db-down", T0)
    assert old is not None
    resolve(org, old, T0 + timedelta(minutes=5))
    _, current = fire(org, "core-db", "db-latency", T0 + timedelta(minutes=8))
    assert current is not None and current != old
    _, joined = fire(org, "core-db", "db-down", T0 + timedelta(minutes=9))
    assert joined == current
    assert detail(org, old)["status"] == "resolved"


def test_a_key_never_seen_opens_a_plain_incident(org):
    _, incident = fire(org, "search", "search-slow", T0)
    assert incident is not None
    assert detail(org, incident)["recurrence_of"] is None


def groups(db, incident_id: int) -> list[tuple[str, str, int, int, int, str | None]]:
    with db.read_session() as session:
        total, found = detail_queries.alert_groups(session, incident_id)
        assert alert_groups_as_counted(session, incident_id) == alert_groups_from_alerts(
            session, incident_id)
    assert total == len(found)
    return [(g["service"], g["signature"], g["alerts"], g["active"], g["events"],
             g["severity"]) for g in found]


@pytest.mark.parametrize("hot", [False, True], ids=["reference", "hot-path"])
def test_alert_groups_follow_each_alert_through_its_life(org, hot):
    """The groups an incident shows count its alerts as they fire, repeat, resolve alone
    and with the incident, on either path; a repeat with a new summary stays in the
    group it fired in."""
    def event(key: str, minute: int, summary: str, severity: str = "warning",
              status: str = "firing") -> int | None:
        at = T0 + timedelta(minutes=minute)
        cmd = RecordAlert(dedup_key=key, status=status, service="core-db", severity=severity,
                          summary=summary, occurred_at=at, received_at=at,
                          ended_at=at if status == "resolved" else None)
        with org.session() as session:
            if hot:
                return record_many.record_alerts(session, None, [cmd])[0].incident_id
            recorded = record_alert(session, None, cmd)
            return recorded.incident.id if recorded.incident else None

    incident = event("a", 0, "db slow 10 ms", "critical")
    assert incident is not None
    event("b", 1, "db slow 20 ms")
    event("c", 2, "replica lag")
    assert groups(org, incident) == [("core-db", "db slow # ms", 2, 2, 2, "critical"),
                                     ("core-db", "replica lag", 1, 1, 1, "warning")]
    event("c", 3, "replica lag 30 s, and growing", "error")
    event("b", 4, "", status="resolved")
    assert groups(org, incident) == [("core-db", "db slow # ms", 2, 1, 2, "critical"),
                                     ("core-db", "replica lag", 1, 1, 2, "error")]
    resolve(org, incident, T0 + timedelta(minutes=5))
    assert groups(org, incident) == [("core-db", "db slow # ms", 2, 0, 2, "critical"),
                                     ("core-db", "replica lag", 1, 0, 2, "error")]
