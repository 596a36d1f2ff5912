"""DORA metrics per team, per service and for the organisation, computed in SQL.

The counts and times come from the database; ``kpis.dora`` (pure) turns them
into figures and tiers.

Definitions (PRODUCT.md section 6, and docs/kpis.md for the choices made here):
deployments are production deployments that succeeded (status ``succeeded``,
or ``rolled_back``: they reached production and were undone later), counted
in the window by their finish time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal, select, tuple_
from sqlalchemy.orm import Session

from steward.catalog.models import Service, Team
from steward.changes.models import Deployment, DeploymentCommit
from steward.incidents.models import Incident, IncidentService
from steward.kpis import dora, sql, stats
from steward.kpis.sql import GroupBy, Scope, Window
from steward.timeutil import isoformat_z

SHIPPED = dora.SHIPPED


def dora_kpis(session: Session, *, team: str | None = None, service: str | None = None,
              days: int = 28, end: datetime | None = None) -> dict[str, Any]:
    """PRODUCT.md's DORA answer for one scope, with its weekly series."""
    win = sql.window(days, end)
    scope = sql.scope(session, team, service)
    query = _Query(session, win, scope, group_by=None)
    row = query.rows().get((), dora.empty(win.days, win.weeks))
    out: dict[str, Any] = {"scope": scope.out(), "window": win.out()}
    out.update(row)
    out["weekly"] = query.weekly()
    return out


def dora_table(session: Session, *, group_by: GroupBy, days: int = 28,
               end: datetime | None = None) -> list[dict[str, Any]]:
    """One DORA row per team (by owning team of the service) or per service."""
    group_by = sql.group_by_of(group_by)
    win = sql.window(days, end)
    query = _Query(session, win, Scope(), group_by=group_by)
    rows = query.rows()
    names = _names(session, group_by)
    out = []
    for key, name in sorted(names.items(), key=lambda item: item[1]):
        entry: dict[str, Any] = {group_by: name, "window": win.out()}
        entry.update(rows.get((key,), dora.empty(win.days, win.weeks)))
        out.append(entry)
    return out


def _names(session: Session, group_by: GroupBy) -> dict[int, str]:
    model = Team if group_by == "team" else Service
    return {row[0]: row[1] for row in session.execute(select(model.id, model.name))}


