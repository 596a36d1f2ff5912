"""Escalation steps: the ``escalation.step`` timer's handler.

A step pages whoever its level of the owning team's policy resolves to at that moment,
through the notification outbox, writes an ``escalation`` timeline entry, publishes
``incident.escalated`` and schedules what is due next, all in the timer's transaction:
the step, its pages and its next timer are committed together, exactly once. Every
step's notifications have dedup keys of their own (``escalation.dedup_prefix``), so a
step that runs again after a crash queues nothing twice.

Who starts, stops and restarts an escalation: :mod:`.escalation_events`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward import events
from steward.auth.models import User
from steward.catalog.models import Team
from steward.incidents.models import Incident
from steward.incidents.timeline import add_entry
from steward.jobs import timers
from steward.jobs.timers import Fired
from steward.notify.paging import page_user
from steward.notify.urgency import urgency_for
from steward.oncall import escalation as esc
from steward.oncall import queries as oncall
from steward.oncall.escalation import Person, Position
from steward.oncall.escalation_models import EscalationPage, IncidentEscalation
from steward.oncall.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Schedule,
)
from steward.timeutil import utcnow

TIMELINE_KIND = "escalation"


@dataclass(frozen=True)
class LoadedPolicy:
    id: int
    team_id: int
    policy: esc.Policy


def load_policy(session: Session, team_id: int) -> LoadedPolicy | None:
    """The team's escalation policy with its levels and their targets in words."""
    found = session.execute(select(EscalationPolicy.id, EscalationPolicy.name,
                                   EscalationPolicy.repeat_count)
                            .where(EscalationPolicy.team_id == team_id)).first()
    if found is None:
        return None
    policy_id, name, repeat_count = found
    rows = session.execute(
        select(EscalationLevel.level, EscalationLevel.timeout_minutes, EscalationTarget.kind,
               Schedule.name, User.username, Team.name)
        .outerjoin(EscalationTarget, EscalationTarget.level_id == EscalationLevel.id)
        .outerjoin(Schedule, Schedule.id == EscalationTarget.schedule_id)
        .outerjoin(User, User.id == EscalationTarget.user_id)
        .outerjoin(Team, Team.id == EscalationTarget.team_id)
        .where(EscalationLevel.policy_id == policy_id)
        .order_by(EscalationLevel.level, EscalationTarget.id)).all()
    levels: dict[int, tuple[int, list[str]]] = {}
    for level, timeout, kind, schedule, username, team in rows:
        _, targets = levels.setdefault(level, (timeout, []))
        named = {"schedule": schedule, "user": username, "team": team}.get(kind or "")
        if named:
            targets.append(f"{kind} {named}")
    if not levels:
        return None
    return LoadedPolicy(policy_id, team_id, esc.Policy(name, tuple(
        esc.Level(level, timeout, tuple(targets))
        for level, (timeout, targets) in sorted(levels.items())), repeat_count))


def _people(found: list[oncall.OnCall]) -> list[Person]:
    return [Person(o.user_id, o.username,
                   f"on call on {o.schedule}" if o.schedule else "named in the policy")
            for o in found]


def _zones(session: Session, team_id: int | None,
           found: list[oncall.OnCall]) -> dict[int, str]:
    """Each paged person's time zone for the out-of-hours count: the schedule that made
    them on call (the owning team's when names repeat across teams), else the owning
    team's first schedule's, else UTC."""
    names = {o.schedule for o in found if o.schedule}
    zones: dict[str, str] = {}
    if names:
        for name, zone, owner in session.execute(
                select(Schedule.name, Schedule.time_zone, Schedule.team_id)
                .where(Schedule.name.in_(names)).order_by(Schedule.id)):
            if name not in zones or owner == team_id:
                zones[name] = zone
    fallback = "UTC"
    if team_id is not None:
        fallback = session.scalar(select(Schedule.time_zone).where(Schedule.team_id == team_id)
                                  .order_by(Schedule.id).limit(1)) or "UTC"
    return {o.user_id: zones.get(o.schedule or "", fallback) for o in found}


