"""Incident pages: the list (open incidents first, refreshed while it is open) with its
filters and the form that declares an incident by hand.

One incident's page and its forms live in ``pages_incident_detail``; its router is included
here, so installing this router installs both.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.catalog import queries as catalog
from steward.catalog.use_cases.services import team_names
from steward.db import Database
from steward.errors import StewardError
from steward.incidents import queries
from steward.incidents.commands import INCIDENT_STATES, OPEN_STATES
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
from steward.web.incidents_view import level_from
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


def can_declare(viewer: Viewer) -> bool:
    return viewer.role != "viewer"


def _incidents_page(request: Request, db: Database, *, error: str = "", status: int = 200,
                    form: dict[str, Any] | None = None) -> Response:
    with db.read_session() as session:
        viewer = require_viewer(request, session)
        filters = _filters(request)
        limit, offset = paging(request)
        wanted = filters["status"]
        total, rows = queries.incident_listing(
            session, status=",".join(OPEN_STATES) if wanted == "open" else
            None if wanted == "all" else wanted,
            priority=filters["priority"] or None, team=filters["team"] or None,
            service=filters["service"] or None, q=filters["q"] or None, limit=limit,
            offset=offset)
        declare = can_declare(viewer)
        teams = sorted(team_names(session).values())
        service_names = catalog.service_names(session)
        open_count = queries.count_open_incidents(session)
        service_groups = catalog.service_names_by_team(session) if declare else []
    keep: dict[str, Any] = {k: v for k, v in filters.items() if v and not (
        k == "status" and v == "open")}
    if limit != DEFAULT_LIMIT:
        keep["limit"] = limit
    now = utcnow()
    return render(request, "incidents/list.html", {
        "nav_open_incidents": open_count,
        "rows": rows, "filters": filters, "filtered": bool(keep),
        "pager": Pager("/incidents", keep, total, limit, offset),
        "statuses": INCIDENT_STATES, "priorities": PRIORITIES,
        "teams": teams,
        "service_names": service_names,
        "open_count": open_count,
        "can_declare": declare,
        "service_groups": service_groups,
        "form": form or {},
        "error": error,
        "now": now,
        "refresh": REFRESH_SECONDS,
    }, status=status, nav="incidents")


@router.get("/incidents")
def incidents_page(request: Request) -> Response:
    return _incidents_page(request, database(request))


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
        return _incidents_page(request, db, error=message, status=status, form=values)
    return RedirectResponse(f"/incidents/{number}?done=declared", status_code=303)
