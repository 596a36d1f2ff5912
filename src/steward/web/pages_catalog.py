"""Catalog pages: the list of services, one service with its impact, and its edit forms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.catalog.graph import impact_of, load_graph
from steward.catalog.impact import ImpactResult
from steward.catalog.models import LIFECYCLES, SERVICE_KINDS, Dependency, Service
from steward.catalog.schemas import DependencyCreate, ServiceUpdate
from steward.catalog.use_cases import services as catalog
from steward.errors import NotFound, StewardError, ValidationError
from steward.request.database import database
from steward.web.change_forms import problem
from steward.web.guard import (
    PageError,
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

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]

NOTICES = {
    "saved": "Changes saved.",
    "unchanged": "Nothing to change: the service already looks like that.",
    "dependency-added": "Dependency added.",
    "dependency-removed": "Dependency removed.",
}


def _dependency_counts(session: Session, ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    if not ids:
        return {}, {}
    down = dict(session.execute(
        select(Dependency.service_id, func.count()).where(Dependency.service_id.in_(ids))
        .group_by(Dependency.service_id)).all())
    up = dict(session.execute(
        select(Dependency.depends_on_id, func.count()).where(Dependency.depends_on_id.in_(ids))
        .group_by(Dependency.depends_on_id)).all())
    return down, up


@router.get("/catalog")
def catalog_page(request: Request) -> Response:
    params = request.query_params
    filters = {name: pick(params, name) for name in ("kind", "tier", "team", "lifecycle", "q")}
    tier = whole_number(filters["tier"], "tier", default=0, low=1, high=4)
    limit, offset = paging(request)
    with database(request).read_session() as session:
        require_viewer(request, session)
        total, services = catalog.list_services(
            session, kind=filters["kind"] or None, tier=tier or None, team=filters["team"] or None,
            lifecycle=filters["lifecycle"] or None, q=filters["q"] or None,
            limit=limit, offset=offset)
        teams = catalog.team_names(session)
        down, up = _dependency_counts(session, [s.id for s in services])
        rows = [{
            "name": s.name, "display_name": s.display_name, "kind": s.kind, "tier": s.tier,
            "lifecycle": s.lifecycle, "owner": teams.get(s.owner_team_id) if s.owner_team_id
            else None, "depends_on": down.get(s.id, 0), "dependants": up.get(s.id, 0),
        } for s in services]
        keep: dict[str, Any] = {k: v for k, v in filters.items() if v}
        if limit != 50:
            keep["limit"] = limit
        pager = Pager("/catalog", keep, total, limit, offset)
        return render(request, "catalog.html", {
            "rows": rows, "filters": filters, "pager": pager, "kinds": SERVICE_KINDS,
            "lifecycles": LIFECYCLES, "teams": sorted(teams.values()),
            "filtered": any(filters.values()),
        }, nav="catalog")


def _impact_view(session: Session, service: Service) -> dict[str, Any]:
    result: ImpactResult = impact_of(session, [service.name], field="service")
    affected, svg = affected_drawing(load_graph(session), result, service.id,
                                     f"What fails if {service.name} fails", "impact")
    return {
        "affected": affected,
        "down": len(result.down),
        "degraded": len(result.degraded),
        "business_services": result.business_services,
        "teams": result.teams,
        "svg": svg,
    }


def _service_page(request: Request, session: Session, viewer: Viewer, name: str, *,
                  error: str = "", status: int = 200,
                  form: dict[str, str] | None = None) -> Response:
    service = catalog.get_service(session, name)
    teams = catalog.team_names(session)
    _, depends_on = catalog.list_dependencies(session, service=name, limit=1000)
    _, dependants = catalog.list_dependencies(session, depends_on=name, limit=1000)
    graph = load_graph(session)
    kinds = {ci.name: ci.kind for ci in graph.cis.values()}
    can_edit = viewer.can_write_team(service.owner_team_id)
    notice = NOTICES.get(request.query_params.get("done", "")) if not error else None
    return render(request, "service.html", {
        "service": service,
        "owner": teams.get(service.owner_team_id) if service.owner_team_id else None,
        "depends_on": depends_on,
        "dependants": dependants,
        "kinds": kinds,
        "impact": _impact_view(session, service),
        "can_edit": can_edit,
        "teams": sorted(teams.values()),
        "lifecycles": LIFECYCLES,
        "service_names": sorted(n for n in kinds if n != name) if can_edit else [],
        "error": error,
        "notice": notice,
        "form": form or {},
    }, status=status, nav="catalog")


@router.get("/services/{name}")
def service_page(request: Request, name: str) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        return _service_page(request, session, viewer, name)


def _after_failure(request: Request, name: str, exc: Exception,
                   form: dict[str, str]) -> Response:
    message, status = problem(exc)
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        return _service_page(request, session, viewer, name, error=message, status=status,
                             form=form)


def _service_update(form: FormData, service: Service, owner: str | None) -> ServiceUpdate:
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
            service = catalog.get_service(session, name)
            owner = catalog.team_names(session).get(service.owner_team_id or -1)
            revision = catalog.catalog_revision(session)
            catalog.update_service(session, viewer.actor, name,
                                   _service_update(form, service, owner))
            changed = catalog.catalog_revision(session) != revision
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
            catalog.get_service(session, name)
            data = DependencyCreate(service=name, depends_on=form_text(form, "depends_on"),
                                    type=form_text(form, "type") or "hard",
                                    description=form_text(form, "note"))
            catalog.create_dependency(session, viewer.actor, data)
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
    record_id(dependency_id, "dependency")
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            service = catalog.get_service(session, name)
            dep = catalog.get_dependency(session, int(dependency_id))
            if service.id not in (dep.service_id, dep.depends_on_id):
                raise PageError(404, "Not found",
                                f"dependency {dependency_id} does not belong to {name}")
            catalog.delete_dependency(session, viewer.actor, dep.id)
    except NotFound as exc:
        if exc.field == "service":
            raise
        return _after_failure(request, name, exc, {})
    except StewardError as exc:
        return _after_failure(request, name, exc, {})
    return RedirectResponse(f"{service_href(name)}?done=dependency-removed#dependencies",
                            status_code=303)
