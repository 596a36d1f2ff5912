"""Changes, approvals, the gate, templates and the change calendar under /api/v1."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from steward.api.deps import CurrentActor, End, Limit, Offset, Start, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.changes import assessment, queries
from steward.changes.schemas import (
    CalendarOut,
    ChangeCreate,
    ChangeDetailOut,
    ChangeOut,
    ChangePolicyOut,
    Decision,
    GateOut,
    GateRequest,
    SuccessScoresOut,
    TemplateCreate,
    TemplateOut,
    Transition,
    WindowCreate,
    WindowOut,
)
from steward.changes.use_cases import lifecycle, records
from steward.inputs import MAX_ID
from steward.shapes import Listing, Page
from steward.timeutil import parse_timestamp, utcnow

router = api_router(prefix="/api/v1", tags=["changes"], responses=error_responses(401))
# Moving a change: its rights, its existence, its state machine, the body.
TRANSITION = error_responses(400, 403, 404, 409, 413, 422)
ChangeId = Annotated[int, Path(ge=1, le=MAX_ID, description="change id")]
STATES = "^(new|assess|authorize|scheduled|implement|review|closed|rejected|canceled)(,(new|" \
         "assess|authorize|scheduled|implement|review|closed|rejected|canceled))*$"


@router.get("/changes", response_model=Page[ChangeOut], responses=error_responses(422))
def list_changes(request: Request, _actor: CurrentActor, limit: Limit = 100, offset: Offset = 0,
                 state: Annotated[str | None, Query(pattern=STATES)] = None,
                 model: Annotated[str | None,
                                  Query(pattern="^(standard|normal|emergency)$")] = None,
                 team: str | None = None, service: str | None = None,
                 risk_level: Annotated[str | None,
                                       Query(pattern="^(low|moderate|high|very high)$")] = None,
                 q: str | None = None, start: Start = None,
                 end: End = None) -> dict[str, Any]:
    start_at = parse_timestamp(start, field="start") if start is not None else None
    end_at = parse_timestamp(end, field="end") if end is not None else None
    with database(request).read_session() as session:
        total, items = queries.change_listing(session, state=state, model=model, team=team,
                                              service=service, risk_level=risk_level, q=q,
                                              start=start_at, end=end_at, limit=limit,
                                              offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/changes/score", response_model=SuccessScoresOut,
            responses=error_responses(422))
def change_success_score(request: Request, _actor: CurrentActor, team: str | None = None,
                         days: Annotated[int, Query(ge=1, le=3650)] = 90) -> dict[str, Any]:
    """Change success score per team: +3 successful, -2 with issues, -5 failed."""
    with database(request).read_session() as session:
        items = queries.success_scores(session, days=days, team=team)
        return {"days": days, "items": items}


@router.get("/change-policy", response_model=ChangePolicyOut,
            responses=error_responses(422))
def change_policy(_actor: CurrentActor) -> dict[str, Any]:
    """The approval policy in effect: ordered rules, the guards above them, risk weights
    and levels, and whether each is the default or set by configuration."""
    return assessment.policy_in_effect()


@router.post("/changes", status_code=201, response_model=ChangeDetailOut,
             responses=error_responses(400, 403, 409, 413, 422))
def create_change(body: ChangeCreate, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        change = lifecycle.create_change(session, actor, body)
        return queries.change_out(session, change, detail=True)


@router.get("/changes/{change_id}", response_model=ChangeDetailOut,
            responses=error_responses(404, 422))
def get_change(change_id: ChangeId, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return queries.change_detail(session, change_id)


@router.post("/changes/{change_id}/approve", operation_id="approve_change",
             response_model=ChangeDetailOut,
             responses=TRANSITION)
def approve(change_id: ChangeId, body: Decision, request: Request,
            actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        change = lifecycle.decide(session, actor, change_id, "approve", body.comment)
        return queries.change_out(session, change, detail=True)


@router.post("/changes/{change_id}/reject", operation_id="reject_change",
             response_model=ChangeDetailOut,
             responses=TRANSITION)
def reject(change_id: ChangeId, body: Decision, request: Request,
           actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        change = lifecycle.decide(session, actor, change_id, "reject", body.comment)
        return queries.change_out(session, change, detail=True)


@router.post("/changes/{change_id}/{state}", operation_id="move_change",
             response_model=ChangeDetailOut,
             responses=TRANSITION)
def move(change_id: ChangeId, request: Request, actor: CurrentActor,
         state: Annotated[str, Path(pattern="^(implement|review|closed|canceled)$")],
         body: Transition | None = None) -> dict[str, Any]:
    """Move a change by hand: implement, review, closed (with an outcome), canceled."""
    body = body or Transition()
    with database(request).session() as session:
        change = lifecycle.transition(session, actor, change_id, state, outcome=body.outcome,
                                      comment=body.comment)
        return queries.change_out(session, change, detail=True)


@router.get("/changes/{change_id}/gate", response_model=GateOut,
            responses=error_responses(404, 422))
def change_gate(change_id: ChangeId, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return lifecycle.gate(session, lifecycle.get_change(session, change_id))


@router.post("/gate", response_model=GateOut, responses=error_responses(
    400, 403, 404, 409, 413, 422))
def pipeline_gate(body: GateRequest, request: Request, actor: CurrentActor) -> dict[str, Any]:
    """Open or find the change for this pipeline run, and say whether it may deploy."""
    with database(request).session() as session:
        change = lifecycle.gate_for_pipeline(session, actor, body)
        return lifecycle.gate(session, change)


@router.get("/change-templates", response_model=Listing[TemplateOut])
def list_templates(request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        items = queries.template_listing(session)
    return {"total": len(items), "items": items}


@router.post("/change-templates", status_code=201, response_model=TemplateOut,
             responses=error_responses(400, 403, 409, 413, 422))
def create_template(body: TemplateCreate, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        return records.template_out(session, records.create_template(session, actor, body))


@router.get("/calendar/windows", response_model=Listing[WindowOut])
def list_windows(request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        items = queries.window_listing(session)
    return {"total": len(items), "items": items}


@router.post("/calendar/windows", status_code=201, response_model=WindowOut,
             responses=error_responses(400, 403, 413, 422))
def create_window(body: WindowCreate, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        return records.window_out(records.create_window(session, actor, body))


@router.delete("/calendar/windows/{window_id}", status_code=204,
               responses=error_responses(403, 404, 422))
def delete_window(window_id: Annotated[int, Path(ge=1, le=MAX_ID)], request: Request,
                  actor: CurrentActor) -> Response:
    with database(request).session() as session:
        records.delete_window(session, actor, window_id)
    return Response(status_code=204)


@router.get("/calendar", response_model=CalendarOut, responses=error_responses(422))
def calendar_view(request: Request, _actor: CurrentActor, start: Start = None,
                  days: Annotated[int, Query(ge=1, le=62)] = 7) -> dict[str, Any]:
    """Window occurrences and changes planned in [start, start + days)."""
    begin: datetime = parse_timestamp(start, field="start") if start is not None else utcnow()
    finish = begin + timedelta(days=days)
    with database(request).read_session() as session:
        _, changes = queries.change_listing(session, start=begin, end=finish, limit=1000)
        windows = queries.occurrences_between(session, begin, finish)
    return {"start": begin, "end": finish, "windows": windows, "changes": changes}
