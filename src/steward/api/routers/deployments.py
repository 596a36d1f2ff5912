"""Deployments under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Path, Query, Request, Response
from pydantic import Field

from steward.api.deps import CurrentActor, Limit, Offset, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.changes import queries
from steward.changes.schemas import (
    DeploymentBatchOut,
    DeploymentDetailOut,
    DeploymentOut,
    DeploymentRecordedOut,
)
from steward.changes.use_cases import deployments
from steward.ingest.generic_deployment import DeploymentIn, to_command
from steward.inputs import MAX_ID
from steward.shapes import Page

router = api_router(prefix="/api/v1", tags=["deployments"], responses=error_responses(401))
MAX_BATCH = 5000
# One deployment answers one, a list answers the list (the route writes its own Response).
Recorded = DeploymentRecordedOut | DeploymentBatchOut


@router.post("/deployments", operation_id="record_deployments", status_code=201,
             response_model=Recorded, responses={
    200: {"model": Recorded, "description": "Every deployment was already recorded."},
    **error_responses(400, 403, 413, 422)})
def record(body: DeploymentIn | Annotated[list[DeploymentIn], Field(min_length=1,
                                                                     max_length=MAX_BATCH)],
           request: Request, actor: CurrentActor) -> Response:
    """Record a deployment, or a list of them in one transaction (all or nothing)."""
    batch = isinstance(body, list)
    items = body if isinstance(body, list) else [body]
    with database(request).session() as session:
        results = queries.recorded_deployments_out(session, deployments.record_batch(
            session, actor, [to_command(i) for i in items]))
    answer: Any = {"items": results, "total": len(results)} if batch else results[0]
    status = 201 if any(r["created"] for r in results) else 200
    return Response(orjson.dumps(answer), status_code=status, media_type="application/json")


@router.get("/deployments", response_model=Page[DeploymentOut],
            responses=error_responses(422))
def list_deployments(request: Request, _actor: CurrentActor, limit: Limit = 100,
                     offset: Offset = 0, service: str | None = None,
                     environment: str | None = None,
                     status: Annotated[str | None, Query(
                         pattern="^(in_progress|succeeded|failed|rolled_back)$")] = None,
                     unauthorised: bool | None = None) -> dict[str, Any]:
    with database(request).read_session() as session:
        total, items = queries.deployment_page(
            session, service=service, environment=environment, status=status,
            unauthorised=unauthorised, limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/deployments/{deployment_id}", response_model=DeploymentDetailOut,
            responses=error_responses(404, 422))
def get_deployment(deployment_id: Annotated[int, Path(ge=1, le=MAX_ID)], request: Request,
                   _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return queries.deployment_detail(session, deployment_id)
