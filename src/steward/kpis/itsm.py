"""ITSM KPIs over incidents opened in a window, and over the window's changes.

Incidents: MTTA (start to first acknowledgement), MTTR (start to resolved),
SLA compliance, reopen rate, counts by priority and status. SLA compliance
takes ``made_sla`` where it is recorded (imported history); for Steward's own
incidents it is worked out from the SLA targets, as the incident page does: met
when the incident was acknowledged (or, never acknowledged, resolved) within
its response target and resolved within its resolution target; an incident still
open at the window's end counts as missed once its resolution target has
passed, and is left out until then.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from steward.catalog.models import Service, Team
from steward.changes.models import Change, ChangeService, Deployment
from steward.changes.queries import OUTCOME_POINTS
from steward.incidents import settings
from steward.incidents.models import Incident, IncidentService
from steward.incidents.priority import PRIORITIES
from steward.kpis import sql, stats
from steward.kpis.sql import GroupBy, Scope, Window
from steward.problems.models import Problem
from steward.timeutil import isoformat_z

SUCCESSFUL = ("successful", "successful_with_issues")


def itsm_kpis(session: Session, *, team: str | None = None, service: str | None = None,
              days: int = 90, end: datetime | None = None) -> dict[str, Any]:
    """PRODUCT.md's ITSM answer for one scope."""
    win = sql.window(days, end)
    scope = sql.scope(session, team, service)
    query = _Query(session, win, scope, group_by=None)
    out: dict[str, Any] = {"scope": scope.out(), "window": win.out()}
    out.update(query.incidents().get((), _incidents_empty()))
    out["changes"] = query.changes().get((), _changes_empty())
    out["problems"] = query.problems().get((), {"backlog": 0, "median_age_days": None})
    return out


def itsm_table(session: Session, *, group_by: GroupBy, days: int = 90,
               end: datetime | None = None) -> list[dict[str, Any]]:
    """One ITSM row per team (owning team) or per service (affected service)."""
    group_by = sql.group_by_of(group_by)
    win = sql.window(days, end)
    query = _Query(session, win, Scope(), group_by=group_by)
    incidents, changes, problems = query.incidents(), query.changes(), query.problems()
    model = Team if group_by == "team" else Service
    out = []
    for key, name in session.execute(select(model.id, model.name).order_by(model.name)):
        row: dict[str, Any] = {group_by: name, "window": win.out()}
        row.update(incidents.get((key,), _incidents_empty()))
        row["changes"] = changes.get((key,), _changes_empty())
        row["problems"] = problems.get((key,), {"backlog": 0, "median_age_days": None})
        out.append(row)
    return out


def weekly_mttr(session: Session, *, team: str | None = None, weeks: int,
                end: datetime | None = None) -> list[dict[str, Any]]:
    """Median MTTR of the incidents opened in each week before ``end``, oldest first.

    The ITSM definition (start to resolved, over incidents opened in the
    period), one grouped query for all the weeks.
    """
    win = sql.window(max(weeks, 1) * 7, end)
    scope = sql.scope(session, team, None)
    seconds = (sql.epoch(session, Incident.resolved_at)
               - sql.epoch(session, Incident.started_at))
    query = select(sql.week_index(session, Incident.started_at, win).label("w"),
                   seconds.label("v")).where(
        Incident.started_at >= win.start, Incident.started_at < win.end,
        Incident.resolved_at.is_not(None), seconds >= 0)
    if scope.team_id is not None:
        query = query.where(Incident.owner_team_id == scope.team_id)
    found = sql.percentile_rows(session, query, 1, ps=(0.5,))
    series = []
    for w in reversed(range(weeks)):
        entry = found.get((w,))
        series.append({"week_start": isoformat_z(win.end - timedelta(days=7 * (w + 1))),
                       "mttr_hours_median": stats.hours(entry[0.5]) if entry else None})
    return series


def _incidents_empty() -> dict[str, Any]:
    return {"incidents": 0, "mtta_hours": stats.hours_summary(None),
            "mttr_hours": stats.hours_summary(None), "sla_compliance": None,
            "reopen_rate": None, "by_priority": {}, "by_status": {}}


def _changes_empty() -> dict[str, Any]:
    return {"total": 0, "closed": 0, "success_rate": None, "score": 0,
            "auto_approval_rate": None, "approval_wait_hours": stats.hours_summary(None),
            "emergency_share": None, "unauthorised": 0}


