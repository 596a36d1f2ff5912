"""Who is on call: a team's, a service's, an escalation level's, read in a few statements.

A team's answer loads its escalation policy with every level and target in one
statement, the teams those targets name (and theirs) one statement per depth, then the
schedules involved with their layers, members and the overrides in force, and the users
named: a handful of statements however many schedules and levels there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.catalog.models import Service
from steward.oncall import rotation
from steward.oncall.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    LayerMember,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
)
from steward.timeutil import as_utc

# A team target pages that team's level 1, which may itself name a team: followed this deep.
TEAM_DEPTH = 5


@dataclass(frozen=True)
class OnCall:
    user_id: int
    username: str
    email: str
    level: int
    schedule: str | None


@dataclass(frozen=True)
class ScheduleData:
    """A schedule as the pure rotation logic takes it."""

    id: int
    team_id: int
    name: str
    time_zone: str
    description: str
    layers: tuple[rotation.Layer, ...]
    overrides: tuple[rotation.Override, ...]


def _layer(time_zone: str, name: str, position: int, starts: datetime, interval: int,
           members: Iterable[int], restrict_start: str | None, restrict_end: str | None,
           restrict_weekdays: list[str] | None) -> rotation.Layer:
    return rotation.Layer(
        name=name,
        position=position,
        starts=starts.replace(tzinfo=None),
        time_zone=time_zone,
        interval_hours=interval,
        members=tuple(members),
        restrict_start=rotation.parse_clock(restrict_start) if restrict_start else None,
        restrict_end=rotation.parse_clock(restrict_end) if restrict_end else None,
        restrict_weekdays=(rotation.parse_weekdays(restrict_weekdays)
                           if restrict_weekdays else None),
    )


# Built once, bound per call (a list bound to an expanding parameter): "who is on call" is
# asked on every page that shows it, and building a statement costs more than running it.
_SCHEDULE_COLUMNS = (
    Schedule.id, Schedule.team_id, Schedule.name, Schedule.time_zone, Schedule.description,
    ScheduleLayer.id, ScheduleLayer.name, ScheduleLayer.position, ScheduleLayer.starts,
    ScheduleLayer.handoff_interval_hours, ScheduleLayer.restrict_start,
    ScheduleLayer.restrict_end, ScheduleLayer.restrict_weekdays, LayerMember.user_id)


def _schedules_where(condition: Any) -> Any:
    return (select(*_SCHEDULE_COLUMNS)
            .outerjoin(ScheduleLayer, ScheduleLayer.schedule_id == Schedule.id)
            .outerjoin(LayerMember, LayerMember.layer_id == ScheduleLayer.id)
            .where(condition)
            .order_by(Schedule.name, Schedule.id, ScheduleLayer.position, ScheduleLayer.id,
                      LayerMember.position))


_SCHEDULES_BY_ID = _schedules_where(Schedule.id.in_(bindparam("ids", expanding=True)))
_SCHEDULES_BY_TEAM = _schedules_where(Schedule.team_id.in_(bindparam("ids", expanding=True)))
_OVERRIDES = (
    select(ScheduleOverride.id, ScheduleOverride.schedule_id, ScheduleOverride.user_id,
           ScheduleOverride.starts_at, ScheduleOverride.ends_at)
    .where(ScheduleOverride.schedule_id.in_(bindparam("ids", expanding=True)),
           ScheduleOverride.ends_at > bindparam("start"),
           ScheduleOverride.starts_at <= bindparam("end"))
    .order_by(ScheduleOverride.starts_at))


def load_schedules(session: Session, *, ids: Iterable[int] | None = None,
                   team_ids: Iterable[int] | None = None,
                   start: datetime, end: datetime | None = None) -> dict[int, ScheduleData]:
    """Schedules by id or by team, with their layers, members, and the overrides that
    touch [start, end] (``end`` None: the instant ``start``). Two statements."""
    if (ids is None) == (team_ids is None):
        raise TypeError("give ids or team_ids")
    statement = _SCHEDULES_BY_ID if ids is not None else _SCHEDULES_BY_TEAM
    wanted = sorted(set(ids if ids is not None else team_ids or []))
    if not wanted:
        return {}
    heads: dict[int, tuple[int, str, str, str]] = {}
    layers: dict[int, dict[int, tuple[Any, ...]]] = {}
    members: dict[int, list[int]] = {}
    for row in session.execute(statement, {"ids": wanted}):
        (schedule_id, team_id, name, zone, description, layer_id, *layer, user_id) = row
        if schedule_id not in heads:
            heads[schedule_id] = (team_id, name, zone, description)
            layers[schedule_id] = {}
        if layer_id is not None:
            layers[schedule_id].setdefault(layer_id, tuple(layer))
            if user_id is not None:
                members.setdefault(layer_id, []).append(user_id)
    if not heads:
        return {}
    by_schedule: dict[int, list[rotation.Override]] = {sid: [] for sid in heads}
    for override_id, schedule_id, user_id, starts_at, ends_at in session.execute(
            _OVERRIDES, {"ids": list(heads), "start": start, "end": end or start}):
        by_schedule[schedule_id].append(rotation.Override(
            user_id=user_id, starts_at=as_utc(starts_at), ends_at=as_utc(ends_at),
            id=override_id))
    return {sid: ScheduleData(
        sid, team_id, name, zone, description,
        tuple(_layer(zone, layer[0], layer[1], layer[2], layer[3], members.get(layer_id, []),
                     layer[4], layer[5], layer[6])
              for layer_id, layer in layers[sid].items()),
        tuple(by_schedule[sid]))
        for sid, (team_id, name, zone, description) in heads.items()}


@dataclass
class _Policy:
    id: int
    team_id: int
    # level -> targets as (kind, id)
    levels: dict[int, list[tuple[str, int]]] = field(default_factory=dict)


_POLICIES = (
    select(EscalationPolicy.id, EscalationPolicy.team_id, EscalationLevel.level,
           EscalationTarget.kind, EscalationTarget.schedule_id, EscalationTarget.user_id,
           EscalationTarget.team_id)
    .outerjoin(EscalationLevel, EscalationLevel.policy_id == EscalationPolicy.id)
    .outerjoin(EscalationTarget, EscalationTarget.level_id == EscalationLevel.id)
    .where(EscalationPolicy.team_id.in_(bindparam("ids", expanding=True)))
    .order_by(EscalationPolicy.id, EscalationLevel.level, EscalationTarget.id))


def _load_policies(session: Session, team_ids: Iterable[int]) -> dict[int, _Policy]:
    """Team id -> its policy with every level's targets, in one statement."""
    rows = session.execute(_POLICIES, {"ids": sorted(team_ids)})
    policies: dict[int, _Policy] = {}
    for policy_id, team_id, level, kind, schedule_id, user_id, target_team in rows:
        policy = policies.setdefault(team_id, _Policy(policy_id, team_id))
        if level is None:
            continue
        targets = policy.levels.setdefault(level, [])
        if kind is not None:
            target = {"schedule": schedule_id, "user": user_id, "team": target_team}[kind]
            if target is not None:
                targets.append((kind, target))
    return policies


