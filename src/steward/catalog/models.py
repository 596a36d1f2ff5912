"""Catalog tables: teams, services (configuration items) and dependencies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, UTCDateTime
from steward.timeutil import utcnow

SERVICE_KINDS = ("business_service", "system", "service", "api", "resource", "pool")
LIFECYCLES = ("experimental", "production", "deprecated", "retired")
DEPENDENCY_TYPES = ("hard", "soft")


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # contact channels: {"email": ..., "chat": ..., "pager": ...}
    contacts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    backstage_ref: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("tier BETWEEN 1 AND 4", name="tier_range"),
        CheckConstraint("min_up IS NULL OR min_up >= 1", name="min_up_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(40), index=True)
    tier: Mapped[int] = mapped_column(Integer, default=3)
    lifecycle: Mapped[str] = mapped_column(String(40), default="production")
    owner_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="RESTRICT"), index=True
    )
    min_up: Mapped[int | None] = mapped_column(Integer)
    # [{"title": ..., "url": ..., "type": "repo" | "runbook" | "dashboard" | "docs" | "other"}]
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    backstage_ref: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Dependency(Base):
    """``service`` depends on ``depends_on``; for a pool, its members."""

    __tablename__ = "dependencies"
    __table_args__ = (
        UniqueConstraint("service_id", "depends_on_id", name="uq_dependencies_pair"),
        CheckConstraint("service_id <> depends_on_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    depends_on_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(10), default="hard")
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(40), default="manual")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogState(Base):
    """One row whose revision goes up with every catalog change (graph caches key on it)."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
