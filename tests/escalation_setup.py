"""A team with a weekly rotation and a two-level escalation policy (made directly, or
through the use cases for tests whose real processes then work on it), and ways to fire
escalation steps as a worker would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from helpers import make_service, make_team, run_timers_of
from sqlalchemy import func, select

from steward.auth.actor import SYSTEM
from steward.auth.schemas import UserCreate
from steward.auth.use_cases import accounts
from steward.catalog.models import Team
from steward.catalog.schemas import ServiceCreate, TeamCreate
from steward.catalog.use_cases import services, teams
from steward.db import Database
from steward.incidents.models import TimelineEntry
from steward.incidents.use_cases import lifecycle
from steward.jobs.models import Timer
from steward.notify.models import Notification
from steward.notify.schemas import ContactMethodIn, RuleIn
from steward.notify.use_cases import contacts
from steward.oncall import escalation as esc
from steward.oncall.escalation_models import EscalationPage, IncidentEscalation
from steward.oncall.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    LayerMember,
    Schedule,
    ScheduleLayer,
)
from steward.oncall.schemas import LayerIn, LevelIn, PolicyIn, ScheduleCreate, TargetIn
from steward.oncall.use_cases import policies, schedules
from steward.timeutil import utcnow


@dataclass(frozen=True)
class OnCallTeam:
    team_id: int
    users: dict[str, int]
    policy_id: int | None
    schedule_id: int


def make_person(db: Database, username: str, team: str) -> int:
    with db.session() as session:
        user = accounts.create_user(session, SYSTEM, UserCreate(
            username=username, email=f"{username}@example.com", teams=[team]))
        return int(user.id)


def oncall_team(db: Database, name: str = "payments", *, service: str = "checkout",
                policy: bool = True, levels: tuple[int, ...] = (5, 10), repeat: int = 0,
                on_call_from: datetime | None = None, zone: str = "UTC") -> OnCallTeam:
    """``name`` owns ``service``; alice is on call on its weekly rotation (from
    ``on_call_from``, default two weeks ago); its policy pages the rotation at level 1 and
    carol at level 2."""
    make_team(db, name)
    make_service(db, service, owner=name)
    users = {person: make_person(db, f"{person}{'' if name == 'payments' else '-' + name}",
                                 name) for person in ("alice", "bob", "carol")}
    start = on_call_from or (utcnow() - timedelta(days=14))
    with db.session() as session:
        team_id = session.scalar(select(Team.id).where(Team.name == name))
        assert team_id is not None
        schedule = Schedule(team_id=team_id, name=f"{name} primary", time_zone=zone)
        session.add(schedule)
        session.flush()
        layer = ScheduleLayer(schedule_id=schedule.id, name="weekly", position=1,
                              starts=start.replace(tzinfo=None, microsecond=0),
                              handoff_interval_hours=168)
        session.add(layer)
        session.flush()
        session.add(LayerMember(layer_id=layer.id, position=0, user_id=users["alice"]))
        policy_id = None
        if policy:
            row = EscalationPolicy(team_id=team_id, name=f"{name} policy", repeat_count=repeat)
            session.add(row)
            session.flush()
            policy_id = row.id
            for number, timeout in enumerate(levels, start=1):
                level = EscalationLevel(policy_id=row.id, level=number, timeout_minutes=timeout)
                session.add(level)
                session.flush()
                session.add(EscalationTarget(level_id=level.id, kind="schedule",
                                             schedule_id=schedule.id) if number == 1 else
                            EscalationTarget(level_id=level.id, kind="user",
                                             user_id=users["carol"]))
        return OnCallTeam(team_id, users, policy_id, schedule.id)


def organisation(db: Database, reach: Callable[[str], ContactMethodIn], *,
                 level_minutes: int = 1) -> str:
    """Through the use cases, as an admin would: payments owns checkout; alice is on call
    (weekly rotation with bob), paged at level 1; carol, with no rules, is mailed at
    level 2 (``level_minutes`` each). Alice and bob are reached at once through
    ``reach(username)``. Answers an API token of the admin ``root``."""
    with db.session() as session:
        teams.create_team(session, SYSTEM, TeamCreate(name="payments"))
        services.create_service(session, SYSTEM, ServiceCreate(name="checkout",
                                                               owner="payments"))
        for name in ("alice", "bob", "carol"):
            accounts.create_user(session, SYSTEM, UserCreate(
                username=name, email=f"{name}@example.test", teams=["payments"]))
        accounts.create_user(session, SYSTEM, UserCreate(username="root", role="admin"))
        token = accounts.create_token(session, SYSTEM, "root")
        start = (utcnow() - timedelta(days=1)).replace(tzinfo=None, microsecond=0)
        schedules.create_schedule(session, SYSTEM, ScheduleCreate(
            team="payments", name="primary", time_zone="UTC", layers=[LayerIn(
                name="weekly", starts=start, handoff_interval_hours=168,
                members=["alice", "bob"])]))
        policies.put_policy(session, SYSTEM, "payments", PolicyIn(
            name="payments", repeat_count=0, levels=[
                LevelIn(timeout_minutes=level_minutes,
                        targets=[TargetIn(kind="schedule", schedule="primary")]),
                LevelIn(timeout_minutes=level_minutes,
                        targets=[TargetIn(kind="user", user="carol")])]))
        for name in ("alice", "bob"):
            method = contacts.add_contact_method(session, SYSTEM, name, reach(name))
            contacts.add_rule(session, SYSTEM, name, RuleIn(
                contact_method_id=method["id"], urgency="any", delay_minutes=0))
    return str(token)


def declare(db: Database, service: str = "checkout", *, impact: int = 1,
            urgency: int = 1) -> int:
    """A P1 (impact 1, urgency 1) incident declared on ``service``."""
    with db.session() as session:
        incident = lifecycle.declare(session, SYSTEM, "Checkout failing", service,
                                     impact=impact, urgency=urgency)
        return int(incident.id)


def fire(db: Database, *, after: timedelta = timedelta(0)) -> int:
    """One round of escalation steps due ``after`` from now; how many fired."""
    return run_timers_of(db, esc.STEP_KIND, now=utcnow() + after)


def escalation_entries(db: Database, incident_id: int) -> list[str]:
    with db.read_session() as session:
        return list(session.scalars(select(TimelineEntry.text).where(
            TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "escalation")
            .order_by(TimelineEntry.id)))


def notifications(db: Database, incident_id: int) -> list[tuple[str, str, str]]:
    """(target, urgency, dedup key) of the incident's notifications, oldest first."""
    with db.read_session() as session:
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(Notification.target, Notification.urgency, Notification.dedup_key)
            .where(Notification.incident_id == incident_id).order_by(Notification.id))]


def state(db: Database, incident_id: int) -> dict[str, Any] | None:
    with db.read_session() as session:
        row = session.get(IncidentEscalation, incident_id)
        if row is None:
            return None
        return {"state": row.state, "cycle": row.cycle, "level": row.level,
                "reason": row.reason, "stopped_by": row.stopped_by,
                "next_key": row.next_key, "next_step_at": row.next_step_at}


def pending_steps(db: Database, incident_id: int) -> list[str]:
    with db.read_session() as session:
        return list(session.scalars(select(Timer.key).where(
            Timer.kind == esc.STEP_KIND, Timer.state == "pending",
            Timer.key.startswith(esc.incident_prefix(incident_id))).order_by(Timer.key)))


def page_count(db: Database, incident_id: int) -> int:
    with db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(EscalationPage).where(
            EscalationPage.incident_id == incident_id)) or 0)
