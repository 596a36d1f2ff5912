"""The Statuspage v2 answers' shapes, for the API's documentation (``/openapi.json``):
what ``status.statuspage`` writes, field by field as Atlassian's public API documents
it. The answers themselves are written as bytes, cached, and not validated again."""

from __future__ import annotations

from steward.shapes import Out


class PageOut(Out):
    id: str
    name: str
    url: str
    updated_at: str


class StatusIndicatorOut(Out):
    indicator: str  # none, minor, major, critical, maintenance
    description: str


class ComponentOut(Out):
    id: str
    name: str
    status: str  # operational, degraded_performance, partial_outage, major_outage, ...
    created_at: str
    updated_at: str
    position: int
    description: str | None
    page_id: str


class IncidentUpdateOut(Out):
    id: str
    incident_id: str
    status: str
    body: str
    created_at: str
    updated_at: str
    display_at: str


class IncidentOut(Out):
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
    incident_updates: list[IncidentUpdateOut]


class MaintenanceOut(IncidentOut):
    status: str  # scheduled, in_progress, verifying, completed
    scheduled_for: str
    scheduled_until: str


class SummaryOut(Out):
    page: PageOut
    status: StatusIndicatorOut
    components: list[ComponentOut]
    incidents: list[IncidentOut]
    scheduled_maintenances: list[MaintenanceOut]


class StatusOut(Out):
    page: PageOut
    status: StatusIndicatorOut


class ComponentsOut(Out):
    page: PageOut
    components: list[ComponentOut]


class IncidentsOut(Out):
    page: PageOut
    incidents: list[IncidentOut]


class MaintenancesOut(Out):
    page: PageOut
    scheduled_maintenances: list[MaintenanceOut]
