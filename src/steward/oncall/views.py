"""Reads for the API, the pages and the command line: schedules, overrides, shifts,
policies, and who is on call now and next, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.catalog.models import Service, Team
from steward.catalog.use_cases.teams import get_team
from steward.errors import NotFound, ValidationError
from steward.oncall import queries, rotation
from steward.oncall.models import EscalationPolicy, Schedule, ScheduleOverride
from steward.oncall.use_cases.lookup import schedule_by_id
from steward.oncall.use_cases.overrides import override_snapshot
from steward.oncall.use_cases.policies import policy_snapshot
from steward.oncall.use_cases.schedules import schedule_snapshot
from steward.timeutil import as_utc, isoformat_z

# The longest range of shifts one request may ask for.
MAX_SHIFT_RANGE = timedelta(days=366)
# How far ahead "next" is looked for.
NEXT_HORIZON = timedelta(days=60)


def schedule_out(session: Session, schedule_id: int) -> dict[str, Any]:
    schedule = schedule_by_id(session, schedule_id)
    return {**schedule_snapshot(session, schedule),
            "created_at": isoformat_z(schedule.created_at),
            "updated_at": isoformat_z(schedule.updated_at)}


def list_schedules(session: Session, *, team: str | None = None, limit: int = 100,
                   offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    query = select(Schedule.id).join(Team, Team.id == Schedule.team_id)
    if team:
        query = query.where(Team.name == team)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ids = session.scalars(query.order_by(Team.name, Schedule.name).limit(limit).offset(offset))
    return total, [schedule_out(session, schedule_id) for schedule_id in ids]


def schedule_ids_of_team(session: Session, team: str) -> list[tuple[int, str]]:
    return [(row.id, row.name) for row in session.execute(
        select(Schedule.id, Schedule.name).join(Team, Team.id == Schedule.team_id)
        .where(Team.name == team).order_by(Schedule.name))]


def overrides_out(session: Session, schedule_id: int, *, start: datetime | None = None,
                  end: datetime | None = None) -> list[dict[str, Any]]:
    schedule_by_id(session, schedule_id)
    query = (select(ScheduleOverride, User.username)
             .join(User, User.id == ScheduleOverride.user_id)
             .where(ScheduleOverride.schedule_id == schedule_id))
    if start is not None:
        query = query.where(ScheduleOverride.ends_at > start)
    if end is not None:
        query = query.where(ScheduleOverride.starts_at < end)
    return [{**override_snapshot(item, username), "created_at": isoformat_z(item.created_at)}
            for item, username in session.execute(query.order_by(ScheduleOverride.starts_at))]


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationError("to: must be after from", field="to")
    if end - start > MAX_SHIFT_RANGE:
        raise ValidationError(f"to: at most {MAX_SHIFT_RANGE.days} days after from",
                              field="to")


def _names(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {user_id: name for user_id, name in session.execute(
        select(User.id, User.username).where(User.id.in_(sorted(user_ids))))}


def _shift(shift: rotation.Shift, names: dict[int, str]) -> dict[str, Any]:
    return {"user": names.get(shift.user_id, f"#{shift.user_id}"),
            "start": isoformat_z(shift.start), "end": isoformat_z(shift.end),
            "layer": shift.layer, "override": shift.override,
            "override_id": shift.override_id}


def shifts_out(session: Session, schedule_id: int, start: datetime,
               end: datetime) -> dict[str, Any]:
    """The final shifts and gaps over [start, end), and each layer's own shifts."""
    check_range(start, end)
    found = queries.schedule_timeline(session, schedule_id, start, end)
    if found is None:
        raise NotFound(f"schedule {schedule_id} does not exist", field="schedule")
    data, line = found
    per_layer = {layer.name: rotation.layer_shifts(layer, start, end)
                 for layer in sorted(data.layers, key=lambda la: -la.position)}
    ids = {s.user_id for s in line.shifts} | {s.user_id for shifts in per_layer.values()
                                              for s in shifts}
    names = _names(session, ids)
    team = session.scalar(select(Team.name).where(Team.id == data.team_id)) or ""
    return {
        "schedule_id": data.id, "schedule": data.name, "team": team,
        "time_zone": data.time_zone, "start": isoformat_z(start), "end": isoformat_z(end),
        "shifts": [_shift(s, names) for s in line.shifts],
        "gaps": [{"start": isoformat_z(g.start), "end": isoformat_z(g.end)} for g in line.gaps],
        "layers": {name: [_shift(s, names) for s in shifts]
                   for name, shifts in per_layer.items()},
    }


def policy_out(session: Session, team: str) -> dict[str, Any]:
    team_row = get_team(session, team)
    policy = session.scalar(select(EscalationPolicy)
                            .where(EscalationPolicy.team_id == team_row.id))
    if policy is None:
        raise NotFound(f"team {team!r} has no escalation policy", field="team")
    return policy_snapshot(session, policy)


def policy_or_none(session: Session, team: str) -> dict[str, Any] | None:
    try:
        return policy_out(session, team)
    except NotFound:
        return None


def _oncall_entries(rows: list[queries.OnCall]) -> list[dict[str, Any]]:
    return [{"user": o.username, "email": o.email, "level": o.level, "schedule": o.schedule}
            for o in rows]


