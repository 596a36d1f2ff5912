"""90-day uptime of a public component from the time incidents held it.

Pure logic. Each incident that held a component gives an interval (from its first alert
on the service, or the incident's start, until the incident was mitigated or resolved,
or now while it is open) and how the component fared: ``down`` counts fully as downtime,
``degraded`` counts 30 % (as Statuspage weighs a partial outage against a major one).
Overlapping intervals are not counted twice: at any instant the worst one counts.
Days are UTC calendar days; today counts only up to now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from steward.timeutil import as_utc

DAYS = 90
WEIGHTS = {"down": 1.0, "degraded": 0.3}


@dataclass(frozen=True)
class Outage:
    start: datetime
    end: datetime | None  # None: still going on
    impact: str  # "down" | "degraded"


def _weighted_seconds(outages: list[tuple[datetime, datetime, float]],
                      start: datetime, end: datetime) -> tuple[float, float]:
    """Weighted outage seconds in [start, end), and the worst weight seen."""
    edges = {start, end}
    clipped = []
    for o_start, o_end, weight in outages:
        s, e = max(o_start, start), min(o_end, end)
        if s < e:
            clipped.append((s, e, weight))
            edges.update((s, e))
    if not clipped:
        return 0.0, 0.0
    points = sorted(edges)
    total = 0.0
    for left, right in pairwise(points):
        weight = max((w for s, e, w in clipped if s <= left and e >= right), default=0.0)
        total += weight * (right - left).total_seconds()
    return total, max(w for _, _, w in clipped)


def daily_uptime(outages: Iterable[Outage], now: datetime, *,
                 days: int = DAYS) -> list[dict[str, object]]:
    """One entry per day, oldest first: ``date`` (ISO), ``uptime`` (0..1),
    ``outage_minutes`` (weighted), ``worst`` ("down", "degraded" or "none")."""
    now = as_utc(now)
    spans = [(as_utc(o.start), as_utc(o.end) if o.end else now, WEIGHTS.get(o.impact, 0.0))
             for o in outages]
    spans = [s for s in spans if s[2] > 0 and s[0] < s[1]]
    today = now.date()
    out: list[dict[str, object]] = []
    for back in range(days - 1, -1, -1):
        day: date = today - timedelta(days=back)
        start = datetime(day.year, day.month, day.day, tzinfo=now.tzinfo)
        end = min(start + timedelta(days=1), now)
        length = (end - start).total_seconds()
        lost, worst = _weighted_seconds(spans, start, end) if length > 0 else (0.0, 0.0)
        out.append({
            "date": day.isoformat(),
            "uptime": 1.0 if length <= 0 else max(0.0, 1.0 - lost / length),
            "outage_minutes": round(lost / 60, 1),
            "worst": "down" if worst >= 1.0 else "degraded" if worst > 0 else "none",
        })
    return out


def overall_uptime(outages: Iterable[Outage], now: datetime, *, days: int = DAYS) -> float:
    """The share of the last ``days`` days (up to now) the component was up, 0..1."""
    now = as_utc(now)
    start = now - timedelta(days=days)
    spans = [(as_utc(o.start), as_utc(o.end) if o.end else now, WEIGHTS.get(o.impact, 0.0))
             for o in outages]
    lost, _ = _weighted_seconds([s for s in spans if s[2] > 0 and s[0] < s[1]], start, now)
    return max(0.0, 1.0 - lost / (now - start).total_seconds())
