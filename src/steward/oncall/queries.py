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

from sqlalchemy import select
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


def layer_from_row(row: ScheduleLayer, time_zone: str, members: Iterable[int]) -> rotation.Layer:
    weekdays = (rotation.parse_weekdays(row.restrict_weekdays)
                if row.restrict_weekdays else None)
    return rotation.Layer(
        name=row.name,
        position=row.position,
        starts=row.starts.replace(tzinfo=None),
        time_zone=time_zone,
        interval_hours=row.handoff_interval_hours,
        members=tuple(members),
        restrict_start=rotation.parse_clock(row.restrict_start) if row.restrict_start else None,
        restrict_end=rotation.parse_clock(row.restrict_end) if row.restrict_end else None,
        restrict_weekdays=weekdays,
    )


def load_schedules(session: Session, *, ids: Iterable[int] | None = None,
                   team_ids: Iterable[int] | None = None,
                   start: datetime, end: datetime | None = None) -> dict[int, ScheduleData]:
    """Schedules by id or by team, with their layers, members, and the overrides that
    touch [start, end] (``end`` None: the instant ``start``). Four statements."""
    query = select(Schedule)
    if ids is not None:
        query = query.where(Schedule.id.in_(list(ids)))
    if team_ids is not None:
        query = query.where(Schedule.team_id.in_(list(team_ids)))
    schedules = list(session.scalars(query.order_by(Schedule.name, Schedule.id)))
    if not schedules:
        return {}
    schedule_ids = [s.id for s in schedules]
    layers = list(session.scalars(
        select(ScheduleLayer).where(ScheduleLayer.schedule_id.in_(schedule_ids))
        .order_by(ScheduleLayer.position, ScheduleLayer.id)))
    members: dict[int, list[int]] = {layer.id: [] for layer in layers}
    if layers:
        for layer_id, user_id in session.execute(
                select(LayerMember.layer_id, LayerMember.user_id)
                .where(LayerMember.layer_id.in_(list(members)))
                .order_by(LayerMember.layer_id, LayerMember.position)):
            members[layer_id].append(user_id)
    end = end or start
    overrides = session.scalars(
        select(ScheduleOverride)
        .where(ScheduleOverride.schedule_id.in_(schedule_ids),
               ScheduleOverride.ends_at > start, ScheduleOverride.starts_at <= end)
        .order_by(ScheduleOverride.starts_at))
    by_schedule: dict[int, list[rotation.Override]] = {sid: [] for sid in schedule_ids}
    for item in overrides:
        by_schedule[item.schedule_id].append(rotation.Override(
            user_id=item.user_id, starts_at=as_utc(item.starts_at),
            ends_at=as_utc(item.ends_at), id=item.id))
    zones = {s.id: s.time_zone for s in schedules}
    layers_by: dict[int, list[rotation.Layer]] = {sid: [] for sid in schedule_ids}
    for layer in layers:
        layers_by[layer.schedule_id].append(
            layer_from_row(layer, zones[layer.schedule_id], members[layer.id]))
    return {s.id: ScheduleData(s.id, s.team_id, s.name, s.time_zone, s.description,
                               tuple(layers_by[s.id]), tuple(by_schedule[s.id]))
            for s in schedules}


@dataclass
class _Policy:
    id: int
    team_id: int
    # level -> targets as (kind, id)
    levels: dict[int, list[tuple[str, int]]] = field(default_factory=dict)


def _load_policies(session: Session, team_ids: Iterable[int]) -> dict[int, _Policy]:
    """Team id -> its policy with every level's targets, in one statement."""
    rows = session.execute(
        select(EscalationPolicy.id, EscalationPolicy.team_id, EscalationLevel.level,
               EscalationTarget.kind, EscalationTarget.schedule_id, EscalationTarget.user_id,
               EscalationTarget.team_id)
        .outerjoin(EscalationLevel, EscalationLevel.policy_id == EscalationPolicy.id)
        .outerjoin(EscalationTarget, EscalationTarget.level_id == EscalationLevel.id)
        .where(EscalationPolicy.team_id.in_(list(team_ids)))
        .order_by(EscalationPolicy.id, EscalationLevel.level, EscalationTarget.id))
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


def _users(session: Session, user_ids: set[int]) -> dict[int, tuple[str, str]]:
    if not user_ids:
        return {}
    return {row.id: (row.username, row.email) for row in session.execute(
        select(User.id, User.username, User.email).where(User.id.in_(sorted(user_ids))))}


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
