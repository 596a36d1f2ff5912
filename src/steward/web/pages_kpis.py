"""The KPI dashboard: the organisation at /kpis, one team at /kpis/teams/{team}, one goal
at /kpis/goals/{id}.

Everything is drawn on the server (tier badges, weekly trend charts as SVG,
ITSM figures by priority, the load on each team's on-call, error budget burn-down
per SLO, goal progress bars), so the dashboard reads without JavaScript. The window is a GET form.
Teams and services only: nothing here is per person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.db import Session
from steward.errors import StewardError, ValidationError
from steward.goals import metrics as goal_metrics
from steward.goals import queries as goal_queries
from steward.goals import service as goals
from steward.incidents.priority import PRIORITIES
from steward.kpis.dora_queries import dora_kpis, dora_table
from steward.kpis.itsm import itsm_kpis, weekly_mttr
from steward.kpis.oncall import oncall_kpis
from steward.kpis.sql import MAX_DAYS
from steward.request.database import database
from steward.slos.queries import slo_readings
from steward.timeutil import parse_timestamp, utcnow
from steward.web.change_forms import form_values, problem
from steward.web.guard import (
    Viewer,
    WebRoute,
    check_csrf,
    form_text,
    read_form,
    record_id,
    require_admin,
    require_viewer,
)
from steward.web.kpi_charts import hours, percent, plain, trend_chart
from steward.web.render import render, whole_number

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]

WINDOWS = (7, 14, 28, 56, 84, 182, 364)
DEFAULT_DAYS = 84
TIERS = {"elite": "Elite", "high": "High", "medium": "Medium", "low": "Low"}
DORA_TIERS = (("deployment_frequency", "Deployment frequency"),
              ("lead_time_hours", "Lead time for changes"),
              ("change_failure_rate", "Change failure rate"),
              ("recovery_time_hours", "Failed deployment recovery time"))


def _days(request: Request) -> int:
    return whole_number(request.query_params.get("days", ""), "days", default=DEFAULT_DAYS,
                        low=7, high=MAX_DAYS)


def _label(iso: str) -> str:
    return iso[5:10]


def _weekly_mttr(session: Session, team: str | None, end: datetime,
                 weeks: int) -> list[tuple[str, float | None]]:
    return [(_label(w["week_start"]), w["mttr_hours_median"])
            for w in weekly_mttr(session, team=team, weeks=weeks, end=end)]


def _charts(session: Session, team: str | None, dora: dict[str, Any],
            end: datetime, goal_targets: dict[str, float]) -> list[dict[str, str]]:
    weekly = dora["weekly"]
    scope = team or "organisation"
    series = [
        ("deployments", "Deployments per week", "bar", plain,
         [(_label(w["week_start"]), float(w["deployments"])) for w in weekly], None),
        ("lead-time", "Lead time for changes, median per week", "line", hours,
         [(_label(w["week_start"]), w["lead_time_hours_median"]) for w in weekly], None),
        ("change-failure-rate", "Change failure rate per week", "line", percent,
         [(_label(w["week_start"]), w["change_failure_rate"]) for w in weekly],
         goal_targets.get("change_failure_rate")),
        ("mttr", "Time to resolve incidents (MTTR), median per week", "line", hours,
         _weekly_mttr(session, team, end, len(weekly)),
         goal_targets.get("mttr_median_hours")),
    ]
    charts = []
    for key, title, kind, fmt, points, target in series:
        charts.append({"key": key, "title": title, "svg": trend_chart(
            points, title=f"{title} ({scope})", kind=kind, fmt=fmt, target=target,
            target_label="goal", chart_id=f"chart-{key}")})
    return charts


def _goal_rows(session: Session, team: str | None, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for progress in goal_queries.progress_of_goals(session, now=now):
        if team is None:
            judged = progress["organisation"]
        else:
            judged = next((t for t in progress["teams"] if t["team"] == team),
                          {"value": None, "display": "no data", "meets": None,
                           "progress": None})
        found = goal_metrics.METRICS[progress["metric"]]
        rows.append({**progress, "judged": judged,
                     "target_display": goal_metrics.format_value(found, progress["target"]),
                     "percent": round((judged["progress"] or 0) * 100)})
    return rows


def _slos(session: Session, team: str | None, now: datetime) -> list[dict[str, Any]]:
    """Every SLO of the team (or all of them) with its error budget burn-down."""
    out = []
    for reading in slo_readings(session, team=team, at=now):
        slo, status = reading.slo, reading.status.out()
        svg = trend_chart([(p["at"][5:10], p["budget_left"]) for p in reading.burndown or []],
                          title=f"Error budget left: {slo.name} ({slo.service})",
                          kind="line", fmt=percent, ceiling=1.0, chart_id=f"slo-{slo.id}")
        out.append({"slo": slo, "service": slo.service, "status": status,
                    "svg": svg, "left": status["budget_left"]})
    return out


def _dashboard(request: Request, session: Session, team: str | None) -> dict[str, Any]:
    days = _days(request)
    raw_end = request.query_params.get("end", "").strip()
    end = parse_timestamp(raw_end, field="end") if raw_end else utcnow()
    dora = dora_kpis(session, team=team, days=days, end=end)
    itsm = itsm_kpis(session, team=team, days=days, end=end)
    goal_rows = _goal_rows(session, team, end)
    targets = {g["metric"]: g["target"] for g in goal_rows}
    by_priority = [{"priority": p, **itsm["by_priority"][p]} for p in PRIORITIES
                   if p in itsm["by_priority"]]
    query = {"days": days, **({"end": raw_end} if raw_end else {})}
    exports = []
    for table, label in (("dora", "DORA"), ("itsm", "ITSM"), ("goals", "Goals")):
        for fmt in ("csv", "json"):
            params = {"table": table, "format": fmt, **({} if table == "goals" else
                                                        {"days": days, "group_by": "team"}),
                      **({"end": raw_end} if raw_end else {})}
            exports.append({"label": f"{label} {fmt.upper()}",
                            "href": "/api/v1/kpis/export?" + urlencode(params)})
    return {
        "team": team, "days": days, "windows": sorted({*WINDOWS, days}), "end": raw_end,
        "dora": dora, "itsm": itsm, "by_priority": by_priority,
        "tiers": [(key, label, dora[key]["tier"]) for key, label in DORA_TIERS],
        "tier_names": TIERS, "charts": _charts(session, team, dora, end, targets),
        "goals": goal_rows, "slos": _slos(session, team, end),
        "oncall": oncall_kpis(session, team=team, days=days, end=end),
        "exports": exports, "query": urlencode(query),
        "notice": DONE_NOTICES.get(request.query_params.get("done", ""), ""),
        "fmt_hours": lambda v: "–" if v is None else hours(v),
        "fmt_pct": lambda v: "–" if v is None else percent(v),
    }


@router.get("/kpis")
def kpis_page(request: Request) -> Response:
    with database(request).read_session() as session:
        require_viewer(request, session)
        context = _dashboard(request, session, None)
        end = parse_timestamp(context["dora"]["window"]["end"], field="end")
        context["team_rows"] = dora_table(session, group_by="team", days=context["days"],
                                          end=end)
    return render(request, "kpis.html", context, nav="kpis")


@router.get("/kpis/teams/{team}")
def team_kpis_page(request: Request, team: str) -> Response:
    with database(request).read_session() as session:
        require_viewer(request, session)
        context = _dashboard(request, session, team)
    return render(request, "kpis.html", context, nav="kpis")


@router.get("/kpis/goals/new")
def goal_new(request: Request) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        require_admin(viewer, "set shared goals")
        return _goal_form(request, viewer)


@router.get("/kpis/goals/{goal_id}")
def goal_page(request: Request, goal_id: str) -> Response:
    record_id(goal_id, "goal")
    with database(request).read_session() as session:
        require_viewer(request, session)
        progress = goal_queries.progress_of_goal(session, int(goal_id))
    found = goal_metrics.METRICS[progress["metric"]]
    fmt = percent if found.unit == "ratio" else hours if found.unit == "hours" else plain
    chart = trend_chart([(_label(w["week_start"]), w["value"]) for w in progress["weeks"]],
                        title=f"{progress['name']}: organisation per week", kind="line",
                        fmt=fmt, target=progress["target"], target_label="target",
                        chart_id="chart-goal")
    for team in progress["teams"]:
        team["percent"] = round((team["progress"] or 0) * 100)
    done = request.query_params.get("done", "")
    return render(request, "kpis_goal.html", {
        "goal": progress, "chart": chart, "metric": found,
        "notice": "Goal set." if done == "created" else "",
        "target_display": goal_metrics.format_value(found, progress["target"]),
        "percent": round((progress["organisation"]["progress"] or 0) * 100),
    }, nav="kpis")


DONE_NOTICES = {"deleted": "Goal removed."}


def _goal_form(request: Request, viewer: Viewer, *, values: dict[str, Any] | None = None,
               error: str = "", status: int = 200) -> Response:
    today = utcnow().date()
    quarter = (today.month - 1) // 3
    start = today.replace(month=3 * quarter + 1, day=1)
    end = (start.replace(year=start.year + 1, month=1) if quarter == 3
           else start.replace(month=start.month + 3))
    return render(request, "kpis_goal_form.html", {
        "metrics": list(goal_metrics.METRICS.values()),
        "form": values or {"period_start": start.isoformat(), "period_end": end.isoformat()},
        "error": error,
    }, status=status, nav="kpis")


def _day(value: str, field: str) -> datetime:
    """A date from the form (midnight UTC) or a full time."""
    value = value.strip()
    if not value:
        raise ValidationError(f"{field}: is required", field=field)
    return parse_timestamp(f"{value}T00:00:00Z" if len(value) == 10 else value, field=field)


@router.post("/kpis/goals")
def goal_create(request: Request, form: Form) -> Response:
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            require_admin(viewer, "set shared goals")
            target = form_text(form, "target")
            try:
                number = float(target)
            except ValueError as exc:
                raise ValidationError("target: expected a number", field="target") from exc
            data = goals.GoalCreate(
                name=form_text(form, "name"), metric=form_text(form, "metric"),
                comparator=form_text(form, "comparator") or None,
                target=number, description=form_text(form, "description"),
                period_start=_day(form_text(form, "period_start"), "period_start"),
                period_end=_day(form_text(form, "period_end"), "period_end"))
            goal_id = goals.create_goal(session, viewer.actor, data).id
    except (StewardError, PydanticError) as exc:
        message, status = problem(exc)
        with db.read_session() as session:
            viewer = require_viewer(request, session)
            return _goal_form(request, viewer, values=form_values(form), error=message,
                              status=status)
    return RedirectResponse(f"/kpis/goals/{goal_id}?done=created", status_code=303)


@router.post("/kpis/goals/{goal_id}/delete")
def goal_delete(request: Request, goal_id: str, form: Form) -> Response:
    record_id(goal_id, "goal")
    with database(request).session() as session:
        viewer = require_viewer(request, session)
        check_csrf(viewer, form)
        require_admin(viewer, "remove shared goals")
        goals.delete_goal(session, viewer.actor, int(goal_id))
    return RedirectResponse("/kpis?done=deleted", status_code=303)
