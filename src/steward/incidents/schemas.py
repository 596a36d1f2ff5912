"""API shapes for incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from steward.inputs import Id, IncidentTitle, Label, LongText, NameRef, Note
from steward.shapes import Number, Out, Timestamp
from steward.timeutil import parse_timestamp


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _time(value: object, info: object) -> datetime | None:
    if value is None:
        return None
    return parse_timestamp(value, field=getattr(info, "field_name", "at") or "at")


class IncidentCreate(Strict):
    title: IncidentTitle
    service: NameRef
    impact: int | None = Field(default=None, ge=1, le=3)
    urgency: int | None = Field(default=None, ge=1, le=3)
    started_at: datetime | None = None
    description: LongText = ""

    _times = field_validator("started_at", mode="before")(_time)


class ActionBody(Strict):
    at: datetime | None = Field(default=None, description="a past time to record (never future)")
    note: LongText = ""

    _times = field_validator("at", mode="before")(_time)


class NoteBody(Strict):
    text: Note
    at: datetime | None = Field(default=None, description="a past time to record")

    _times = field_validator("at", mode="before")(_time)


class AssignBody(Strict):
    assignee: Label | None = Field(default=None, description="a username; empty: nobody")
    commander: Label | None = None
    team: Label | None = None
    at: datetime | None = None

    _times = field_validator("at", mode="before")(_time)


class PriorityBody(Strict):
    impact: int | None = Field(default=None, ge=1, le=3)
    urgency: int | None = Field(default=None, ge=1, le=3)


class DeploymentRef(Strict):
    deployment_id: Id
    at: datetime | None = None

    _times = field_validator("at", mode="before")(_time)


# -- answers ----------------------------------------------------------------------------

class SlaOut(Out):
    respond_by: Timestamp | None
    resolve_by: Timestamp | None
    respond_breached: bool
    resolve_breached: bool
    made_sla: bool | None = Field(description="the verdict imported history brought, if any")


class RespondingTeamOut(Out):
    """A team responding to the incident besides its owning team."""

    team: str
    added_at: Timestamp
    reason: str = Field(description='why it responds, e.g. "owns payments-db"')


class IncidentOut(Out):
    id: int
    number: str = Field(description="INC-<id>")
    title: str
    status: str
    priority: str
    impact: int
    urgency: int
    started_at: Timestamp
    acknowledged_at: Timestamp | None
    mitigated_at: Timestamp | None
    resolved_at: Timestamp | None
    closed_at: Timestamp | None
    origin_service: str | None
    team: str | None
    assignee: str | None
    commander: str | None
    services: list[str]
    business_services: list[str]
    business_services_down: list[str]
    business_services_degraded: list[str]
    manual: bool
    reopen_count: int
    source: str
    external_ref: str | None
    category: str | None
    caused_by_deployment: int | None
    recurrence_of: int | None = Field(
        default=None, description="the incident this one is a recurrence of: an alert of it "
        "triggered again after the reopen window")
    sla: SlaOut
    responding_teams: list[RespondingTeamOut] = Field(
        description="teams owning a service of the incident, besides the owning team")


class AlertOut(Out):
    id: int
    dedup_key: str
    status: str
    severity: str
    summary: str
    source: str
    service: str | None
    labels: dict[str, Any]
    details: dict[str, Any]
    url: str
    first_seen: Timestamp = Field(description="when it counts from: the time reported, "
                                  "made plausible (never in the future, never more than the "
                                  "event-time bound before it was received)")
    reported_at: Timestamp | None = Field(
        default=None, description="the time the source reported, as reported")
    received_at: Timestamp | None = Field(default=None,
                                          description="when Steward received it")
    last_seen: Timestamp
    count: int
    resolved_at: Timestamp | None
    incident_id: int | None


class TimelineEntryOut(Out):
    """A timeline entry, or (type "summary") a row standing for a run of alert entries:
    its data says how many alerts, on how many services, from first_at to last_at."""

    type: Literal["entry", "summary"] = "entry"
    id: int | None = Field(default=None, description="the entry's id; none for a summary")
    at: Timestamp
    kind: str
    actor: str
    text: str
    data: dict[str, Any]


class SuspectOut(Out):
    """A deployment that may have caused the incident, scored out of 100."""

    deployment_id: int
    change_id: int | None
    service: str
    version: str
    finished_at: Timestamp | None
    status: str
    score: Number
    reasons: list[str]
    confirmed: bool


class IncidentDetailOut(IncidentOut):
    description: str
    origin_reasoning: str
    priority_reasons: list[str]
    alert_count: int = Field(description="every alert of the incident")
    alerts: list[AlertOut] = Field(description="its first 20 alerts; every one, paged: "
                                               "/incidents/{id}/alerts")
    timeline: list[TimelineEntryOut] = Field(description="the summarised timeline's first "
                                                         "page")
    timeline_next: str | None = Field(description="cursor of the timeline's next page "
                                                  "(/incidents/{id}/timeline?after=...)")
    suspects: list[SuspectOut]


class TimelinePage(Out):
    """Timeline entries in time order, ``limit`` rows at a time; ``next`` is the cursor of
    the following page (``?after=``), none at the end."""

    summarised: bool
    limit: int
    next: str | None
    items: list[TimelineEntryOut]


class AlertGroupOut(Out):
    """The alerts of one service sharing a signature (their summary with digits as #)."""

    service: str | None
    signature: str
    alerts: int = Field(description="alerts in the group")
    active: int = Field(description="of them, not resolved")
    events: int = Field(description="events they counted (repeats included)")
    first_seen: Timestamp
    last_seen: Timestamp
    severity: str | None = Field(description="the worst severity in the group")
    example: str = Field(description="one of the group's summaries")


class AlertResult(Out):
    alert_id: int | None = Field(description="none for an acknowledge or resolve of no "
                                             "active alert")
    created: bool = Field(description="false when the alert updated one already known")
    incident_id: int | None


class RefusedEvent(Out):
    """An event of a batch that was refused; the rest of the batch was recorded."""

    index: int = Field(description="its place in the batch (from 0)")
    field: str
    message: str


class AlertsAccepted(Out):
    """Alerts recorded (committed) before this answer."""

    status: Literal["accepted"]
    alerts: int = Field(description="how many were recorded")
    results: list[AlertResult]
    refused: list[RefusedEvent] = Field(
        default_factory=list, description="events of the batch refused one by one (a time "
        "that does not parse); the others were recorded")
