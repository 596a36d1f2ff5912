"""An SLO's indicator, budget and burn rates at a moment, and its budget burn-down.

The SQL side: bad time comes from the incidents the service was in, counts
from the stored SLI reports (summed in SQL; the few reports that straddle a
window edge are counted pro rata in Python). The arithmetic is in
:mod:`steward.slos.burn`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from steward.errors import ValidationError
from steward.incidents.models import Alert, Incident, IncidentService
from steward.slos import burn
from steward.slos.models import SliReport, Slo
from steward.timeutil import as_utc, isoformat_z, utcnow

ONGOING = ("triggered", "acknowledged")
EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)  # windows reach a year back; keep them in range
DAY = timedelta(days=1)
ALERT_SOURCE = "slo"


@dataclass
class SloStatus:
    at: datetime
    window_start: datetime
    sli: float | None  # None: no events reported in the window
    budget: burn.Budget
    burn_rates: dict[str, float | None]
    firing: list[burn.BurnRule]
    good: float | None = None  # counts SLIs
    total: float | None = None
    bad_seconds: float | None = None  # impact SLIs
    extra: dict[str, Any] = field(default_factory=dict)

    def out(self) -> dict[str, Any]:
        def num(value: float | None, digits: int = 6) -> float | None:
            return None if value is None else round(value, digits)

        firing = {rule.name for rule in self.firing}
        return {
            "at": isoformat_z(self.at),
            "window_start": isoformat_z(self.window_start),
            "sli": num(self.sli),
            "good": num(self.good, 3), "total": num(self.total, 3),
            "bad_seconds": num(self.bad_seconds, 3),
            "error_budget": num(self.budget.total),
            "budget_consumed": num(self.budget.consumed),
            "budget_left": num(self.budget.left),
            "exhausted": self.budget.exhausted,
            "burn_rates": {k: num(v, 3) for k, v in self.burn_rates.items()},
            "alerts": [{"rule": r.name, "action": r.action, "severity": r.severity,
                        "long_window": r.long_window, "short_window": r.short_window,
                        "threshold": r.threshold, "firing": r.name in firing}
                       for r in burn.RULES],
            "firing": sorted(firing),
        }


def _windows(slo: Slo, at: datetime) -> dict[str, datetime]:
    """Start of each window ending at ``at``: the SLO window first, then the burn windows."""
    starts = {"slo": at - timedelta(days=slo.window_days)}
    starts.update({name: at - length for name, length in burn.BURN_WINDOWS.items()})
    return starts


def moment(at: datetime | None) -> datetime:
    """``at`` in UTC (default now); a 422 naming ``at`` when windows would leave the calendar."""
    if at is None:
        return utcnow()
    at = as_utc(at)
    if at < EARLIEST:
        raise ValidationError("at: must be after 1971-01-01", field="at")
    return at


def status_of(session: Session, slo: Slo, at: datetime | None = None) -> SloStatus:
    at = moment(at)
    starts = _windows(slo, at)
    if slo.sli == "counts":
        sums = count_sums(session, slo.id, starts, at)
        shares = {name: burn.bad_fraction(good, total) for name, (good, total) in sums.items()}
        good, total = sums["slo"]
        extra: dict[str, Any] = {"good": good, "total": total}
    else:
        intervals = impact_intervals(session, slo.service_id, min(starts.values()), at)
        bad = {name: burn.union_seconds(intervals, start, at) for name, start in starts.items()}
        shares = {name: bad[name] / (at - start).total_seconds() for name, start in starts.items()}
        extra = {"bad_seconds": bad["slo"]}
    sli = None if shares["slo"] is None else 1 - shares["slo"]
    rates = {name: burn.burn_rate(shares[name], slo.objective) for name in burn.BURN_WINDOWS}
    return SloStatus(at=at, window_start=starts["slo"], sli=sli,
                     budget=burn.budget(slo.objective, shares["slo"]), burn_rates=rates,
                     firing=burn.firing_rules(rates), **extra)


def impact_intervals(session: Session, service_id: int, lo: datetime,
                     hi: datetime) -> list[tuple[datetime, datetime]]:
    """Periods the service was in an incident, overlapping [lo, hi).

    An incident counts from its start until it was mitigated (or resolved or
    closed); one still triggered or acknowledged lasts until ``hi``. Incidents
    opened only by SLO burn alerts are left out: counting them would keep
    their own alert firing.
    """
    involved = or_(Incident.origin_service_id == service_id, exists().where(
        IncidentService.incident_id == Incident.id, IncidentService.service_id == service_id))
    slo_only = and_(
        Incident.manual.is_(False),
        exists().where(Alert.incident_id == Incident.id, Alert.source == ALERT_SOURCE),
        ~exists().where(Alert.incident_id == Incident.id, Alert.source != ALERT_SOURCE))
    ended = func.coalesce(Incident.mitigated_at, Incident.resolved_at, Incident.closed_at)
    rows = session.execute(
        select(Incident.started_at, Incident.status, ended.label("ended"))
        .where(involved, ~slo_only, Incident.started_at < hi,
               or_(Incident.status.in_(ONGOING), ended > lo))).all()
    intervals = []
    for started, status, ended_at in rows:
        start = as_utc(started)
        if status in ONGOING or ended_at is None:
            end = hi
        else:
            end = as_utc(ended_at)
        intervals.append((start, end))
    return intervals


def count_sums(session: Session, slo_id: int, starts: dict[str, datetime],
               at: datetime) -> dict[str, tuple[float, float]]:
    """Good and total events in each window [start, at), reports at an edge pro rata."""
    names = list(starts)
    earliest = min(starts.values())
    inside = []
    for name in names:
        within = and_(SliReport.start >= starts[name], SliReport.end <= at)
        inside.append(func.coalesce(func.sum(case((within, SliReport.good), else_=0)), 0))
        inside.append(func.coalesce(func.sum(case((within, SliReport.total), else_=0)), 0))
    overlapping = and_(SliReport.slo_id == slo_id, SliReport.end > earliest,
                       SliReport.start < at)
    row = session.execute(select(*inside).where(overlapping)).one()
    sums = {name: (float(row[2 * i]), float(row[2 * i + 1])) for i, name in enumerate(names)}
    edges = or_(SliReport.end > at, *[and_(SliReport.start < start, SliReport.end > start)
                                      for start in set(starts.values())])
    straddling = session.execute(select(SliReport.start, SliReport.end, SliReport.good,
                                        SliReport.total).where(overlapping, edges)).all()
    for start_raw, end_raw, good, total in straddling:
        start, end = as_utc(start_raw), as_utc(end_raw)
        for name in names:
            lo = starts[name]
            if start >= lo and end <= at:
                continue  # already summed in SQL
            part_good, part_total = burn.prorated(start, end, good, total, lo, at)
            g, t = sums[name]
            sums[name] = (g + part_good, t + part_total)
    return sums


def burndown(session: Session, slo: Slo, at: datetime | None = None) -> list[dict[str, Any]]:
    """Budget left at the start of the window and at the end of each day of it.

    Spending is measured against the whole window's allowance (for counts,
    the budget share of all events reported in the window), so the last point
    is the budget left now and the line only goes down. Reports are placed on
    the day they end.
    """
    at = moment(at)
    start = at - timedelta(days=slo.window_days)
    points = [start + DAY * day for day in range(slo.window_days + 1)]
    allowance_share = burn.error_budget(slo.objective)
    if slo.sli == "counts":
        bad, total = _cumulative_bad_counts(session, slo.id, start, points)
        allowance = allowance_share * total
        spent = [b / allowance if allowance > 0 else 0.0 for b in bad]
    else:
        intervals = impact_intervals(session, slo.service_id, start, at)
        allowance = allowance_share * (at - start).total_seconds()
        spent = [burn.union_seconds(intervals, start, point) / allowance for point in points]
    return [{"at": isoformat_z(point), "budget_left": round(max(1 - s, burn.MIN_BUDGET_LEFT), 6)}
            for point, s in zip(points, spent, strict=True)]


def _cumulative_bad_counts(session: Session, slo_id: int, start: datetime,
                           points: list[datetime]) -> tuple[list[float], float]:
    at = points[-1]
    bad = SliReport.total - SliReport.good
    columns = [func.coalesce(func.sum(case((SliReport.end <= point, bad), else_=0)), 0)
               for point in points]
    columns.append(func.coalesce(func.sum(SliReport.total), 0))
    row = session.execute(select(*columns).where(
        SliReport.slo_id == slo_id, SliReport.start >= start, SliReport.end <= at)).one()
    cumulative = [float(v) for v in row[:-1]]
    total = float(row[-1])
    # Reports that began before the window: their share inside it, on the day they end.
    edge = session.execute(select(SliReport.start, SliReport.end, SliReport.good,
                                  SliReport.total).where(
        SliReport.slo_id == slo_id, SliReport.start < start, SliReport.end > start)).all()
    for start_raw, end_raw, good, count in edge:
        report_end = as_utc(end_raw)
        part_good, part_total = burn.prorated(as_utc(start_raw), report_end, good, count,
                                              start, at)
        total += part_total
        for i, point in enumerate(points):
            if min(report_end, at) <= point:
                cumulative[i] += part_total - part_good
    return cumulative, total
