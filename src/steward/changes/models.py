"""Change records, templates, approvals, deployments and the change calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# The ``_name`` imports: the models of the tables these foreign keys name. A flush resolves
# every foreign key of the tables it writes, so those are loaded whenever these are.
from steward.auth import models as _auth  # noqa: F401
from steward.catalog import models as _catalog  # noqa: F401
from steward.db import Base, UTCDateTime
from steward.timeutil import utcnow

# Where a change waits for its approval policy or its approvers.
AWAITING_APPROVAL = ("new", "assess", "authorize")


class Change(Base):
    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_state_planned", "state", "planned_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    model: Mapped[str] = mapped_column(String(20), default="normal")
    state: Mapped[str] = mapped_column(String(20), default="new", index=True)
    outcome: Mapped[str | None] = mapped_column(String(30))
    environment: Mapped[str] = mapped_column(String(100), default="production")
    owner_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("change_templates.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(200), default="")
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    risk_score: Mapped[int] = mapped_column(Integer, default=0)
    risk_level: Mapped[str] = mapped_column(String(20), default="low")
    risk_factors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # the approval policy's decision: action, rule, approver_teams, quorum, reasons
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    auto_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    planned_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    links: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # pipeline, pr, ...
    source: Mapped[str] = mapped_column(String(40), default="api")
    # a pipeline run's own id, so the gate finds the same change on every call
    external_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    authorized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChangeService(Base):
    """The configuration items a change affects."""

    __tablename__ = "change_services"

    change_id: Mapped[int] = mapped_column(
        ForeignKey("changes.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True)


class Approval(Base):
    __tablename__ = "change_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"),
                                           index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(10))  # approve, reject
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChangeTemplate(Base):
    """A standard change: a named, pre-approved kind of change for given services."""

    __tablename__ = "change_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    risk_ceiling: Mapped[str] = mapped_column(String(20), default="low")
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TemplateService(Base):
    __tablename__ = "change_template_services"

    template_id: Mapped[int] = mapped_column(
        ForeignKey("change_templates.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)


class Deployment(Base):
    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_deployments_source_external"),
        Index("ix_deployments_service_env_finished", "service_id", "environment", "finished_at"),
        # Covers the KPI queries: production deployments finished in a window.
        Index("ix_deployments_env_finished", "environment", "finished_at", "status",
              "service_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(40), default="api")
    external_id: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(2000), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    change_id: Mapped[int | None] = mapped_column(
        ForeignKey("changes.id", ondelete="SET NULL"), index=True)
    unauthorised: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    batch_size: Mapped[int] = mapped_column(Integer, default=0)
    rollback_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), index=True)
    # the incident this deployment fixed (rework), and the first one it caused
    fixes_incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    caused_incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DeploymentCommit(Base):
    __tablename__ = "deployment_commits"
    __table_args__ = (UniqueConstraint("deployment_id", "sha", name="uq_deployment_commits_sha"),
                      Index("ix_deployment_commits_deployment_time", "deployment_id",
                            "committed_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True)
    sha: Mapped[str] = mapped_column(String(64))
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text, default="")


class CalendarWindow(Base):
    """A freeze (blackout) or maintenance window, one-off or weekly."""

    __tablename__ = "calendar_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # freeze, maintenance
    scope_kind: Mapped[str] = mapped_column(String(20), default="all")
    scope_values: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    start_time: Mapped[str | None] = mapped_column(String(5))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """Deliveries already processed, so a redelivery changes nothing."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id", name="uq_webhook_deliveries"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    delivery_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
