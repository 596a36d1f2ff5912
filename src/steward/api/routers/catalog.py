"""Teams, services, dependencies and impact analysis under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from steward.api.deps import CurrentActor, Limit, Offset, database
from steward.api.edge import api_router
from steward.api.errors import ErrorOut, error_responses
from steward.catalog.graph import impact_of
from steward.catalog.impact import result_as_dict
from steward.catalog.schemas import (
    CatalogImportOut,
    DependencyCreate,
    DependencyOut,
    DependencyUpdate,
    ImpactOut,
    ServiceCreate,
    ServiceDetailOut,
    ServiceKind,
    ServiceOut,
    ServiceUpdate,
    TeamCreate,
    TeamOut,
    TeamUpdate,
)
from steward.catalog.use_cases import services as catalog
from steward.catalog.use_cases import teams as team_cases
from steward.incidents import health_queries
from steward.inputs import MAX_ID
from steward.shapes import Page

router = api_router(prefix="/api/v1", tags=["catalog"], responses=error_responses(401))
DependencyId = Annotated[int, Path(ge=1, le=MAX_ID, description="dependency id")]


def page(total: int, limit: int, offset: int, items: list[Any]) -> dict[str, Any]:
    return {"total": total, "limit": limit, "offset": offset, "items": items}


# -- teams ----------------------------------------------------------------------

@router.get("/teams", response_model=Page[TeamOut], responses=error_responses(422))
def list_teams(request: Request, _actor: CurrentActor, limit: Limit = 100, offset: Offset = 0,
               q: str | None = None) -> dict[str, Any]:
    with database(request).read_session() as session:
        total, teams = team_cases.list_teams(session, q=q, limit=limit, offset=offset)
        counts = team_cases.team_service_counts(session)
        return page(total, limit, offset, [team_cases.team_out(session, t, counts) for t in teams])


@router.post("/teams", status_code=201, response_model=TeamOut,
             responses=error_responses(400, 403, 409, 413, 422))
def create_team(body: TeamCreate, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        team = team_cases.create_team(session, actor, body)
        return team_cases.team_out(session, team)


@router.get("/teams/{name}", response_model=TeamOut, responses=error_responses(404, 422))
def get_team(name: str, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return team_cases.team_out(session, team_cases.get_team(session, name))


@router.patch("/teams/{name}", response_model=TeamOut,
              responses=error_responses(400, 403, 404, 413, 422))
def update_team(name: str, body: TeamUpdate, request: Request,
                actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        team = team_cases.update_team(session, actor, name, body)
        return team_cases.team_out(session, team)


@router.delete("/teams/{name}", status_code=204,
               responses=error_responses(403, 404, 409, 422))
def delete_team(name: str, request: Request, actor: CurrentActor) -> Response:
    with database(request).session() as session:
        team_cases.delete_team(session, actor, name)
    return Response(status_code=204)


# -- services -------------------------------------------------------------------

@router.get("/services", response_model=Page[ServiceOut], responses=error_responses(422))
def list_services(
    request: Request, _actor: CurrentActor, limit: Limit = 100, offset: Offset = 0,
    kind: ServiceKind | None = None,
    tier: Annotated[int | None, Query(ge=1, le=4)] = None,
    team: str | None = None, lifecycle: str | None = None, q: str | None = None,
) -> dict[str, Any]:
    with database(request).read_session() as session:
        total, services = catalog.list_services(session, kind=kind, tier=tier, team=team,
                                                lifecycle=lifecycle, q=q, limit=limit,
                                                offset=offset)
        teams = catalog.team_names(session)
        return page(total, limit, offset,
                    [catalog.service_out(session, s, teams) for s in services])


@router.post("/services", status_code=201, response_model=ServiceOut,
             responses=error_responses(400, 403, 409, 413, 422))
def create_service(body: ServiceCreate, request: Request, actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        service = catalog.create_service(session, actor, body)
        return catalog.service_out(session, service)


@router.get("/services/{name}", response_model=ServiceDetailOut,
            responses=error_responses(404, 422))
def get_service(name: str, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    """The service, with its live health from the open incidents."""
    with database(request).read_session() as session:
        out = catalog.service_out(session, catalog.get_service(session, name))
        return {**out, "health": health_queries.service_health(session, name)}


@router.patch("/services/{name}", response_model=ServiceOut,
              responses=error_responses(400, 403, 404, 413, 422))
def update_service(name: str, body: ServiceUpdate, request: Request,
                   actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        service = catalog.update_service(session, actor, name, body)
        return catalog.service_out(session, service)


@router.delete("/services/{name}", status_code=204,
               responses=error_responses(403, 404, 409, 422))
def delete_service(name: str, request: Request, actor: CurrentActor) -> Response:
    with database(request).session() as session:
        catalog.delete_service(session, actor, name)
    return Response(status_code=204)


@router.get("/services/{name}/impact", response_model=ImpactOut,
            responses=error_responses(404, 422))
def service_impact(name: str, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    """What goes down or degrades if this service fails."""
    with database(request).read_session() as session:
        return result_as_dict(impact_of(session, [name], field="service"))


@router.get("/impact", operation_id="impact_of_failing", response_model=ImpactOut,
            responses=error_responses(404, 422))
def impact(request: Request, _actor: CurrentActor,
           failing: Annotated[str, Query(description="comma-separated service names")]
           ) -> dict[str, Any]:
    with database(request).read_session() as session:
        return result_as_dict(impact_of(session, failing.split(",")))


# -- dependencies ---------------------------------------------------------------

@router.get("/dependencies", response_model=Page[DependencyOut],
            responses=error_responses(422))
def list_dependencies(request: Request, _actor: CurrentActor, limit: Limit = 100,
                      offset: Offset = 0, service: str | None = None,
                      depends_on: str | None = None,
                      type: Annotated[str | None, Query(pattern="^(hard|soft)$")] = None,
                      ) -> dict[str, Any]:
    with database(request).read_session() as session:
        total, items = catalog.list_dependencies(session, service=service, depends_on=depends_on,
                                                 type=type, limit=limit, offset=offset)
        return page(total, limit, offset, items)


def _dependency_out(session: Any, dep: Any) -> dict[str, Any]:
    names = catalog.names_by_id(session, {dep.service_id, dep.depends_on_id})
    return catalog.dependency_out(dep, names[dep.service_id], names[dep.depends_on_id])


@router.post("/dependencies", status_code=201, response_model=DependencyOut,
             responses=error_responses(400, 403, 404, 409, 413, 422))
def create_dependency(body: DependencyCreate, request: Request,
                      actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        dep = catalog.create_dependency(session, actor, body)
        return _dependency_out(session, dep)


@router.get("/dependencies/{dependency_id}", response_model=DependencyOut,
            responses=error_responses(404, 422))
def get_dependency(dependency_id: DependencyId, request: Request,
                   _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return _dependency_out(session, catalog.get_dependency(session, dependency_id))


@router.patch("/dependencies/{dependency_id}", response_model=DependencyOut,
              responses=error_responses(400, 403, 404, 413, 422))
def update_dependency(dependency_id: DependencyId, body: DependencyUpdate, request: Request,
                      actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        dep = catalog.update_dependency(session, actor, dependency_id, body)
        return _dependency_out(session, dep)


@router.delete("/dependencies/{dependency_id}", status_code=204,
               responses=error_responses(403, 404, 422))
def delete_dependency(dependency_id: DependencyId, request: Request,
                      actor: CurrentActor) -> Response:
    with database(request).session() as session:
        catalog.delete_dependency(session, actor, dependency_id)
    return Response(status_code=204)


# -- Backstage import -----------------------------------------------------------

CATALOG_BODY = {
    "required": True,
    "description": "Backstage catalog YAML (several documents allowed), or a repository as a "
                   "zip or tar.gz archive (at most 100 MB): its YAML files are read as a folder "
                   "given to `steward catalog import`.",
    "content": {
        "application/yaml": {"schema": {"type": "string", "format": "binary"}},
        "application/zip": {"schema": {"type": "string", "format": "binary"}},
        "application/gzip": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post("/catalog/import", response_model=CatalogImportOut, responses={
    422: {"model": CatalogImportOut | ErrorOut,
          "description": "Invalid entities (the report lists every one; nothing was stored), "
                         "or an invalid query parameter."},
    **error_responses(403, 413)}, openapi_extra={"requestBody": CATALOG_BODY})
async def import_backstage(
    request: Request, actor: CurrentActor,
    skip_invalid: Annotated[bool, Query(description="import the valid entities anyway")] = False,
    filename: Annotated[str, Query(max_length=200, description="the body's name in the "
                                   "report")] = "body",
) -> Response:
    """Import Backstage catalog files (admins). 422 lists every bad entity.

    The answer counts what was created, updated and unchanged, the files and documents skipped
    (scaffolder skeletons, YAML that is no catalog file, kinds Steward does not model) by reason
    and kind, and the unresolved references: relations to entities neither in the files nor in
    the catalog, imported without that relation.
    """
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import JSONResponse

    from steward.catalog.use_cases.backstage_upload import Upload, import_uploads

    actor.require_admin("import catalog files")
    body = await request.body()
    report = await run_in_threadpool(import_uploads, database(request), actor,
                                     [Upload(filename, body)], skip_invalid=skip_invalid)
    return JSONResponse(report.as_dict(), status_code=200 if report.stored else 422)
