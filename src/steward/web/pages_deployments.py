"""Deployments, newest first, and the production deployments with no approved change."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from steward.catalog.models import Service, Team
from steward.changes.commands import DEPLOYMENT_STATUSES
from steward.changes.models import Deployment
from steward.changes.use_cases.deployments import deployment_out, list_deployments
from steward.request.database import database
from steward.web.guard import PageError, WebRoute, pick, require_viewer
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
        team_id = None
        if filters["team"] and not filters["service"]:
            team_id = session.scalar(select(Team.id).where(Team.name == filters["team"])) or -1
        total, rows = list_deployments(
            session, service=filters["service"] or None, team_id=team_id,
            environment=filters["environment"] or None, status=filters["status"] or None,
            unauthorised=unauthorised, limit=limit, offset=offset)
        names = dict(session.execute(select(Service.id, Service.name)).all())
        teams = dict(session.execute(select(Team.id, Team.name)).all())
        owners = dict(session.execute(select(Service.id, Service.owner_team_id)).all())
        items = [{**deployment_out(session, d, names), "author": d.author,
                  "team": teams.get(owners.get(d.service_id) or -1)} for d in rows]
        flagged, _ = list_deployments(session, unauthorised=True, limit=1)
        environments = sorted(session.scalars(select(Deployment.environment).distinct()))
        keep: dict[str, Any] = {k: v for k, v in filters.items() if v}
        if toggle and not only_unauthorised:
            keep["unauthorised"] = "1"
        if limit != DEFAULT_LIMIT:
            keep["limit"] = limit
        return render(request, "changes/deployments.html", {
            "rows": items, "filters": filters, "pager": Pager(path, keep, total, limit, offset),
            "filtered": any(filters.values()) or toggle, "toggle": toggle,
            "only_unauthorised": only_unauthorised, "path": path,
            "unauthorised_count": flagged, "statuses": DEPLOYMENT_STATUSES,
            "environments": environments, "teams": sorted(teams.values()),
            "service_names": sorted(names.values()),
        }, nav="unauthorised" if only_unauthorised else "deployments")


@router.get("/deployments")
def deployments_page(request: Request) -> Response:
    return _deployments_page(request, only_unauthorised=False, path="/deployments")


@router.get("/deployments/unauthorised")
def unauthorised_page(request: Request) -> Response:
    return _deployments_page(request, only_unauthorised=True, path="/deployments/unauthorised")
