"""Reads for the on-call pages: a schedule's weeks (final shifts and gaps, each layer's
shifts, overrides), the forms' choices. Plain data with datetimes, for templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import TeamMembership, User
from steward.catalog.models import Team
from steward.errors import NotFound
from steward.oncall import queries, rotation, views
from steward.oncall.models import Schedule
from steward.timeutil import utcnow


@dataclass(frozen=True)
class ShiftRow:
    user: str | None  # None: a gap, nobody on call
    start: datetime
    end: datetime
    layer: str | None
    override: bool = False
    override_id: int | None = None

    @property
    def gap(self) -> bool:
        return self.user is None

    @property
    def hours(self) -> float:
        return round((self.end - self.start).total_seconds() / 3600, 1)


@dataclass(frozen=True)
class ScheduleWeeks:
    schedule: dict[str, Any]
    team_id: int
    start: datetime
    end: datetime
    final: list[ShiftRow]  # shifts and gaps in time order, covering [start, end)
    layers: list[tuple[str, list[ShiftRow]]]  # highest position first
    overrides: list[dict[str, Any]]
    turns: views.ScheduleTurns | None


def schedule_weeks(session: Session, schedule_id: int, start: datetime,
                   end: datetime) -> ScheduleWeeks:
    views.check_range(start, end)
    found = queries.schedule_timeline(session, schedule_id, start, end)
    if found is None:
        raise NotFound(f"schedule {schedule_id} does not exist", field="schedule")
    data, line = found
    per_layer = [(layer.name, rotation.layer_shifts(layer, start, end))
                 for layer in sorted(data.layers, key=lambda la: -la.position)]
    ids = ({s.user_id for s in line.shifts}
           | {s.user_id for _, shifts in per_layer for s in shifts})
    names = {user_id: name for user_id, name in session.execute(
        select(User.id, User.username).where(User.id.in_(sorted(ids))))} if ids else {}

    def row(shift: rotation.Shift) -> ShiftRow:
        return ShiftRow(names.get(shift.user_id, f"#{shift.user_id}"), shift.start, shift.end,
                        shift.layer, shift.override, shift.override_id)

    final = sorted([row(s) for s in line.shifts]
                   + [ShiftRow(None, g.start, g.end, None) for g in line.gaps],
                   key=lambda r: r.start)
    turns = views.now_next(session, data.team_id, utcnow())
    return ScheduleWeeks(
        schedule=views.schedule_out(session, schedule_id), team_id=data.team_id,
        start=start, end=end, final=final,
        layers=[(name, [row(s) for s in shifts]) for name, shifts in per_layer],
        overrides=views.overrides_out(session, schedule_id, start=start, end=end),
        turns=next((t for t in turns if t.schedule_id == schedule_id), None))


@dataclass(frozen=True)
class TeamChoices:
    """What the schedule and policy forms offer: the team's schedules, people, teams."""

    team: str
    team_id: int
    schedules: list[tuple[int, str]]
    members: list[str]
    users: list[str]
    teams: list[str]


def team_choices(session: Session, team: str) -> TeamChoices:
    team_id = session.scalar(select(Team.id).where(Team.name == team))
    if team_id is None:
        raise NotFound(f"team {team!r} does not exist", field="team")
    schedules = [(row.id, row.name) for row in session.execute(
        select(Schedule.id, Schedule.name).where(Schedule.team_id == team_id)
        .order_by(Schedule.name))]
    members = list(session.scalars(
        select(User.username).join(TeamMembership, TeamMembership.user_id == User.id)
        .where(TeamMembership.team_id == team_id, User.active.is_(True))
        .order_by(User.username)))
    users = list(session.scalars(select(User.username).where(User.active.is_(True))
                                 .order_by(User.username).limit(2000)))
    teams = list(session.scalars(select(Team.name).where(Team.id != team_id)
                                 .order_by(Team.name)))
    return TeamChoices(team, team_id, schedules, members, users, teams)


def schedule_team(session: Session, schedule_id: int) -> tuple[str, int]:
    row = session.execute(select(Team.name, Team.id).join(Schedule, Schedule.team_id == Team.id)
                          .where(Schedule.id == schedule_id)).first()
    if row is None:
        raise NotFound(f"schedule {schedule_id} does not exist", field="schedule")
    return row[0], row[1]
