"""On-call pages: a team's on-call (now, next, schedules, escalation policy), a schedule's
weeks (a timeline per layer and the final one, shifts and gaps in a table, overrides),
and the override forms."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.db import Database
from steward.errors import StewardError
from steward.oncall import page_queries, views
from steward.oncall.page_queries import ScheduleWeeks, ShiftRow
from steward.oncall.schemas import OverrideCreate
from steward.oncall.use_cases import overrides, schedules
from steward.request.database import database
from steward.timeutil import utcnow
from steward.web.change_forms import form_values, local_time, problem
from steward.web.guard import (
    PageError,
    WebRoute,
    check_csrf,
    form_text,
    pick,
    read_form,
    record_id,
    require_viewer,
)
from steward.web.oncall_chart import Bar, Row, local_text, render_schedule_chart
from steward.web.render import TEMPLATES, render, whole_number

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]

DEFAULT_WEEKS = 3
NOTICES = {
    "created": "Schedule created.",
    "saved": "Schedule saved.",
    "override": "Override added.",
    "override-deleted": "Override removed.",
    "deleted": "Schedule deleted.",
    "policy": "Escalation policy saved.",
    "policy-deleted": "Escalation policy removed.",
}
TEMPLATES.env.filters["local_time"] = local_text
TEMPLATES.env.filters["utc_to_local"] = lambda stamp, zone: local_text(
    datetime.fromisoformat(stamp.replace("Z", "+00:00")), zone)


def schedule_href(schedule_id: int) -> str:
    return f"/schedules/{schedule_id}"


def team_oncall_href(team: str) -> str:
    return f"/teams/{quote(team, safe='')}/oncall"


@router.get("/teams/{team}/oncall")
def team_oncall_page(request: Request, team: str) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        summary = views.oncall_summary(session, team, utcnow())
        if summary is None:
            raise PageError(404, "Not found", f"team {team!r} does not exist")
        choices = page_queries.team_choices(session, team)
        policy = views.policy_or_none(session, team)
    return render(request, "oncall/team.html", {
        "team": team, "summary": summary, "schedules": choices.schedules, "policy": policy,
        "can_edit": viewer.can_write_team(summary.team_id),
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }, nav="teams")


def _week_start(request: Request, time_zone: str) -> datetime:
    """The page's first day at local midnight: ?from=YYYY-MM-DD, else this week's Monday."""
    tz = ZoneInfo(time_zone)
    raw = pick(request.query_params, "from")
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise PageError(400, "Bad request", f"from: {raw!r} is not a date "
                                                "(YYYY-MM-DD)") from None
        if not 1970 <= day.year < 8999:
            raise PageError(400, "Bad request", "from: out of range")
    else:
        today = utcnow().astimezone(tz).date()
        day = today - timedelta(days=today.weekday())
    return datetime.combine(day, datetime.min.time(), tz)


def _bars(rows: list[ShiftRow], zone: str) -> list[Bar]:
    out = []
    for r in rows:
        when = f"{local_text(r.start, zone)} to {local_text(r.end, zone)}"
        if r.gap:
            out.append(Bar(r.start, r.end, "gap", "gap", f"Gap: nobody on call, {when}"))
        else:
            assert r.user is not None
            source = "override" if r.override else f"layer {r.layer}"
            out.append(Bar(r.start, r.end, r.user, "override" if r.override else "shift",
                           f"{r.user} ({source}), {when}"))
    return out


def _chart(weeks: ScheduleWeeks) -> str:
    zone = weeks.schedule["time_zone"]
    rows = [Row(f"Layer: {name}", _bars(shifts, zone)) for name, shifts in weeks.layers]
    override_rows = [r for r in weeks.final if r.override]
    rows.append(Row("Overrides", _bars(override_rows, zone)))
    rows.append(Row("On call", _bars(weeks.final, zone), final=True))
    return render_schedule_chart(rows, weeks.start, weeks.end, zone, now=utcnow())


def _schedule_page(request: Request, db: Database, schedule_id: int, *, error: str = "",
                   status: int = 200, form: dict[str, Any] | None = None) -> Response:
    weeks_count = whole_number(pick(request.query_params, "weeks"), "weeks",
                               default=DEFAULT_WEEKS, low=1, high=12)
    with db.read_session() as session:
        viewer = require_viewer(request, session)
        team, team_id = page_queries.schedule_team(session, schedule_id)
        zone = views.schedule_out(session, schedule_id)["time_zone"]
        start = _week_start(request, zone)
        end = datetime.combine(start.date() + timedelta(weeks=weeks_count),
                               datetime.min.time(), start.tzinfo)
        weeks = page_queries.schedule_weeks(session, schedule_id, start, end)
        choices = page_queries.team_choices(session, team)
    earlier = (start.date() - timedelta(weeks=weeks_count)).isoformat()
    later = (start.date() + timedelta(weeks=weeks_count)).isoformat()
    gaps = [r for r in weeks.final if r.gap]
    return render(request, "oncall/schedule.html", {
        "team": team, "weeks": weeks, "schedule": weeks.schedule, "chart": _chart(weeks),
        "gaps": gaps, "weeks_count": weeks_count, "earlier": earlier, "later": later,
        "first_day": start.date().isoformat(), "zone": zone,
        "can_edit": viewer.can_write_team(team_id), "members": choices.members,
        "users": choices.users, "error": error, "form": form or {},
        "notice": NOTICES.get(request.query_params.get("done", "")) if not error else None,
    }, status=status, nav="teams")


@router.get("/schedules/{schedule_id}")
def schedule_page(request: Request, schedule_id: str) -> Response:
    return _schedule_page(request, database(request), record_id(schedule_id, "schedule"))


@router.post("/schedules/{schedule_id}/overrides")
def override_create(request: Request, schedule_id: str, form: Form) -> Response:
    number = record_id(schedule_id, "schedule")
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            zone = views.schedule_out(session, number)["time_zone"]
            data = OverrideCreate(
                user=form_text(form, "user"),
                starts_at=local_time(form_text(form, "starts_at"), "starts_at", zone),
                ends_at=local_time(form_text(form, "ends_at"), "ends_at", zone),
                reason=form_text(form, "reason"),
                requested_by=form_text(form, "requested_by") or None)
            overrides.create_override(session, viewer.actor, number, data)
    except (StewardError, PydanticError) as exc:
        if isinstance(exc, StewardError) and exc.field == "schedule":
            raise
        message, status = problem(exc)
        return _schedule_page(request, db, number, error=message, status=status,
                              form=form_values(form))
    return _back(request, number, "override")


@router.post("/schedules/{schedule_id}/overrides/{override_id}/delete")
def override_delete(request: Request, schedule_id: str, override_id: str,
                    form: Form) -> Response:
    number = record_id(schedule_id, "schedule")
    item = record_id(override_id, "override")
    with database(request).session() as session:
        viewer = require_viewer(request, session)
        check_csrf(viewer, form)
        overrides.delete_override(session, viewer.actor, number, item)
    return _back(request, number, "override-deleted")


@router.post("/schedules/{schedule_id}/delete")
def schedule_delete(request: Request, schedule_id: str, form: Form) -> Response:
    number = record_id(schedule_id, "schedule")
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            team, _ = page_queries.schedule_team(session, number)
            schedules.delete_schedule(session, viewer.actor, number)
    except StewardError as exc:
        if exc.field == "schedule" and exc.status_code == 404:
            raise
        message, status = problem(exc)
        return _schedule_page(request, db, number, error=message, status=status)
    return RedirectResponse(f"{team_oncall_href(team)}?done=deleted", status_code=303)


def _back(request: Request, schedule_id: int, done: str) -> Response:
    keep = "".join(f"&{k}={quote(v)}" for k in ("from", "weeks")
                   if (v := pick(request.query_params, k)))
    return RedirectResponse(f"{schedule_href(schedule_id)}?done={done}{keep}#overrides",
                            status_code=303)
