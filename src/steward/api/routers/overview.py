"""/api/v1/overview: what is on fire now, as the home page shows it to the caller."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from steward.api.deps import CurrentActor, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.overview import queries
from steward.overview.schemas import OverviewOut
from steward.timeutil import utcnow

router = api_router(prefix="/api/v1", tags=["overview"], responses=error_responses(401))


@router.get("/overview", response_model=OverviewOut)
def overview(request: Request, actor: CurrentActor) -> dict[str, Any]:
    """Open incidents by priority (P1 and P2 listed), the business services' live health,
    the changes in flight today, the approvals waiting for the caller, recent
    unauthorised deployments and who is on call now."""
    with database(request).read_session() as session:
        return queries.overview(session, actor, utcnow())
