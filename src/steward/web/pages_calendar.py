"""The change calendar: a week of freeze and maintenance windows and planned changes,
conflicts marked, and the forms that add and remove windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.catalog.use_cases.services import team_names
from steward.changes import assessment, calendar, queries
from steward.changes.schemas import WindowCreate
from steward.changes.use_cases import records
from steward.db import Database
from steward.errors import NotFound, StewardError, ValidationError
from steward.request.database import database
from steward.timeutil import as_utc, utcnow
from steward.web.change_forms import (
    COMMON_ZONES,
    form_values,
    local_time,
    names_from,
    problem,
    zone,
)
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
from steward.web.incidents_view import nav_counts
from steward.web.render import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_MINUTES = 24 * 60
WINDOW_LABEL_ROOM = 36  # per cent of a day's width kept for a window's label
NOTICES = {"window-added": "Window added.", "window-removed": "Window removed."}


def calendar_href(week: date | str, tz: str, **extra: str) -> str:
    return "/changes/calendar?" + urlencode({"week": str(week), "tz": tz, **extra})


def _timezone(raw: str) -> str:
    tz = raw or assessment.business_timezone()
    try:
        zone(tz)
    except ValidationError as exc:
        raise PageError(422, "Invalid input", exc.message) from exc
    return tz


def _week_start(raw: str, tz: str) -> date:
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError as exc:
            raise PageError(422, "Invalid input",
                            f"week: expected a date as YYYY-MM-DD, got {raw!r}") from exc
    else:
        day = utcnow().astimezone(zone(tz)).date()
    return day - timedelta(days=day.weekday())


def _minutes(moment: datetime, day: date) -> int:
    """Minutes after local midnight of ``day``; the next midnight is the end of the day."""
    if moment.date() > day:
        return DAY_MINUTES
    return moment.hour * 60 + moment.minute


def _place(entry: dict[str, Any], day: date) -> dict[str, Any]:
    top = _minutes(entry["start"], day)
    bottom = DAY_MINUTES if entry["continues_after"] else _minutes(entry["end"], day)
    start, end = entry["start"].strftime("%H:%M"), entry["end"].strftime("%H:%M")
    if entry["continues_before"] and entry["continues_after"]:
        when = "all day"
    elif entry["continues_before"]:
        when = f"until {end}"
    elif entry["continues_after"]:
        when = f"from {start}"
    else:
        when = f"{start}–{end}"
    return {"top": round(top / DAY_MINUTES * 100, 3),
            "height": round(max(bottom - top, 40) / DAY_MINUTES * 100, 3), "when": when}


def _lanes(items: list[dict[str, Any]], windows: list[dict[str, Any]]) -> None:
    """Side by side for changes that overlap on the page: each gets a ``lane`` of ``lanes``.

    Items come sorted by start. A cluster is a run of items that overlap one another
    in a chain; all of its items share the cluster's number of lanes, and leave room
    (``inset``, a percentage) for the labels of windows they overlap.
    """
    cluster: list[dict[str, Any]] = []
    ends: list[float] = []
    bottom = -1.0

    def close() -> None:
        inset = WINDOW_LABEL_ROOM if any(
            w["top"] < m["top"] + m["height"] and m["top"] < w["top"] + w["height"]
            for m in cluster for w in windows) else 0
        for member in cluster:
            member["lanes"], member["inset"] = max(len(ends), 1), inset

    for item in items:
        top, end = item["top"], item["top"] + item["height"]
        if cluster and top >= bottom:
            close()
            cluster, ends = [], []
        for lane, lane_end in enumerate(ends):
            if lane_end <= top:
                item["lane"], ends[lane] = lane, end
                break
        else:
            item["lane"] = len(ends)
            ends.append(end)
        cluster.append(item)
        bottom = max(bottom, end) if len(cluster) > 1 else end
    close()


def _schedule(row: calendar.Window, tz: str) -> str:
    if row.starts_at is not None and row.ends_at is not None:
        local = zone(tz)
        start, end = as_utc(row.starts_at).astimezone(local), as_utc(row.ends_at).astimezone(local)
        return f"{start:%a %Y-%m-%d %H:%M} to {end:%a %Y-%m-%d %H:%M} ({tz})"
    names = [DAY_NAMES[d] for d in sorted(row.weekdays or ())]
    days = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    minutes = row.duration_minutes or 0
    length = f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "") \
        if minutes >= 60 else f"{minutes} min"
    return f"every {days} at {row.start_time} for {length} ({row.timezone})"


def _scope(row: calendar.Window) -> str:
    values = ", ".join(row.scope.values)
    if row.scope.kind == "all":
        return "everything"
    if row.scope.kind == "tier":
        return "tier " + values
    return f"{row.scope.kind}: {values}"


def _bounds(week_start: date, tz: str) -> tuple[datetime, datetime]:
    """The week's first and last instant (exclusive) in UTC, from local midnights."""
    local = zone(tz)
    return (datetime.combine(week_start, time(0), tzinfo=local).astimezone(UTC),
            datetime.combine(week_start + timedelta(days=7), time(0),
                             tzinfo=local).astimezone(UTC))


