"""Shared goals: an organisation objective on a KPI."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, UTCDateTime
from steward.timeutil import utcnow


class Goal(Base):
    """An organisation objective on a KPI, e.g. change failure rate <= 10 % this quarter."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    metric: Mapped[str] = mapped_column(String(60))
    comparator: Mapped[str] = mapped_column(String(2))  # "<=" or ">="
    target: Mapped[float] = mapped_column(Float)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
