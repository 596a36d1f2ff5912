"""Error budget and burn-rate arithmetic, and the multi-window burn alert rules.

Pure logic: plain numbers and datetimes in, plain values out.

- The error budget of an objective ``o`` is ``1 - o``: the share of bad events
  (or bad time) the objective allows over its window.
- Budget consumed is the bad share seen divided by the budget; budget left is
  ``1 - consumed``. It goes negative once the objective is broken and is
  clamped at :data:`MIN_BUDGET_LEFT` so one disaster does not dominate charts.
- The burn rate over a window is the bad share in that window divided by the
  budget: 1 spends the budget exactly over the SLO window, 14.4 spends 2 % of a
  30-day budget in one hour.
- An alert rule fires when the burn rate is above its threshold over both its
  long window (enough budget is really gone) and its short window (it is still
  happening), as in the SRE workbook's multi-window, multi-burn-rate alerts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_BUDGET_LEFT = -1.0

# The burn-rate windows the status reports, by name, shortest first.
BURN_WINDOWS: dict[str, timedelta] = {
    "5m": timedelta(minutes=5),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "3d": timedelta(days=3),
}


@dataclass(frozen=True)
class BurnRule:
    name: str  # also the last part of the alert's dedup key
    action: str  # "page" or "ticket"
    severity: str  # the alert severity raised
    long_window: str  # a key of BURN_WINDOWS
    short_window: str
    threshold: float  # burn rate that must be exceeded over both windows

    def describe(self) -> str:
        return (f"burn rate above {self.threshold:g}x over {self.long_window} "
                f"and {self.short_window}")


RULES: tuple[BurnRule, ...] = (
    BurnRule("fast-burn", "page", "critical", "1h", "5m", 14.4),
    BurnRule("slow-burn", "page", "critical", "6h", "30m", 6.0),
    BurnRule("ticket-burn", "ticket", "warning", "3d", "6h", 1.0),
)


def check_objective(objective: float) -> None:
    """Raise ``ValueError`` naming the field unless 0 < objective < 1."""
    if isinstance(objective, bool) or not isinstance(objective, int | float) \
            or not 0 < objective < 1:
        raise ValueError(f"objective: must be a number strictly between 0 and 1 "
                         f"(e.g. 0.999), got {objective!r}")


def error_budget(objective: float) -> float:
    check_objective(objective)
    return 1.0 - objective


def bad_fraction(good: float, total: float) -> float | None:
    """The share of bad events; None when nothing was counted."""
    if total <= 0:
        return None
    return min(max((total - good) / total, 0.0), 1.0)


def burn_rate(bad_share: float | None, objective: float) -> float | None:
    """How many times faster than allowed the budget is being spent."""
    if bad_share is None:
        return None
    return bad_share / error_budget(objective)


@dataclass(frozen=True)
class Budget:
    total: float  # the budget as a share: 1 - objective
    consumed: float  # share of the budget spent (can exceed 1)
    left: float  # 1 - consumed, clamped at MIN_BUDGET_LEFT
    exhausted: bool  # nothing left


def budget(objective: float, bad_share: float | None) -> Budget:
    """The budget over the SLO window given its bad share (None: no data, nothing spent)."""
    total = error_budget(objective)
    # Rounded so a budget spent exactly (0.001 of 0.999) is not left with 1e-16.
    consumed = 0.0 if bad_share is None else round(bad_share / total, 12)
    left = max(1.0 - consumed, MIN_BUDGET_LEFT)
    return Budget(total=total, consumed=consumed, left=left, exhausted=left <= 0)


def firing(rule: BurnRule, rates: Mapping[str, float | None]) -> bool:
    long_rate, short_rate = rates.get(rule.long_window), rates.get(rule.short_window)
    return (long_rate is not None and short_rate is not None
            and long_rate > rule.threshold and short_rate > rule.threshold)


def firing_rules(rates: Mapping[str, float | None],
                 rules: Iterable[BurnRule] = RULES) -> list[BurnRule]:
    return [rule for rule in rules if firing(rule, rates)]


def overlap_seconds(start: datetime, end: datetime, lo: datetime, hi: datetime) -> float:
    return max((min(end, hi) - max(start, lo)).total_seconds(), 0.0)


def union_seconds(intervals: Iterable[tuple[datetime, datetime]], lo: datetime,
                  hi: datetime) -> float:
    """Seconds of [lo, hi) covered by at least one interval (overlaps count once)."""
    clipped = sorted((max(s, lo), min(e, hi)) for s, e in intervals if e > lo and s < hi)
    covered = 0.0
    current_start: datetime | None = None
    current_end: datetime | None = None
    for start, end in clipped:
        if end <= start:
            continue
        if current_end is None or start > current_end:
            if current_start is not None and current_end is not None:
                covered += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_start is not None and current_end is not None:
        covered += (current_end - current_start).total_seconds()
    return covered


def prorated(start: datetime, end: datetime, good: float, total: float, lo: datetime,
             hi: datetime) -> tuple[float, float]:
    """The part of a report's counts inside [lo, hi), in proportion to the time inside."""
    length = (end - start).total_seconds()
    if length <= 0:
        return 0.0, 0.0
    share = overlap_seconds(start, end, lo, hi) / length
    return good * share, total * share


def summary(slo_name: str, service: str, rule: BurnRule,
            rates: Mapping[str, float | None]) -> str:
    """The alert's one-line summary, naming the SLO, the rates and their windows."""
    def rate(window: str) -> str:
        value = rates.get(window)
        return "n/a" if value is None else f"{value:.1f}x"

    return (f"SLO {slo_name!r} of {service}: error budget burning at "
            f"{rate(rule.long_window)} over {rule.long_window} and {rate(rule.short_window)} "
            f"over {rule.short_window} (threshold {rule.threshold:g}x, {rule.action})")