class _Query:
    def __init__(self, session: Session, win: Window, scope: Scope,
                 group_by: GroupBy | None):
        self.session, self.win, self.scope, self.group_by = session, win, scope, group_by

    def _seconds(self, later: Any, earlier: Any) -> Any:
        return sql.epoch(self.session, later) - sql.epoch(self.session, earlier)

    # -- incidents -----------------------------------------------------------
    def _opened(self, *cols: Any) -> Select[*tuple[Any, ...]]:
        """Incidents opened in the window, with a group column ``g`` when grouped."""
        window = and_(Incident.started_at >= self.win.start, Incident.started_at < self.win.end)
        query: Select[*tuple[Any, ...]]
        if self.group_by == "service" or self.scope.service_id is not None:
            query = (select(*([IncidentService.service_id.label("g")]
                              if self.group_by else []), *cols)
                     .select_from(Incident)
                     .join(IncidentService, IncidentService.incident_id == Incident.id)
                     .where(window))
            if self.scope.service_id is not None:
                query = query.where(IncidentService.service_id == self.scope.service_id)
            return query
        query = (select(*([Incident.owner_team_id.label("g")] if self.group_by else []), *cols)
                 .select_from(Incident).where(window))
        if self.scope.team_id is not None:
            query = query.where(Incident.owner_team_id == self.scope.team_id)
        return query

    def _made_sla(self) -> Any:
        targets = settings.sla_targets()
        respond = case(*[(Incident.priority == p, targets.respond[p].total_seconds())
                         for p in PRIORITIES], else_=None)
        resolve = case(*[(Incident.priority == p, targets.resolve[p].total_seconds())
                         for p in PRIORITIES], else_=None)
        first_response = func.coalesce(Incident.acknowledged_at, Incident.resolved_at)
        resolved_in_time = self._seconds(Incident.resolved_at, Incident.started_at) <= resolve
        responded_in_time = self._seconds(first_response, Incident.started_at) <= respond
        overdue = literal(self.win.end_epoch) - sql.epoch(self.session, Incident.started_at) \
            > resolve
        computed = case(
            (Incident.resolved_at.is_not(None),
             case((and_(resolved_in_time, responded_in_time), 1), else_=0)),
            (overdue, 0), else_=None)
        return case((Incident.made_sla.is_(None), computed),
                    (Incident.made_sla.is_(True), 1), else_=0)

    def incidents(self) -> dict[tuple[Any, ...], dict[str, Any]]:
        g = 1 if self.group_by else 0
        base = self._opened(Incident.id.label("id"), Incident.priority.label("priority"),
                            Incident.status.label("status"),
                            self._made_sla().label("made"),
                            case((Incident.reopen_count > 0, 1), else_=0).label("reopened")
                            ).subquery()
        keys = [base.c.g] if g else []
        counts: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in self.session.execute(
                select(*keys, base.c.priority, base.c.status, func.count(),
                       func.sum(base.c.made), func.count(base.c.made), func.sum(base.c.reopened))
                .group_by(*keys, base.c.priority, base.c.status)):
            key, (prio, status, n, made, known, reopened) = tuple(row[:g]), row[g:]
            entry = counts.setdefault(key, {"n": 0, "made": 0, "known": 0, "reopened": 0,
                                            "prio": {}, "status": {}})
            p = entry["prio"].setdefault(prio, {"n": 0, "made": 0, "known": 0})
            for target in (entry, p):
                target["n"] += int(n)
                target["made"] += int(made or 0)
                target["known"] += int(known or 0)
            entry["reopened"] += int(reopened or 0)
            entry["status"][status] = entry["status"].get(status, 0) + int(n)
        ack = self._durations(Incident.acknowledged_at)
        res = self._durations(Incident.resolved_at)
        ack_p = self._durations(Incident.acknowledged_at, by_priority=True)
        res_p = self._durations(Incident.resolved_at, by_priority=True)
        out = {}
        for key, entry in counts.items():
            by_priority = {}
            for prio in sorted(entry["prio"]):
                p = entry["prio"][prio]
                by_priority[prio] = {
                    "incidents": p["n"],
                    "mtta_hours": stats.hours_summary(ack_p.get((*key, prio))),
                    "mttr_hours": stats.hours_summary(res_p.get((*key, prio))),
                    "sla_compliance": stats.ratio(p["made"], p["known"])}
            out[key] = {"incidents": entry["n"],
                        "mtta_hours": stats.hours_summary(ack.get(key)),
                        "mttr_hours": stats.hours_summary(res.get(key)),
                        "sla_compliance": stats.ratio(entry["made"], entry["known"]),
                        "reopen_rate": stats.ratio(entry["reopened"], entry["n"]),
                        "by_priority": by_priority,
                        "by_status": dict(sorted(entry["status"].items()))}
        return out

    def _durations(self, column: Any, by_priority: bool = False) -> dict[tuple, dict]:
        cols = [Incident.priority.label("p")] if by_priority else []
        seconds = self._seconds(column, Incident.started_at)
        query = self._opened(*cols, seconds.label("v")).where(column.is_not(None), seconds >= 0)
        groups = (1 if self.group_by else 0) + len(cols)
        return sql.percentile_rows(self.session, query, groups)

    # -- changes ---------------------------------------------------------------
    def _changes(self, *cols: Any) -> Select[*tuple[Any, ...]]:
        window = and_(Change.created_at >= self.win.start, Change.created_at < self.win.end)
        query: Select[*tuple[Any, ...]]
        if self.group_by == "service" or self.scope.service_id is not None:
            query = (select(*([ChangeService.service_id.label("g")] if self.group_by else []),
                            *cols).select_from(Change)
                     .join(ChangeService, ChangeService.change_id == Change.id).where(window))
            if self.scope.service_id is not None:
                query = query.where(ChangeService.service_id == self.scope.service_id)
            return query
        query = (select(*([Change.owner_team_id.label("g")] if self.group_by else []), *cols)
                 .select_from(Change).where(window))
        if self.scope.team_id is not None:
            query = query.where(Change.owner_team_id == self.scope.team_id)
        return query

    def changes(self) -> dict[tuple[Any, ...], dict[str, Any]]:
        g = 1 if self.group_by else 0
        closed = and_(Change.state == "closed", Change.outcome.is_not(None))
        points = case(*[(Change.outcome == o, p) for o, p in OUTCOME_POINTS.items()], else_=0)
        base = self._changes(
            case((closed, 1), else_=0).label("closed"),
            case((and_(closed, Change.outcome.in_(SUCCESSFUL)), 1), else_=0).label("ok"),
            case((closed, points), else_=0).label("points"),
            case((Change.auto_approved.is_(True), 1), else_=0).label("auto"),
            case((Change.model == "emergency", 1), else_=0).label("emergency")).subquery()
        keys = [base.c.g] if g else []
        wait = sql.percentile_rows(self.session, self._changes(
            self._seconds(Change.authorized_at, Change.created_at).label("v")).where(
            Change.authorized_at.is_not(None), Change.auto_approved.is_(False),
            Change.authorized_at >= Change.created_at), g)
        unauthorised = self._unauthorised()
        out = {}
        for row in self.session.execute(
                select(*keys, func.count(), func.sum(base.c.closed), func.sum(base.c.ok),
                       func.sum(base.c.points), func.sum(base.c.auto),
                       func.sum(base.c.emergency)).group_by(*keys)):
            key = tuple(row[:g])
            total, n_closed, ok, score, auto, emergency = (int(x or 0) for x in row[g:])
            out[key] = {"total": total, "closed": n_closed,
                        "success_rate": stats.ratio(ok, n_closed), "score": score,
                        "auto_approval_rate": stats.ratio(auto, total),
                        "approval_wait_hours": stats.hours_summary(wait.get(key)),
                        "emergency_share": stats.ratio(emergency, total),
                        "unauthorised": unauthorised.pop(key, 0)}
        for key, count in unauthorised.items():
            out[key] = {**_changes_empty(), "unauthorised": count}
        return out

    def _unauthorised(self) -> dict[tuple[Any, ...], int]:
        envs = sql.production_names(self.session)
        columns: dict[str, list[Any]] = {"team": [Service.owner_team_id],
                                          "service": [Deployment.service_id]}
        group = columns.get(self.group_by or "", [])
        query = (select(*group, func.count()).select_from(Deployment)
                 .join(Service, Service.id == Deployment.service_id)
                 .where(Deployment.environment.in_(envs),
                        Deployment.finished_at >= self.win.start,
                        Deployment.finished_at < self.win.end,
                        Deployment.unauthorised.is_(True))
                 .group_by(*group))
        if self.scope.team_id is not None:
            query = query.where(Service.owner_team_id == self.scope.team_id)
        if self.scope.service_id is not None:
            query = query.where(Deployment.service_id == self.scope.service_id)
        return {tuple(row[:-1]): int(row[-1]) for row in self.session.execute(query)}

    # -- problems ----------------------------------------------------------------
    def problems(self) -> dict[tuple[Any, ...], dict[str, Any]]:
        """Problems open at the window's end: how many, and their median age."""
        still_open = and_(Problem.created_at < self.win.end,
                          or_(Problem.status.in_(("open", "known_error")),
                              Problem.resolved_at >= self.win.end))
        age = literal(self.win.end_epoch) - sql.epoch(self.session, Problem.created_at)
        query: Select[*tuple[Any, ...]]
        if self.group_by == "service" or self.scope.service_id is not None:
            linked = (select(IncidentService.service_id).select_from(Incident)
                      .join(IncidentService, IncidentService.incident_id == Incident.id)
                      .where(Incident.problem_id == Problem.id))
            if self.scope.service_id is not None:
                query = select(age.label("v")).where(
                    still_open, exists(linked.where(
                        IncidentService.service_id == self.scope.service_id)))
            else:
                pairs = (select(IncidentService.service_id.label("g"),
                                Problem.id.label("id"), age.label("v"))
                         .select_from(Problem)
                         .join(Incident, Incident.problem_id == Problem.id)
                         .join(IncidentService, IncidentService.incident_id == Incident.id)
                         .where(still_open).distinct().subquery())
                query = select(pairs.c.g, pairs.c.v)
        else:
            query = select(*([Problem.owner_team_id.label("g")] if self.group_by else []),
                           age.label("v")).where(still_open)
            if self.scope.team_id is not None:
                query = query.where(Problem.owner_team_id == self.scope.team_id)
        found = sql.percentile_rows(self.session, query, 1 if self.group_by else 0, ps=(0.5,))
        return {key: {"backlog": entry["n"],
                      "median_age_days": round(entry[0.5] / 86400, 2)}
                for key, entry in found.items()}
