"""One incident: its facts and SLA, what changed before it (suspects to confirm), its
alerts and timeline, the affected part of the system map, and the responder's forms:
status actions, assignment, priority, notes, cause and fix."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.catalog.graph import load_graph
from steward.db import Database, Session
from steward.errors import NotFound, StewardError, ValidationError
from steward.incidents import detail_queries, health_queries, queries
from steward.incidents.schemas import DeploymentRef, NoteBody
from steward.incidents.use_cases import causes, lifecycle
from steward.inputs import MAX_ID
from steward.notify import queries as notify_queries
from steward.oncall import escalation_queries
from steward.oncall import views as oncall_views
from steward.request.database import database
from steward.status import update_queries
from steward.status.use_cases import updates as public_updates
from steward.timeutil import isoformat_z, parse_timestamp, utcnow
from steward.web.change_forms import form_values, local_time, problem
from steward.web.guard import (
    PageError,
    Viewer,
    WebRoute,
    check_csrf,
    form_text,
    read_form,
    require_viewer,
)
from steward.web.incidents_view import affected_map, ago, level_from, nav_counts
from steward.web.render import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]

ACTION_LABELS = {"acknowledge": "Acknowledge", "mitigate": "Mark mitigated",
                 "resolve": "Resolve", "close": "Close", "reopen": "Reopen"}
NOTICES = {
    "declared": "Incident declared. Its owning team and business services come from the "
                "service you named.",
    "acknowledge": "Acknowledged.",
    "mitigate": "Marked as mitigated.",
    "resolve": "Resolved.",
    "close": "Closed.",
    "reopen": "Reopened: the incident is triggered again.",
    "assigned": "Assignment saved.",
    "priority": "Priority saved.",
    "unchanged": "Nothing to change: the incident already looks like that.",
    "note": "Note added to the timeline.",
    "cause": "Cause confirmed: the deployment now counts as failed in the change failure "
             "rate.",
    "fix": "Fix recorded.",
    "public_update": "Public update published: it is on the status page and mailed to its "
                     "subscribers.",
}


def incident_href(number: int) -> str:
    return f"/incidents/{number}"


def _incident_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18 or not 1 <= int(raw) <= MAX_ID:
        raise PageError(404, "Not found", f"incident {raw!r} does not exist")
    return int(raw)


def _sla_flag(due: str | None, breached: bool, done_at: str | None,
              now: datetime) -> dict[str, str]:
    if breached:
        return {"tone": "bad", "label": "\u26a0 breached"}
    if done_at:
        return {"tone": "ok", "label": "\u2713 met"}
    return {"tone": "info", "label": f"on track, due {ago(due, now)}" if due else "on track"}


GROUPS_PER_PAGE = 25


def _offset(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) < 10 else 0


def _time_param(raw: str | None, field: str) -> datetime | None:
    if not raw:
        return None
    try:
        return parse_timestamp(raw, field=field, bounded=False)
    except StewardError as exc:
        raise PageError(400, "Bad request", str(exc)) from exc


def storm_views(session: Session, number: int, params: Mapping[str, str]) -> dict[str, Any]:
    """What the page shows of an incident's many alerts, read a page at a time: the
    timeline page its cursor asks for (``after``; the alert entries of one summary with
    ``from`` and ``to``) and the alert groups from ``groups`` on."""
    after = params.get("after") or None
    start, end = _time_param(params.get("from"), "from"), _time_param(params.get("to"), "to")
    try:
        if start is not None or end is not None:
            timeline = detail_queries.raw_timeline(session, number, after=after, kind="alert",
                                                   start=start, end=end)
        elif after:
            timeline = detail_queries.summarised_timeline(session, number, after=after)
        else:
            timeline = None
    except ValidationError as exc:
        raise PageError(400, "Bad request", str(exc)) from exc
    offset = _offset(params.get("groups"))
    total, groups = detail_queries.alert_groups(session, number, limit=GROUPS_PER_PAGE,
                                                offset=offset)
    return {"timeline_page": timeline, "timeline_range": {
                "from": isoformat_z(start), "to": isoformat_z(end)},
            "alert_groups": {"total": total, "offset": offset, "items": groups,
                             "limit": GROUPS_PER_PAGE}}


def _incident_page(request: Request, db: Database, number: int, *, error: str = "",
                   status: int = 200, form: dict[str, Any] | None = None) -> Response:
    with db.read_session() as session:
        viewer = require_viewer(request, session)
        view = queries.incident_view(session, number, viewer.actor)
        storm = storm_views(session, number, request.query_params)
        graph = load_graph(session)
        nav = nav_counts(session)
        states = health_queries.incident_impacts(session, number)
        escalation = escalation_queries.escalation_for_incident(session, number)
        oncall = (oncall_views.oncall_summary(session, view["incident"]["team"], utcnow())
                  if view["incident"]["team"] else None)
        notifications = notify_queries.notifications_for_incident(session, number)
        public = update_queries.incident_section(session, number)
    out = view["incident"]
    if storm["timeline_page"] is not None:
        out = {**out, "timeline": storm["timeline_page"]["items"],
               "timeline_next": storm["timeline_page"]["next"]}
    now = utcnow()
    sla = out["sla"]
    done = request.query_params.get("done", "")
    return render(request, "incidents/detail.html", {
        **nav,
        "incident": out,
        "now": now,
        "suspects": view["suspects"],
        "cause": view["cause"],
        "fixes": view["fixes"],
        "respond_flag": _sla_flag(sla["respond_by"], sla["respond_breached"],
                                  out["acknowledged_at"] or out["resolved_at"], now),
        "resolve_flag": _sla_flag(sla["resolve_by"], sla["resolve_breached"],
                                  out["resolved_at"], now),
        "map": affected_map(graph, out["services"], out["origin_service"],
                            f"What {out['number']} takes down or degrades", states),
        "can_respond": view["can_respond"],
        "actions": [(action, ACTION_LABELS[action]) for action in view["actions"]],
        "people": view["people"],
        "teams": view["teams"],
        "fix_candidates": view["fix_candidates"],
        "error": error,
        "notice": NOTICES.get(done) if not error else None,
        "form": form or {},
        "escalation": escalation,
        "timeline_paged": storm["timeline_page"] is not None,
        "timeline_range": storm["timeline_range"],
        "alert_groups": storm["alert_groups"],
        "oncall": oncall,
        "notifications": notifications,
        "public": public,
    }, status=status, nav="incidents")


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: str) -> Response:
    return _incident_page(request, database(request), _incident_id(incident_id))


# -- the forms: each writes through one use case, then back to the page ----------------------

Work = Callable[[Session, Viewer, int, FormData], str]


def _submit(request: Request, incident_id: str, form: FormData, work: Work,
            anchor: str = "") -> Response:
    """CSRF, the use case in one transaction, then a redirect with a notice; a domain
    error re-renders the page with the message and its 4xx (an unknown incident is a 404)."""
    number = _incident_id(incident_id)
    values = form_values(form)
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            done = work(session, viewer, number, form)
    except NotFound as exc:
        if exc.field == "incident":
            raise
        return _after_failure(request, number, exc, values)
    except (StewardError, PydanticError) as exc:
        return _after_failure(request, number, exc, values)
    return RedirectResponse(f"{incident_href(number)}?done={done}{anchor}", status_code=303)


def _after_failure(request: Request, number: int, exc: Exception,
                   form: dict[str, Any]) -> Response:
    message, status = problem(exc)
    return _incident_page(request, database(request), number, error=message, status=status,
                          form=form)


def _act(session: Session, viewer: Viewer, number: int, form: FormData) -> str:
    action = form_text(form, "action")
    if action not in lifecycle.ACTIONS:
        raise ValidationError(f"action: one of {', '.join(lifecycle.ACTIONS)}", field="action")
    lifecycle.act(session, viewer.actor, number, action, local_time(form_text(form, "at"), "at"),
                  str(form.get("note") or "").strip())
    return action


def _assign(session: Session, viewer: Viewer, number: int, form: FormData) -> str:
    changed = lifecycle.reassign(
        session, viewer.actor, number,
        assignee=form_text(form, "assignee") if "assignee" in form else None,
        commander=form_text(form, "commander") if "commander" in form else None,
        team=form_text(form, "team") or None)
    return "assigned" if changed else "unchanged"


def _priority(session: Session, viewer: Viewer, number: int, form: FormData) -> str:
    lifecycle.check_responder(session, viewer.actor, number)
    changed = lifecycle.reprioritise(session, viewer.actor, number,
                                     impact=level_from(form, "impact"),
                                     urgency=level_from(form, "urgency"))
    return "priority" if changed else "unchanged"


def _note(session: Session, viewer: Viewer, number: int, form: FormData) -> str:
    text = str(form.get("text") or "").strip()
    lifecycle.add_note(session, viewer.actor, number, NoteBody(text=text).text if text else text)
    return "note"


def _deployment_id(form: FormData) -> int:
    raw = form_text(form, "deployment_id")
    if not raw.isdigit() or len(raw) > 10 or not 1 <= int(raw) <= MAX_ID:
        raise ValidationError("deployment_id: the number of a deployment", field="deployment_id")
    return DeploymentRef(deployment_id=int(raw)).deployment_id


def _cause(session: Session, viewer: Viewer, number: int, form: FormData) -> str:
    causes.confirm_cause(session, viewer.actor, number, _deployment_id(form))
    return "cause"


def _fix(session: Session, viewer: Viewer, number: int, form: FormData) -> str:
    causes.mark_fix(session, viewer.actor, number, _deployment_id(form))
    return "fix"


def _public_update(session: Session, viewer: Viewer, number: int, form: FormData) -> str:
    """The "Public updates" form: each component's status in a ``component:NAME`` field
    (empty: the update does not name it)."""
    lifecycle.check_responder(session, viewer.actor, number)
    components = [{"name": key.removeprefix("component:"), "status": str(value)}
                  for key, value in form.multi_items()
                  if key.startswith("component:") and str(value).strip()]
    public_updates.publish_update(session, viewer.actor, number, {
        "status": form_text(form, "status"), "title": form_text(form, "title"),
        "body": str(form.get("body") or ""), "impact": form_text(form, "impact"),
        "components": components})
    return "public_update"


@router.post("/incidents/{incident_id}/act")
def incident_act(request: Request, incident_id: str, form: Form) -> Response:
    """Acknowledge, mitigate, resolve, close or reopen, as lifecycle.ACTIONS allows."""
    return _submit(request, incident_id, form, _act)


@router.post("/incidents/{incident_id}/assign")
def incident_assign(request: Request, incident_id: str, form: Form) -> Response:
    return _submit(request, incident_id, form, _assign, "#respond")


@router.post("/incidents/{incident_id}/priority")
def incident_priority(request: Request, incident_id: str, form: Form) -> Response:
    return _submit(request, incident_id, form, _priority, "#respond")


@router.post("/incidents/{incident_id}/note")
def incident_note(request: Request, incident_id: str, form: Form) -> Response:
    return _submit(request, incident_id, form, _note, "#timeline")


@router.post("/incidents/{incident_id}/cause")
def incident_cause(request: Request, incident_id: str, form: Form) -> Response:
    return _submit(request, incident_id, form, _cause, "#suspects")


@router.post("/incidents/{incident_id}/public-update")
def incident_public_update(request: Request, incident_id: str, form: Form) -> Response:
    return _submit(request, incident_id, form, _public_update, "#public-updates")


@router.post("/incidents/{incident_id}/fix")
def incident_fix(request: Request, incident_id: str, form: Form) -> Response:
    return _submit(request, incident_id, form, _fix, "#suspects")
