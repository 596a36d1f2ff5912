"""Shared goals: an organisation objective on a KPI, and every team's progress toward it.

A goal says, for example, "change failure rate <= 10 % this quarter". Its
progress is the KPI over the goal's period so far (from ``period_start`` up to
now, or to ``period_end`` once it is over) for the organisation and for every
team, whether each meets the target, and the value week by week with its
trend. Only admins set goals; everyone signed in reads them. Never per person.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.errors import Conflict, NotFound, ValidationError
from steward.goals import metrics as goal_metrics
from steward.goals.metrics import METRICS, GoalMetric
from steward.goals.models import Goal
from steward.inputs import CLEAN, RequiredLabel
from steward.kpis import export
from steward.kpis.dora_queries import dora_kpis, dora_table
from steward.kpis.itsm import itsm_kpis, itsm_table
from steward.timeutil import isoformat_z, parse_timestamp, utcnow

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
MAX_PERIOD_DAYS = 3660
MAX_TREND_WEEKS = 53  # a goal's weekly series: its most recent weeks, a year at most

Name: TypeAlias = RequiredLabel
Description = Annotated[str, StringConstraints(max_length=5000), CLEAN]
Metric = Annotated[str, StringConstraints(max_length=60), CLEAN]


def _time(value: object, info: object) -> datetime | None:
    if value is None:
        return None
    return parse_timestamp(value, field=getattr(info, "field_name", "time") or "time")


class GoalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description = ""
    metric: Metric = Field(description="one of GET /api/v1/goals/metrics")
    comparator: Literal["<=", ">="] | None = Field(
        default=None, description="defaults to the metric's better direction")
    target: float
    period_start: datetime
    period_end: datetime

    _times = field_validator("period_start", "period_end", mode="before")(_time)


class GoalUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    metric: Metric | None = None
    comparator: Literal["<=", ">="] | None = None
    target: float | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None

    _times = field_validator("period_start", "period_end", mode="before")(_time)


def metric_of(key: str) -> GoalMetric:
    found = METRICS.get(key)
    if found is None:
        raise ValidationError(f"metric: unknown metric {key!r}; expected one of "
                              f"{', '.join(METRICS)}", field="metric")
    return found


def snapshot(goal: Goal) -> dict[str, Any]:
    return {"id": goal.id, "name": goal.name, "description": goal.description,
            "metric": goal.metric, "comparator": goal.comparator, "target": goal.target,
            "period_start": goal.period_start, "period_end": goal.period_end}


def goal_out(goal: Goal) -> dict[str, Any]:
    found = METRICS.get(goal.metric)
    return {"id": goal.id, "name": goal.name, "description": goal.description,
            "metric": goal.metric, "metric_label": found.label if found else goal.metric,
            "unit": found.unit if found else None, "comparator": goal.comparator,
            "target": goal.target, "period_start": isoformat_z(goal.period_start),
            "period_end": isoformat_z(goal.period_end),
            "created_at": isoformat_z(goal.created_at),
            "updated_at": isoformat_z(goal.updated_at)}


def _validate(session: Session, goal: Goal) -> None:
    found = metric_of(goal.metric)
    problem = goal_metrics.check_target(found, goal.comparator, goal.target)
    if problem:
        raise ValidationError(problem, field=problem.split(":", 1)[0])
    if goal.period_end <= goal.period_start:
        raise ValidationError("period_end: must be after period_start", field="period_end")
    if goal.period_end - goal.period_start > timedelta(days=MAX_PERIOD_DAYS):
        raise ValidationError(f"period_end: a goal's period is at most {MAX_PERIOD_DAYS} days",
                              field="period_end")
    clash = session.scalar(select(Goal.id).where(Goal.name == goal.name, Goal.id != goal.id)
                           if goal.id else select(Goal.id).where(Goal.name == goal.name))
    if clash is not None:
        raise Conflict(f"name: a goal named {goal.name!r} already exists", field="name")


def create_goal(session: Session, actor: Actor, data: GoalCreate) -> Goal:
    actor.require_admin("set shared goals")
    found = metric_of(data.metric)
    goal = Goal(name=data.name, description=data.description, metric=data.metric,
                comparator=data.comparator or found.default_comparator,
                target=float(data.target), period_start=data.period_start,
                period_end=data.period_end)
    _validate(session, goal)
    session.add(goal)
    session.flush()
    audit.record(session, actor, "goal.create", "goal", goal.id, after=snapshot(goal))
    return goal


def update_goal(session: Session, actor: Actor, goal_id: int, data: GoalUpdate) -> Goal:
    actor.require_admin("change shared goals")
    goal = get_goal(session, goal_id)
    before = snapshot(goal)
    changes = data.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if value is None and key != "description":
            raise ValidationError(f"{key}: must not be null", field=key)
        if key == "description":
            value = value or ""  # null clears it
        setattr(goal, key, float(value) if key == "target" else value)
    with session.no_autoflush:
        _validate(session, goal)
    session.flush()
    after = snapshot(goal)
    if after != before:
        audit.record(session, actor, "goal.update", "goal", goal.id, before=before, after=after)
    return goal


def delete_goal(session: Session, actor: Actor, goal_id: int) -> None:
    actor.require_admin("remove shared goals")
    goal = get_goal(session, goal_id)
    before = snapshot(goal)
    session.delete(goal)
    session.flush()
    audit.record(session, actor, "goal.delete", "goal", goal_id, before=before)


def get_goal(session: Session, goal_id: int) -> Goal:
    goal = session.get(Goal, goal_id)
    if goal is None:
        raise NotFound(f"goal {goal_id} does not exist", field="id")
    return goal


def list_goals(session: Session) -> list[Goal]:
    return list(session.scalars(select(Goal).order_by(Goal.period_end.desc(), Goal.name)))


# -- progress -------------------------------------------------------------------------

def _kpis(session: Session, found: GoalMetric, *, days: int, end: datetime) -> dict[str, Any]:
    if found.source == "dora":
        return dora_kpis(session, days=days, end=end)
    return itsm_kpis(session, days=days, end=end)


def _table(session: Session, found: GoalMetric, *, days: int,
           end: datetime) -> list[dict[str, Any]]:
    if found.source == "dora":
        return dora_table(session, group_by="team", days=days, end=end)
    return itsm_table(session, group_by="team", days=days, end=end)


def period_so_far(goal: Goal, now: datetime) -> tuple[int, datetime] | None:
    """(days, end) of the KPI window covering the period so far, in whole days from its
    start; None before the period begins."""
    as_of = min(now, goal.period_end)
    if as_of <= goal.period_start:
        return None
    days = max(1, math.ceil((as_of - goal.period_start) / DAY))
    return days, goal.period_start + days * DAY


def week_ends(goal: Goal, now: datetime) -> list[datetime]:
    """The ends of the goal period's whole weeks so far, counted from its start (the most
    recent ``MAX_TREND_WEEKS`` of them)."""
    as_of = min(now, goal.period_end)
    count = int((as_of - goal.period_start) / WEEK) if as_of > goal.period_start else 0
    return [goal.period_start + WEEK * (k + 1)
            for k in range(max(0, count - MAX_TREND_WEEKS), count)]


def goal_progress(session: Session, goal: Goal, *, now: datetime | None = None,
                  weekly: bool = True) -> dict[str, Any]:
    """The goal with the organisation's and every team's value so far, and weekly trends."""
    found = metric_of(goal.metric)
    now = now or utcnow()
    out = goal_out(goal)
    out["metric_info"] = found.out()
    window = period_so_far(goal, now)
    out["status"] = ("upcoming" if window is None else
                     "finished" if now >= goal.period_end else "running")
    if window is None:
        out.update(window=None, organisation={"value": None, "meets": None, "progress": None,
                                              "display": "no data"},
                   teams=[], weeks=[], trend=None)
        return out
    days, end = window
    out["window"] = {"start": isoformat_z(goal.period_start), "end": isoformat_z(end),
                     "days": days}
    org_value = found.read(_kpis(session, found, days=days, end=end))
    out["organisation"] = _judged(found, goal, org_value)
    rows = _table(session, found, days=days, end=end)
    teams = {row["team"]: _judged(found, goal, found.read(row)) for row in rows}
    team_weeks: dict[str, list[float | None]] = {name: [] for name in teams}
    weeks: list[dict[str, Any]] = []
    if weekly:
        for week_end in week_ends(goal, now):
            value = found.read(_kpis(session, found, days=7, end=week_end))
            weeks.append({"week_start": isoformat_z(week_end - WEEK),
                          "value": value, "meets": goal_metrics.meets(
                              value, goal.comparator, goal.target)})
            by_team = {row["team"]: found.read(row)
                       for row in _table(session, found, days=7, end=week_end)}
            for name in team_weeks:
                team_weeks[name].append(by_team.get(name))
    out["weeks"] = weeks
    out["trend"] = goal_metrics.trend([w["value"] for w in weeks], found.better)
    out["teams"] = [
        {"team": name, **judged, "weeks": team_weeks[name] if weekly else [],
         "trend": goal_metrics.trend(team_weeks[name], found.better) if weekly else None}
        for name, judged in sorted(teams.items())]
    met = [t for t in out["teams"] if t["meets"]]
    out["teams_meeting"] = len(met)
    out["teams_with_data"] = sum(1 for t in out["teams"] if t["value"] is not None)
    return out


def _judged(found: GoalMetric, goal: Goal, value: float | None) -> dict[str, Any]:
    return {"value": value,
            "display": goal_metrics.format_value(found, value),
            "meets": goal_metrics.meets(value, goal.comparator, goal.target),
            "progress": goal_metrics.progress_fraction(value, goal.comparator, goal.target)}


def goal_rows(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per goal for the organisation, then one per goal and team."""
    rows = []
    for goal in list_goals(session):
        progress = goal_progress(session, goal, now=now, weekly=False)
        base = {"goal_id": goal.id, "goal": goal.name, "metric": goal.metric,
                "comparator": goal.comparator, "target": goal.target,
                "period_start": progress["period_start"], "period_end": progress["period_end"],
                "status": progress["status"]}
        org = progress["organisation"]
        rows.append({**base, "scope": "organisation", "team": None, "value": org["value"],
                     "meets": org["meets"]})
        for team in progress["teams"]:
            rows.append({**base, "scope": "team", "team": team["team"],
                         "value": team["value"], "meets": team["meets"]})
    return rows


export.register_goal_rows(goal_rows)
