"""Public incident updates and teams' publishing policies, under /api/v1. (Subscribing
to the status page is public and done on its pages: ``web/pages_status_subscribe``.)"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from steward.api.deps import CurrentActor, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.api.routers.incidents import IncidentId
from steward.status import update_queries
from steward.status.update_schemas import (
    PublicUpdateIn,
    PublicUpdateList,
    PublicUpdateOut,
    PublicUpdateSuggestion,
    StatusPolicyIn,
    StatusPolicyOut,
)
from steward.status.use_cases import policy, updates

router = api_router(tags=["status updates"])


@router.get("/api/v1/incidents/{incident_id}/updates", response_model=PublicUpdateList,
            responses=error_responses(401, 404, 422))
def list_updates(incident_id: IncidentId, request: Request,
                 _actor: CurrentActor) -> dict[str, Any]:
    """The incident's public updates, newest first."""
    with database(request).read_session() as session:
        items = update_queries.incident_updates(session, incident_id)
        return {"total": len(items), "items": items}


@router.get("/api/v1/incidents/{incident_id}/updates/suggestion",
            response_model=PublicUpdateSuggestion, responses=error_responses(401, 404, 422))
def suggestion(incident_id: IncidentId, request: Request,
               _actor: CurrentActor) -> dict[str, Any]:
    """A draft of the next update from the incident: its state, the published components
    it affects, since when. Nothing is published."""
    with database(request).read_session() as session:
        return updates.suggest_update(session, incident_id)


@router.post("/api/v1/incidents/{incident_id}/updates", status_code=201,
             response_model=PublicUpdateOut,
             responses=error_responses(400, 401, 403, 404, 413, 422))
def publish(incident_id: IncidentId, body: PublicUpdateIn, request: Request,
            actor: CurrentActor) -> dict[str, Any]:
    """Publishes a public update (and mails it to the subscribers who follow it)."""
    data = body.model_dump()
    data["components"] = [c if isinstance(c, str) else c.model_dump(exclude_none=True)
                          for c in body.components]
    with database(request).session() as session:
        update = updates.publish_update(session, actor, incident_id, data)
        return update_queries.update_out(session, update)


@router.get("/api/v1/teams/{team}/status-policy", response_model=StatusPolicyOut,
            responses=error_responses(401, 404, 422))
def get_status_policy(team: str, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return update_queries.team_policy(session, team)


@router.put("/api/v1/teams/{team}/status-policy", response_model=StatusPolicyOut,
            responses=error_responses(400, 401, 403, 404, 413, 422))
def put_status_policy(team: str, body: StatusPolicyIn, request: Request,
               actor: CurrentActor) -> dict[str, Any]:
    """Whether the team's P1 incidents publish their suggested first update by themselves."""
    with database(request).session() as session:
        policy.set_policy(session, actor, team, auto_publish_p1=body.auto_publish_p1)
        return update_queries.team_policy(session, team)
