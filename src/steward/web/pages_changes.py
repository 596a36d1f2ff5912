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
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.catalog import queries as catalog
from steward.catalog.use_cases.services import team_names
from steward.changes import policy, queries
from steward.changes.commands import CHANGE_MODELS, CHANGE_OUTCOMES, CHANGE_STATES
from steward.changes.risk import LEVELS
from steward.changes.schemas import ChangeCreate
from steward.changes.use_cases import lifecycle
from steward.db import Database
from steward.errors import NotFound, StewardError, ValidationError
from steward.inputs import MAX_ID
from steward.request.database import database
from steward.timeutil import utcnow
from steward.web import pages_calendar, pages_deployments, pages_policy
from steward.web.change_forms import form_values as _form_values
from steward.web.change_forms import input_time, local_time, names_from, problem
from steward.web.guard import (
    PageError,
    WebRoute,
    check_csrf,
    form_text,
    pick,
    read_form,
    require_viewer,
)
from steward.web.incidents_view import nav_counts
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


def _new_change_defaults() -> dict[str, Any]:
    start = (utcnow() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return {"planned_start": input_time(start),
            "planned_end": input_time(start + timedelta(hours=1)),
            "environment": "production", "model": "normal", "services": []}


def _changes_page(request: Request, db: Database, *, error: str = "", status: int = 200,
                  form: dict[str, Any] | None = None) -> Response:
    with db.read_session() as session:
        viewer = require_viewer(request, session)
        filters = _filters(request)
        limit, offset = paging(request)
        state = filters["state"]
        total, rows = queries.change_listing(
            session, state=",".join(OPEN_STATES) if state == "open" else state or None,
            model=filters["model"] or None, team=filters["team"] or None,
            service=filters["service"] or None, risk_level=filters["risk"] or None,
            q=filters["q"] or None, limit=limit, offset=offset)
        can_create = viewer.role in ("member", "admin")
        templates = queries.template_listing(session, active_only=True) if can_create else []
        service_names = catalog.service_names(session)
        teams = sorted(team_names(session).values())
        service_groups = catalog.service_names_by_team(session) if can_create else []
        nav = nav_counts(session)
    keep: dict[str, Any] = {k: v for k, v in filters.items() if v}
    if limit != DEFAULT_LIMIT:
        keep["limit"] = limit
    return render(request, "changes/list.html", {
        **nav,
        "rows": rows, "filters": filters, "filtered": any(filters.values()),
        "pager": Pager("/changes", keep, total, limit, offset),
        "states": CHANGE_STATES, "models": CHANGE_MODELS, "levels": LEVELS,
        "teams": teams,
        "service_names": service_names,
        "can_create": can_create,
        "service_groups": service_groups,
        "templates": templates,
        "form": form if form is not None else _new_change_defaults(),
        "error": error,
    }, status=status, nav="changes")


@router.get("/changes")
def changes_page(request: Request) -> Response:
    return _changes_page(request, database(request))


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
        return _changes_page(request, db, error=message, status=status, form=values)
    return RedirectResponse(f"{change_href(change_id)}?done=created", status_code=303)


# -- one change ------------------------------------------------------------------------

def _change_page(request: Request, db: Database, change_id: int, *, error: str = "",
                 status: int = 200, form: dict[str, Any] | None = None) -> Response:
    with db.read_session() as session:
        viewer = require_viewer(request, session)
        view = queries.change_view(session, change_id, viewer.actor)
        nav = nav_counts(session)
    out = view["change"]
    factors = [{**f, "name": factor_name(str(f.get("key")))} for f in out["risk"]["factors"]]
    done = request.query_params.get("done", "")
    return render(request, "changes/detail.html", {
        **nav,
        "change": out,
        "factors": factors,
        "chart": render_risk_chart(factors, score=out["risk"]["score"],
                                   level=out["risk"]["level"]),
        "policy": out["policy"],
        "approvals": view["approvals"],
        "approval": view["approval"],
        "moves": [{"state": state, "label": HAND_MOVES[state]}
                  for state in view["next_states"] if state in HAND_MOVES],
        "outcomes": CHANGE_OUTCOMES,
        "gate": view["gate"],
        "deployments": view["deployments"],
        "conflicts": view["conflicts"],
        "can_write": view["can_write"],
        "error": error,
        "notice": NOTICES.get(done) if not error else None,
        "form": form or {},
    }, status=status, nav="changes")


@router.get("/changes/{change_id}")
def change_page(request: Request, change_id: str) -> Response:
    return _change_page(request, database(request), _change_id(change_id))


def _after_failure(request: Request, change_id: int, exc: Exception,
                   form: dict[str, Any]) -> Response:
    message, status = problem(exc)
    return _change_page(request, database(request), change_id, error=message, status=status,
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
