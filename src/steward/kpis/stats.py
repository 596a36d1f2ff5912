"""Pure arithmetic shared by the KPI queries: percentiles, summaries, DORA tiers.

The database hands back only the rows around each percentile's position (see
``kpis.sql.percentile_rows``); interpolating between them here gives exactly
SQL's ``PERCENTILE_CONT``: position ``p * (n - 1)`` in the sorted values,
linearly interpolated between its neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

TIERS = ("elite", "high", "medium", "low")
HOUR = 3600.0


def interpolate(ranked: Mapping[int, float], n: int, p: float) -> float | None:
    """The ``p`` percentile of ``n`` sorted values given by 1-based rank."""
    if n <= 0:
        return None
    position = p * (n - 1)
    lower = math.floor(position)
    fraction = position - lower
    low = ranked[lower + 1]
    if fraction == 0 or lower + 2 > n:
        return float(low)
    return float(low + fraction * (ranked[lower + 2] - low))


def percentile(values: Iterable[float], p: float) -> float | None:
    """``PERCENTILE_CONT(p)`` over plain values (for small in-memory series)."""
    ordered = sorted(values)
    return interpolate({i + 1: v for i, v in enumerate(ordered)}, len(ordered), p)


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / HOUR, 4)


def ratio(part: int, whole: int) -> float | None:
    return None if not whole else round(part / whole, 4)


def frequency_tier(deploy_days_per_week: float | None, deploy_days: int,
                   days: int) -> str | None:
    """Elite: >= 5 deploy days a week; high: >= 1 a week; medium: >= 1 a month.

    The weekly median decides elite and high. Medium asks for at least one
    deploy day per 30 days of the window, so a team deploying every other
    week (median 0 or 1 depending on the weeks) is not called low.
    """
    if days <= 0:
        return None
    if deploy_days_per_week is not None and deploy_days_per_week >= 5:
        return "elite"
    if deploy_days_per_week is not None and deploy_days_per_week >= 1:
        return "high"
    if deploy_days * 30 / days >= 1:
        return "medium"
    return "low"


def lead_time_tier(median_hours: float | None) -> str | None:
    return _below(median_hours, (24, 24 * 7, 24 * 30))


def recovery_tier(median_hours: float | None) -> str | None:
    return _below(median_hours, (1, 24, 24 * 7))


def failure_rate_tier(rate: float | None) -> str | None:
    if rate is None:
        return None
    for tier, limit in zip(TIERS, (0.05, 0.10, 0.15), strict=False):
        if rate <= limit + 1e-12:
            return tier
    return "low"


def _below(value: float | None, limits: tuple[float, float, float]) -> str | None:
    if value is None:
        return None
    for tier, limit in zip(TIERS, limits, strict=False):
        if value < limit:
            return tier
    return "low"


def overall_tier(tiers: Iterable[str | None]) -> str | None:
    """The lowest tier among the metrics that have data; None when none has."""
    known = [t for t in tiers if t is not None]
    if not known:
        return None
    return max(known, key=TIERS.index)
