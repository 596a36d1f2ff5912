"""Incident pages: the list (open incidents first, refreshed while it is open) with its
filters and the form that declares an incident by hand.

One incident's page and its forms live in ``pages_incident_detail``; its router is included
here, so installing this router installs both.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.catalog.models import Service
from steward.catalog.use_cases import services as catalog
from steward.errors import StewardError
from steward.incidents import queries
from steward.incidents.models import INCIDENT_STATES, OPEN_STATES
from steward.incidents.priority import PRIORITIES
from steward.incidents.schemas import IncidentCreate
from steward.incidents.use_cases import lifecycle
from steward.request.database import database
from steward.timeutil import utcnow
from steward.web import pages_incident_detail
from steward.web.change_forms import form_values, problem
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
from steward.web.incidents_view import count_open_incidents, level_from
from steward.web.render import DEFAULT_LIMIT, Pager, paging, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
router.include_router(pages_incident_detail.router)
Form = Annotated[FormData, Depends(read_form)]

FILTERS = ("status", "priority", "team", "service", "q")
REFRESH_SECONDS = 30


def _filters(request: Request) -> dict[str, str]:
    filters = {name: pick(request.query_params, name) for name in FILTERS}
    status = filters["status"] or "open"
    if status not in ("open", "all", *INCIDENT_STATES):
        raise PageError(422, "Invalid input", f"status: unknown status {status!r}; expected "
                        f"open, all or one of {', '.join(INCIDENT_STATES)}")
    filters["status"] = status
    if filters["priority"] and filters["priority"] not in PRIORITIES:
        raise PageError(422, "Invalid input",
                        f"priority: expected one of {', '.join(PRIORITIES)}")
    return filters


def _service_choices(session: Session) -> list[tuple[str, list[str]]]:
    """Service names grouped by owning team, for the declare form."""
    teams = catalog.team_names(session)
    groups: dict[str, list[str]] = {}
    for name, owner_id in session.execute(select(Service.name, Service.owner_team_id)
                                          .order_by(Service.name)):
        groups.setdefault(teams.get(owner_id, "no team") if owner_id else "no team",
                          []).append(name)
    return sorted(groups.items())


def can_declare(viewer: Viewer) -> bool:
    return viewer.role != "viewer"


def _incidents_page(request: Request, session: Session, viewer: Viewer, *, error: str = "",
                    status: int = 200, form: dict[str, Any] | None = None) -> Response:
    filters = _filters(request)
    limit, offset = paging(request)
    wanted = filters["status"]
    total, incidents = queries.list_incidents(
        session, status=",".join(OPEN_STATES) if wanted == "open" else
        None if wanted == "all" else wanted,
        priority=filters["priority"] or None, team=filters["team"] or None,
        service=filters["service"] or None, q=filters["q"] or None, limit=limit, offset=offset)
    rows = [queries.incident_out(session, incident) for incident in incidents]
    keep: dict[str, Any] = {k: v for k, v in filters.items() if v and not (
        k == "status" and v == "open")}
    if limit != DEFAULT_LIMIT:
        keep["limit"] = limit
    declare = can_declare(viewer)
    now = utcnow()
    return render(request, "incidents/list.html", {
        "rows": rows, "filters": filters, "filtered": bool(keep),
        "pager": Pager("/incidents", keep, total, limit, offset),
        "statuses": INCIDENT_STATES, "priorities": PRIORITIES,
        "teams": sorted(catalog.team_names(session).values()),
        "service_names": sorted(session.scalars(select(Service.name))),
        "open_count": count_open_incidents(session),
        "can_declare": declare,
        "service_groups": _service_choices(session) if declare else [],
        "form": form or {},
        "error": error,
        "now": now,
        "refresh": REFRESH_SECONDS,
    }, status=status, nav="incidents")


@router.get("/incidents")
def incidents_page(request: Request) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        return _incidents_page(request, session, viewer)


@router.post("/incidents")
def incident_declare(request: Request, form: Form) -> Response:
    values = form_values(form)
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            data = IncidentCreate(title=form_text(form, "title"),
                                  service=form_text(form, "service"),
                                  impact=level_from(form, "impact"),
                                  urgency=level_from(form, "urgency"),
                                  description=str(form.get("description") or "").strip())
            incident = lifecycle.declare(session, viewer.actor, data.title, data.service,
                                         data.impact, data.urgency,
                                         description=data.description)
            number = incident.id
    except (StewardError, PydanticError) as exc:
        message, status = problem(exc)
        with db.read_session() as session:
            viewer = require_viewer(request, session)
            return _incidents_page(request, session, viewer, error=message, status=status,
                                   form=values)
    return RedirectResponse(f"/incidents/{number}?done=declared", status_code=303)
