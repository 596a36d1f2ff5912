"""Background work as admins see it: timers, their states and counts."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from steward.api.deps import AdminActor, Limit, Offset, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.jobs import queries
from steward.jobs.schemas import TimersOut, TimerState

router = api_router(prefix="/api/v1", tags=["timers"], responses=error_responses(401, 403))


@router.get("/timers", response_model=TimersOut, responses=error_responses(422))
def list_timers(request: Request, _actor: AdminActor, state: TimerState | None = None,
                kind: str | None = None, limit: Limit = 100,
                offset: Offset = 0) -> dict[str, Any]:
    """Timers (pending first, the next due first; then the most recent), with counts by
    kind and state, how many are overdue and the oldest waiting."""
    with database(request).read_session() as session:
        return queries.timers_page(session, state=state, kind=kind, limit=limit,
                                   offset=offset)
