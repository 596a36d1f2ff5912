"""Change pages: the list with its filters and a form for a new change, and one change
with its risk chart, approval policy, approvals, gate, moves and deployments.

The calendar and the deployment pages live in their own modules; their routers are
included here first, so ``/changes/calendar`` is matched before ``/changes/{id}``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.catalog.models import Service
from steward.catalog.use_cases import services as catalog
from steward.changes import assessment, policy
from steward.changes.models import CHANGE_MODELS, CHANGE_OUTCOMES, CHANGE_STATES, Change, Deployment
from steward.changes.risk import LEVELS
from steward.changes.schemas import ChangeCreate
from steward.changes.use_cases import lifecycle, records
from steward.changes.use_cases.deployments import deployment_out
from steward.errors import NotFound, StewardError, ValidationError
from steward.inputs import MAX_ID
from steward.request.database import database
from steward.timeutil import utcnow
from steward.web import pages_calendar, pages_deployments, pages_policy
from steward.web.change_forms import form_values as _form_values
from steward.web.change_forms import input_time, local_time, names_from, problem
from steward.web.guard import (
    PageError,
    Viewer,
    WebRoute,
    check_csrf,
    form_text,
    pick,
    read_form,
    require_viewer,
)
from steward.web.render import DEFAULT_LIMIT, Pager, paging, render
from steward.web.risk_chart import factor_name, render_risk_chart

router = APIRouter(route_class=WebRoute, include_in_schema=False)
router.include_router(pages_calendar.router)
router.include_router(pages_policy.router)
router.include_router(pages_deployments.router)
Form = Annotated[FormData, Depends(read_form)]

OPEN_STATES = ("new", "assess", "authorize", "scheduled", "implement", "review")
HAND_MOVES = {"implement": "Start implementing", "review": "Move to review",
              "closed": "Close with outcome", "canceled": "Cancel the change"}
NOTICES = {
    "created": "Change recorded. Its risk was assessed and the approval policy applied.",
    "approve": "Your approval is recorded.",
    "reject": "Your rejection is recorded.",
    "implement": "The change is being implemented.",
    "review": "The change is in review.",
    "closed": "The change is closed.",
    "canceled": "The change is canceled.",
}
FILTERS = ("state", "model", "team", "service", "risk", "q")


def change_href(change_id: int) -> str:
    return f"/changes/{change_id}"


def _change_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18 or not 1 <= int(raw) <= MAX_ID:
        raise PageError(404, "Not found", f"change {raw!r} does not exist")
    return int(raw)


# -- the list ------------------------------------------------------------------------------

def _filters(request: Request) -> dict[str, str]:
    filters = {name: pick(request.query_params, name) for name in FILTERS}
    state = filters["state"]
    if state and state != "open" and state not in CHANGE_STATES:
        raise PageError(422, "Invalid input", f"state: unknown state {state!r}; expected open "
                        f"or one of {', '.join(CHANGE_STATES)}")
    if filters["model"] and filters["model"] not in CHANGE_MODELS:
        raise PageError(422, "Invalid input", f"model: expected one of {', '.join(CHANGE_MODELS)}")
    if filters["risk"] and filters["risk"] not in LEVELS:
        raise PageError(422, "Invalid input", f"risk: expected one of {', '.join(LEVELS)}")
    return filters


def _service_choices(session: Session) -> list[tuple[str, list[str]]]:
    """Service names grouped by owning team, for the new-change form."""
    teams = catalog.team_names(session)
    groups: dict[str, list[str]] = {}
    for name, owner_id in session.execute(select(Service.name, Service.owner_team_id)
                                          .order_by(Service.name)):
        groups.setdefault(teams.get(owner_id, "no team") if owner_id else "no team",
                          []).append(name)
    return sorted(groups.items())


def _new_change_defaults() -> dict[str, Any]:
    start = (utcnow() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return {"planned_start": input_time(start),
            "planned_end": input_time(start + timedelta(hours=1)),
            "environment": "production", "model": "normal", "services": []}


def _changes_page(request: Request, session: Session, viewer: Viewer, *, error: str = "",
                  status: int = 200, form: dict[str, Any] | None = None) -> Response:
    filters = _filters(request)
    limit, offset = paging(request)
    state = filters["state"]
    total, changes = records.list_changes(
        session, state=",".join(OPEN_STATES) if state == "open" else state or None,
        model=filters["model"] or None, team=filters["team"] or None,
        service=filters["service"] or None, risk_level=filters["risk"] or None,
        q=filters["q"] or None, limit=limit, offset=offset)
    rows = [records.change_out(session, change) for change in changes]
    keep: dict[str, Any] = {k: v for k, v in filters.items() if v}
    if limit != DEFAULT_LIMIT:
        keep["limit"] = limit
    can_create = viewer.role in ("member", "admin")
    templates = [records.template_out(session, t) for t in records.list_templates(session)
                 if t.active] if can_create else []
    service_names = sorted(session.scalars(select(Service.name)))
    return render(request, "changes/list.html", {
        "rows": rows, "filters": filters, "filtered": any(filters.values()),
        "pager": Pager("/changes", keep, total, limit, offset),
        "states": CHANGE_STATES, "models": CHANGE_MODELS, "levels": LEVELS,
        "teams": sorted(catalog.team_names(session).values()),
        "service_names": service_names,
        "can_create": can_create,
        "service_groups": _service_choices(session) if can_create else [],
        "templates": templates,
        "form": form if form is not None else _new_change_defaults(),
        "error": error,
    }, status=status, nav="changes")


@router.get("/changes")
def changes_page(request: Request) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        return _changes_page(request, session, viewer)


def _whole(form: FormData, field: str) -> int | None:
    raw = form_text(form, field)
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 10 or int(raw) > MAX_ID:
        raise ValidationError(f"{field}: must be a whole number from 0 to {MAX_ID}", field=field)
    return int(raw)


def _change_create(form: FormData) -> ChangeCreate:
    template = form_text(form, "template") or None
    return ChangeCreate(
        title=form_text(form, "title"), services=names_from(form, "services"),
        model=("standard" if template else form_text(form, "model") or "normal"),
        template=template, environment=form_text(form, "environment") or "production",
        description=str(form.get("description") or "").strip(),
        planned_start=local_time(form_text(form, "planned_start"), "planned_start"),
        planned_end=local_time(form_text(form, "planned_end"), "planned_end"),
        batch_size=_whole(form, "batch_size"))


@router.post("/changes")
def change_create(request: Request, form: Form) -> Response:
    values = _form_values(form)
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            change = lifecycle.create_change(session, viewer.actor, _change_create(form),
                                             source="web")
            change_id = change.id
    except (StewardError, PydanticError) as exc:
        message, status = problem(exc)
        with db.read_session() as session:
            viewer = require_viewer(request, session)
            return _changes_page(request, session, viewer, error=message, status=status,
                                 form=values)
    return RedirectResponse(f"{change_href(change_id)}?done=created", status_code=303)


# -- one change ------------------------------------------------------------------------

def _approval_box(session: Session, viewer: Viewer, change: Change,
                  approvals: list[Any]) -> dict[str, Any]:
    """Whether this person may approve now, and if not, the reason in words."""
    if change.state != "authorize":
        return {"open": False, "can": False, "reason": ""}
    mine = next((a for a in approvals if a.username.casefold() == viewer.username.casefold()),
                None)
    allowed, reason = lifecycle.approval_rights(session, viewer.actor, change, approvals)
    if mine is not None:
        return {"open": True, "can": False, "voted": mine, "reason": reason}
    return {"open": True, "can": allowed, "reason": reason}


def _moves(viewer: Viewer, change: Change) -> list[dict[str, str]]:
    if not viewer.can_write_team(change.owner_team_id):
        return []
    return [{"state": state, "label": HAND_MOVES[state]}
            for state in lifecycle.TRANSITIONS[change.state] if state in HAND_MOVES]


def _change_page(request: Request, session: Session, viewer: Viewer, change_id: int, *,
                 error: str = "", status: int = 200,
                 form: dict[str, Any] | None = None) -> Response:
    change = lifecycle.get_change(session, change_id)
    out = records.change_out(session, change, detail=True)
    approvals = lifecycle.approvals_of(session, change.id)
    deployments = list(session.scalars(select(Deployment).where(
        Deployment.change_id == change.id).order_by(Deployment.id)))
    names = dict(session.execute(select(Service.id, Service.name).where(
        Service.id.in_({d.service_id for d in deployments}))).all()) if deployments else {}
    conflicts: list[dict[str, Any]] = []
    if change.state in OPEN_STATES:
        services = assessment.affected_services(session, change)
        conflicts = [{"id": other.id, "label": other.label, "reason": reason}
                     for other, reason in assessment.conflicting_changes(session, change,
                                                                         services)]
    factors = [{**f, "name": factor_name(str(f.get("key")))} for f in out["risk"]["factors"]]
    done = request.query_params.get("done", "")
    return render(request, "changes/detail.html", {
        "change": out,
        "raw": change,
        "factors": factors,
        "chart": render_risk_chart(factors, score=change.risk_score, level=change.risk_level),
        "policy": out["policy"],
        "approvals": approvals,
        "approval": _approval_box(session, viewer, change, approvals),
        "moves": _moves(viewer, change),
        "outcomes": CHANGE_OUTCOMES,
        "gate": lifecycle.gate(session, change),
        "deployments": [deployment_out(session, d, names) for d in deployments],
        "conflicts": conflicts,
        "can_write": viewer.can_write_team(change.owner_team_id),
        "error": error,
        "notice": NOTICES.get(done) if not error else None,
        "form": form or {},
    }, status=status, nav="changes")


@router.get("/changes/{change_id}")
def change_page(request: Request, change_id: str) -> Response:
    number = _change_id(change_id)
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        return _change_page(request, session, viewer, number)


def _after_failure(request: Request, change_id: int, exc: Exception,
                   form: dict[str, Any]) -> Response:
    message, status = problem(exc)
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        return _change_page(request, session, viewer, change_id, error=message, status=status,
                            form=form)


@router.post("/changes/{change_id}/decide")
def change_decide(request: Request, change_id: str, form: Form) -> Response:
    """Approve or reject: the policy's segregation of duties is the domain's to enforce."""
    number = _change_id(change_id)
    values = _form_values(form)
    decision = form_text(form, "decision")
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            if decision not in policy.VERDICTS:
                raise ValidationError("decision: choose approve or reject", field="decision")
            lifecycle.decide(session, viewer.actor, number, decision,
                             str(form.get("comment") or "").strip())
    except NotFound as exc:
        if exc.field == "change_id":
            raise
        return _after_failure(request, number, exc, values)
    except (StewardError, PydanticError) as exc:
        return _after_failure(request, number, exc, values)
    return RedirectResponse(f"{change_href(number)}?done={decision}#approvals", status_code=303)


@router.post("/changes/{change_id}/move")
def change_move(request: Request, change_id: str, form: Form) -> Response:
    """Implement, review, close with an outcome, or cancel, as the state machine allows."""
    number = _change_id(change_id)
    values = _form_values(form)
    state = form_text(form, "state")
    outcome = form_text(form, "outcome") or None
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            if state not in HAND_MOVES:
                raise ValidationError(f"state: a change is moved by hand only to "
                                      f"{', '.join(HAND_MOVES)}", field="state")
            if outcome is not None and outcome not in CHANGE_OUTCOMES:
                raise ValidationError(f"outcome: expected one of {', '.join(CHANGE_OUTCOMES)}",
                                      field="outcome")
            lifecycle.transition(session, viewer.actor, number, state,
                                 outcome=outcome if state == "closed" else None,
                                 comment=str(form.get("comment") or "").strip())
    except NotFound as exc:
        if exc.field == "change_id":
            raise
        return _after_failure(request, number, exc, values)
    except (StewardError, PydanticError) as exc:
        return _after_failure(request, number, exc, values)
    return RedirectResponse(f"{change_href(number)}?done={state}", status_code=303)