def _lock(session: Session, incident_id: int) -> tuple[Incident | None,
                                                        IncidentEscalation | None]:
    """The incident and its escalation, locked (PostgreSQL) and read afresh: an
    acknowledgement committed meanwhile is seen, and one in progress is waited for."""
    incident = session.scalar(select(Incident).where(Incident.id == incident_id)
                              .with_for_update().execution_options(populate_existing=True))
    state = session.scalar(select(IncidentEscalation)
                           .where(IncidentEscalation.incident_id == incident_id)
                           .with_for_update().execution_options(populate_existing=True))
    return incident, state


def _new_state(session: Session, incident_id: int, at: datetime) -> IncidentEscalation:
    state = IncidentEscalation(incident_id=incident_id, cycle=1, level=1, run_start=1,
                               state=esc.ACTIVE, started_at=at, updated_at=at)
    session.add(state)
    return state


def run_step(session: Session, fired: Fired) -> None:
    """The ``escalation.step`` handler (a step, or the end of the last level's wait)."""
    payload = fired.payload
    incident_id = int(payload["incident_id"])
    incident, state = _lock(session, incident_id)
    if incident is None:
        return
    at = Position(int(payload.get("cycle", 1)), int(payload.get("level", 1)),
                  int(payload.get("run_start", payload.get("cycle", 1))))
    if state is None:
        if (fired.key != esc.timer_key(incident_id, esc.first_position())
                or incident.status != "triggered"):
            return  # acknowledged before anybody was paged: it never started
        state = _new_state(session, incident_id, utcnow())
    elif state.next_key != fired.key:
        return  # the escalation moved on (restarted or stopped) after this was scheduled
    now = utcnow()
    if incident.status != "triggered":
        if payload.get("assignee_id") and incident.status in ("acknowledged", "mitigated"):
            _tell_new_assignee(session, incident, state, at, payload, now)
        elif state.state == esc.ACTIVE:
            _stop(state, incident.status, "", now)
        return
    if payload.get("ran_out"):
        _ran_out(session, incident, state, at, now)
        return
    team_id = incident.owner_team_id
    loaded = load_policy(session, team_id) if team_id is not None else None
    if loaded is None:
        _without_policy(session, incident, state, team_id, now)
        return
    policy = loaded.policy
    if state.policy_id is not None and state.policy_id != loaded.id:
        at = esc.start(policy, at.cycle + 1)  # the incident moved to another team
    elif at.level not in {level.number for level in policy.levels}:
        at = Position(at.cycle, policy.first, at.run_start)
    assignee_id = payload.get("assignee_id")
    if assignee_id:
        name = session.scalar(select(User.username).where(User.id == int(assignee_id)))
        by = str(payload.get("by") or "")
        people = ([Person(int(assignee_id), name, f"assigned by {by}" if by else "assigned")]
                  if name else [])
        found: list[oncall.OnCall] = []
    else:
        found = oncall.level_targets(session, loaded.id, at.level, now)
        people = _people(found)
    urgency = urgency_for(incident.priority or "")
    step = esc.step(policy, at, people, now=now, urgency=urgency,
                    assigned=incident.assignee_id is not None,
                    paged_in_cycle=int(payload.get("paged_in_cycle", 0)),
                    waited_minutes=payload.get("waited_minutes"),
                    restarted_by=str(payload.get("by") or "") if assignee_id else "")
    zones = _zones(session, team_id, found)
    notifications = _page(session, incident, team_id, step, urgency, zones, now)
    previous = incident.assignee_id
    if step.assign is not None:
        incident.assignee_id = step.assign.user_id
    add_entry(session, incident, TIMELINE_KIND, step.text, at=now,
              data={**step.data, "notifications": notifications, "policy": policy.name})
    session.flush()
    if step.assign is not None:
        events.publish(session, events.Event(
            "incident.assigned", incident.id, at=now,
            data={"assignee_id": step.assign.user_id, "previous_id": previous}))
    if step.page:
        events.publish(session, events.Event(
            "incident.escalated", incident.id, at=now,
            data={"level": at.level, "cycle": at.cycle,
                  "user_ids": [p.user_id for p in step.page]}))
    state.policy_id, state.team_id = loaded.id, team_id
    state.levels, state.repeat_count = len(policy.levels), policy.repeat_count
    state.cycle, state.level, state.run_start = at.cycle, at.level, at.run_start
    state.paged_in_cycle = step.paged_in_cycle
    state.state, state.reason, state.stopped_by = esc.ACTIVE, "", ""
    state.updated_at = now
    _schedule_next(session, incident.id, state, step, policy)


