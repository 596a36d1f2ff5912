"""On-call tables: schedules with their layers, members and overrides; escalation
policies with their levels and targets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from steward.auth import models as _auth  # noqa: F401  (users: foreign keys resolve)
from steward.catalog import models as _catalog  # noqa: F401  (teams)
from steward.db import Base, UTCDateTime
from steward.timeutil import utcnow

TARGET_KINDS = ("schedule", "user", "team")


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("team_id", "name", name="uq_schedules_team_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ScheduleLayer(Base):
    """One rotation of a schedule. ``starts`` is the first hand-off as a local wall-clock
    time in the schedule's time zone (naive on purpose)."""

    __tablename__ = "schedule_layers"
    __table_args__ = (
        CheckConstraint("handoff_interval_hours >= 1", name="interval_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=1)  # higher wins
    starts: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    handoff_interval_hours: Mapped[int] = mapped_column(Integer)
    restrict_start: Mapped[str | None] = mapped_column(String(5))  # "HH:MM" local
    restrict_end: Mapped[str | None] = mapped_column(String(5))
    restrict_weekdays: Mapped[list[Any] | None] = mapped_column(JSON)  # ["mon", ...]


class LayerMember(Base):
    __tablename__ = "layer_members"

    layer_id: Mapped[int] = mapped_column(
        ForeignKey("schedule_layers.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class ScheduleOverride(Base):
    __tablename__ = "schedule_overrides"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_schedule_overrides_schedule_time", "schedule_id", "ends_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EscalationPolicy(Base):
    __tablename__ = "escalation_policies"
    __table_args__ = (CheckConstraint("repeat_count >= 0", name="repeat_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"),
                                         unique=True)
    name: Mapped[str] = mapped_column(String(200))
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EscalationLevel(Base):
    __tablename__ = "escalation_levels"
    __table_args__ = (
        UniqueConstraint("policy_id", "level", name="uq_escalation_levels_policy_level"),
        CheckConstraint("level >= 1", name="level_positive"),
        CheckConstraint("timeout_minutes >= 1", name="timeout_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    timeout_minutes: Mapped[int] = mapped_column(Integer)


class EscalationTarget(Base):
    """Whom a level pages: a schedule's on-call, a user, or a team's level-1 on-call."""

    __tablename__ = "escalation_targets"
    __table_args__ = (
        CheckConstraint("kind IN ('schedule', 'user', 'team')", name="kind_known"),
        CheckConstraint(
            "(CASE WHEN schedule_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN user_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN team_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level_id: Mapped[int] = mapped_column(
        ForeignKey("escalation_levels.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True)