def oncall_out(session: Session, *, team: str | None = None, service: str | None = None,
               at: datetime) -> dict[str, Any]:
    """The answer of ``GET /api/v1/oncall``: exactly team, at, oncall (level 1 first)."""
    if (team is None) == (service is None):
        raise ValidationError("team: give a team or a service (one of them)", field="team")
    if service is not None:
        row = session.execute(select(Service.id, Team.name)
                              .outerjoin(Team, Team.id == Service.owner_team_id)
                              .where(Service.name == service)).first()
        if row is None:
            raise NotFound(f"service {service!r} does not exist", field="service")
        service_id, owner = row
        rows = queries.oncall_for_service(session, service_id, at)
        return {"team": owner, "at": isoformat_z(at), "oncall": _oncall_entries(rows)}
    assert team is not None
    team_row = get_team(session, team)
    return {"team": team_row.name, "at": isoformat_z(at),
            "oncall": _oncall_entries(queries.oncall_for_team(session, team_row.id, at))}


@dataclass(frozen=True)
class Turn:
    """Somebody's (or nobody's) time on call on one schedule."""

    user: str | None
    email: str | None
    start: datetime | None
    end: datetime | None
    override: bool


@dataclass(frozen=True)
class ScheduleTurns:
    schedule_id: int
    schedule: str
    time_zone: str
    now: Turn
    next: Turn | None


def now_next(session: Session, team_id: int, at: datetime) -> list[ScheduleTurns]:
    """Each of the team's schedules: who is on call at ``at`` (or the gap) and who next."""
    at = as_utc(at)
    loaded = queries.load_schedules(session, team_ids=[team_id], start=at,
                                    end=at + NEXT_HORIZON)
    return _turns(session, list(loaded.values()), at)


def now_next_for_teams(session: Session, team_ids: list[int],
                       at: datetime) -> dict[int, list[ScheduleTurns]]:
    at = as_utc(at)
    loaded = queries.load_schedules(session, team_ids=team_ids, start=at,
                                    end=at + NEXT_HORIZON)
    out: dict[int, list[ScheduleTurns]] = {team_id: [] for team_id in team_ids}
    turns = _turns(session, list(loaded.values()), at)
    for data, turn in zip(loaded.values(), turns, strict=True):
        out[data.team_id].append(turn)
    return out


def _turns(session: Session, schedules: list[queries.ScheduleData],
           at: datetime) -> list[ScheduleTurns]:
    found = [(data, rotation.now_and_next(data.layers, data.overrides, at, NEXT_HORIZON))
             for data in schedules]
    ids = {s.user_id for _, both in found for s in (both.now, both.next) if s is not None}
    users: dict[int, tuple[str, str]] = {}
    if ids:
        users = {row.id: (row.username, row.email) for row in session.execute(
            select(User.id, User.username, User.email).where(User.id.in_(sorted(ids))))}

    def turn(shift: rotation.Shift | None, start: datetime | None,
             end: datetime | None) -> Turn:
        if shift is None:
            return Turn(None, None, start, end, False)
        name, email = users.get(shift.user_id, (f"#{shift.user_id}", ""))
        return Turn(name, email, start, end, shift.override)

    out = []
    for data, both in found:
        now = turn(both.now, both.since, both.until)
        following = (turn(both.next, both.next.start, both.next.end)
                     if both.next is not None else None)
        out.append(ScheduleTurns(data.id, data.name, data.time_zone, now, following))
    return out


def _turn_out(turn: Turn) -> dict[str, Any]:
    return {"user": turn.user, "email": turn.email, "start": isoformat_z(turn.start),
            "end": isoformat_z(turn.end), "override": turn.override}


def now_next_out(session: Session, team: str, at: datetime) -> dict[str, Any]:
    team_row = get_team(session, team)
    return {"team": team_row.name, "at": isoformat_z(at), "schedules": [
        {"schedule_id": t.schedule_id, "schedule": t.schedule, "time_zone": t.time_zone,
         "now": _turn_out(t.now), "next": _turn_out(t.next) if t.next else None}
        for t in now_next(session, team_row.id, at)]}


@dataclass(frozen=True)
class OnCallSummary:
    """What a team, service or incident page shows: who each escalation level pages now,
    and each schedule's now and next. ``levels`` empty: nobody is on call (a gap)."""

    team: str
    team_id: int
    at: datetime
    levels: list[tuple[int, list[queries.OnCall]]]
    schedules: list[ScheduleTurns]
    has_policy: bool

    @property
    def gap(self) -> bool:
        return not self.levels


def oncall_summary(session: Session, team: str, at: datetime) -> OnCallSummary | None:
    """The team's on-call now and next; None for a team that does not exist."""
    team_id = session.scalar(select(Team.id).where(Team.name == team))
    if team_id is None:
        return None
    at = as_utc(at)
    rows = queries.oncall_for_team(session, team_id, at)
    levels: dict[int, list[queries.OnCall]] = {}
    for row in rows:
        levels.setdefault(row.level, []).append(row)
    has_policy = session.scalar(select(EscalationPolicy.id)
                                .where(EscalationPolicy.team_id == team_id)) is not None
    return OnCallSummary(team, team_id, at, sorted(levels.items()),
                         now_next(session, team_id, at), has_policy)


def first_line_by_team(session: Session, teams: list[str], at: datetime) -> dict[str, list[str]]:
    """Each named team's level-1 on-call usernames ([]: a gap), in a few statements."""
    ids = {name: team_id for name, team_id in session.execute(
        select(Team.name, Team.id).where(Team.name.in_(sorted(set(teams)))))}
    if not ids:
        return {}
    found = queries.oncall_for_teams(session, list(ids.values()), at)
    with_schedules = set(session.scalars(select(Schedule.team_id).where(
        Schedule.team_id.in_(list(ids.values())))))
    with_policy = set(session.scalars(select(EscalationPolicy.team_id).where(
        EscalationPolicy.team_id.in_(list(ids.values())))))
    return {name: [o.username for o in found[team_id] if o.level == 1]
            for name, team_id in ids.items()
            if team_id in with_schedules or team_id in with_policy}