def _page(session: Session, incident: Incident, team_id: int | None, step: esc.Step,
          urgency: str, zones: dict[int, str], now: datetime) -> list[int]:
    """Each person of the step paged by their rules; one page row each for the KPIs."""
    prefix = esc.dedup_prefix(incident.id, step.position)
    notifications: list[int] = []
    for person in step.page:
        notifications += page_user(session, user_id=person.user_id, incident_id=incident.id,
                                   urgency=urgency, reason=step.text, dedup_prefix=prefix)
        zone = zones.get(person.user_id, "UTC")
        session.add(EscalationPage(
            incident_id=incident.id, team_id=team_id, cycle=step.position.cycle,
            level=step.position.level, user_id=person.user_id, urgency=urgency,
            paged_at=now, time_zone=zone, out_of_hours=esc.out_of_hours(now, zone)))
    return notifications


def _schedule_next(session: Session, incident_id: int, state: IncidentEscalation,
                   step: esc.Step, policy: esc.Policy) -> None:
    if step.next is None:
        state.state, state.next_key, state.next_step_at = esc.RAN_OUT, None, None
        state.reason = "nobody left to page"
        return
    waited = policy.level(step.position.level).timeout_minutes if step.page else None
    nxt = step.next.position
    payload: dict[str, Any]
    if nxt is None:
        key = esc.ran_out_key(incident_id, step.position.cycle)
        payload = {"incident_id": incident_id, "cycle": step.position.cycle,
                   "level": step.position.level, "run_start": step.position.run_start,
                   "ran_out": True}
    else:
        key = esc.timer_key(incident_id, nxt)
        payload = {"incident_id": incident_id, "cycle": nxt.cycle, "level": nxt.level,
                   "run_start": nxt.run_start, "paged_in_cycle": step.paged_in_cycle,
                   "waited_minutes": waited}
    timers.schedule(session, esc.STEP_KIND, key, step.next.due_at, payload)
    state.next_key, state.next_step_at = key, step.next.due_at


def _ran_out(session: Session, incident: Incident, state: IncidentEscalation, at: Position,
             now: datetime) -> None:
    loaded = (load_policy(session, incident.owner_team_id)
              if incident.owner_team_id is not None else None)
    assignee = (session.scalar(select(User.username).where(User.id == incident.assignee_id))
                if incident.assignee_id else None)
    name = loaded.policy.name if loaded is not None else "the policy"
    policy = loaded.policy if loaded is not None else esc.Policy(name, ())
    add_entry(session, incident, TIMELINE_KIND, esc.ran_out_text(policy, at, assignee),
              at=now, data={"cycle": at.cycle, "level": at.level, "ran_out": True})
    state.state, state.reason = esc.RAN_OUT, "nobody acknowledged"
    state.next_key, state.next_step_at, state.updated_at = None, None, now


