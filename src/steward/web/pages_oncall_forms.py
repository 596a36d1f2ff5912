"""On-call forms: a schedule with its layers (new and edit) and a team's escalation policy
(levels, their targets and timeouts, repeat). Plain HTML forms: a blank row is ignored and
"one more row" is a link, so they work without JavaScript."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.errors import StewardError
from steward.oncall import page_queries, rotation, views
from steward.oncall.schemas import PolicyIn, ScheduleCreate, ScheduleUpdate
from steward.oncall.use_cases import policies, schedules
from steward.request.database import database
from steward.web.change_forms import problem
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
from steward.web.pages_oncall import schedule_href, team_oncall_href
from steward.web.render import render, whole_number

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]

LAYER_FIELDS = ("name", "position", "starts", "interval", "members", "restrict_start",
                "restrict_end")
MAX_ROWS = 12


def _rows_wanted(request: Request, have: int) -> int:
    return whole_number(pick(request.query_params, "rows"), "rows", default=max(have, 0) + 1,
                        low=1, high=MAX_ROWS)


# -- schedules -------------------------------------------------------------------------

def _layer_rows_from(schedule: dict[str, Any] | None) -> list[dict[str, Any]]:
    if schedule is None:
        return []
    return [{"name": la["name"], "position": str(la["position"]), "starts": la["starts"],
             "interval": str(la["handoff_interval_hours"]),
             "members": "\n".join(la["members"]),
             "restrict_start": la["restrict_start"] or "", "restrict_end": la["restrict_end"] or "",
             "weekdays": la["restrict_weekdays"] or []} for la in schedule["layers"]]


def _layer_rows_posted(form: FormData) -> list[dict[str, Any]]:
    rows = []
    for i in range(MAX_ROWS):
        row: dict[str, Any] = {f: form_text(form, f"layer-{i}-{f}") for f in LAYER_FIELDS}
        row["weekdays"] = [str(v) for v in form.getlist(f"layer-{i}-weekdays")]
        if f"layer-{i}-name" in form:
            rows.append(row)
    return rows


def _layers_in(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows someone filled in, as the schedule shape takes them (a blank row is
    skipped; an unfilled field is left for the shape to name)."""
    out = []
    for row in rows:
        if not any(row[f] for f in ("name", "starts", "members")):
            continue
        members = [m.strip() for part in row["members"].splitlines() for m in part.split(",")
                   if m.strip()]
        layer: dict[str, Any] = {"name": row["name"], "members": members,
                                 "starts": row["starts"] or None,
                                 "handoff_interval_hours": row["interval"] or None,
                                 "restrict_start": row["restrict_start"] or None,
                                 "restrict_end": row["restrict_end"] or None,
                                 "restrict_weekdays": row["weekdays"] or None}
        if row["position"]:
            layer["position"] = row["position"]
        out.append(layer)
    return out


def _schedule_form(request: Request, team: str, *, schedule: dict[str, Any] | None,
                   rows: list[dict[str, Any]] | None = None, values: dict[str, str] | None = None,
                   error: str = "", status: int = 200) -> Response:
    layer_rows = rows if rows is not None else _layer_rows_from(schedule)
    wanted = _rows_wanted(request, len(layer_rows)) if rows is None else len(layer_rows)
    blank: dict[str, Any] = {f: "" for f in LAYER_FIELDS} | {"weekdays": []}
    layer_rows = layer_rows + [dict(blank) for _ in range(wanted - len(layer_rows))]
    fields = values or ({"name": schedule["name"], "time_zone": schedule["time_zone"],
                         "description": schedule["description"]} if schedule else
                        {"time_zone": "UTC"})
    return render(request, "oncall/schedule_form.html", {
        "team": team, "schedule": schedule, "rows": layer_rows, "values": fields,
        "weekdays": rotation.WEEKDAYS, "zones": rotation.known_time_zones(),
        "error": error, "more_rows": min(len(layer_rows) + 1, MAX_ROWS),
    }, status=status, nav="teams")


@router.get("/teams/{team}/schedules/new")
def schedule_new(request: Request, team: str) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        choices = page_queries.team_choices(session, team)
    if not viewer.can_write_team(choices.team_id):
        raise PageError(403, "Not allowed", f"only members of {team} or an admin may create "
                                            "its schedules")
    return _schedule_form(request, team, schedule=None)


@router.post("/teams/{team}/schedules/new")
def schedule_create(request: Request, team: str, form: Form) -> Response:
    rows = _layer_rows_posted(form)
    values = {k: form_text(form, k) for k in ("name", "time_zone", "description")}
    try:
        with database(request).session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            data = ScheduleCreate.model_validate({
                "team": team, "name": values["name"], "time_zone": values["time_zone"],
                "description": values["description"], "layers": _layers_in(rows)})
            created = schedules.create_schedule(session, viewer.actor, data)
            schedule_id = created.id
    except (StewardError, PydanticError) as exc:
        message, status = problem(exc)
        return _schedule_form(request, team, schedule=None, rows=rows, values=values,
                              error=message, status=status)
    return RedirectResponse(f"{schedule_href(schedule_id)}?done=created", status_code=303)


