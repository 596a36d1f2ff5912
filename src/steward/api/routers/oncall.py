"""On-call under /api/v1: schedules, overrides, shifts, escalation policies, and who is
on call (now, at a time, next)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from steward.api.deps import CurrentActor, Limit, Offset, TimeText, database, time_query
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.inputs import MAX_ID
from steward.oncall import views
from steward.oncall.schemas import (
    NowNextOut,
    OnCallOut,
    OverrideCreate,
    OverrideOut,
    PolicyIn,
    PolicyOut,
    ScheduleCreate,
    ScheduleOut,
    ScheduleUpdate,
    ShiftsOut,
)
from steward.oncall.use_cases import overrides, policies, schedules
from steward.shapes import Items, Page
from steward.timeutil import parse_timestamp, utcnow

router = api_router(prefix="/api/v1", tags=["oncall"], responses=error_responses(401))
ScheduleId = Annotated[int, Path(ge=1, le=MAX_ID, description="schedule id")]
OverrideId = Annotated[int, Path(ge=1, le=MAX_ID, description="override id")]
At = Annotated[TimeText | None, time_query("at this time (ISO-8601; default now)")]
From = Annotated[TimeText | None, Query(alias="from", description="from (ISO-8601; default "
                                                                  "now)")]
To = Annotated[TimeText | None, Query(alias="to", description="up to (ISO-8601; default "
                                                              "four weeks after from)")]


# -- who is on call ----------------------------------------------------------------

@router.get("/oncall", response_model=OnCallOut, responses=error_responses(404, 422))
def who_is_on_call(request: Request, _actor: CurrentActor, team: str | None = None,
                   service: str | None = None, at: At = None) -> dict[str, Any]:
    """Who is on call for a team (or a service's owner team) at a time, by escalation
    level, level 1 first. An empty list is a gap in coverage."""
    moment = parse_timestamp(at, field="at") if at is not None else utcnow()
    with database(request).read_session() as session:
        return views.oncall_out(session, team=team, service=service, at=moment)


@router.get("/oncall/now-next", response_model=NowNextOut, responses=error_responses(404, 422))
def now_and_next(request: Request, _actor: CurrentActor, team: str,
                 at: At = None) -> dict[str, Any]:
    """Each of the team's schedules: who is on call now (since, until) and who is next."""
    moment = parse_timestamp(at, field="at") if at is not None else utcnow()
    with database(request).read_session() as session:
        return views.now_next_out(session, team, moment)


# -- schedules ---------------------------------------------------------------------

@router.get("/schedules", response_model=Page[ScheduleOut], responses=error_responses(422))
def list_schedules(request: Request, _actor: CurrentActor, team: str | None = None,
                   limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    with database(request).read_session() as session:
        total, items = views.list_schedules(session, team=team, limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.post("/schedules", status_code=201, response_model=ScheduleOut,
             responses=error_responses(400, 403, 409, 413, 422))
def create_schedule(body: ScheduleCreate, request: Request,
                    actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        schedule = schedules.create_schedule(session, actor, body)
        return views.schedule_out(session, schedule.id)


@router.get("/schedules/{schedule_id}", response_model=ScheduleOut,
            responses=error_responses(404, 422))
def get_schedule(schedule_id: ScheduleId, request: Request,
                 _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return views.schedule_out(session, schedule_id)


@router.patch("/schedules/{schedule_id}", response_model=ScheduleOut,
              responses=error_responses(400, 403, 404, 409, 413, 422))
def update_schedule(schedule_id: ScheduleId, body: ScheduleUpdate, request: Request,
                    actor: CurrentActor) -> dict[str, Any]:
    with database(request).session() as session:
        schedules.update_schedule(session, actor, schedule_id, body)
        return views.schedule_out(session, schedule_id)


@router.delete("/schedules/{schedule_id}", status_code=204,
               responses=error_responses(403, 404, 409, 422))
def delete_schedule(schedule_id: ScheduleId, request: Request, actor: CurrentActor) -> Response:
    with database(request).session() as session:
        schedules.delete_schedule(session, actor, schedule_id)
    return Response(status_code=204)


@router.get("/schedules/{schedule_id}/shifts", response_model=ShiftsOut,
            responses=error_responses(404, 422))
def shifts(schedule_id: ScheduleId, request: Request, _actor: CurrentActor,
           start: From = None, end: To = None) -> dict[str, Any]:
    """The final shifts (overrides marked) and the gaps with nobody on call over
    [from, to), and each layer's own shifts. At most a year."""
    begin = parse_timestamp(start, field="from") if start is not None else utcnow()
    until = parse_timestamp(end, field="to") if end is not None else begin + timedelta(weeks=4)
    with database(request).read_session() as session:
        return views.shifts_out(session, schedule_id, begin, until)


# -- overrides ---------------------------------------------------------------------

@router.get("/schedules/{schedule_id}/overrides", response_model=Items[OverrideOut],
            responses=error_responses(404, 422))
def list_overrides(schedule_id: ScheduleId, request: Request, _actor: CurrentActor,
                   start: From = None, end: To = None) -> dict[str, Any]:
    begin = parse_timestamp(start, field="from") if start is not None else None
    until = parse_timestamp(end, field="to") if end is not None else None
    with database(request).read_session() as session:
        return {"items": views.overrides_out(session, schedule_id, start=begin, end=until)}


@router.post("/schedules/{schedule_id}/overrides", status_code=201, response_model=OverrideOut,
             responses=error_responses(400, 403, 404, 409, 413, 422))
def create_override(schedule_id: ScheduleId, body: OverrideCreate, request: Request,
                    actor: CurrentActor) -> dict[str, Any]:
    """Somebody takes the schedule's shifts from starts_at to ends_at. An override
    overlapping another of the schedule is refused (409) naming the other."""
    with database(request).session() as session:
        item = overrides.create_override(session, actor, schedule_id, body)
        return next(o for o in views.overrides_out(session, schedule_id)
                    if o["id"] == item.id)


@router.delete("/schedules/{schedule_id}/overrides/{override_id}", status_code=204,
               responses=error_responses(403, 404, 422))
def delete_override(schedule_id: ScheduleId, override_id: OverrideId, request: Request,
                    actor: CurrentActor) -> Response:
    with database(request).session() as session:
        overrides.delete_override(session, actor, schedule_id, override_id)
    return Response(status_code=204)


# -- escalation policies -------------------------------------------------------------

@router.get("/teams/{team}/escalation-policy", response_model=PolicyOut,
            responses=error_responses(404, 422))
def get_policy(team: str, request: Request, _actor: CurrentActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        return views.policy_out(session, team)


@router.put("/teams/{team}/escalation-policy", response_model=PolicyOut,
            responses=error_responses(400, 403, 404, 413, 422))
def put_policy(team: str, body: PolicyIn, request: Request,
               actor: CurrentActor) -> dict[str, Any]:
    """Create or replace the team's escalation policy as a whole: every level must page
    somebody, every target must exist."""
    with database(request).session() as session:
        policies.put_policy(session, actor, team, body)
        return views.policy_out(session, team)


@router.delete("/teams/{team}/escalation-policy", status_code=204,
               responses=error_responses(403, 404, 422))
def delete_policy(team: str, request: Request, actor: CurrentActor) -> Response:
    with database(request).session() as session:
        policies.delete_policy(session, actor, team)
    return Response(status_code=204)
