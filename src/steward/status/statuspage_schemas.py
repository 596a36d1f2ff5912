"""The Statuspage v2 answers' shapes, for the API's documentation (``/openapi.json``):
what ``status.statuspage`` writes, field by field as Atlassian's public API documents
it. The answers themselves are written as bytes, cached, and not validated again."""

from __future__ import annotations

from steward.shapes import Out


class StatuspagePageOut(Out):
    id: str
    name: str
    url: str
    updated_at: str


class StatuspageStatusIndicatorOut(Out):
    indicator: str  # none, minor, major, critical, maintenance
    description: str


class StatuspageComponentOut(Out):
    id: str
    name: str
    status: str  # operational, degraded_performance, partial_outage, major_outage, ...
    created_at: str
    updated_at: str
    position: int
    description: str | None
    page_id: str


class StatuspageIncidentUpdateOut(Out):
    id: str
    incident_id: str
    status: str
    body: str
    created_at: str
    updated_at: str
    display_at: str


class StatuspageIncidentOut(Out):
    id: str
    name: str
    status: str  # investigating, identified, monitoring, resolved, postmortem
    impact: str  # none, minor, major, critical
    created_at: str
    updated_at: str
    monitoring_at: str | None
    resolved_at: str | None
    shortlink: str
    page_id: str
    incident_updates: list[StatuspageIncidentUpdateOut]


class StatuspageMaintenanceOut(StatuspageIncidentOut):
    status: str  # scheduled, in_progress, verifying, completed
    scheduled_for: str
    scheduled_until: str


class StatuspageSummaryOut(Out):
    page: StatuspagePageOut
    status: StatuspageStatusIndicatorOut
    components: list[StatuspageComponentOut]
    incidents: list[StatuspageIncidentOut]
    scheduled_maintenances: list[StatuspageMaintenanceOut]


class StatuspageStatusOut(Out):
    page: StatuspagePageOut
    status: StatuspageStatusIndicatorOut


class StatuspageComponentsOut(Out):
    page: StatuspagePageOut
    components: list[StatuspageComponentOut]


class StatuspageIncidentsOut(Out):
    page: StatuspagePageOut
    incidents: list[StatuspageIncidentOut]


class StatuspageMaintenancesOut(Out):
    page: StatuspagePageOut
    scheduled_maintenances: list[StatuspageMaintenanceOut]