@router.get("/schedules/{schedule_id}/edit")
def schedule_edit(request: Request, schedule_id: str) -> Response:
    number = record_id(schedule_id, "schedule")
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        team, team_id = page_queries.schedule_team(session, number)
        schedule = views.schedule_out(session, number)
    if not viewer.can_write_team(team_id):
        raise PageError(403, "Not allowed", f"only members of {team} or an admin may change "
                                            "its schedules")
    return _schedule_form(request, team, schedule=schedule)


@router.post("/schedules/{schedule_id}/edit")
def schedule_update(request: Request, schedule_id: str, form: Form) -> Response:
    number = record_id(schedule_id, "schedule")
    rows = _layer_rows_posted(form)
    values = {k: form_text(form, k) for k in ("name", "time_zone", "description")}
    db = database(request)
    with db.read_session() as session:
        team, _ = page_queries.schedule_team(session, number)
        schedule = views.schedule_out(session, number)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            data = ScheduleUpdate.model_validate({**values, "layers": _layers_in(rows)})
            schedules.update_schedule(session, viewer.actor, number, data)
    except (StewardError, PydanticError) as exc:
        message, status = problem(exc)
        return _schedule_form(request, team, schedule=schedule, rows=rows, values=values,
                              error=message, status=status)
    return RedirectResponse(f"{schedule_href(number)}?done=saved", status_code=303)


# -- escalation policy -------------------------------------------------------------------

def _level_rows_from(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    if policy is None:
        return []
    return [{"timeout": str(level["timeout_minutes"]),
             "schedules": [str(t["schedule_id"]) for t in level["targets"]
                           if t["kind"] == "schedule"],
             "users": [t["user"] for t in level["targets"] if t["kind"] == "user"],
             "teams": [t["team"] for t in level["targets"] if t["kind"] == "team"]}
            for level in policy["levels"]]


def _level_rows_posted(form: FormData) -> list[dict[str, Any]]:
    rows = []
    for i in range(MAX_ROWS):
        if f"level-{i}-timeout" not in form:
            continue
        rows.append({"timeout": form_text(form, f"level-{i}-timeout"),
                     **{kind: [str(v) for v in form.getlist(f"level-{i}-{kind}") if v]
                        for kind in ("schedules", "users", "teams")}})
    return rows


def _levels_in(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        targets = ([{"kind": "schedule", "schedule_id": v} for v in row["schedules"]]
                   + [{"kind": "user", "user": v} for v in row["users"]]
                   + [{"kind": "team", "team": v} for v in row["teams"]])
        if not row["timeout"] and not targets:
            continue
        out.append({"timeout_minutes": row["timeout"] or None, "targets": targets})
    return out


def _policy_form(request: Request, team: str, *, rows: list[dict[str, Any]] | None = None,
                 values: dict[str, str] | None = None, error: str = "",
                 status: int = 200) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        choices = page_queries.team_choices(session, team)
        policy = views.policy_or_none(session, team)
    if not viewer.can_write_team(choices.team_id):
        raise PageError(403, "Not allowed", f"only members of {team} or an admin may change "
                                            "its escalation policy")
    level_rows = rows if rows is not None else _level_rows_from(policy)
    if rows is None:
        wanted = _rows_wanted(request, len(level_rows))
        level_rows += [{"timeout": "", "schedules": [], "users": [], "teams": []}
                       for _ in range(wanted - len(level_rows))]
    fields = values or {"name": policy["name"] if policy else f"{team} escalation",
                        "repeat_count": str(policy["repeat_count"]) if policy else "0"}
    return render(request, "oncall/policy_form.html", {
        "team": team, "policy": policy, "rows": level_rows, "values": fields,
        "choices": choices, "error": error, "more_rows": min(len(level_rows) + 1, MAX_ROWS),
    }, status=status, nav="teams")


@router.get("/teams/{team}/escalation-policy")
def policy_page(request: Request, team: str) -> Response:
    return _policy_form(request, team)


@router.post("/teams/{team}/escalation-policy")
def policy_save(request: Request, team: str, form: Form) -> Response:
    rows = _level_rows_posted(form)
    values = {k: form_text(form, k) for k in ("name", "repeat_count")}
    try:
        with database(request).session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            data = PolicyIn.model_validate({"name": values["name"],
                                            "repeat_count": values["repeat_count"] or 0,
                                            "levels": _levels_in(rows)})
            policies.put_policy(session, viewer.actor, team, data)
    except (StewardError, PydanticError) as exc:
        if isinstance(exc, StewardError) and exc.status_code == 404:
            raise
        message, status = problem(exc)
        return _policy_form(request, team, rows=rows, values=values, error=message,
                            status=status)
    return RedirectResponse(f"{team_oncall_href(team)}?done=policy", status_code=303)


@router.post("/teams/{team}/escalation-policy/delete")
def policy_delete(request: Request, team: str, form: Form) -> Response:
    with database(request).session() as session:
        viewer = require_viewer(request, session)
        check_csrf(viewer, form)
        policies.delete_policy(session, viewer.actor, team)
    return RedirectResponse(f"/teams/{quote(team, safe='')}/oncall?done=policy-deleted",
                            status_code=303)
