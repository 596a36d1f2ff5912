"""Creating, changing and deleting schedules and their layers.

Members of the schedule's team and admins write; anyone signed in reads. Every change is
audited with the schedule as it was and as it became.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.models import User
from steward.catalog.models import Team
from steward.catalog.use_cases.teams import find_team
from steward.errors import Conflict, ValidationError
from steward.inputs import in_range
from steward.oncall import rotation
from steward.oncall.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    LayerMember,
    Schedule,
    ScheduleLayer,
)
from steward.oncall.schemas import LayerIn, ScheduleCreate, ScheduleUpdate
from steward.oncall.use_cases.lookup import (
    lock_team,
    schedule_by_id,
    user_field,
    users_by_name,
)


def check_time_zone(name: str, *, field: str = "time_zone") -> str:
    try:
        rotation.zone(name)
    except ValueError:
        raise ValidationError(
            f"{field}: unknown time zone {name!r} (an IANA name such as Europe/Amsterdam)",
            field=field) from None
    return name


def local_start(value: datetime, time_zone: str, *, field: str) -> datetime:
    """The first hand-off as a naive local time: an offset given is converted."""
    problem = in_range(value if value.tzinfo else value.replace(tzinfo=UTC), field)
    if problem is not None:
        raise ValidationError(problem, field=field)
    if value.tzinfo is not None:
        value = value.astimezone(rotation.zone(time_zone)).replace(tzinfo=None)
    return value.replace(second=0, microsecond=0)


def _checked_layers(session: Session, layers: list[LayerIn], time_zone: str,
                    ) -> list[tuple[LayerIn, datetime, list[int]]]:
    """Each layer with its local start and member ids; 422 naming the first bad field."""
    users = users_by_name(session, [m for layer in layers for m in layer.members])
    out: list[tuple[LayerIn, datetime, list[int]]] = []
    positions: dict[int, int] = {}
    for i, layer in enumerate(layers):
        where = f"layers.{i}"
        if not layer.members:
            raise ValidationError(
                f"{where}.members: the rotation {layer.name!r} has nobody in it (an empty "
                "rotation); name at least one member", field=f"{where}.members")
        ids = [user_field(users, name, field=f"{where}.members.{j}").id
               for j, name in enumerate(layer.members)]
        position = layer.position if layer.position is not None else i + 1
        if position in positions:
            raise ValidationError(
                f"{where}.position: layers {positions[position]} and {i} both have position "
                f"{position}", field=f"{where}.position")
        positions[position] = i
        if (layer.restrict_start is None) != (layer.restrict_end is None):
            missing = "restrict_end" if layer.restrict_end is None else "restrict_start"
            raise ValidationError(f"{where}.{missing}: a daily window needs a start and an "
                                  "end", field=f"{where}.{missing}")
        for name in ("restrict_start", "restrict_end"):
            value = getattr(layer, name)
            if value is not None:
                try:
                    rotation.parse_clock(value)
                except ValueError as exc:
                    raise ValidationError(f"{where}.{name}: {exc}",
                                          field=f"{where}.{name}") from None
        if layer.restrict_start is not None and layer.restrict_start == layer.restrict_end:
            raise ValidationError(f"{where}.restrict_end: the window ends when it starts",
                                  field=f"{where}.restrict_end")
        if layer.restrict_weekdays is not None and not layer.restrict_weekdays:
            raise ValidationError(f"{where}.restrict_weekdays: no day at all; leave it out "
                                  "for every day", field=f"{where}.restrict_weekdays")
        out.append((layer, local_start(layer.starts, time_zone, field=f"{where}.starts"), ids))
    return out


def _write_layers(session: Session, schedule: Schedule,
                  checked: list[tuple[LayerIn, datetime, list[int]]]) -> None:
    for i, (layer, starts, ids) in enumerate(checked):
        row = ScheduleLayer(
            schedule_id=schedule.id, name=layer.name,
            position=layer.position if layer.position is not None else i + 1,
            starts=starts, handoff_interval_hours=layer.handoff_interval_hours,
            restrict_start=layer.restrict_start, restrict_end=layer.restrict_end,
            restrict_weekdays=(sorted(set(layer.restrict_weekdays),
                                      key=rotation.WEEKDAYS.index)
                               if layer.restrict_weekdays else None))
        session.add(row)
        session.flush()
        session.add_all(LayerMember(layer_id=row.id, position=j, user_id=user_id)
                        for j, user_id in enumerate(ids))
    session.flush()


def schedule_snapshot(session: Session, schedule: Schedule) -> dict[str, Any]:
    layers = list(session.scalars(select(ScheduleLayer)
                                  .where(ScheduleLayer.schedule_id == schedule.id)
                                  .order_by(ScheduleLayer.position, ScheduleLayer.id)))
    members: dict[int, list[str]] = {layer.id: [] for layer in layers}
    if layers:
        for layer_id, username in session.execute(
                select(LayerMember.layer_id, User.username)
                .join(User, User.id == LayerMember.user_id)
                .where(LayerMember.layer_id.in_(list(members)))
                .order_by(LayerMember.layer_id, LayerMember.position)):
            members[layer_id].append(username)
    team = session.scalar(select(Team.name).where(Team.id == schedule.team_id))
    return {
        "id": schedule.id,
        "team": team,
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "description": schedule.description,
        "layers": [{
            "id": layer.id, "name": layer.name, "position": layer.position,
            "starts": layer.starts.strftime("%Y-%m-%dT%H:%M"),
            "handoff_interval_hours": layer.handoff_interval_hours,
            "members": members[layer.id],
            "restrict_start": layer.restrict_start, "restrict_end": layer.restrict_end,
            "restrict_weekdays": layer.restrict_weekdays,
        } for layer in layers],
    }


def _name_free(session: Session, team_id: int, name: str, *, but: int | None = None) -> None:
    query = select(Schedule.id).where(Schedule.team_id == team_id, Schedule.name == name)
    if but is not None:
        query = query.where(Schedule.id != but)
    if session.scalar(query) is not None:
        raise Conflict(f"name: the team already has a schedule named {name!r}", field="name")


def create_schedule(session: Session, actor: Actor, data: ScheduleCreate) -> Schedule:
    team = find_team(session, data.team, field="team")
    actor.require_team_write(team.id, "create schedules for this team")
    time_zone = check_time_zone(data.time_zone)
    checked = _checked_layers(session, data.layers, time_zone)
    lock_team(session, team.id)
    _name_free(session, team.id, data.name)
    schedule = Schedule(team_id=team.id, name=data.name, time_zone=time_zone,
                        description=data.description)
    session.add(schedule)
    session.flush()
    _write_layers(session, schedule, checked)
    audit.record(session, actor, "schedule.create", "schedule", schedule.id,
                 after=schedule_snapshot(session, schedule))
    return schedule


def update_schedule(session: Session, actor: Actor, schedule_id: int,
                    data: ScheduleUpdate) -> Schedule:
    schedule = schedule_by_id(session, schedule_id, lock=True)
    actor.require_team_write(schedule.team_id, "change this team's schedules")
    before = schedule_snapshot(session, schedule)
    time_zone = (check_time_zone(data.time_zone) if data.time_zone is not None
                 else schedule.time_zone)
    checked = (_checked_layers(session, data.layers, time_zone)
               if data.layers is not None else None)
    if data.name is not None and data.name != schedule.name:
        _name_free(session, schedule.team_id, data.name, but=schedule.id)
        schedule.name = data.name
    if data.description is not None:
        schedule.description = data.description
    schedule.time_zone = time_zone
    if checked is not None:
        session.execute(delete(ScheduleLayer).where(ScheduleLayer.schedule_id == schedule.id))
        _write_layers(session, schedule, checked)
    session.flush()
    after = schedule_snapshot(session, schedule)
    if after != before:
        audit.record(session, actor, "schedule.update", "schedule", schedule.id,
                     before=before, after=after)
    return schedule


def delete_schedule(session: Session, actor: Actor, schedule_id: int) -> None:
    schedule = schedule_by_id(session, schedule_id, lock=True)
    actor.require_team_write(schedule.team_id, "delete this team's schedules")
    used = session.execute(
        select(Team.name, EscalationLevel.level)
        .join(EscalationPolicy, EscalationPolicy.team_id == Team.id)
        .join(EscalationLevel, EscalationLevel.policy_id == EscalationPolicy.id)
        .join(EscalationTarget, EscalationTarget.level_id == EscalationLevel.id)
        .where(EscalationTarget.schedule_id == schedule.id)
        .order_by(Team.name, EscalationLevel.level)).first()
    if used is not None:
        raise Conflict(
            f"schedule: {schedule.name!r} is paged by team {used[0]!r}'s escalation policy "
            f"(level {used[1]}); change that policy first", field="schedule")
    before = schedule_snapshot(session, schedule)
    session.delete(schedule)
    session.flush()
    audit.record(session, actor, "schedule.delete", "schedule", before["id"], before=before)
