"""SLOs, their status, burn-down and SLI reports under /api/v1 (the periodic evaluation
is a recurring timer, :mod:`steward.slos.periodic`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response

from steward.api.deps import (
    BY_API_TOKEN,
    BY_INTEGRATION_KEY,
    BY_WEB_SESSION,
    AdminActor,
    CurrentActor,
    TimeText,
    bearer_token,
    database,
    require_actor,
    time_query,
)
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.auth.actor import Actor
from steward.auth.use_cases import accounts as auth
from steward.auth.use_cases import integrations
from steward.errors import AuthenticationFailed
from steward.inputs import MAX_ID
from steward.shapes import Listing
from steward.slos import burn_alerts as slo_alerts
from steward.slos import service as slos
from steward.slos.schemas import (
    BurndownOut,
    EvaluationOut,
    SliReportIn,
    SliReportsStored,
    SloCreate,
    SloOut,
    SloUpdate,
)
from steward.slos.status import burndown, status_of
from steward.timeutil import isoformat_z, parse_timestamp

router = api_router(prefix="/api/v1", tags=["slos"], responses=error_responses(401))
SloId = Annotated[int, Path(ge=1, le=MAX_ID, description="SLO id")]
At = Annotated[TimeText | None, time_query("status at this time (ISO-8601); default now")]


def _at(value: str | None) -> Any:
    return parse_timestamp(value, field="at") if value is not None else None


@router.post("/services/{name}/slos", status_code=201, response_model=SloOut,
             responses=error_responses(400, 403, 404, 409, 413, 422))
def create_slo(name: str, body: SloCreate, request: Request,
               actor: CurrentActor) -> dict[str, Any]:
    """Define an SLO for a service (admin or a member of the owning team)."""
    with database(request).session() as session:
        slo = slos.create_slo(session, actor, name, body)
        return slos.slo_out(session, slo)


@router.get("/services/{name}/slos", response_model=Listing[SloOut],
            responses=error_responses(404, 422))
def service_slos(name: str, request: Request, _actor: CurrentActor,
                 at: At = None) -> dict[str, Any]:
    with database(request).read_session() as session:
        slos._service(session, name)
        return _listing(session, slos.list_slos(session, service=name), _at(at))


@router.get("/slos", response_model=Listing[SloOut], responses=error_responses(422))
def list_slos(request: Request, _actor: CurrentActor, team: str | None = None,
              service: str | None = None, at: At = None) -> dict[str, Any]:
    """Every SLO (or a team's, or a service's) with its status."""
    with database(request).read_session() as session:
        return _listing(session, slos.list_slos(session, team=team, service=service), _at(at))


def _listing(session: Any, rows: list[Any], at: Any) -> dict[str, Any]:
    names = slos.service_names(session, [s.service_id for s in rows])
    items = [slos.slo_out(session, s, status_of(session, s, at), names) for s in rows]
    return {"total": len(items), "items": items}


@router.get("/slos/{slo_id}", response_model=SloOut, responses=error_responses(404, 422))
def get_slo(slo_id: SloId, request: Request, _actor: CurrentActor,
            at: At = None) -> dict[str, Any]:
    """One SLO with its status: SLI, budget consumed and left, burn rates, firing rules."""
    with database(request).read_session() as session:
        slo = slos.get_slo(session, slo_id)
        return slos.slo_out(session, slo, status_of(session, slo, _at(at)))


@router.patch("/slos/{slo_id}", response_model=SloOut,
              responses=error_responses(400, 403, 404, 409, 413, 422))
def update_slo(slo_id: SloId, body: SloUpdate, request: Request,
               actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        slo = slos.update_slo(session, actor, slo_id, body)
        return slos.slo_out(session, slo)


@router.delete("/slos/{slo_id}", status_code=204,
               responses=error_responses(403, 404, 422))
def delete_slo(slo_id: SloId, request: Request, actor: CurrentActor) -> Response:
    with database(request).session() as session:
        slos.delete_slo(session, actor, slo_id)
    return Response(status_code=204)


@router.get("/slos/{slo_id}/burndown", response_model=BurndownOut,
            responses=error_responses(404, 422))
def slo_burndown(slo_id: SloId, request: Request, _actor: CurrentActor,
                 at: At = None) -> dict[str, Any]:
    """Budget left at the window's start and at the end of each day since (for charts)."""
    with database(request).read_session() as session:
        slo = slos.get_slo(session, slo_id)
        points = burndown(session, slo, _at(at))
        return {"id": slo.id, "name": slo.name, "objective": slo.objective,
                "window_days": slo.window_days, "points": points}


def _reporter(request: Request) -> tuple[Actor, int | None]:
    """A user's API token or web session, or an integration key of the service's team."""
    token = bearer_token(request)
    if not token:
        return require_actor(request), None
    with database(request).read_session() as session:
        try:
            return auth.authenticate_token(session, token), None
        except AuthenticationFailed:
            pass
        try:
            integration = integrations.by_key(session, token)
        except AuthenticationFailed as exc:
            raise AuthenticationFailed("invalid or revoked API token or integration key") \
                from exc
        return integrations.integration_actor(session, integration), integration.service_id


@router.post("/slos/{slo_id}/reports", operation_id="report_sli", status_code=201,
             response_model=SliReportsStored,
             dependencies=[BY_API_TOKEN, BY_INTEGRATION_KEY, BY_WEB_SESSION],
             responses=error_responses(400, 403, 404, 409, 413, 422))
def post_reports(slo_id: SloId, body: SliReportIn | list[SliReportIn],
                 request: Request) -> dict[str, Any]:
    """Good/total counts over [start, end), one report or a list.

    `Authorization: Bearer` an API token of the owning team (or an admin's) or
    an integration key of that team or service. The SLO's burn alerts are
    evaluated before the answer.
    """
    actor, integration_service = _reporter(request)
    reports = body if isinstance(body, list) else [body]
    with database(request).session() as session:
        rows = slos.add_reports(session, actor, slo_id, reports,
                                integration_service_id=integration_service)
        slo = slos.get_slo(session, slo_id)
        return {"stored": len(rows),
                "reports": [{"id": r.id, "start": isoformat_z(r.start), "end": isoformat_z(r.end),
                             "good": r.good, "total": r.total} for r in rows],
                "slo": slos.slo_out(session, slo)}


@router.post("/slos/evaluate", operation_id="evaluate_slos", response_model=EvaluationOut,
             responses=error_responses(403))
def evaluate(request: Request, _actor: AdminActor) -> dict[str, Any]:
    """Evaluate every SLO's burn alerts now (admin); the server also does it periodically."""
    result = slo_alerts.run_evaluation(database(request), wait=True)
    assert result is not None
    return {"slos": result.slos, "raised": result.raised, "cleared": result.cleared,
            "incidents": result.incidents}
