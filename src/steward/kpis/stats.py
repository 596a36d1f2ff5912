"""Pure arithmetic shared by the KPI queries: percentiles and summaries.

The database hands back only the rows around each percentile's position (see
``kpis.sql.percentile_rows``); interpolating between them here gives exactly
SQL's ``PERCENTILE_CONT``: position ``p * (n - 1)`` in the sorted values,
linearly interpolated between its neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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


def hours_summary(found: Mapping[Any, Any] | None, ps: Sequence[float] = (0.5, 0.9),
                  mean: bool = True) -> dict[str, float | None]:
    """{"median", "p90", "mean"} in hours from one group of ``sql.percentile_rows``."""
    names = {0.5: "median", 0.9: "p90"}
    out: dict[str, float | None] = {names[p]: hours(found.get(p)) if found else None
                                    for p in ps}
    if mean:
        out["mean"] = hours(found.get("mean")) if found else None
    return out
