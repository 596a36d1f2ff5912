"""/api/v1/health: every service's live health from the open incidents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from steward.api.deps import CurrentActor, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.catalog.schemas import HealthListOut
from steward.incidents import health_queries

router = api_router(prefix="/api/v1", tags=["health"], responses=error_responses(401))


@router.get("/health", response_model=HealthListOut, responses=error_responses(422))
def service_health(
    request: Request, _actor: CurrentActor,
    state: Annotated[str | None, Query(
        pattern=r"^(down|degraded|up|unknown)(,(down|degraded|up|unknown))*$",
        description="only services in these states, comma-separated")] = None,
) -> dict[str, Any]:
    """Every service's state (down, degraded, up or unknown), why, and the open incidents
    behind it, by service name; ``counts`` counts every service by state."""
    with database(request).read_session() as session:
        return health_queries.health_listing(session, state=state)
