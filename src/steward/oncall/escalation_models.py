"""Escalation tables: where each incident's escalation is, and every page it sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, UTCDateTime
from steward.incidents import models as _incidents  # noqa: F401  (incidents: foreign keys)
from steward.oncall import models as _oncall  # noqa: F401  (escalation_policies)
from steward.timeutil import utcnow


class IncidentEscalation(Base):
    """An incident's escalation as it stands: its position, what is due next, or why it
    stopped. Written by the steps and by the events that stop or restart it."""

    __tablename__ = "incident_escalations"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    level: Mapped[int] = mapped_column(Integer, default=1)
    # The cycle the current run began with (a reassignment or a reopening starts a run).
    run_start: Mapped[int] = mapped_column(Integer, default=1)
    levels: Mapped[int] = mapped_column(Integer, default=0)
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)
    # active | stopped | ran_out | no_policy (``oncall.escalation.STATES``)
    state: Mapped[str] = mapped_column(String(20), default="active")
    # Why it stopped ("acknowledged", "resolved", ...) or why there is nobody to page.
    reason: Mapped[str] = mapped_column(String(300), default="")
    stopped_by: Mapped[str] = mapped_column(String(200), default="")
    # The one timer expected next: a timer with another key (one that escaped its
    # cancellation while it was being fired) finds the escalation moved on and does nothing.
    next_key: Mapped[str | None] = mapped_column(String(200))
    next_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paged_in_cycle: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EscalationPage(Base):
    """One person paged by one escalation step: the facts the on-call KPIs count (per
    team, never per person), classified when paged (out of hours in the time zone of the
    schedule that made them on call)."""

    __tablename__ = "escalation_pages"
    __table_args__ = (
        UniqueConstraint("incident_id", "cycle", "level", "user_id",
                         name="uq_escalation_pages_step_user"),
        Index("ix_escalation_pages_team_paged", "team_id", "paged_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    cycle: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    urgency: Mapped[str] = mapped_column(String(10))
    paged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    out_of_hours: Mapped[bool] = mapped_column(Boolean, default=False)
