"""Teams and the audit log."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.audit import queries as audit_queries
from steward.audit.queries import AuditRecord
from steward.audit.service import verify
from steward.auth import queries as auth_queries
from steward.catalog import queries as catalog
from steward.catalog.schemas import TeamCreate
from steward.catalog.use_cases import teams as teams_service
from steward.db import Session
from steward.errors import StewardError
from steward.oncall import views as oncall_views
from steward.request.database import database
from steward.request.validation import describe_validation_errors
from steward.status import update_queries
from steward.timeutil import utcnow
from steward.web.guard import (
    WebRoute,
    check_csrf,
    form_text,
    pick,
    read_form,
    require_admin,
    require_viewer,
)
from steward.web.render import DEFAULT_LIMIT, Pager, diff_rows, paging, render
from steward.web.subscriptions_view import subscriptions_context

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]

CONTACT_FIELDS = ("email", "chat", "pager")


def team_href(name: str) -> str:
    return "/teams/" + quote(name, safe="")


def _teams_page(request: Request, session: Session, *, error: str = "", status: int = 200,
                form: dict[str, str] | None = None) -> Response:
    limit, offset = paging(request)
    total, rows = catalog.team_rows(session, limit=limit, offset=offset)
    keep: dict[str, Any] = {"limit": limit} if limit != DEFAULT_LIMIT else {}
    return render(request, "teams.html", {
        "rows": rows, "pager": Pager("/teams", keep, total, limit, offset),
        "error": error, "form": form or {}, "contact_fields": CONTACT_FIELDS,
        "notice": "Team created." if request.query_params.get("done") == "created" else None,
    }, status=status, nav="teams")


@router.get("/teams")
def teams_page(request: Request) -> Response:
    with database(request).read_session() as session:
        require_viewer(request, session)
        return _teams_page(request, session)


@router.post("/teams")
def team_create(request: Request, form: Form) -> Response:
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            require_admin(viewer, "create teams")
            contacts = {key: form_text(form, key) for key in CONTACT_FIELDS
                        if form_text(form, key)}
            data = TeamCreate(name=form_text(form, "name"),
                              display_name=form_text(form, "display_name"),
                              description=form_text(form, "description"), contacts=contacts)
            teams_service.create_team(session, viewer.actor, data)
    except (StewardError, PydanticError) as exc:
        if isinstance(exc, PydanticError):
            message, status = describe_validation_errors(exc.errors())[0], 422
        else:
            message, status = exc.message, exc.status_code
        with db.read_session() as session:
            require_viewer(request, session)
            return _teams_page(request, session, error=message, status=status, form=values)
    return RedirectResponse(f"{team_href(data.name)}?done=created", status_code=303)


TEAM_NOTICES = {"created": "Team created.", "subscribed": "Subscription added.",
                "unsubscribed": "Subscription removed.",
                "status_policy": "Status page policy saved."}


def team_page_response(request: Request, name: str, *, status: int = 200, notice: str = "",
                       extra: dict[str, Any] | None = None) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        info = catalog.team_detail(session, name)
        members = auth_queries.team_members(session, name)
        _, services = catalog.service_rows(session, team=name, limit=1000)
        oncall = oncall_views.oncall_summary(session, name, utcnow())
        subscribed = subscriptions_context(session, viewer, info["id"], name)
        status_policy = update_queries.team_policy(session, name)
    return render(request, "team.html", {
        "team": info, "members": members, "services": services, "oncall": oncall,
        **subscribed, **(extra or {}), "status_policy": status_policy,
        "notice": notice or TEAM_NOTICES.get(request.query_params.get("done", "")),
    }, status=status, nav="teams")


@router.get("/teams/{name}")
def team_page(request: Request, name: str) -> Response:
    return team_page_response(request, name)


def _entity_label(entry: AuditRecord) -> str:
    for snap in (entry.after, entry.before):
        if isinstance(snap, dict):
            for key in ("name", "username", "prefix"):
                if snap.get(key):
                    return str(snap[key])
            if snap.get("service") and snap.get("depends_on"):
                return f"{snap['service']} \u2192 {snap['depends_on']}"
    return ""


@router.get("/audit")
def audit_page(request: Request) -> Response:
    entity_type = pick(request.query_params, "entity_type")
    want_verify = request.query_params.get("verify") == "1"
    limit, offset = paging(request)
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        require_admin(viewer, "read the audit log")
        total, entries = audit_queries.audit_records(session, entity_type=entity_type or None,
                                                     limit=limit, offset=offset)
        types = audit_queries.entity_types(session)
        verified = verify(session) if want_verify else None
    rows = [{"entry": entry, "label": _entity_label(entry),
             "diff": diff_rows(entry.before, entry.after)} for entry in entries]
    keep: dict[str, Any] = {"entity_type": entity_type} if entity_type else {}
    if limit != DEFAULT_LIMIT:
        keep["limit"] = limit
    return render(request, "audit.html", {
        "rows": rows, "pager": Pager("/audit", keep, total, limit, offset),
        "entity_type": entity_type, "entity_types": types, "verified": verified,
    }, nav="audit")
