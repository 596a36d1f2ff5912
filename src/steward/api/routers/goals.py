"""Shared goals under /api/v1/goals: admins set them, everyone signed in reads them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from steward.api.deps import AdminActor, CurrentActor, TimeText, database, time_query
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.goals import service as goals
from steward.goals.metrics import METRICS
from steward.goals.schemas import GoalMetricOut, GoalOut, GoalProgressOut
from steward.inputs import MAX_ID
from steward.shapes import Items, Listing
from steward.timeutil import parse_timestamp

router = api_router(prefix="/api/v1", tags=["goals"], responses=error_responses(401))
# A goal's progress leaves out what a period not yet started cannot say.
PROGRESS: dict[str, Any] = {"response_model_exclude_unset": True}
GoalId = Annotated[int, Path(ge=1, le=MAX_ID, description="goal id")]


@router.get("/goals/metrics", response_model=Items[GoalMetricOut])
def goal_metrics(_actor: CurrentActor) -> dict[str, Any]:
    """The KPIs a goal can be set on, with their unit and better direction."""
    return {"items": [m.out() for m in METRICS.values()]}


@router.get("/goals", response_model=Listing[GoalProgressOut | GoalOut],
            responses=error_responses(422), **PROGRESS)
def list_goals(request: Request, _actor: CurrentActor,
               progress: Annotated[bool, Query(
                   description="add the organisation's and every team's value so far")] = False,
               ) -> dict[str, Any]:
    with database(request).read_session() as session:
        found = goals.list_goals(session)
        items = [goals.goal_progress(session, g, weekly=False) if progress else goals.goal_out(g)
                 for g in found]
        return {"total": len(items), "items": items}


@router.post("/goals", status_code=201, response_model=GoalOut,
             responses=error_responses(400, 403, 409, 413, 422))
def create_goal(body: goals.GoalCreate, request: Request, actor: AdminActor) -> dict[str, Any]:
    with database(request).session() as session:
        return goals.goal_out(goals.create_goal(session, actor, body))


@router.get("/goals/{goal_id}", response_model=GoalProgressOut,
            responses=error_responses(404, 422), **PROGRESS)
def goal_progress(goal_id: GoalId, request: Request, _actor: CurrentActor,
                  now: Annotated[TimeText | None, time_query(
                      "judge the goal as of this time (default: now)")] = None,
                  ) -> dict[str, Any]:
    """The goal with the organisation's and every team's value over its period so far,
    whether each meets the target, and the value per week with its trend."""
    at = parse_timestamp(now, field="now") if now is not None else None
    with database(request).read_session() as session:
        return goals.goal_progress(session, goals.get_goal(session, goal_id), now=at)


@router.patch("/goals/{goal_id}", response_model=GoalOut,
              responses=error_responses(400, 403, 404, 409, 413, 422))
def update_goal(goal_id: GoalId, body: goals.GoalUpdate, request: Request,
                actor: AdminActor) -> dict[str, Any]:
    with database(request).session() as session:
        return goals.goal_out(goals.update_goal(session, actor, goal_id, body))


@router.delete("/goals/{goal_id}", status_code=204,
               responses=error_responses(403, 404, 422))
def delete_goal(goal_id: GoalId, request: Request, actor: AdminActor) -> Response:
    with database(request).session() as session:
        goals.delete_goal(session, actor, goal_id)
    return Response(status_code=204)
