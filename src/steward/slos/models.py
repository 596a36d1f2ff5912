"""Service level objectives and their reported SLI counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

# The ``_name`` imports: the models of the tables these foreign keys name. A flush resolves
# every foreign key of the tables it writes, so those are loaded whenever these are.
from steward.catalog import models as _catalog  # noqa: F401
from steward.db import Base, UTCDateTime
from steward.timeutil import utcnow

SLI_KINDS = ("impact", "counts")


class Slo(Base):
    """An objective for one service over a rolling window.

    ``sli`` says where the indicator comes from: ``impact`` (the time the
    service spent in incidents counts as bad) or ``counts`` (good/total
    counts posted to the API).
    """

    __tablename__ = "slos"
    __table_args__ = (UniqueConstraint("service_id", "name", name="uq_slos_service_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    objective: Mapped[float] = mapped_column(Float)  # e.g. 0.999
    window_days: Mapped[int] = mapped_column(Integer, default=28)
    sli: Mapped[str] = mapped_column(String(20), default="impact")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SliReport(Base):
    """Good and total events of an SLO's indicator over [start, end)."""

    __tablename__ = "sli_reports"
    __table_args__ = (Index("ix_sli_reports_slo_end", "slo_id", "end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slo_id: Mapped[int] = mapped_column(ForeignKey("slos.id", ondelete="CASCADE"))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    good: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
