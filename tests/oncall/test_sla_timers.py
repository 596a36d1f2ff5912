"""An incident's service-level targets as timers: a warning before the response target
is missed, a note when it is, nothing once it is met; a lower priority moves them later
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from helpers import run_timers_of
from sqlalchemy import select

from escalation_setup import declare, notifications, oncall_team
from steward.auth.actor import SYSTEM
from steward.incidents.models import TimelineEntry
from steward.incidents.use_cases import lifecycle
from steward.jobs.models import Timer
from steward.oncall.use_cases import sla_timers
from steward.timeutil import utcnow


def fire_deadlines(db, after: timedelta) -> int:  # type: ignore[no-untyped-def]
    """One round of SLA timers due ``after`` from now (other kinds wait)."""
    return run_timers_of(db, sla_timers.KIND, now=utcnow() + after)


def sla_entries(db, incident_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with db.read_session() as session:
        return list(session.scalars(select(TimelineEntry.text).where(
            TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "sla")
            .order_by(TimelineEntry.id)))


def armed(db, incident_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with db.read_session() as session:
        return list(session.scalars(select(Timer.key).where(
            Timer.kind == sla_timers.KIND, Timer.state == "pending",
            Timer.key.startswith(f"sla:{incident_id}:")).order_by(Timer.key)))


def test_a_p1_nobody_acknowledges_is_warned_then_missed_once(db) -> None:
    oncall_team(db)
    incident = declare(db)  # P1: respond within 15 min, resolve within 4 h
    with db.session() as session:
        lifecycle.assign(session, SYSTEM, incident, assignee="bob")
    assert armed(db, incident) == [f"sla:{incident}:resolve:warn",
                                   f"sla:{incident}:respond:warn"]
    assert fire_deadlines(db, timedelta(minutes=11)) == 0
    assert fire_deadlines(db, timedelta(minutes=12, seconds=30)) == 1
    [warning] = sla_entries(db, incident)
    assert warning.startswith("Response due by ") and "(P1: within 15 min)" in warning
    assert warning.endswith("nobody has acknowledged it yet.")
    assert [(target, urgency) for target, urgency, key in notifications(db, incident)
            if key.startswith(f"sla:{incident}:")] == [("bob@example.com", "low")]
    assert fire_deadlines(db, timedelta(minutes=12, seconds=30)) == 0  # warned once
    assert fire_deadlines(db, timedelta(minutes=15, seconds=30)) == 1
    assert sla_entries(db, incident)[1] == (
        "Response target missed: P1 within 15 min; nobody has acknowledged it yet.")
    assert armed(db, incident) == [f"sla:{incident}:resolve:warn"]


def test_an_acknowledged_incident_is_not_warned_about_its_response(db) -> None:
    oncall_team(db)
    incident = declare(db)
    with db.session() as session:
        lifecycle.act(session, SYSTEM, incident, "acknowledge")
    assert fire_deadlines(db, timedelta(minutes=16)) == 1  # fires, finds it met
    assert sla_entries(db, incident) == []
    with db.session() as session:
        lifecycle.act(session, SYSTEM, incident, "resolve")
    assert fire_deadlines(db, timedelta(hours=5)) == 1
    assert sla_entries(db, incident) == []


def test_a_lower_priority_moves_the_warning_to_its_later_target(db) -> None:
    oncall_team(db)
    incident = declare(db)  # P1
    with db.session() as session:
        lifecycle.set_priority(session, SYSTEM, incident, impact=3, urgency=3)  # P4
    assert fire_deadlines(db, timedelta(minutes=13)) == 1  # re-armed, nothing written
    assert sla_entries(db, incident) == []
    with db.read_session() as session:
        due = session.scalar(select(Timer.due_at).where(
            Timer.key == f"sla:{incident}:respond:warn", Timer.state == "pending"))
    assert due is not None and due > utcnow() + timedelta(hours=1)


def test_a_misconfigured_target_never_refuses_the_incident(db, monkeypatch) -> None:
    """STEWARD_SLA is checked where it is used; opening an incident (an alert's too)
    goes on without warnings rather than fail."""
    oncall_team(db)
    monkeypatch.setenv("STEWARD_SLA", "{not json")
    incident = declare(db)
    assert incident and armed(db, incident) == []