class _Resolver:
    """Everything one answer needs, loaded up front in a few statements."""

    def __init__(self, session: Session, roots: Iterable[int], at: datetime) -> None:
        self.session = session
        self.at = as_utc(at)
        self.policies: dict[int, _Policy] = {}
        teams = set(roots)
        frontier = set(teams)
        for depth in range(TEAM_DEPTH + 1):
            loaded = _load_policies(session, frontier)
            self.policies.update(loaded)
            found: set[int] = set()
            for policy in loaded.values():
                # The asked teams' every level; a named team's level 1 only.
                levels = (policy.levels.values() if depth == 0
                          else [policy.levels.get(min(policy.levels), [])]
                          if policy.levels else [])
                for targets in levels:
                    found.update(tid for kind, tid in targets if kind == "team")
            frontier = found - teams
            teams |= found
            if not frontier:
                break
        schedule_ids = {tid for p in self.policies.values() for targets in p.levels.values()
                        for kind, tid in targets if kind == "schedule"}
        without_policy = teams - set(self.policies)
        self.schedules = load_schedules(session, ids=schedule_ids, start=self.at)
        self.team_schedules: dict[int, list[int]] = {tid: [] for tid in without_policy}
        if without_policy:
            for data in load_schedules(session, team_ids=without_policy,
                                       start=self.at).values():
                self.schedules[data.id] = data
                self.team_schedules[data.team_id].append(data.id)

    def on_schedule(self, schedule_id: int) -> list[tuple[int, str | None]]:
        data = self.schedules.get(schedule_id)
        if data is None:
            return []
        shift = rotation.on_call_at(data.layers, data.overrides, self.at)
        return [] if shift is None else [(shift.user_id, data.name)]

    def level(self, team_id: int, level: int, seen: frozenset[int]) -> list[tuple[int,
                                                                                str | None]]:
        """(user id, schedule name) for a team's level; a team without a policy: each of
        its schedules' on-call (at level 1)."""
        policy = self.policies.get(team_id)
        if policy is None:
            if level != 1:
                return []
            return [hit for sid in self.team_schedules.get(team_id, [])
                    for hit in self.on_schedule(sid)]
        out: list[tuple[int, str | None]] = []
        for kind, target in policy.levels.get(level, []):
            if kind == "schedule":
                out.extend(self.on_schedule(target))
            elif kind == "user":
                out.append((target, None))
            elif target not in seen and len(seen) <= TEAM_DEPTH:
                named = self.policies.get(target)
                first = min(named.levels) if named is not None and named.levels else 1
                out.extend(self.level(target, first, seen | {target}))
        return out

    def levels(self, team_id: int) -> list[int]:
        policy = self.policies.get(team_id)
        return sorted(policy.levels) if policy is not None else [1]


