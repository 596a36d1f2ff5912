"""An incident's escalation, step by step, as workers fire it: who is paged, assigned and
told, what the timeline says, what stops and restarts it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from escalation_setup import (
    declare,
    escalation_entries,
    fire,
    notifications,
    oncall_team,
    page_count,
    pending_steps,
    state,
)
from steward import events
from steward.auth.actor import SYSTEM, Actor
from steward.auth.models import User
from steward.incidents.models import Incident
from steward.incidents.use_cases import lifecycle
from steward.jobs.models import Timer
from steward.oncall.use_cases import escalation as steps

ALICE_ACTOR = Actor(kind="user", id="alice", name="alice", role="admin")


def assignee(db, incident_id: int) -> str | None:
    with db.read_session() as session:
        user_id = session.scalar(select(Incident.assignee_id).where(Incident.id == incident_id))
        return session.scalar(select(User.username).where(User.id == user_id)) if user_id else None


def test_two_levels_then_it_runs_out_each_step_once(db) -> None:
    oncall_team(db)
    incident = declare(db)
    # Triggering only scheduled the first step; nothing else was written.
    assert state(db, incident) is None
    assert pending_steps(db, incident) == [f"escalation:{incident}:1:1"]

    assert fire(db) == 1
    assert escalation_entries(db, incident) == [
        "Escalated to level 1 of 2: paged alice (on call on payments primary). Assigned to "
        "alice. Next level in 5 min."]
    assert assignee(db, incident) == "alice"
    assert notifications(db, incident) == [
        ("alice@example.com", "high", f"escalation:{incident}:1:1:user:{_id(db, 'alice')}:email")]
    now = state(db, incident)
    assert now is not None and (now["state"], now["level"]) == ("active", 1)
    assert now["next_key"] == f"escalation:{incident}:1:2"
    assert fire(db) == 0  # level 2 waits for level 1's timeout

    assert fire(db, after=timedelta(minutes=6)) == 1
    assert escalation_entries(db, incident)[1] == (
        "Escalated to level 2 of 2: paged carol (named in the policy) after 5 min without "
        "acknowledgement. If nobody acknowledges within 10 min, the escalation has run out.")
    assert assignee(db, incident) == "alice"  # level 2 does not take it from alice
    assert [target for target, _, _ in notifications(db, incident)] == [
        "alice@example.com", "carol@example.com"]

    assert fire(db, after=timedelta(minutes=20)) == 1
    assert escalation_entries(db, incident)[2] == (
        "Escalation ran out: nobody acknowledged after 1 cycle of payments policy. alice "
        "stays assigned.")
    assert state(db, incident)["state"] == "ran_out"
    assert fire(db, after=timedelta(hours=5)) == 0
    assert len(escalation_entries(db, incident)) == 3
    assert len(notifications(db, incident)) == 2
    assert page_count(db, incident) == 2


def _id(db, username: str) -> int:
    with db.read_session() as session:
        return int(session.scalar(select(User.id).where(User.username == username)))


def test_escalated_event_names_the_level_and_people(db) -> None:
    oncall_team(db)
    seen: list[events.Event] = []

    def listen(_session, event: events.Event) -> None:
        seen.append(event)

    events.subscribe("incident.escalated", listen)
    try:
        incident = declare(db)
        fire(db)
        fire(db, after=timedelta(minutes=6))
    finally:
        events.unsubscribe(listen)
    assert [(e.subject, e.data["level"], e.data["user_ids"]) for e in seen] == [
        (incident, 1, [_id(db, "alice")]), (incident, 2, [_id(db, "carol")])]


def test_acknowledging_stops_the_escalation(db) -> None:
    oncall_team(db)
    incident = declare(db)
    fire(db)
    with db.session() as session:
        lifecycle.act(session, ALICE_ACTOR, incident, "acknowledge")
    now = state(db, incident)
    assert (now["state"], now["reason"], now["stopped_by"]) == (
        "stopped", "acknowledged", "alice")
    # The step that was due fires and does nothing.
    assert fire(db, after=timedelta(minutes=6)) == 1
    assert len(escalation_entries(db, incident)) == 1
    assert len(notifications(db, incident)) == 1
    assert pending_steps(db, incident) == []


def test_acknowledged_before_the_first_step_pages_nobody(db) -> None:
    oncall_team(db)
    incident = declare(db)
    with db.session() as session:
        lifecycle.act(session, SYSTEM, incident, "acknowledge")
    fire(db)
    assert escalation_entries(db, incident) == []
    assert notifications(db, incident) == []
    assert state(db, incident) is None


def test_reassigning_restarts_from_the_new_assignee(db) -> None:
    oncall_team(db)
    incident = declare(db)
    fire(db)
    with db.session() as session:
        lifecycle.assign(session, ALICE_ACTOR, incident, assignee="bob")
    assert fire(db) == 1
    assert escalation_entries(db, incident)[1] == (
        "Escalation restarted (level 1 of 2): paged bob (assigned by alice). "
        "Next level in 5 min.")
    assert assignee(db, incident) == "bob"
    # The old run's level 2 never comes; the new run's does, after level 1's timeout.
    assert fire(db, after=timedelta(minutes=6)) >= 1
    entries = escalation_entries(db, incident)
    assert len(entries) == 3 and entries[2].startswith("Escalated to level 2 of 2: paged carol")
    assert [target for target, _, _ in notifications(db, incident)] == [
        "alice@example.com", "bob@example.com", "carol@example.com"]


def test_reassigning_an_acknowledged_incident_tells_the_new_assignee_only(db) -> None:
    oncall_team(db)
    incident = declare(db)
    fire(db)
    with db.session() as session:
        lifecycle.act(session, ALICE_ACTOR, incident, "acknowledge")
        lifecycle.assign(session, ALICE_ACTOR, incident, assignee="bob")
    fire(db)
    assert escalation_entries(db, incident)[-1] == (
        "Paged bob: assigned by alice while acknowledged, so nothing escalates.")
    assert fire(db, after=timedelta(hours=1)) == 1  # the old level 2, now a no-op
    assert len(notifications(db, incident)) == 2
    assert state(db, incident)["state"] == "stopped"


def test_reopening_restarts_from_the_first_level(db) -> None:
    oncall_team(db)
    incident = declare(db)
    fire(db)
    with db.session() as session:
        lifecycle.act(session, ALICE_ACTOR, incident, "resolve")
        lifecycle.act(session, ALICE_ACTOR, incident, "reopen")
    fire(db)
    entries = escalation_entries(db, incident)
    assert len(entries) == 2 and entries[1].startswith(
        "Escalated to level 1 of 2: paged alice (on call on payments primary).")
    assert len(notifications(db, incident)) == 2  # alice paged again, for the new run


def test_a_gap_is_said_and_the_next_level_pages_at_once(db) -> None:
    # The rotation starts next week: nobody is on call on it now.
    from steward.timeutil import utcnow

    oncall_team(db, on_call_from=utcnow() + timedelta(days=7))
    incident = declare(db)
    fire(db)
    fire(db)
    entries = escalation_entries(db, incident)
    assert entries[0] == ("Escalation at level 1 of 2: nobody is on call there (schedule "
                          "payments primary), a gap.")
    assert entries[1].startswith("Escalated to level 2 of 2: paged carol (named in the "
                                 "policy). Assigned to carol.")


def test_team_without_policy_pages_its_on_call_once(db) -> None:
    oncall_team(db, policy=False)
    incident = declare(db)
    fire(db)
    assert escalation_entries(db, incident) == [
        "Team payments has no escalation policy: paged its on-call (alice) once, without "
        "escalation. Assigned to alice."]
    assert state(db, incident)["state"] == "no_policy"
    assert pending_steps(db, incident) == []


def test_team_without_policy_or_anybody_on_call_says_so(db) -> None:
    from steward.timeutil import utcnow

    oncall_team(db, policy=False, on_call_from=utcnow() + timedelta(days=7))
    incident = declare(db)
    fire(db)
    assert escalation_entries(db, incident) == [
        "No escalation: team payments has no escalation policy and nobody on call (a gap), "
        "so nobody was paged."]
    assert notifications(db, incident) == []


def test_low_urgency_is_a_notification_not_a_page(db) -> None:
    oncall_team(db)
    incident = declare(db, impact=3, urgency=3)  # P4
    fire(db)
    assert escalation_entries(db, incident)[0].startswith(
        "Escalated to level 1 of 2: notified (low urgency) alice")
    assert [urgency for _, urgency, _ in notifications(db, incident)] == ["low"]


def test_a_step_that_failed_half_way_pages_nobody_twice_when_retried(db, monkeypatch) -> None:
    oncall_team(db, repeat=0)
    incident = declare(db)
    fire(db)
    real = steps.page_user
    calls = {"n": 0}

    def flaky(session, **kwargs):  # type: ignore[no-untyped-def]
        out = real(session, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the database went away")
        return out

    monkeypatch.setattr(steps, "page_user", flaky)
    assert fire(db, after=timedelta(minutes=6)) == 1  # failed: rolled back, retried later
    assert len(escalation_entries(db, incident)) == 1
    with db.read_session() as session:
        attempts = session.scalar(select(Timer.attempts).where(
            Timer.key == f"escalation:{incident}:1:2"))
    assert attempts == 1
    assert fire(db, after=timedelta(hours=1)) == 1
    assert len(escalation_entries(db, incident)) == 2
    assert [target for target, _, _ in notifications(db, incident)] == [
        "alice@example.com", "carol@example.com"]


@pytest.mark.parametrize("repeat", [1])
def test_repeats_page_the_levels_again(db, repeat: int) -> None:
    oncall_team(db, repeat=repeat)
    incident = declare(db)
    for minutes in (0, 6, 12, 18, 24, 40):
        fire(db, after=timedelta(minutes=minutes * 2))
    entries = escalation_entries(db, incident)
    assert [e.split(":")[0] for e in entries] == [
        "Escalated to level 1 of 2", "Escalated to level 2 of 2",
        "Escalated to level 1 of 2, repeat 1 of 1", "Escalated to level 2 of 2, repeat 1 of 1",
        "Escalation ran out"]
    assert len(notifications(db, incident)) == 4


def test_the_incident_api_says_where_its_escalation_is(db) -> None:
    from helpers import api_client, bearer

    from steward.auth.use_cases import accounts

    oncall_team(db)
    incident = declare(db)
    client = api_client(db)
    with db.session() as session:
        headers = bearer(accounts.create_token(session, SYSTEM, "alice"))
    assert client.get(f"/api/v1/incidents/{incident}", headers=headers).json()[
        "escalation"] is None  # triggered; its first step has not fired yet
    fire(db)
    shown = client.get(f"/api/v1/incidents/{incident}", headers=headers).json()["escalation"]
    assert (shown["state"], shown["level"], shown["levels"]) == ("active", 1, 2)
    assert shown["policy"] == "payments policy" and shown["next_step_at"].endswith("Z")
    with db.session() as session:
        lifecycle.act(session, ALICE_ACTOR, incident, "acknowledge")
    shown = client.get(f"/api/v1/incidents/{incident}", headers=headers).json()["escalation"]
    assert shown["state"] == "stopped" and "acknowledged" in shown["text"]
