"""Alerts, incidents, the services they touch, and their timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

# The ``_name`` imports: the models of the tables these foreign keys name. A flush resolves
# every foreign key of the tables it writes, so those are loaded whenever these are.
from steward.auth import models as _auth  # noqa: F401
from steward.catalog import models as _catalog  # noqa: F401
from steward.changes import models as _changes  # noqa: F401
from steward.db import Base, UTCDateTime
from steward.incidents.commands import INCIDENT_STATES as INCIDENT_STATES
from steward.incidents.commands import OPEN_STATES as OPEN_STATES
from steward.incidents.commands import SUMMARY_LENGTH, TITLE_LENGTH, URL_LENGTH
from steward.problems import models as _problems  # noqa: F401
from steward.timeutil import utcnow


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_started", "status", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="triggered")
    priority: Mapped[str] = mapped_column(String(2), default="P3", index=True)
    impact: Mapped[int] = mapped_column(Integer, default=2)
    urgency: Mapped[int] = mapped_column(Integer, default=2)
    impact_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    urgency_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    priority_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    origin_service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="SET NULL"), index=True)
    origin_reasoning: Mapped[str] = mapped_column(Text, default="")
    owner_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    commander_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # {"down": [...], "degraded": [...]} business services from impact analysis
    business_services: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Each service's state in the incident ("down", "degraded", "none") by service id, as
    # the last recompute found it from every alert the incident has had (None: stored
    # before incidents kept it; read from the alerts then).
    service_impacts: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # How many alerts it has: one more with each alert that opens or joins it (both
    # paths), so an incident with many alerts is shown without counting them.
    alert_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    group_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    caused_by_deployment_id: Mapped[int | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), index=True)
    # Whether the incident met its SLA: set when resolved, or taken from imported history.
    made_sla: Mapped[bool | None] = mapped_column(Boolean)
    reassignment_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    category: Mapped[str] = mapped_column(String(200), default="", server_default="")
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("problems.id", ondelete="SET NULL"), index=True)
    # Where the record came from, and its number there (e.g. servicenow, INC0000045).
    source: Mapped[str] = mapped_column(String(40), default="steward", server_default="steward")
    external_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    # Change references from imported history (a ServiceNow rfc / caused_by number).
    change_ref: Mapped[str | None] = mapped_column(String(100))
    caused_by_ref: Mapped[str | None] = mapped_column(String(100))
    # The incident this one is a recurrence of: an alert of it triggered again after the
    # reopen window had passed (``STEWARD_REOPEN_WINDOW``).
    recurrence_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class IncidentService(Base):
    """A service with alerts in the incident (or named when declared by hand)."""

    __tablename__ = "incident_services"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True)
    first_alert_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentTeam(Base):
    """A team responding to an incident besides its owning team: one owning a service of
    the incident (see ``use_cases.identity``)."""

    __tablename__ = "incident_teams"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")


class IncidentAlertGroup(Base):
    """An incident's alerts of one service and signature, counted as they are written
    (``alert_groups``): an incident's groups are read without reading its alerts."""

    __tablename__ = "incident_alert_groups"
    __table_args__ = (
        Index("uq_incident_alert_groups_key", "incident_id", "service_id", "signature_key",
              unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            index=True)
    # The signature's digest: the unique index holds it where it could not hold a long one.
    signature_key: Mapped[str] = mapped_column(String(40))
    signature: Mapped[str] = mapped_column(String(SUMMARY_LENGTH))
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[int] = mapped_column(Integer, default=0)  # not resolved
    events: Mapped[int] = mapped_column(Integer, default=0)  # every alert's count
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worst: Mapped[int | None] = mapped_column(Integer)  # the worst severity's rank
    first_alert_id: Mapped[int | None] = mapped_column(Integer)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # One active alert per key and integration; after it resolves the key starts anew.
        Index("uq_alerts_active_key", "integration_id", "dedup_key", unique=True,
              sqlite_where=text("status != 'resolved'"),
              postgresql_where=text("status != 'resolved'")),
        # An integration's alerts (its foreign key), and any alert of an integration and
        # key. No index on the integration alone: for a lookup by integration and key, a
        # planner whose statistics lag behind a growing table took that one, with LIMIT 1,
        # and read every alert of the integration to find the key.
        Index("ix_alerts_integration_key", "integration_id", "dedup_key"),
        # An incident's alerts (its foreign key), in the order they were first seen.
        Index("ix_alerts_incident_first_seen", "incident_id", "first_seen", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            index=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"))
    dedup_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="firing")
    severity: Mapped[str] = mapped_column(String(20), default="error")
    summary: Mapped[str] = mapped_column(String(SUMMARY_LENGTH), default="")
    # The summary it fired with, its numbers blanked (``timeline_summary.signature``):
    # alerts that differ only in numbers share it. It stays when a repeat brings a new
    # summary, so an alert stays in its group (``IncidentAlertGroup``). Not indexed: a
    # btree entry cannot hold a long summary of multi-byte characters (over 2,704 bytes).
    signature: Mapped[str] = mapped_column(String(SUMMARY_LENGTH), server_default="")
    source: Mapped[str] = mapped_column(String(40), default="generic")
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    url: Mapped[str] = mapped_column(String(URL_LENGTH), default="")
    group_key: Mapped[str | None] = mapped_column(String(500))
    # first_seen is the event's time as it counts (its reported time, made plausible:
    # see ``incidents.event_time``); reported_at the time the source gave, as given;
    # created_at when Steward received it.
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=1)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TimelineEntry(Base):
    __tablename__ = "incident_timeline"
    __table_args__ = (
        Index("ix_incident_timeline_incident_at", "incident_id", "at", "id"),
        # The entries that are not alerts, which a summarised timeline shows one by one
        # however many alert entries surround them.
        Index("ix_incident_timeline_events", "incident_id", "at", "id",
              sqlite_where=text("kind != 'alert'"), postgresql_where=text("kind != 'alert'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"),
                                             index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(30))  # alert, state, note, assignment, priority, ...
    actor: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
