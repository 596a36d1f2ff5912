"""Changes, approvals, the gate, templates and the change calendar under /api/v1."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from steward.api.deps import CurrentActor, Limit, Offset, database
from steward.changes import assessment, lifecycle, records
from steward.changes.schemas import (
    ChangeCreate,
    Decision,
    GateRequest,
    TemplateCreate,
    Transition,
    WindowCreate,
)
from steward.timeutil import parse_timestamp, utcnow

router = APIRouter(prefix="/api/v1", tags=["changes"])
ChangeId = Annotated[int, Path(ge=1, le=2**62, description="change id")]
STATES = "^(new|assess|authorize|scheduled|implement|review|closed|rejected|canceled)(,(new|" \
         "assess|authorize|scheduled|implement|review|closed|rejected|canceled))*$"


@router.get("/changes")
def list_changes(request: Request, _actor: CurrentActor, limit: Limit = 100, offset: Offset = 0,
                 state: Annotated[str | None, Query(pattern=STATES)] = None,
                 model: Annotated[str | None,
                                  Query(pattern="^(standard|normal|emergency)$")] = None,
                 team: str | None = None, service: str | None = None,
                 risk_level: Annotated[str | None,
                                       Query(pattern="^(low|moderate|high|very high)$")] = None,
                 q: str | None = None, start: str | None = None,
                 end: str | None = None) -> dict[str, Any]:
    start_at = parse_timestamp(start, field="start") if start else None
    end_at = parse_timestamp(end, field="end") if end else None
    with database(request).read_session() as session:
        total, rows = records.list_changes(session, state=state, model=model, team=team,
                                           service=service, risk_level=risk_level, q=q,
                                           start=start_at, end=end_at, limit=limit,
                                           offset=offset)
        return {"total": total, "limit": limit, "offset": offset,
                "items": [records.change_out(session, c) for c in rows]}


@router.get("/changes/score")
def change_success_score(request: Request, _actor: CurrentActor, team: str | None = None,
                         days: Annotated[int, Query(ge=1, le=3650)] = 90) -> dict[str, Any]:
    """Change success score per team: +3 successful, -2 with issues, -5 failed."""
    with database(request).read_session() as session:
        items = records.success_scores(session, days=days, team=team)
        return {"days": days, "items": items}


@router.get("/change-policy")
def change_policy(_actor: CurrentActor) -> dict[str, Any]:
    """The approval policy in effect: ordered rules, the guards above them, risk weights
    and levels, and whether each is the default or set by configuration."""
    return assessment.policy_in_effect()


@router.post("/changes", status_code=201)
def create_change(body: ChangeCreate, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        change = lifecycle.create_change(session, actor, body)
        return records.change_out(session, change, detail=True)


@router.get("/changes/{change_id}")
def get_change(change_id: ChangeId, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return records.change_out(session, lifecycle.get_change(session, change_id), detail=True)


@router.post("/changes/{change_id}/approve")
def approve(change_id: ChangeId, body: Decision, request: Request,
            actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        change = lifecycle.decide(session, actor, change_id, "approve", body.comment)
        return records.change_out(session, change, detail=True)


@router.post("/changes/{change_id}/reject")
def reject(change_id: ChangeId, body: Decision, request: Request,
           actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        change = lifecycle.decide(session, actor, change_id, "reject", body.comment)
        return records.change_out(session, change, detail=True)


@router.post("/changes/{change_id}/{state}")
def move(change_id: ChangeId, request: Request, actor: CurrentActor,
         state: Annotated[str, Path(pattern="^(implement|review|closed|canceled)$")],
         body: Transition | None = None) -> dict[str, Any]:
    """Move a change by hand: implement, review, closed (with an outcome), canceled."""
    body = body or Transition()
    with database(request).session() as session:
        change = lifecycle.transition(session, actor, change_id, state, outcome=body.outcome,
                                      comment=body.comment)
        return records.change_out(session, change, detail=True)


@router.get("/changes/{change_id}/gate")
def change_gate(change_id: ChangeId, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return lifecycle.gate(session, lifecycle.get_change(session, change_id))


@router.post("/gate")
def pipeline_gate(body: GateRequest, request: Request, actor: CurrentActor) -> dict[str, Any]:
    """Open or find the change for this pipeline run, and say whether it may deploy."""
    with database(request).session() as session:
        change = lifecycle.gate_for_pipeline(session, actor, body)
        return lifecycle.gate(session, change)


@router.get("/change-templates")
def list_templates(request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        items = [records.template_out(session, t) for t in records.list_templates(session)]
        return {"total": len(items), "items": items}


@router.post("/change-templates", status_code=201)
def create_template(body: TemplateCreate, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        return records.template_out(session, records.create_template(session, actor, body))


@router.get("/calendar/windows")
def list_windows(request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        items = [records.window_out(w) for w in records.list_windows(session)]
        return {"total": len(items), "items": items}


@router.post("/calendar/windows", status_code=201)
def create_window(body: WindowCreate, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        return records.window_out(records.create_window(session, actor, body))


@router.delete("/calendar/windows/{window_id}", status_code=204)
def delete_window(window_id: Annotated[int, Path(ge=1, le=2**62)], request: Request,
                  actor: CurrentActor) -> Response:
    with database(request).session() as session:
        records.delete_window(session, actor, window_id)
    return Response(status_code=204)


@router.get("/calendar")
def calendar_view(request: Request, _actor: CurrentActor, start: str | None = None,
                  days: Annotated[int, Query(ge=1, le=62)] = 7) -> dict[str, Any]:
    """Window occurrences and changes planned in [start, start + days)."""
    begin: datetime = parse_timestamp(start, field="start") if start else utcnow()
    finish = begin + timedelta(days=days)
    with database(request).read_session() as session:
        _, changes = records.list_changes(session, start=begin, end=finish, limit=1000)
        return {"start": begin, "end": finish,
                "windows": records.occurrences_between(session, begin, finish),
                "changes": [records.change_out(session, c) for c in changes]}
