"""Integrations (the keys and webhook secrets that route events) under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response

from steward.api.deps import CurrentActor, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.auth import queries
from steward.auth.schemas import IntegrationCreate, IntegrationCreated, IntegrationOut
from steward.auth.use_cases import integrations
from steward.inputs import MAX_ID
from steward.shapes import Listing

# Described with deployments in the OpenAPI document, as they always were.
router = api_router(prefix="/api/v1", tags=["deployments"], responses=error_responses(401))


@router.post("/integrations", status_code=201, response_model=IntegrationCreated,
             responses=error_responses(400, 403, 413, 422))
def create_integration(body: IntegrationCreate, request: Request,
                       actor: CurrentActor) -> dict[str, Any]:
    """The key (or webhook secret) is in this answer only."""
    with database(request).session() as session:
        return integrations.new_integration(session, actor, body.type, service=body.service,
                                            team=body.team, name=body.name)


@router.get("/integrations", response_model=Listing[IntegrationOut])
def list_integrations(request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        items = queries.list_integrations(session)
    return {"total": len(items), "items": items}


@router.delete("/integrations/{integration_id}", operation_id="revoke_integration",
               status_code=204,
               responses=error_responses(403, 404, 409, 422))
def revoke(integration_id: Annotated[int, Path(ge=1, le=MAX_ID)], request: Request,
           actor: CurrentActor) -> Response:
    with database(request).session() as session:
        integrations.revoke_integration(session, actor, integration_id)
    return Response(status_code=204)