def _week(found: dict[str, Any], week_start: date, tz: str) -> dict[str, Any]:
    """The week's days as the page lays them out, from :func:`queries.calendar_week`."""
    changes = {c["id"]: c for c in found["changes"]}
    planned = [calendar.PlannedChange(c["id"], c["label"], tuple(c["services"]), c["start"],
                                      c["end"]) for c in changes.values()]
    grid = calendar.week_grid(found["windows"], planned, week_start, tz)
    conflicts = {c["id"]: c["conflicts"] for c in changes.values() if c["conflicts"]}
    today = utcnow().astimezone(zone(tz))
    days = []
    for day in grid["days"]:
        windows = [{**w, **_place(w, day["date"])} for w in day["windows"]]
        items = []
        for entry in day["changes"]:
            change = changes[entry["id"]]
            items.append({**entry, **_place(entry, day["date"]), "title": change["title"],
                          "state": change["state"], "risk": change["risk_level"],
                          "conflicts": change["conflicts"]})
        _lanes(items, windows)
        days.append({"date": day["date"], "name": DAY_NAMES[day["date"].weekday()],
                     "today": day["date"] == today.date(), "windows": windows,
                     "changes": items,
                     "now": round(_minutes(today, day["date"]) / DAY_MINUTES * 100, 3)
                     if day["date"] == today.date() else None})
    start, end = _bounds(week_start, tz)
    return {"days": days, "windows": found["windows"], "conflicts": conflicts,
            "change_count": len(changes), "start": start, "end": end}


def _calendar_page(request: Request, db: Database, *, week: str, tz: str, error: str = "",
                   status: int = 200, form: dict[str, Any] | None = None) -> Response:
    with db.read_session() as session:
        viewer = require_viewer(request, session)
        tz = _timezone(tz)
        week_start = _week_start(week, tz)
        found = queries.calendar_week(session, *_bounds(week_start, tz))
        can_add = viewer.role in ("member", "admin")
        teams = sorted(team_names(session).values()) if can_add else []
        nav = nav_counts(session)
    view = _week(found, week_start, tz)
    this_week = _week_start("", tz)
    return render(request, "changes/calendar.html", {
        **nav,
        "week_start": week_start,
        "week_end": week_start + timedelta(days=6),
        "tz": tz,
        "zones": sorted(set(COMMON_ZONES) | {tz}),
        "prev_url": calendar_href(week_start - timedelta(days=7), tz),
        "next_url": calendar_href(week_start + timedelta(days=7), tz),
        "this_week_url": calendar_href(this_week, tz) if this_week != week_start else "",
        "view": view,
        "hours": range(24),
        "schedule": lambda row: _schedule(row, tz),
        "scope": _scope,
        "can_add": can_add,
        "can_delete": viewer.is_admin,
        "teams": teams,
        "day_names": DAY_NAMES,
        "form": form or {"kind": "freeze", "scope": "all", "schedule": "once", "timezone": tz},
        "error": error,
        "notice": NOTICES.get(request.query_params.get("done", "")) if not error else None,
    }, status=status, nav="changes")


@router.get("/changes/calendar")
def calendar_page(request: Request) -> Response:
    params = request.query_params
    return _calendar_page(request, database(request), week=pick(params, "week"),
                          tz=pick(params, "tz"))


def _optional_int(form: FormData, field: str) -> int | None:
    raw = form_text(form, field)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationError(f"{field}: must be a whole number", field=field) from exc


def _window_create(form: FormData) -> WindowCreate:
    tz = form_text(form, "timezone") or "UTC"
    scope = form_text(form, "scope") or "all"
    weekly = form_text(form, "schedule") == "weekly"
    fields: dict[str, Any] = {
        "name": form_text(form, "name"), "kind": form_text(form, "kind"), "scope": scope,
        "scope_values": [] if scope == "all" else names_from(form, "scope_values"),
        "timezone": tz,
    }
    zone(tz, "timezone")
    if weekly:
        days = []
        for raw in form.getlist("weekdays"):
            if not isinstance(raw, str) or not raw.isdigit():
                raise ValidationError("weekdays: pick days of the week", field="weekdays")
            days.append(int(raw))
        fields.update(weekdays=days, start_time=form_text(form, "start_time") or None,
                      duration_minutes=_optional_int(form, "duration_minutes"))
    else:
        fields.update(starts_at=local_time(form_text(form, "starts_at"), "starts_at", tz),
                      ends_at=local_time(form_text(form, "ends_at"), "ends_at", tz))
    return WindowCreate(**fields)


@router.post("/changes/calendar/windows")
def window_create(request: Request, form: Form) -> Response:
    values = form_values(form)
    week, tz = form_text(form, "week"), form_text(form, "tz")
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            row = records.create_window(session, viewer.actor, _window_create(form))
            if row.starts_at is not None:
                week = as_utc(row.starts_at).astimezone(zone(_timezone(tz))).date().isoformat()
    except (StewardError, PydanticError) as exc:
        message, status = problem(exc)
        return _calendar_page(request, db, week=week, tz=tz, error=message, status=status,
                              form=values)
    return RedirectResponse(calendar_href(week or _week_start("", _timezone(tz)),
                                          _timezone(tz), done="window-added") + "#windows",
                            status_code=303)


@router.post("/changes/calendar/windows/{window_id}/delete")
def window_delete(request: Request, window_id: str, form: Form) -> Response:
    record_id(window_id, "window")
    week, tz = form_text(form, "week"), form_text(form, "tz")
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            records.delete_window(session, viewer.actor, int(window_id))
    except NotFound:
        raise
    except StewardError as exc:
        message, status = problem(exc)
        return _calendar_page(request, db, week=week, tz=tz, error=message, status=status)
    return RedirectResponse(calendar_href(week or _week_start("", _timezone(tz)),
                                          _timezone(tz), done="window-removed") + "#windows",
                            status_code=303)
