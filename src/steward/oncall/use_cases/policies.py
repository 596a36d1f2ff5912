"""A team's escalation policy: levels in order, each with whom it pages and how long it
waits for an acknowledgement; the whole policy repeats ``repeat_count`` times.

A policy is written whole (PUT): every level must page somebody (a schedule's on-call, a
user, or a team's level-1 on-call) and every target must exist, else nothing is written
and the answer names the field (``levels.1.targets.0.user``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.models import User
from steward.catalog.models import Team
from steward.catalog.use_cases.teams import get_team
from steward.errors import NotFound, ValidationError
from steward.oncall.models import EscalationLevel, EscalationPolicy, EscalationTarget, Schedule
from steward.oncall.schemas import PolicyIn, TargetIn
from steward.oncall.use_cases.lookup import lock_team, user_field, users_by_name


def policy_snapshot(session: Session, policy: EscalationPolicy) -> dict[str, Any]:
    rows = session.execute(
        select(EscalationLevel.level, EscalationLevel.timeout_minutes, EscalationTarget.kind,
               Schedule.id, Schedule.name, User.username, Team.name)
        .select_from(EscalationLevel)
        .outerjoin(EscalationTarget, EscalationTarget.level_id == EscalationLevel.id)
        .outerjoin(Schedule, Schedule.id == EscalationTarget.schedule_id)
        .outerjoin(User, User.id == EscalationTarget.user_id)
        .outerjoin(Team, Team.id == EscalationTarget.team_id)
        .where(EscalationLevel.policy_id == policy.id)
        .order_by(EscalationLevel.level, EscalationTarget.id)).all()
    levels: dict[int, dict[str, Any]] = {}
    for level, timeout, kind, schedule_id, schedule, username, team in rows:
        entry = levels.setdefault(level, {"level": level, "timeout_minutes": timeout,
                                          "targets": []})
        if kind is not None:
            entry["targets"].append({"kind": kind, "schedule_id": schedule_id,
                                     "schedule": schedule, "user": username, "team": team})
    owner = session.scalar(select(Team.name).where(Team.id == policy.team_id))
    return {"id": policy.id, "team": owner, "name": policy.name,
            "repeat_count": policy.repeat_count, "levels": list(levels.values())}


def _resolve_target(session: Session, team: Team, target: TargetIn, where: str,
                    users: dict[str, User]) -> EscalationTarget:
    named = {"schedule": target.schedule is not None or target.schedule_id is not None,
             "user": target.user is not None, "team": target.team is not None}
    if not named[target.kind]:
        field = f"{where}.{target.kind}"
        raise ValidationError(f"{field}: a {target.kind} target names no {target.kind}",
                              field=field)
    extra = [k for k, given in named.items() if given and k != target.kind]
    if extra:
        field = f"{where}.{extra[0]}"
        raise ValidationError(f"{field}: a {target.kind} target names only a {target.kind}",
                              field=field)
    if target.kind == "schedule":
        if target.schedule_id is not None:
            schedule_id = session.scalar(select(Schedule.id)
                                         .where(Schedule.id == target.schedule_id))
            field, shown = f"{where}.schedule_id", str(target.schedule_id)
        else:
            schedule_id = session.scalar(select(Schedule.id).where(
                Schedule.team_id == team.id, Schedule.name == target.schedule))
            field, shown = f"{where}.schedule", repr(target.schedule)
        if schedule_id is None:
            raise ValidationError(f"{field}: schedule {shown} does not exist", field=field)
        return EscalationTarget(kind="schedule", schedule_id=schedule_id)
    if target.kind == "user":
        assert target.user is not None
        user = user_field(users, target.user, field=f"{where}.user")
        return EscalationTarget(kind="user", user_id=user.id)
    assert target.team is not None
    team_id = session.scalar(select(Team.id).where(Team.name == target.team))
    if team_id is None:
        raise ValidationError(f"{where}.team: team {target.team!r} does not exist",
                              field=f"{where}.team")
    if team_id == team.id:
        raise ValidationError(f"{where}.team: a team's policy cannot page the team itself; "
                              "name its schedule or people", field=f"{where}.team")
    return EscalationTarget(kind="team", team_id=team_id)


def put_policy(session: Session, actor: Actor, team_name: str,
               data: PolicyIn) -> EscalationPolicy:
    """Create or replace the team's policy."""
    team = get_team(session, team_name)
    actor.require_team_write(team.id, "change this team's escalation policy")
    if not data.levels:
        raise ValidationError("levels: a policy needs at least one level", field="levels")
    users = users_by_name(session, [t.user for level in data.levels for t in level.targets
                                    if t.user is not None])
    resolved: list[list[EscalationTarget]] = []
    for i, level in enumerate(data.levels):
        where = f"levels.{i}"
        if not level.targets:
            raise ValidationError(f"{where}.targets: level {i + 1} targets nobody; name a "
                                  "schedule, a user or a team", field=f"{where}.targets")
        resolved.append([_resolve_target(session, team, target, f"{where}.targets.{j}", users)
                         for j, target in enumerate(level.targets)])
    lock_team(session, team.id)
    policy = session.scalar(select(EscalationPolicy).where(EscalationPolicy.team_id == team.id))
    before = policy_snapshot(session, policy) if policy is not None else None
    if policy is None:
        policy = EscalationPolicy(team_id=team.id, name=data.name,
                                  repeat_count=data.repeat_count)
        session.add(policy)
    else:
        policy.name = data.name
        policy.repeat_count = data.repeat_count
        for old in session.scalars(select(EscalationLevel)
                                   .where(EscalationLevel.policy_id == policy.id)):
            session.delete(old)
    session.flush()
    for i, (level, targets) in enumerate(zip(data.levels, resolved, strict=True)):
        row = EscalationLevel(policy_id=policy.id, level=i + 1,
                              timeout_minutes=level.timeout_minutes)
        session.add(row)
        session.flush()
        for target in targets:
            target.level_id = row.id
            session.add(target)
    session.flush()
    after = policy_snapshot(session, policy)
    if after != before:
        audit.record(session, actor,
                     "escalation_policy.create" if before is None
                     else "escalation_policy.update",
                     "escalation_policy", policy.id, before=before, after=after)
    return policy


def delete_policy(session: Session, actor: Actor, team_name: str) -> None:
    team = get_team(session, team_name)
    actor.require_team_write(team.id, "delete this team's escalation policy")
    policy = session.scalar(select(EscalationPolicy).where(EscalationPolicy.team_id == team.id))
    if policy is None:
        raise NotFound(f"team {team_name!r} has no escalation policy", field="team")
    before = policy_snapshot(session, policy)
    session.delete(policy)
    session.flush()
    audit.record(session, actor, "escalation_policy.delete", "escalation_policy", before["id"],
                 before=before)
