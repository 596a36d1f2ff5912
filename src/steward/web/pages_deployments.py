"""Deployments, newest first, and the production deployments with no approved change."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from steward.catalog import queries as catalog
from steward.catalog.use_cases.services import team_names
from steward.changes import queries
from steward.changes.commands import DEPLOYMENT_STATUSES
from steward.request.database import database
from steward.web.guard import PageError, WebRoute, pick, require_viewer
from steward.web.incidents_view import nav_counts
from steward.web.render import DEFAULT_LIMIT, Pager, paging, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FILTERS = ("service", "team", "environment", "status")


def _deployments_page(request: Request, *, only_unauthorised: bool, path: str) -> Response:
    params = request.query_params
    filters = {name: pick(params, name) for name in FILTERS}
    if filters["status"] and filters["status"] not in DEPLOYMENT_STATUSES:
        raise PageError(422, "Invalid input",
                        f"status: expected one of {', '.join(DEPLOYMENT_STATUSES)}")
    toggle = params.get("unauthorised") == "1"
    unauthorised = True if only_unauthorised or toggle else None
    limit, offset = paging(request)
    with database(request).read_session() as session:
        require_viewer(request, session)
        total, items = queries.deployment_listing(
            session, service=filters["service"] or None, team=filters["team"] or None,
            environment=filters["environment"] or None, status=filters["status"] or None,
            unauthorised=unauthorised, limit=limit, offset=offset)
        flagged = queries.unauthorised_deployment_count(session)
        environments = queries.deployment_environments(session)
        teams = sorted(team_names(session).values())
        service_names = catalog.service_names(session)
        nav = nav_counts(session)
    keep: dict[str, Any] = {k: v for k, v in filters.items() if v}
    if toggle and not only_unauthorised:
        keep["unauthorised"] = "1"
    if limit != DEFAULT_LIMIT:
        keep["limit"] = limit
    return render(request, "changes/deployments.html", {
        **nav,
        "rows": items, "filters": filters, "pager": Pager(path, keep, total, limit, offset),
        "filtered": any(filters.values()) or toggle, "toggle": toggle,
        "only_unauthorised": only_unauthorised, "path": path,
        "unauthorised_count": flagged, "statuses": DEPLOYMENT_STATUSES,
        "environments": environments, "teams": teams,
        "service_names": service_names,
    }, nav="unauthorised" if only_unauthorised else "deployments")


@router.get("/deployments")
def deployments_page(request: Request) -> Response:
    return _deployments_page(request, only_unauthorised=False, path="/deployments")


@router.get("/deployments/unauthorised")
def unauthorised_page(request: Request) -> Response:
    return _deployments_page(request, only_unauthorised=True, path="/deployments/unauthorised")
