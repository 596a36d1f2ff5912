"""Catalog pages: the list of services, one service with its impact, and its edit forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.auth import queries as auth_queries
from steward.auth.queries import ServiceIntegration
from steward.catalog import queries as catalog
from steward.catalog.queries import ServiceView
from steward.catalog.schemas import DependencyCreate, ServiceUpdate
from steward.catalog.use_cases import services as service_cases
from steward.changes import queries as change_queries
from steward.db import Session
from steward.errors import NotFound, StewardError, ValidationError
from steward.incidents import health_queries
from steward.incidents import queries as incident_queries
from steward.incidents.commands import OPEN_STATES
from steward.incidents.health import Health
from steward.oncall import views as oncall_views
from steward.oncall.views import OnCallSummary
from steward.request.database import database
from steward.slos import queries as slo_queries
from steward.timeutil import utcnow
from steward.web.change_forms import problem
from steward.web.guard import (
    Viewer,
    WebRoute,
    check_csrf,
    form_text,
    pick,
    read_form,
    record_id,
    require_viewer,
)
from steward.web.impact_view import affected_drawing, service_href
from steward.web.render import Pager, paging, render, whole_number
from steward.web.slo_view import view as slo_view

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]

NOTICES = {
    "saved": "Changes saved.",
    "unchanged": "Nothing to change: the service already looks like that.",
    "dependency-added": "Dependency added.",
    "dependency-removed": "Dependency removed.",
}


@router.get("/catalog")
def catalog_page(request: Request) -> Response:
    params = request.query_params
    filters = {name: pick(params, name) for name in ("kind", "tier", "team", "lifecycle", "q")}
    tier = whole_number(filters["tier"], "tier", default=0, low=1, high=4)
    limit, offset = paging(request)
    with database(request).read_session() as session:
        require_viewer(request, session)
        total, rows = catalog.service_rows(
            session, kind=filters["kind"] or None, tier=tier or None, team=filters["team"] or None,
            lifecycle=filters["lifecycle"] or None, q=filters["q"] or None,
            limit=limit, offset=offset)
        teams = catalog.team_names(session)
        health = health_queries.health_states(session, [r.name for r in rows])
        oncall = oncall_views.first_line_by_team(
            session, [r.owner for r in rows if r.owner], utcnow())
    keep: dict[str, Any] = {k: v for k, v in filters.items() if v}
    if limit != 50:
        keep["limit"] = limit
    pager = Pager("/catalog", keep, total, limit, offset)
    return render(request, "catalog.html", {
        "rows": rows, "health": health, "oncall": oncall, "filters": filters, "pager": pager,
        "kinds": catalog.SERVICE_KINDS,
        "lifecycles": catalog.LIFECYCLES, "teams": teams, "filtered": any(filters.values()),
    }, nav="catalog")


@dataclass(frozen=True)
class ServicePage:
    """What the service page shows: the catalog's view, its live health with its open
    incidents, pending changes and recent deployments, the SLOs and the integrations."""

    catalog: ServiceView
    slos: list[dict[str, Any]]
    integrations: list[ServiceIntegration]
    health: Health | None = None
    incidents: tuple[int, list[dict[str, Any]]] = (0, [])
    changes: tuple[int, list[dict[str, Any]]] = (0, [])
    deployments: tuple[int, list[dict[str, Any]]] = (0, [])
    oncall: OnCallSummary | None = None


def _service_data(session: Session, name: str) -> ServicePage:
    view = catalog.service_view(session, name)
    return ServicePage(
        catalog=view,
        slos=[slo_view(r) for r in slo_queries.slo_readings(session, service=name,
                                                            burndowns=0)],
        integrations=auth_queries.service_integrations(session, name),
        health=health_queries.health_states(session, [name]).get(name),
        incidents=incident_queries.incident_listing(session, status=",".join(OPEN_STATES),
                                                    service=name, limit=20),
        changes=change_queries.pending_changes(session, name, limit=20),
        deployments=change_queries.deployment_page(session, service=name, limit=10),
        oncall=(oncall_views.oncall_summary(session, view.service.owner, utcnow())
                if view.service.owner else None))


def _impact_view(found: ServiceView) -> dict[str, Any]:
    service, result = found.service, found.impact
    affected, svg = affected_drawing(found.graph, result, service.id,
                                     f"What fails if {service.name} fails", "impact")
    return {
        "affected": affected,
        "down": len(result.down),
        "degraded": len(result.degraded),
        "business_services": result.business_services,
        "teams": result.teams,
        "svg": svg,
    }


def _service_page(request: Request, viewer: Viewer, page: ServicePage, *, error: str = "",
                  status: int = 200, form: dict[str, str] | None = None) -> Response:
    found = page.catalog
    service = found.service
    kinds = {ci.name: ci.kind for ci in found.graph.cis.values()}
    can_edit = viewer.can_write_team(service.owner_team_id)
    notice = NOTICES.get(request.query_params.get("done", "")) if not error else None
    return render(request, "service.html", {
        "service": service,
        "owner": service.owner,
        "depends_on": found.depends_on,
        "dependants": found.dependants,
        "kinds": kinds,
        "impact": _impact_view(found),
        "can_edit": can_edit,
        "teams": found.teams,
        "lifecycles": catalog.LIFECYCLES,
        "service_names": sorted(n for n in kinds if n != service.name) if can_edit else [],
        "service_slos": page.slos,
        "service_integrations": page.integrations,
        "health": page.health,
        "open_incidents": page.incidents,
        "pending_changes": page.changes,
        "deployments": page.deployments,
        "oncall": page.oncall,
        "error": error,
        "notice": notice,
        "form": form or {},
    }, status=status, nav="catalog")


@router.get("/services/{name}")
def service_page(request: Request, name: str) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        page = _service_data(session, name)
    return _service_page(request, viewer, page)


def _after_failure(request: Request, name: str, exc: Exception,
                   form: dict[str, str]) -> Response:
    message, status = problem(exc)
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        page = _service_data(session, name)
    return _service_page(request, viewer, page, error=message, status=status, form=form)


def _service_update(form: FormData, owner: str | None) -> ServiceUpdate:
    fields: dict[str, Any] = {}
    tier = form_text(form, "tier")
    if tier:
        try:
            fields["tier"] = int(tier)
        except ValueError as exc:
            raise ValidationError("tier: must be a whole number from 1 to 4",
                                  field="tier") from exc
    for name in ("lifecycle", "display_name"):
        value = form_text(form, name)
        if value:
            fields[name] = value
    if "description" in form:
        fields["description"] = str(form.get("description") or "").strip()
    if "owner" in form:
        new_owner = form_text(form, "owner") or None
        if new_owner != owner:
            fields["owner"] = new_owner
    return ServiceUpdate(**fields)


@router.post("/services/{name}/edit")
def service_edit(request: Request, name: str, form: Form) -> Response:
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            owner = catalog.service_detail(session, name).owner
            revision = service_cases.catalog_revision(session)
            service_cases.update_service(session, viewer.actor, name,
                                         _service_update(form, owner))
            changed = service_cases.catalog_revision(session) != revision
    except NotFound as exc:
        if exc.field == "service":
            raise
        return _after_failure(request, name, exc, values)
    except (StewardError, PydanticError) as exc:
        return _after_failure(request, name, exc, values)
    done = "saved" if changed else "unchanged"
    return RedirectResponse(f"{service_href(name)}?done={done}#details", status_code=303)


@router.post("/services/{name}/dependencies")
def dependency_add(request: Request, name: str, form: Form) -> Response:
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            catalog.service_detail(session, name)
            data = DependencyCreate(service=name, depends_on=form_text(form, "depends_on"),
                                    type=form_text(form, "type") or "hard",
                                    description=form_text(form, "note"))
            service_cases.create_dependency(session, viewer.actor, data)
    except NotFound as exc:
        if exc.field == "service":
            raise
        return _after_failure(request, name, exc, values)
    except (StewardError, PydanticError) as exc:
        return _after_failure(request, name, exc, values)
    return RedirectResponse(f"{service_href(name)}?done=dependency-added#dependencies",
                            status_code=303)


@router.post("/services/{name}/dependencies/{dependency_id}/delete")
def dependency_remove(request: Request, name: str, dependency_id: str, form: Form) -> Response:
    dep_id = record_id(dependency_id, "dependency")
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            service_cases.delete_dependency(session, viewer.actor, dep_id, service=name)
    except NotFound as exc:
        if exc.field == "service":
            raise
        return _after_failure(request, name, exc, {})
    except StewardError as exc:
        return _after_failure(request, name, exc, {})
    return RedirectResponse(f"{service_href(name)}?done=dependency-removed#dependencies",
                            status_code=303)
