"""On-call load per team, in SQL: pages per on-call shift, pages out of hours, time to
acknowledge by escalation level. Per team only: no figure names a person.

- A *page* is one person paged by one escalation step (``escalation_pages``), counted
  for the team whose policy paged them, in the window (by the time it was sent).
- *Shifts*: each of the team's schedules hands off every ``handoff_interval_hours`` of
  its shortest rotation layer; the window holds (window hours / that interval) shifts
  of each schedule, summed over the team's schedules. Pages per shift = pages / shifts.
- *Out of hours*: paged outside 08:00-18:00, Monday to Friday, in the time zone of the
  schedule that made the person on call (the team's first schedule's for a person named
  in the policy or assigned by hand; UTC for a team without schedules). Decided when
  the page is sent (``oncall.escalation.out_of_hours``), so the count never depends on
  the database's time zone support.
- *Time to acknowledge by level*: for escalations started in the window whose incident
  was acknowledged, the minutes from the first page to the acknowledgement, grouped by
  the level the escalation had reached (median, p90); escalations that ran out are
  counted apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, func, literal, select
from sqlalchemy.orm import Session

from steward.catalog.models import Team
from steward.incidents.models import Incident
from steward.kpis import sql
from steward.kpis.sql import Window
from steward.oncall import escalation as esc
from steward.oncall.escalation_models import EscalationPage, IncidentEscalation
from steward.oncall.models import Schedule, ScheduleLayer


def oncall_kpis(session: Session, *, team: str | None = None, days: int = 28,
                end: datetime | None = None) -> dict[str, Any]:
    """One row per team (every team, or the one named), over ``days`` before ``end``."""
    win = sql.window(days, end)
    scope = sql.scope(session, team, None)
    teams = select(Team.id, Team.name).order_by(Team.name)
    if scope.team_id is not None:
        teams = teams.where(Team.id == scope.team_id)
    pages = _pages(session, win, scope.team_id)
    shifts = _shifts(session, win, scope.team_id)
    acks = _acknowledgements(session, win, scope.team_id)
    ran_out = _ran_out(session, win, scope.team_id)
    rows = []
    for team_id, name in session.execute(teams):
        total, high, out_of_hours = pages.get(team_id, (0, 0, 0))
        team_shifts = shifts.get(team_id)
        rows.append({
            "team": name,
            "pages": total,
            "high_urgency_pages": high,
            "out_of_hours_pages": out_of_hours,
            "out_of_hours_share": round(out_of_hours / total, 4) if total else None,
            "shifts": round(team_shifts, 2) if team_shifts else None,
            "pages_per_shift": round(total / team_shifts, 2) if team_shifts else None,
            "time_to_acknowledge_minutes": acks.get(team_id, []),
            "escalations_ran_out": ran_out.get(team_id, 0),
        })
    return {"scope": {"team": scope.team, "service": None}, "window": win.out(),
            "business_hours": {"start": f"{esc.DAY_START_HOUR:02d}:00",
                               "end": f"{esc.DAY_END_HOUR:02d}:00", "weekdays": "mon-fri"},
            "teams": rows}


def _pages(session: Session, win: Window, team_id: int | None
           ) -> dict[int, tuple[int, int, int]]:
    P = EscalationPage
    query = (select(P.team_id, func.count(),
                    func.sum(case((P.urgency == esc.HIGH, 1), else_=0)),
                    func.sum(case((P.out_of_hours.is_(True), 1), else_=0)))
             .where(P.paged_at >= win.start, P.paged_at < win.end, P.team_id.is_not(None))
             .group_by(P.team_id))
    if team_id is not None:
        query = query.where(P.team_id == team_id)
    return {int(row[0]): (int(row[1]), int(row[2] or 0), int(row[3] or 0))
            for row in session.execute(query)}


def _shifts(session: Session, win: Window, team_id: int | None) -> dict[int, float]:
    hours = (win.end - win.start).total_seconds() / 3600
    per_schedule = (select(Schedule.team_id.label("team_id"),
                           func.min(ScheduleLayer.handoff_interval_hours).label("interval"))
                    .join(ScheduleLayer, ScheduleLayer.schedule_id == Schedule.id)
                    .group_by(Schedule.id, Schedule.team_id))
    if team_id is not None:
        per_schedule = per_schedule.where(Schedule.team_id == team_id)
    sub = per_schedule.subquery()
    query = (select(sub.c.team_id, func.sum(literal(hours) / cast(sub.c.interval, Float)))
             .group_by(sub.c.team_id))
    return {int(row[0]): float(row[1]) for row in session.execute(query) if row[1]}


def _acknowledgements(session: Session, win: Window, team_id: int | None
                      ) -> dict[int, list[dict[str, Any]]]:
    E, Inc = IncidentEscalation, Incident
    minutes = (sql.epoch(session, Inc.acknowledged_at)
               - sql.epoch(session, E.started_at)) / 60.0
    source = (select(E.team_id, E.level, minutes.label("v"))
              .join(Inc, Inc.id == E.incident_id)
              .where(E.started_at >= win.start, E.started_at < win.end,
                     E.team_id.is_not(None), Inc.acknowledged_at.is_not(None),
                     Inc.acknowledged_at >= E.started_at))
    if team_id is not None:
        source = source.where(E.team_id == team_id)
    found = sql.percentile_rows(session, source, groups=2)
    out: dict[int, list[dict[str, Any]]] = {}
    for (team, level), figures in sorted(found.items()):
        out.setdefault(team, []).append({
            "level": int(level), "acknowledged": int(figures["n"]),
            "median": round(float(figures[0.5]), 2), "p90": round(float(figures[0.9]), 2)})
    return out


def _ran_out(session: Session, win: Window, team_id: int | None) -> dict[int, int]:
    E = IncidentEscalation
    query = (select(E.team_id, func.count())
             .where(E.state == esc.RAN_OUT, E.started_at >= win.start,
                    E.started_at < win.end, E.team_id.is_not(None))
             .group_by(E.team_id))
    if team_id is not None:
        query = query.where(E.team_id == team_id)
    return {int(team or 0): int(count) for team, count in session.execute(query)}
