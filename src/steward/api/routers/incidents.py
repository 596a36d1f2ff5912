"""Incidents and alerts under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import Field

from steward.api.deps import CurrentActor, End, Limit, Offset, Start, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.incidents import detail_queries, queries
from steward.incidents.schemas import (
    ActionBody,
    AlertGroupOut,
    AlertOut,
    AssignBody,
    DeploymentRef,
    IncidentCreate,
    IncidentDetailOut,
    IncidentOut,
    NoteBody,
    PriorityBody,
    SuspectOut,
    TimelinePage,
)
from steward.incidents.use_cases import causes, lifecycle
from steward.inputs import MAX_ID
from steward.oncall import escalation_queries
from steward.oncall.schemas import EscalationOut
from steward.shapes import Listing, Page
from steward.timeutil import parse_timestamp

router = api_router(prefix="/api/v1", tags=["incidents"], responses=error_responses(401))
# A responder's change to an incident: rights, existence, the state machine, the body.
RESPOND: dict[str, Any] = {"response_model": IncidentDetailOut,
                           "responses": error_responses(400, 403, 404, 409, 413, 422)}
IncidentId = Annotated[int, Path(ge=1, le=MAX_ID, description="incident id")]
ALERT_STATUS = "^(firing|acknowledged|resolved)(,(firing|acknowledged|resolved))*$"
SEVERITY = "^(critical|error|warning|info)(,(critical|error|warning|info))*$"
STATUS = ("^(triggered|acknowledged|mitigated|resolved|closed)"
          "(,(triggered|acknowledged|mitigated|resolved|closed))*$")


@router.get("/incidents", response_model=Page[IncidentOut], responses=error_responses(422))
def list_incidents(request: Request, _actor: CurrentActor, limit: Limit = 100,
                   offset: Offset = 0,
                   status: Annotated[str | None, Query(pattern=STATUS)] = None,
                   priority: Annotated[str | None, Query(pattern="^P[1-5](,P[1-5])*$")] = None,
                   team: str | None = None, service: str | None = None, q: str | None = None,
                   start: Start = None, end: End = None) -> dict[str, Any]:
    with database(request).read_session() as session:
        total, rows = queries.list_incidents(
            session, status=status, priority=priority, team=team, service=service, q=q,
            start=parse_timestamp(start, field="start") if start is not None else None,
            end=parse_timestamp(end, field="end") if end is not None else None,
            limit=limit, offset=offset)
        return {"total": total, "limit": limit, "offset": offset,
                "items": [queries.incident_out(session, i) for i in rows]}


@router.post("/incidents", operation_id="declare_incident", status_code=201,
             response_model=IncidentDetailOut,
             responses=error_responses(400, 403, 413, 422))
def declare(body: IncidentCreate, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        incident = lifecycle.declare(session, actor, body.title, body.service, body.impact,
                                     body.urgency, body.started_at, body.description)
        return queries.incident_out(session, incident, detail=True)


class IncidentWithEscalationOut(IncidentDetailOut):
    escalation: EscalationOut | None = Field(
        description="where its escalation is; null when none started")


@router.get("/incidents/{incident_id}", response_model=IncidentWithEscalationOut,
            responses=error_responses(404, 422))
def get_incident(incident_id: IncidentId, request: Request,
                 _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        out = queries.incident_out(session, lifecycle.get_incident(session, incident_id),
                                   detail=True)
        out["escalation"] = escalation_queries.escalation_for_incident(session, incident_id)
        return out


@router.get("/incidents/{incident_id}/suspects", operation_id="incident_suspects",
            response_model=Listing[SuspectOut],
            responses=error_responses(404, 422))
def suspects(incident_id: IncidentId, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        items = queries.suspects_for(session, lifecycle.get_incident(session, incident_id))
        return {"total": len(items), "items": items}


PageRows = Annotated[int, Query(ge=1, le=500, description="rows per page")]


@router.get("/incidents/{incident_id}/timeline", operation_id="incident_timeline",
            response_model=TimelinePage, responses=error_responses(404, 422))
def timeline(incident_id: IncidentId, request: Request, _actor: CurrentActor,
             limit: PageRows = 100,
             after: Annotated[str | None, Query(max_length=40, description=(
                 "the previous page's 'next'"))] = None,
             raw: Annotated[bool, Query(description=(
                 "every entry as it is, alert entries not summarised"))] = False,
             kind: Annotated[str | None, Query(pattern="^[a-z_]{1,30}$", description=(
                 "raw only: entries of this kind ('other': every kind but alert)"))] = None,
             start: Start = None, end: End = None) -> dict[str, Any]:
    """The incident's timeline in time order, a page at a time. Summarised (the default):
    entries other than alerts as they are, runs of many alert entries as one row each
    ("+4,812 alerts on 37 services in 5 minutes") with the first alert of each service that
    joined. ``raw=true``: every entry, ``kind``, ``start`` and ``end`` narrowing them (a
    summary row's entries: kind=alert from its first_at to its last_at)."""
    with database(request).read_session() as session:
        lifecycle.get_incident(session, incident_id)
        if raw or kind or start is not None or end is not None:
            return detail_queries.raw_timeline(
                session, incident_id, after=after, limit=limit, kind=kind,
                start=parse_timestamp(start, field="start") if start is not None else None,
                end=parse_timestamp(end, field="end") if end is not None else None)
        return detail_queries.summarised_timeline(session, incident_id, after=after,
                                                  limit=limit)


@router.get("/incidents/{incident_id}/alerts", operation_id="incident_alerts",
            response_model=Page[AlertOut] | Page[AlertGroupOut],
            responses=error_responses(404, 422))
def incident_alerts(incident_id: IncidentId, request: Request, _actor: CurrentActor,
                    limit: PageRows = 50, offset: Offset = 0,
                    group: Annotated[str | None, Query(pattern="^signature$", description=(
                        "signature: groups of alerts by service and signature"))] = None,
                    status: Annotated[str | None, Query(pattern=ALERT_STATUS)] = None,
                    severity: Annotated[str | None, Query(pattern=SEVERITY)] = None,
                    service: Annotated[str | None, Query(max_length=200)] = None,
                    signature: Annotated[str | None, Query(max_length=500)] = None,
                    ) -> dict[str, Any]:
    """The incident's alerts, paged: one by one in the order first seen (filtered by
    status, severity, service, signature), or with ``group=signature`` grouped by service
    and signature (the summary with its digits as #), most alerts first."""
    with database(request).read_session() as session:
        lifecycle.get_incident(session, incident_id)
        if group:
            total, groups = detail_queries.alert_groups(session, incident_id, limit=limit,
                                                        offset=offset)
            return {"total": total, "limit": limit, "offset": offset, "items": groups}
        total, rows = detail_queries.incident_alerts(
            session, incident_id, status=status, severity=severity, service=service,
            signature=signature, limit=limit, offset=offset)
        return {"total": total, "limit": limit, "offset": offset,
                "items": queries.alerts_out(session, rows)}


@router.post("/incidents/{incident_id}/notes", operation_id="add_incident_note", **RESPOND)
def note(incident_id: IncidentId, body: NoteBody, request: Request,
         actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        incident = lifecycle.add_note(session, actor, incident_id, body.text, body.at)
        return queries.incident_out(session, incident, detail=True)


@router.post("/incidents/{incident_id}/assign", operation_id="assign_incident", **RESPOND)
def assign(incident_id: IncidentId, body: AssignBody, request: Request,
           actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        incident = lifecycle.assign(session, actor, incident_id, assignee=body.assignee,
                                    commander=body.commander, team=body.team, at=body.at)
        return queries.incident_out(session, incident, detail=True)


@router.post("/incidents/{incident_id}/priority", operation_id="set_incident_priority",
             **RESPOND)
def set_priority(incident_id: IncidentId, body: PriorityBody, request: Request,
                 actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        incident = lifecycle.set_priority(session, actor, incident_id, impact=body.impact,
                                          urgency=body.urgency)
        return queries.incident_out(session, incident, detail=True)


@router.post("/incidents/{incident_id}/cause", **RESPOND)
def confirm_cause(incident_id: IncidentId, body: DeploymentRef, request: Request,
                  actor: CurrentActor) -> dict[str, Any]:
    """Confirm the deployment that caused the incident (it counts as failed)."""
    with database(request).session() as session:
        incident = causes.confirm_cause(session, actor, incident_id, body.deployment_id,
                                           body.at)
        return queries.incident_out(session, incident, detail=True)


@router.post("/incidents/{incident_id}/fix", **RESPOND)
def mark_fix(incident_id: IncidentId, body: DeploymentRef, request: Request,
             actor: CurrentActor) -> dict[str, Any]:
    """Record the deployment that fixed the incident (rework)."""
    with database(request).session() as session:
        incident = causes.mark_fix(session, actor, incident_id, body.deployment_id, body.at)
        return queries.incident_out(session, incident, detail=True)


@router.post("/incidents/{incident_id}/{action}", operation_id="act_on_incident", **RESPOND)
def act(incident_id: IncidentId, request: Request, actor: CurrentActor,
        action: Annotated[str, Path(pattern="^(acknowledge|mitigate|resolve|close|reopen)$")],
        body: ActionBody | None = None) -> dict[str, Any]:
    body = body or ActionBody()
    with database(request).session() as session:
        incident = lifecycle.act(session, actor, incident_id, action, body.at, body.note)
        return queries.incident_out(session, incident, detail=True)


@router.get("/alerts", response_model=Page[AlertOut], responses=error_responses(422))
def list_alerts(request: Request, _actor: CurrentActor, limit: Limit = 100, offset: Offset = 0,
                status: Annotated[str | None,
                                  Query(pattern="^(firing|acknowledged|resolved)$")] = None,
                service: str | None = None) -> dict[str, Any]:
    with database(request).read_session() as session:
        total, rows = queries.list_alerts(session, status=status, service=service, limit=limit,
                                        offset=offset)
        return {"total": total, "limit": limit, "offset": offset,
                "items": queries.alerts_out(session, rows)}
