"""One incident: its facts and SLA, what changed before it (suspects to confirm), its
alerts and timeline, the affected part of the system map, and the responder's forms:
status actions, assignment, priority, notes, cause and fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.auth.models import User
from steward.catalog.models import Service
from steward.catalog.use_cases import services as catalog
from steward.changes.models import Deployment
from steward.errors import NotFound, StewardError, ValidationError
from steward.incidents import queries
from steward.incidents.models import Incident, IncidentService
from steward.incidents.schemas import DeploymentRef, NoteBody
from steward.incidents.use_cases import lifecycle
from steward.inputs import MAX_ID
from steward.request.database import database
from steward.timeutil import isoformat_z, utcnow
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
from steward.web.incidents_view import affected_map, ago, level_from
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
}


def incident_href(number: int) -> str:
    return f"/incidents/{number}"


def _incident_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18 or not 1 <= int(raw) <= MAX_ID:
        raise PageError(404, "Not found", f"incident {raw!r} does not exist")
    return int(raw)


def can_respond(viewer: Viewer, incident: Incident) -> bool:
    return lifecycle.may_respond(viewer.actor, incident)


def _sla_flag(due: str | None, breached: bool, done_at: str | None,
              now: datetime) -> dict[str, str]:
    if breached:
        return {"tone": "bad", "label": "\u26a0 breached"}
    if done_at:
        return {"tone": "ok", "label": "\u2713 met"}
    return {"tone": "info", "label": f"on track, due {ago(due, now)}" if due else "on track"}


def _deployments(session: Session, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.execute(select(Deployment, Service.name).join(
        Service, Service.id == Deployment.service_id).where(Deployment.id.in_(ids))).all()
    return {d.id: {"id": d.id, "service": name, "version": d.version, "status": d.status,
                   "environment": d.environment, "change_id": d.change_id,
                   "finished_at": isoformat_z(d.finished_at)} for d, name in rows}


def _fix_candidates(session: Session, incident: Incident) -> list[dict[str, Any]]:
    """Deployments on the incident's services since it started: the likely fixes."""
    services = select(IncidentService.service_id).where(
        IncidentService.incident_id == incident.id)
    rows = session.execute(select(Deployment, Service.name).join(
        Service, Service.id == Deployment.service_id).where(
        Deployment.service_id.in_(services),
        or_(Deployment.finished_at >= incident.started_at,
            Deployment.started_at >= incident.started_at))
        .order_by(Deployment.id.desc()).limit(20)).all()
    return [{"id": d.id, "service": name, "version": d.version} for d, name in rows]


def _people(session: Session, keep: tuple[str | None, ...]) -> list[tuple[str, str]]:
    """Who can be assigned: everyone who can respond, and whoever is assigned now."""
    rows = session.execute(select(User.username, User.display_name).where(
        or_(User.active.is_(True) & (User.role != "viewer"),
            User.username.in_([k for k in keep if k])))
        .order_by(User.username)).all()
    return [(username, display or username) for username, display in rows]


