"""KPIs as Prometheus metrics: a collector that reads the current KPIs on a scrape.

Every KPI family has one series per team (label ``team``), one per service
(label ``service``) and one for the organisation (no label), never one per
person. DORA figures cover the last ``dora_days`` (28), incident figures the
last ``itsm_days`` (90); ``steward_kpi_window_days`` says which. A metric
without data (a median of nothing) is left out rather than reported as 0.

The answer is kept for ``ttl`` seconds (30), so frequent scrapes, or many
Prometheus servers, cost one computation per interval. Only the first scrape
waits for it: a scrape after that gets the answer at hand while a newer one is
computed in the background (over a large history the KPIs take seconds), and
``steward_kpi_age_seconds`` says how old the answer is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.catalog.models import Team
from steward.db import Database
from steward.incidents.models import OPEN_STATES, Incident
from steward.incidents.priority import PRIORITIES
from steward.kpis.dora_queries import dora_kpis, dora_table
from steward.kpis.itsm import itsm_kpis, itsm_table

log = logging.getLogger("steward.metrics")

Row = Mapping[str, Any]
Scoped = list[tuple[dict[str, str], Row]]  # (labels, KPI answer or table row)

QUANTILES = (("0.5", "median"), ("0.9", "p90"))
TIER_METRICS = (("deployment_frequency", ("deployment_frequency", "tier")),
                ("lead_time", ("lead_time_hours", "tier")),
                ("change_failure_rate", ("change_failure_rate", "tier")),
                ("recovery_time", ("recovery_time_hours", "tier")),
                ("overall", ("tier",)))


def _get(row: Row, path: Iterable[str]) -> Any:
    value: Any = row
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class _Families:
    """Builds gauge families from scoped rows, skipping values that are missing."""

    def __init__(self) -> None:
        self.out: list[Metric] = []

    def gauge(self, name: str, documentation: str, scoped: Scoped,
              path: tuple[str, ...], *, extra: dict[str, str] | None = None) -> None:
        family = self._family(name, documentation)
        for labels, row in scoped:
            value = _number(_get(row, path))
            if value is not None:
                self._add(family, {**labels, **(extra or {})}, value)

    def quantiles(self, name: str, documentation: str, scoped: Scoped, key: str) -> None:
        family = self._family(name, documentation)
        for labels, row in scoped:
            for quantile, field in QUANTILES:
                value = _number(_get(row, (key, field)))
                if value is not None:
                    self._add(family, {**labels, "quantile": quantile}, value)

    def _family(self, name: str, documentation: str) -> GaugeMetricFamily:
        found = next((f for f in self.out
                      if isinstance(f, GaugeMetricFamily) and f.name == name), None)
        if found is None:
            found = GaugeMetricFamily(name, documentation)
            self.out.append(found)
        return found

    @staticmethod
    def _add(family: GaugeMetricFamily, labels: dict[str, str], value: float) -> None:
        from prometheus_client.samples import Sample

        family.samples.append(Sample(family.name, labels, value, None, None))


def _scoped(org: Row, teams: list[dict[str, Any]], services: list[dict[str, Any]]) -> Scoped:
    scoped: Scoped = [({}, org)]
    scoped += [({"team": str(r["team"])}, r) for r in teams]
    scoped += [({"service": str(r["service"])}, r) for r in services]
    return scoped


def build_families(session: Session, *, dora_days: int = 28,
                   itsm_days: int = 90) -> list[Metric]:
    """The metric families from the current KPIs (one computation)."""

    dora = _scoped(dora_kpis(session, days=dora_days),
                   dora_table(session, group_by="team", days=dora_days),
                   dora_table(session, group_by="service", days=dora_days))
    itsm = _scoped(itsm_kpis(session, days=itsm_days),
                   itsm_table(session, group_by="team", days=itsm_days),
                   itsm_table(session, group_by="service", days=itsm_days))
    f = _Families()
    window = GaugeMetricFamily("steward_kpi_window_days",
                               "Length of the window the KPI metrics cover, in days",
                               labels=["kpi"])
    window.add_metric(["dora"], dora_days)
    window.add_metric(["itsm"], itsm_days)
    f.out.append(window)
    f.gauge("steward_deployments",
            f"Successful production deployments in the last {dora_days} days", dora,
            ("deployments",))
    f.gauge("steward_deployment_frequency_per_day",
            f"Production deployments per day over the last {dora_days} days", dora,
            ("deployment_frequency", "per_day"))
    f.gauge("steward_deploy_days_per_week",
            "Median over the window's weeks of the distinct UTC days with a deployment", dora,
            ("deployment_frequency", "deploy_days_per_week"))
    f.quantiles("steward_lead_time_hours",
                "Lead time for changes (deployment finish minus commit time), hours", dora,
                "lead_time_hours")
    f.gauge("steward_change_failure_rate",
            "Share of deployments rolled back or confirmed as causing an incident", dora,
            ("change_failure_rate", "value"))
    f.gauge("steward_failed_deployments",
            "Deployments rolled back or confirmed as causing an incident", dora,
            ("change_failure_rate", "failed_deployments"))
    f.gauge("steward_recovery_time_hours",
            "Failed deployment recovery time (median), hours", dora,
            ("recovery_time_hours", "median"), extra={"quantile": "0.5"})
    f.gauge("steward_rework_rate", "Share of deployments that fixed an incident", dora,
            ("rework_rate", "value"))
    f.gauge("steward_incidents",
            f"Incidents opened in the last {itsm_days} days", itsm, ("incidents",))
    f.quantiles("steward_mttr_hours", "Time from an incident's start to resolved, hours",
                itsm, "mttr_hours")
    f.quantiles("steward_mtta_hours",
                "Time from an incident's start to its first acknowledgement, hours",
                itsm, "mtta_hours")
    f.gauge("steward_sla_compliance", "Share of incidents that met their SLA", itsm,
            ("sla_compliance",))
    f.gauge("steward_reopen_rate", "Share of incidents reopened", itsm, ("reopen_rate",))
    f.gauge("steward_change_success_rate", "Share of closed changes that succeeded", itsm,
            ("changes", "success_rate"))
    tiers = GaugeMetricFamily(
        "steward_dora_tier", "DORA 2023 performance tier per metric (value 1; the tier "
        "is the label)")
    for labels, row in dora:
        for metric, path in TIER_METRICS:
            tier = _get(row, path)
            if isinstance(tier, str):
                _Families._add(tiers, {**labels, "metric": metric, "tier": tier}, 1)
    f.out.append(tiers)
    f.out.append(_open_incidents(session))
    return f.out


def _open_incidents(session: Session) -> GaugeMetricFamily:
    """Open incidents now, per owning team and priority (0 included: a count is data)."""
    family = GaugeMetricFamily("steward_open_incidents",
                               "Incidents open now (triggered, acknowledged or mitigated)",
                               labels=["team", "priority"])
    teams = {team_id: name for team_id, name in session.execute(select(Team.id, Team.name))}
    counts: dict[tuple[str, str], int] = {}
    for team_id, priority, count in session.execute(
            select(Incident.owner_team_id, Incident.priority, func.count())
            .where(Incident.status.in_(OPEN_STATES))
            .group_by(Incident.owner_team_id, Incident.priority)):
        name = teams.get(team_id, "") if team_id is not None else ""
        counts[(name, priority)] = counts.get((name, priority), 0) + int(count)
    for name in sorted(teams.values()):
        for priority in PRIORITIES:
            family.add_metric([name, priority], counts.pop((name, priority), 0))
    for (name, priority), count in sorted(counts.items()):  # incidents without a team
        family.add_metric([name, priority], count)
    return family


class KpiCollector(Collector):
    """Reads the KPIs at most once per ``ttl`` seconds. The first scrape waits for them;
    later ones get the answer at hand, and one that finds it ``ttl`` old starts a newer
    one in the background. If that fails (the database away), the answer at hand stays,
    growing older, and the next scrape tries again. With a ``ttl`` of 0 every scrape
    computes and waits."""

    def __init__(self, db: Database, *, ttl: float = 30.0, dora_days: int = 28,
                 itsm_days: int = 90, clock: Callable[[], float] = time.monotonic) -> None:
        self.db, self.ttl, self.clock = db, ttl, clock
        self.dora_days, self.itsm_days = dora_days, itsm_days
        self._lock = threading.Lock()
        self._cached: list[Metric] | None = None
        self._at = 0.0
        self.refresher: threading.Thread | None = None  # the background computation

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            now = self.clock()
            if self._cached is None or self.ttl <= 0:  # no cache: every scrape computes
                self._cached, self._at = self._compute(), now
            elif now - self._at >= self.ttl and (self.refresher is None
                                                 or not self.refresher.is_alive()):
                self.refresher = threading.Thread(target=self._refresh, args=(now,),
                                                  name="steward-kpi-metrics", daemon=True)
                self.refresher.start()
            families, age = self._cached, max(0.0, now - self._at)
        yield from families
        yield GaugeMetricFamily("steward_kpi_age_seconds",
                                "Seconds since the KPI metrics were computed", value=age)

    def _compute(self) -> list[Metric]:
        with self.db.read_session() as session:
            return build_families(session, dora_days=self.dora_days,
                                  itsm_days=self.itsm_days)

    def _refresh(self, started: float) -> None:
        try:
            families = self._compute()
        except Exception:  # the answer at hand stays; the next scrape retries
            log.exception("computing the KPI metrics failed")
            return
        with self._lock:
            self._cached, self._at = families, started


def registry_for(db: Database, **options: Any) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(KpiCollector(db, **options))
    return registry
