"""The demo's on-call: every team has three people with addresses on a weekly rotation
and a two-level escalation policy; its open incidents escalate, and pages go to the
demo pager (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from helpers import run_timers_of
from sqlalchemy import select

from escalation_setup import escalation_entries
from steward.auth.models import TeamMembership, User
from steward.catalog.models import Team
from steward.incidents.models import Incident
from steward.notify.models import Notification
from steward.oncall import escalation as esc
from steward.oncall import queries
from steward.oncall.models import EscalationLevel, EscalationPolicy, Schedule, ScheduleLayer
from steward.timeutil import utcnow

pytestmark = pytest.mark.demo


def test_every_team_has_three_people_a_weekly_rotation_and_two_levels(db) -> None:
    with db.read_session() as session:
        teams = dict(session.execute(select(Team.id, Team.name)).all())
        assert len(teams) == 5
        for team_id, name in teams.items():
            emails = list(session.scalars(
                select(User.email).join(TeamMembership, TeamMembership.user_id == User.id)
                .where(TeamMembership.team_id == team_id)))
            assert len(emails) >= 3 and all("@" in e for e in emails), name
            intervals = list(session.scalars(
                select(ScheduleLayer.handoff_interval_hours)
                .join(Schedule, Schedule.id == ScheduleLayer.schedule_id)
                .where(Schedule.team_id == team_id)))
            assert intervals == [168], name
            levels = list(session.scalars(
                select(EscalationLevel.level)
                .join(EscalationPolicy, EscalationPolicy.id == EscalationLevel.policy_id)
                .where(EscalationPolicy.team_id == team_id)))
            assert sorted(levels) == [1, 2], name
            now = queries.oncall_for_team(session, team_id, utcnow())
            assert {o.level for o in now} == {1, 2}, name  # nobody's week is a gap


def test_open_incidents_escalate_and_page_on_the_demo_pager(db) -> None:
    fired = run_timers_of(db, esc.STEP_KIND)
    assert fired >= 1
    with db.read_session() as session:
        triggered = list(session.scalars(select(Incident.id).where(
            Incident.status == "triggered")))
        pages = list(session.execute(select(Notification.target, Notification.incident_id)
                                     .where(Notification.event_type == "incident.page")))
    assert triggered
    for incident in triggered:
        entries = escalation_entries(db, incident)
        assert entries and entries[0].startswith("Escalated to level 1 of 2: "), entries
    assert pages and all(target.endswith("/demo/pager") for target, _ in pages)
    assert {incident for _, incident in pages} == set(triggered)