def _incident_page(request: Request, session: Session, viewer: Viewer, number: int, *,
                   error: str = "", status: int = 200,
                   form: dict[str, Any] | None = None) -> Response:
    incident = lifecycle.get_incident(session, number)
    out = queries.incident_out(session, incident, detail=True)
    now = utcnow()
    fixes = list(session.scalars(select(Deployment.id).where(
        Deployment.fixes_incident_id == incident.id)))
    known = _deployments(session, {s["deployment_id"] for s in out["suspects"]} | set(fixes)
                         | ({incident.caused_by_deployment_id}
                            if incident.caused_by_deployment_id else set()))
    suspects = [{**s, "deployment": known.get(s["deployment_id"], {})} for s in out["suspects"]]
    respond = can_respond(viewer, incident)
    sla = out["sla"]
    done = request.query_params.get("done", "")
    return render(request, "incidents/detail.html", {
        "incident": out,
        "raw": incident,
        "now": now,
        "suspects": suspects,
        "cause": known.get(incident.caused_by_deployment_id or -1),
        "fixes": [known[i] for i in fixes if i in known],
        "respond_flag": _sla_flag(sla["respond_by"], sla["respond_breached"],
                                  out["acknowledged_at"] or out["resolved_at"], now),
        "resolve_flag": _sla_flag(sla["resolve_by"], sla["resolve_breached"],
                                  out["resolved_at"], now),
        "map": affected_map(session, out["services"], out["origin_service"],
                            f"What {out['number']} takes down or degrades"),
        "can_respond": respond,
        "actions": [(action, ACTION_LABELS[action])
                    for action, (allowed, _) in lifecycle.ACTIONS.items()
                    if incident.status in allowed] if respond else [],
        "people": _people(session, (out["assignee"], out["commander"])) if respond else [],
        "teams": sorted(catalog.team_names(session).values()) if respond else [],
        "fix_candidates": _fix_candidates(session, incident) if respond else [],
        "error": error,
        "notice": NOTICES.get(done) if not error else None,
        "form": form or {},
    }, status=status, nav="incidents")


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: str) -> Response:
    number = _incident_id(incident_id)
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        return _incident_page(request, session, viewer, number)


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
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        return _incident_page(request, session, viewer, number, error=message, status=status,
                              form=form)


def _act(session: Session, viewer: Viewer, number: int, form: FormData) -> str:
    action = form_text(form, "action")
    if action not in lifecycle.ACTIONS:
        raise ValidationError(f"action: one of {', '.join(lifecycle.ACTIONS)}", field="action")
    lifecycle.act(session, viewer.actor, number, action, local_time(form_text(form, "at"), "at"),
                  str(form.get("note") or "").strip())
    return action


def _username(session: Session, user_id: int | None) -> str:
    return (session.scalar(select(User.username).where(User.id == user_id)) or ""
            if user_id else "")


def _responder(session: Session, viewer: Viewer, number: int) -> Incident:
    """The incident, once it is clear this person may respond to it (before comparing
    a form with it: a viewer's forged post is refused even when it would change nothing)."""
    incident = lifecycle.get_incident(session, number)
    if not can_respond(viewer, incident):
        viewer.actor.require_team_write(incident.owner_team_id, "respond to incidents")
    return incident


def _assign(session: Session, viewer: Viewer, number: int, form: FormData) -> str:
    incident = _responder(session, viewer, number)
    changes: dict[str, str] = {}
    for field, user_id in (("assignee", incident.assignee_id),
                           ("commander", incident.commander_id)):
        if field in form and form_text(form, field) != _username(session, user_id):
            changes[field] = form_text(form, field)
    team = form_text(form, "team")
    if team and team != catalog.team_names(session).get(incident.owner_team_id or -1):
        changes["team"] = team
    if not changes:
        return "unchanged"
    lifecycle.assign(session, viewer.actor, number, assignee=changes.get("assignee"),
                     commander=changes.get("commander"), team=changes.get("team"))
    return "assigned"


def _priority(session: Session, viewer: Viewer, number: int, form: FormData) -> str:
    incident = _responder(session, viewer, number)
    impact, urgency = level_from(form, "impact"), level_from(form, "urgency")
    changes = {name: value for name, value, now in (("impact", impact, incident.impact),
                                                      ("urgency", urgency, incident.urgency))
               if value is not None and value != now}
    if not changes:
        return "unchanged"
    lifecycle.set_priority(session, viewer.actor, number, **changes)
    return "priority"


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
    lifecycle.confirm_cause(session, viewer.actor, number, _deployment_id(form))
    return "cause"


def _fix(session: Session, viewer: Viewer, number: int, form: FormData) -> str:
    lifecycle.mark_fix(session, viewer.actor, number, _deployment_id(form))
    return "fix"


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


@router.post("/incidents/{incident_id}/fix")
def incident_fix(request: Request, incident_id: str, form: Form) -> Response:
    return _submit(request, incident_id, form, _fix, "#suspects")
