"""The timers table: background work waiting for its time, and what became of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, UTCDateTime
from steward.timeutil import utcnow

STATES = ("pending", "done", "failed", "canceled")


class Timer(Base):
    """One piece of background work: fired once at ``due_at`` by whichever loop claims it.

    ``state``: ``pending`` (waiting, or waiting to be retried after ``attempts``
    failures), ``done`` (its handler ran and committed; ``fired_at``, ``fired_by``),
    ``failed`` (its handler raised STEWARD_TIMER_MAX_ATTEMPTS times; ``last_error``),
    ``canceled``.
    """

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_state_due_at", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fired_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