class _Query:
    """The SQL for one window and scope, optionally grouped by team or service."""

    def __init__(self, session: Session, win: Window, scope: Scope,
                 group_by: GroupBy | None):
        self.session, self.win, self.scope = session, win, scope
        self.group_by = group_by
        self.environments = sql.production_names(session)
        # What ``rows`` found for the organisation that ``weekly`` needs again.
        self._org_weeks: dict[tuple[Any, ...], tuple] | None = None
        self._weekly_lead: dict[tuple, dict] | None = None

    # -- the deployments of the window --------------------------------------
    def _group_cols(self, service_col: Any, team_col: Any) -> list[Any]:
        if self.group_by == "team":
            return [team_col.label("g")]
        if self.group_by == "service":
            return [service_col.label("g")]
        return []

    def _shipped(self) -> Select[Any]:
        failed = case((Deployment.status == "rolled_back", 1),
                      (exists().where(Incident.caused_by_deployment_id == Deployment.id), 1),
                      else_=0)
        query = (select(*self._group_cols(Deployment.service_id, Service.owner_team_id),
                        Deployment.id.label("id"), Deployment.service_id.label("service_id"),
                        Deployment.finished_at.label("finished_at"),
                        failed.label("failed"),
                        case((Deployment.fixes_incident_id.is_not(None), 1),
                             else_=0).label("rework"))
                 .join(Service, Service.id == Deployment.service_id)
                 .where(Deployment.environment.in_(self.environments),
                        Deployment.status.in_(SHIPPED),
                        Deployment.finished_at >= self.win.start,
                        Deployment.finished_at < self.win.end))
        return self._scoped(query, Deployment.service_id, Service.owner_team_id)

    def _scoped(self, query: Select[Any], service_col: Any, team_col: Any) -> Select[Any]:
        if self.scope.team_id is not None:
            query = query.where(team_col == self.scope.team_id)
        if self.scope.service_id is not None:
            query = query.where(service_col == self.scope.service_id)
        return query

    def _keys(self, sub: Any) -> list[Any]:
        return [sub.c.g] if self.group_by else []

    # -- metrics -------------------------------------------------------------
    def rows(self) -> dict[tuple[Any, ...], dict[str, Any]]:
        shipped = self._shipped().subquery()
        keys = self._keys(shipped)
        totals = {tuple(r[:len(keys)]): r[len(keys):] for r in self.session.execute(
            select(*keys, func.count(), func.sum(shipped.c.failed), func.sum(shipped.c.rework),
                   func.count(sql.utc_day(self.session, shipped.c.finished_at).distinct()))
            .group_by(*keys))}
        weekly = self._weekly_counts(shipped, keys)
        if not keys:
            self._org_weeks = weekly
        if not keys and sql.dialect(self.session) == "postgresql":
            lead, self._weekly_lead = self._lead_with_weeks()
        else:
            lead = sql.percentile_rows(self.session, self._lead_pairs(), len(keys))
        recovery = sql.percentile_rows(self.session, self._recoveries(), len(keys), ps=(0.5,))
        mttr = sql.percentile_rows(self.session, self._resolutions(), len(keys))
        out = {}
        for key in set(totals) | set(lead) | set(recovery) | set(mttr):
            count, failed, rework, days = totals.get(key, (0, 0, 0, 0))
            per_week = [weekly.get((*key, w), (0, 0, 0))[0] for w in range(self.win.weeks)]
            out[key] = dora.assemble(win_days=self.win.days, count=int(count or 0),
                                     failed=int(failed or 0), rework=int(rework or 0),
                                     deploy_days=int(days or 0), weekly_days=per_week,
                                     lead=lead.get(key), recovery=recovery.get(key),
                                     mttr=mttr.get(key))
        return out

    def _weekly_counts(self, shipped: Any, keys: list[Any]) -> dict[tuple[Any, ...], tuple]:
        week = sql.week_index(self.session, shipped.c.finished_at, self.win).label("w")
        day = sql.utc_day(self.session, shipped.c.finished_at)
        inner = select(*keys, week, day.label("day"), shipped.c.failed).subquery()
        ikeys = [inner.c.g] if self.group_by else []
        rows = self.session.execute(
            select(*ikeys, inner.c.w, func.count(inner.c.day.distinct()), func.count(),
                   func.sum(inner.c.failed))
            .where(inner.c.w < self.win.weeks).group_by(*ikeys, inner.c.w))
        return {tuple(r[:len(ikeys) + 1]): tuple(int(x or 0) for x in r[len(ikeys) + 1:])
                for r in rows}

    def _lead_pairs(self, weekly: bool = False) -> Select[Any]:
        """(group, [week,] seconds from each commit a deployment names to its finish)."""
        seconds = (sql.epoch(self.session, Deployment.finished_at)
                   - sql.epoch(self.session, DeploymentCommit.committed_at))
        cols = self._group_cols(Deployment.service_id, Service.owner_team_id)
        if weekly:
            cols.append(sql.week_index(self.session, Deployment.finished_at, self.win).label("w"))
        query = (select(*cols, seconds.label("v")).select_from(DeploymentCommit)
                 .join(Deployment, Deployment.id == DeploymentCommit.deployment_id)
                 .join(Service, Service.id == Deployment.service_id)
                 .where(Deployment.environment.in_(self.environments),
                        Deployment.status.in_(SHIPPED),
                        Deployment.finished_at >= self.win.start,
                        Deployment.finished_at < self.win.end,
                        DeploymentCommit.committed_at.is_not(None),
                        seconds > 0))
        return self._scoped(query, Deployment.service_id, Service.owner_team_id)

    def _lead_with_weeks(self) -> tuple[dict[tuple, dict], dict[tuple, dict]]:
        """PostgreSQL: the window's and each week's lead times in one pass (grouping sets)."""
        pairs = self._lead_pairs(weekly=True).subquery()
        ps = (0.5, 0.9)
        rows = self.session.execute(
            select(pairs.c.w, func.grouping(pairs.c.w), func.count(), func.avg(pairs.c.v),
                   *[func.percentile_cont(p).within_group(pairs.c.v) for p in ps])
            .group_by(func.grouping_sets(tuple_(pairs.c.w), tuple_())))
        overall: dict[tuple, dict] = {}
        weeks: dict[tuple, dict] = {}
        for w, whole, n, mean, *values in rows:
            if not n:
                continue
            found: dict[str | float, Any] = {
                "n": int(n), "mean": float(mean),
                **{p: float(v) for p, v in zip(ps, values, strict=True)}}
            if whole:
                overall[()] = found
            elif w < self.win.weeks:
                weeks[(w,)] = found
        return overall, weeks

    def _recoveries(self) -> Select[Any]:
        """Incidents caused by a deployment in scope and resolved in the window."""
        seconds = (sql.epoch(self.session, Incident.resolved_at)
                   - sql.epoch(self.session, Incident.started_at))
        query = (select(*self._group_cols(Deployment.service_id, Service.owner_team_id),
                        seconds.label("v")).select_from(Incident)
                 .join(Deployment, Deployment.id == Incident.caused_by_deployment_id)
                 .join(Service, Service.id == Deployment.service_id)
                 .where(Incident.resolved_at >= self.win.start,
                        Incident.resolved_at < self.win.end))
        return self._scoped(query, Deployment.service_id, Service.owner_team_id)

    def _resolutions(self) -> Select[Any]:
        """Every incident resolved in the window (MTTR), by owning team or service."""
        seconds = (sql.epoch(self.session, Incident.resolved_at)
                   - sql.epoch(self.session, Incident.started_at))
        window = and_(Incident.resolved_at >= self.win.start,
                      Incident.resolved_at < self.win.end)
        if self.group_by == "service" or self.scope.service_id is not None:
            query = (select(*self._group_cols(IncidentService.service_id, literal(None)),
                            seconds.label("v")).select_from(Incident)
                     .join(IncidentService, IncidentService.incident_id == Incident.id)
                     .where(window))
            if self.scope.service_id is not None:
                query = query.where(IncidentService.service_id == self.scope.service_id)
            return query
        query = select(*self._group_cols(literal(None), Incident.owner_team_id),
                       seconds.label("v")).select_from(Incident).where(window)
        if self.scope.team_id is not None:
            query = query.where(Incident.owner_team_id == self.scope.team_id)
        return query

    # -- weekly series ---------------------------------------------------------
    def weekly(self) -> list[dict[str, Any]]:
        counts = self._org_weeks
        if counts is None:
            counts = self._weekly_counts(self._shipped().subquery(), [])
        lead = self._weekly_lead
        if lead is None:
            lead = sql.percentile_rows(self.session, self._lead_pairs(weekly=True), 1,
                                       ps=(0.5,))
        series = []
        for w in reversed(range(self.win.weeks)):
            days, count, failed = counts.get((w,), (0, 0, 0))
            start = self.win.end - timedelta(days=7 * (w + 1))
            found = lead.get((w,))
            series.append({"week_start": isoformat_z(start), "deployments": count,
                           "deploy_days": days,
                           "lead_time_hours_median": stats.hours(found[0.5]) if found else None,
                           "change_failure_rate": stats.ratio(failed, count),
                           "failed_deployments": failed})
        return series