def _without_policy(session: Session, incident: Incident, state: IncidentEscalation,
                    team_id: int | None, now: datetime) -> None:
    """No owning team, or a team without a policy: its on-call (each schedule's) is paged
    once, or the timeline says nobody could be."""
    state.next_key, state.next_step_at, state.updated_at = None, None, now
    state.state, state.team_id, state.policy_id = esc.NO_POLICY, team_id, None
    if team_id is None:
        state.reason = "no owning team: nobody to page"
        add_entry(session, incident, TIMELINE_KIND,
                  "No escalation: the incident has no owning team, so nobody was paged.",
                  at=now, data={"paged": 0})
        return
    team = session.scalar(select(Team.name).where(Team.id == team_id)) or f"#{team_id}"
    found = [o for o in oncall.oncall_for_team(session, team_id, now) if o.level == 1]
    if not found:
        state.reason = f"team {team} has no escalation policy and nobody on call"
        add_entry(session, incident, TIMELINE_KIND,
                  f"No escalation: team {team} has no escalation policy and nobody on call "
                  "(a gap), so nobody was paged.", at=now, data={"paged": 0})
        return
    urgency = urgency_for(incident.priority or "")
    at = esc.first_position()
    policy = esc.Policy(f"team {team}", (esc.Level(1, 1),))
    step = esc.step(policy, at, _people(found), now=now, urgency=urgency,
                    assigned=incident.assignee_id is not None)
    notifications = _page(session, incident, team_id, step, urgency,
                          _zones(session, team_id, found), now)
    names = ", ".join(p.username for p in step.page)
    verb = "paged" if urgency == esc.HIGH else "notified"
    text = (f"Team {team} has no escalation policy: {verb} its on-call ({names}) once, "
            "without escalation.")
    previous = incident.assignee_id
    if step.assign is not None:
        incident.assignee_id = step.assign.user_id
        text += f" Assigned to {step.assign.username}."
    state.reason = f"team {team} has no escalation policy: its on-call was paged once"
    add_entry(session, incident, TIMELINE_KIND, text, at=now,
              data={**step.data, "notifications": notifications})
    session.flush()
    if step.assign is not None:
        events.publish(session, events.Event(
            "incident.assigned", incident.id, at=now,
            data={"assignee_id": step.assign.user_id, "previous_id": previous}))
    events.publish(session, events.Event(
        "incident.escalated", incident.id, at=now,
        data={"level": 1, "cycle": 1, "user_ids": [p.user_id for p in step.page]}))


def _tell_new_assignee(session: Session, incident: Incident, state: IncidentEscalation,
                       at: Position, payload: dict[str, Any], now: datetime) -> None:
    """Reassigned while acknowledged: the new assignee is told once; nothing escalates."""
    user_id = int(payload["assignee_id"])
    name = session.scalar(select(User.username).where(User.id == user_id))
    state.next_key, state.next_step_at, state.updated_at = None, None, now
    state.state = esc.STOPPED
    if name is None:
        return
    urgency = urgency_for(incident.priority or "")
    by = str(payload.get("by") or "")
    text = (f"{'Paged' if urgency == esc.HIGH else 'Notified'} {name}: assigned"
            f"{f' by {by}' if by else ''} while {incident.status}, so nothing escalates.")
    step = esc.Step(position=at, page=(Person(user_id, name, "assigned"),), assign=None,
                    text=text, next=None, paged_in_cycle=0)
    notifications = _page(session, incident, incident.owner_team_id, step, urgency,
                          _zones(session, incident.owner_team_id, []), now)
    add_entry(session, incident, TIMELINE_KIND, text, at=now,
              data={"cycle": at.cycle, "level": at.level, "urgency": urgency,
                    "user_ids": [user_id], "notifications": notifications})


def _stop(state: IncidentEscalation, reason: str, by: str, now: datetime) -> None:
    state.state, state.reason, state.stopped_by = esc.STOPPED, reason, by
    state.next_key, state.next_step_at, state.updated_at = None, None, now


timers.register(esc.STEP_KIND, run_step)
