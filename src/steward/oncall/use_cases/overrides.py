"""Overrides: somebody takes a schedule's shifts for a while, with who asked and why.

Two overrides of one schedule never overlap: the second is refused (409) naming the
first, so nobody wonders which of two people was on call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.models import User
from steward.errors import Conflict, NotFound, ValidationError
from steward.oncall.models import ScheduleOverride
from steward.oncall.schemas import OverrideCreate
from steward.oncall.use_cases.lookup import schedule_by_id, user_field, users_by_name
from steward.timeutil import isoformat_z


def override_snapshot(item: ScheduleOverride, username: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "schedule_id": item.schedule_id,
        "user": username,
        "starts_at": isoformat_z(item.starts_at),
        "ends_at": isoformat_z(item.ends_at),
        "requested_by": item.requested_by,
        "reason": item.reason,
    }


def create_override(session: Session, actor: Actor, schedule_id: int,
                    data: OverrideCreate) -> ScheduleOverride:
    # The schedule's row is locked: two overlapping overrides written at once cannot both
    # pass the check below.
    schedule = schedule_by_id(session, schedule_id, lock=True)
    actor.require_team_write(schedule.team_id, "override this team's schedules")
    user = user_field(users_by_name(session, [data.user]), data.user, field="user")
    if data.ends_at <= data.starts_at:
        raise ValidationError("ends_at: the override must end after it starts",
                              field="ends_at")
    clash = session.execute(
        select(ScheduleOverride, User.username)
        .join(User, User.id == ScheduleOverride.user_id)
        .where(ScheduleOverride.schedule_id == schedule.id,
               ScheduleOverride.starts_at < data.ends_at,
               ScheduleOverride.ends_at > data.starts_at)
        .order_by(ScheduleOverride.starts_at).limit(1)).first()
    if clash is not None:
        other, who = clash
        raise Conflict(
            f"starts_at: overlaps override {other.id} ({who} from "
            f"{isoformat_z(other.starts_at)} to {isoformat_z(other.ends_at)}); change or "
            "delete that one first", field="starts_at",
            details=[{"field": "starts_at", "message": f"overlaps override {other.id}"}])
    item = ScheduleOverride(schedule_id=schedule.id, user_id=user.id,
                            starts_at=data.starts_at, ends_at=data.ends_at,
                            requested_by=data.requested_by or actor.name, reason=data.reason)
    session.add(item)
    session.flush()
    audit.record(session, actor, "schedule.override.create", "schedule", schedule.id,
                 after=override_snapshot(item, user.username))
    return item


def delete_override(session: Session, actor: Actor, schedule_id: int, override_id: int) -> None:
    schedule = schedule_by_id(session, schedule_id, lock=True)
    actor.require_team_write(schedule.team_id, "change this team's overrides")
    item = session.scalar(select(ScheduleOverride).where(
        ScheduleOverride.id == override_id, ScheduleOverride.schedule_id == schedule.id))
    if item is None:
        raise NotFound(f"override {override_id} of schedule {schedule_id} does not exist",
                       field="override")
    username = session.scalar(select(User.username).where(User.id == item.user_id)) or ""
    before = override_snapshot(item, username)
    session.delete(item)
    session.flush()
    audit.record(session, actor, "schedule.override.delete", "schedule", schedule.id,
                 before=before)