# A deactivated account is nobody: where only it is on call, that level has a gap.
_USERS = select(User.id, User.username, User.email).where(
    User.id.in_(bindparam("ids", expanding=True)), User.active.is_(True))


def _users(session: Session, user_ids: set[int]) -> dict[int, tuple[str, str]]:
    if not user_ids:
        return {}
    return {user_id: (username, email) for user_id, username, email in session.execute(
        _USERS, {"ids": sorted(user_ids)})}


def _answer(users: dict[int, tuple[str, str]],
            hits: list[tuple[int, int, str | None]]) -> list[OnCall]:
    """(level, user id, schedule) -> OnCall rows, one per user and level, level 1 first."""
    out: list[OnCall] = []
    seen: set[tuple[int, int]] = set()
    for level, user_id, schedule in sorted(hits, key=lambda h: h[0]):
        if (level, user_id) in seen or user_id not in users:
            continue
        seen.add((level, user_id))
        username, email = users[user_id]
        out.append(OnCall(user_id, username, email, level, schedule))
    return out


def oncall_for_team(session: Session, team_id: int, at: datetime) -> list[OnCall]:
    """Who is on call for the team at ``at``: its escalation policy's levels, level 1
    first (a team without a policy: each schedule's on-call at level 1). [] is a gap."""
    return oncall_for_teams(session, [team_id], at)[team_id]


def oncall_for_teams(session: Session, team_ids: Iterable[int],
                     at: datetime) -> dict[int, list[OnCall]]:
    """``oncall_for_team`` for many teams at once, in the same few statements."""
    wanted = sorted(set(team_ids))
    if not wanted:
        return {}
    resolver = _Resolver(session, wanted, at)
    hits = {team_id: [(level, user_id, schedule)
                      for level in resolver.levels(team_id)
                      for user_id, schedule in resolver.level(team_id, level,
                                                              frozenset({team_id}))]
            for team_id in wanted}
    users = _users(session, {user_id for found in hits.values() for _, user_id, _ in found})
    return {team_id: _answer(users, found) for team_id, found in hits.items()}


def oncall_for_service(session: Session, service_id: int, at: datetime) -> list[OnCall]:
    """The service's owner team's on-call ([] for a service without an owner)."""
    team_id = session.scalar(select(Service.owner_team_id).where(Service.id == service_id))
    return [] if team_id is None else oncall_for_team(session, team_id, at)


def level_targets(session: Session, policy_id: int, level: int, at: datetime) -> list[OnCall]:
    """Who the policy's ``level`` pages at ``at`` ([] when nobody: a gap)."""
    team_id = session.scalar(
        select(EscalationPolicy.team_id).where(EscalationPolicy.id == policy_id))
    if team_id is None:
        return []
    resolver = _Resolver(session, [team_id], at)
    found = [(level, user_id, schedule) for user_id, schedule
             in resolver.level(team_id, level, frozenset({team_id}))]
    return _answer(_users(session, {user_id for _, user_id, _ in found}), found)


def schedule_timeline(session: Session, schedule_id: int, start: datetime,
                      end: datetime) -> tuple[ScheduleData, rotation.Timeline] | None:
    loaded = load_schedules(session, ids=[schedule_id], start=start,
                            end=end - timedelta(microseconds=1))
    data = loaded.get(schedule_id)
    if data is None:
        return None
    return data, rotation.timeline(data.layers, data.overrides, start, end)


@dataclass(frozen=True)
class PolicySteps:
    """A team's escalation policy as the escalation engine walks it."""

    policy_id: int
    team_id: int
    repeat_count: int
    levels: tuple[tuple[int, int], ...]  # (level, timeout in minutes), level 1 first


def policy_steps(session: Session, team_id: int) -> PolicySteps | None:
    """The team's policy levels and timeouts (None: the team has no policy)."""
    rows = session.execute(
        select(EscalationPolicy.id, EscalationPolicy.repeat_count, EscalationLevel.level,
               EscalationLevel.timeout_minutes)
        .outerjoin(EscalationLevel, EscalationLevel.policy_id == EscalationPolicy.id)
        .where(EscalationPolicy.team_id == team_id)
        .order_by(EscalationLevel.level)).all()
    if not rows:
        return None
    levels = tuple((level, timeout) for _, _, level, timeout in rows if level is not None)
    return PolicySteps(rows[0][0], team_id, rows[0][1], levels)
