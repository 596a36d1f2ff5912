"""The KPIs a shared goal can be set on, and how a goal's progress is judged.

Pure: no web framework, no database. Each metric names the KPI answer it is
read from (``dora`` or ``itsm``, PRODUCT.md's shapes), the path to its value in
that answer, its unit and which direction is better, so goals, exports and
the dashboard all read a metric the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

COMPARATORS = ("<=", ">=")
TRENDS = ("improving", "worsening", "flat")


@dataclass(frozen=True)
class GoalMetric:
    key: str
    label: str
    unit: str  # "ratio" (0..1), "hours" or "days per week"
    better: str  # "lower" or "higher"
    source: str  # "dora" or "itsm"
    path: tuple[str, ...]

    def read(self, answer: Mapping[str, Any] | None) -> float | None:
        """The metric's value in a dora/itsm answer (or a table row); None without data."""
        value: Any = answer
        for part in self.path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)

    @property
    def default_comparator(self) -> str:
        return "<=" if self.better == "lower" else ">="

    def out(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "unit": self.unit,
                "better": self.better, "source": self.source}


METRICS: dict[str, GoalMetric] = {m.key: m for m in (
    GoalMetric("deploy_days_per_week", "Deploy days per week", "days per week", "higher",
               "dora", ("deployment_frequency", "deploy_days_per_week")),
    GoalMetric("deployments_per_day", "Deployments per day", "per day", "higher",
               "dora", ("deployment_frequency", "per_day")),
    GoalMetric("lead_time_median_hours", "Lead time for changes (median)", "hours", "lower",
               "dora", ("lead_time_hours", "median")),
    GoalMetric("change_failure_rate", "Change failure rate", "ratio", "lower",
               "dora", ("change_failure_rate", "value")),
    GoalMetric("recovery_time_median_hours", "Failed deployment recovery time (median)",
               "hours", "lower", "dora", ("recovery_time_hours", "median")),
    GoalMetric("rework_rate", "Deployment rework rate", "ratio", "lower",
               "dora", ("rework_rate", "value")),
    GoalMetric("mttr_median_hours", "Time to resolve incidents (median)", "hours", "lower",
               "itsm", ("mttr_hours", "median")),
    GoalMetric("mtta_median_hours", "Time to acknowledge incidents (median)", "hours", "lower",
               "itsm", ("mtta_hours", "median")),
    GoalMetric("sla_compliance", "SLA compliance", "ratio", "higher",
               "itsm", ("sla_compliance",)),
    GoalMetric("reopen_rate", "Incident reopen rate", "ratio", "lower",
               "itsm", ("reopen_rate",)),
    GoalMetric("change_success_rate", "Change success rate", "ratio", "higher",
               "itsm", ("changes", "success_rate")),
    GoalMetric("auto_approval_rate", "Changes approved by policy", "ratio", "higher",
               "itsm", ("changes", "auto_approval_rate")),
)}


def metric(key: str) -> GoalMetric:
    """The registered metric, or KeyError."""
    return METRICS[key]


def check_target(found: GoalMetric, comparator: str, target: float) -> str | None:
    """Why this target cannot be used (a message naming the field), or None when it can."""
    if comparator not in COMPARATORS:
        return f"comparator: expected one of {', '.join(COMPARATORS)}"
    if isinstance(target, bool) or not isinstance(target, (int, float)) \
            or not math.isfinite(target):
        return "target: expected a number"
    if target < 0:
        return "target: must not be negative"
    if found.unit == "ratio" and target > 1:
        return "target: a rate is a fraction from 0 to 1 (for example 0.1 for 10 %)"
    if found.unit == "days per week" and target > 7:
        return "target: a week has 7 days"
    return None


def meets(value: float | None, comparator: str, target: float) -> bool | None:
    """Whether a value meets the target; None without a value."""
    if value is None:
        return None
    return value <= target if comparator == "<=" else value >= target


def trend(values: Sequence[float | None], better: str, *,
          tolerance: float = 0.05) -> str | None:
    """improving, worsening or flat from the least-squares slope of the weekly values.

    The slope over the whole run is compared with the values' typical size, so a
    change of less than ``tolerance`` of the mean over the period counts as flat.
    None with fewer than two weeks that have a value.
    """
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    span = points[-1][0] - points[0][0]
    change = slope * span
    scale = max(abs(mean_y), 1e-9)
    if abs(change) <= tolerance * scale:
        return "flat"
    rising = change > 0
    return "improving" if rising == (better == "higher") else "worsening"


def progress_fraction(value: float | None, comparator: str, target: float) -> float | None:
    """How far toward the target, 0..1 (1 when met), for a progress bar."""
    if value is None:
        return None
    if meets(value, comparator, target):
        return 1.0
    if comparator == ">=":
        return max(0.0, min(1.0, value / target)) if target > 0 else 1.0
    if value <= 0:
        return 1.0
    return max(0.0, min(1.0, target / value))


def format_value(found: GoalMetric, value: float | None) -> str:
    """A value as people read it: 7.5 %, 20.5 h, 4 days/week."""
    if value is None:
        return "no data"
    if found.unit == "ratio":
        return f"{value * 100:.1f} %"
    if found.unit == "hours":
        return f"{value:.2f} h" if abs(value) < 1 else f"{value:.1f} h"
    if found.unit == "days per week":
        return f"{value:g} day/week" if value == 1 else f"{value:g} days/week"
    return f"{value:.2f} {found.unit}"
