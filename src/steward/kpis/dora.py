"""DORA definitions as plain arithmetic: the figures and tiers of one scope.

The queries in ``kpis.dora_queries`` count deployments, failures and rework and
fetch the lead, recovery and resolution times; this module turns those counts
into PRODUCT.md's answer, with the tiers of the DORA 2023 benchmarks in their
contiguous form. It imports neither the web nor the database layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from steward.kpis import stats

# Deployments that reached production: succeeded, or rolled back later.
SHIPPED = ("succeeded", "rolled_back")
TIERS = ("elite", "high", "medium", "low")


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


def empty(days: int, weeks: int) -> dict[str, Any]:
    """The answer for a scope with nothing in the window."""
    return assemble(win_days=days, count=0, failed=0, rework=0, deploy_days=0,
                    weekly_days=[0] * weeks, lead=None, recovery=None, mttr=None)


def assemble(*, win_days: int, count: int, failed: int, rework: int, deploy_days: int,
             weekly_days: list[int], lead: Mapping[Any, Any] | None,
             recovery: Mapping[Any, Any] | None,
             mttr: Mapping[Any, Any] | None) -> dict[str, Any]:
    per_week = stats.percentile(weekly_days, 0.5) if weekly_days else None
    lead_hours = stats.hours_summary(lead, mean=False)
    recovery_hours = stats.hours_summary(recovery, ps=(0.5,), mean=False)
    cfr = stats.ratio(failed, count)
    tiers = {
        "deployment_frequency": frequency_tier(per_week, deploy_days, win_days),
        "lead_time": lead_time_tier(lead_hours["median"]),
        "change_failure_rate": failure_rate_tier(cfr),
        "recovery_time": recovery_tier(recovery_hours["median"]),
    }
    return {
        "deployments": count,
        "deployment_frequency": {
            "per_day": round(count / win_days, 4),
            "deploy_days_per_week": per_week, "deploy_days": deploy_days,
            "tier": tiers["deployment_frequency"]},
        "lead_time_hours": {**lead_hours, "commits": lead["n"] if lead else 0,
                            "tier": tiers["lead_time"]},
        "change_failure_rate": {"value": cfr, "failed_deployments": failed,
                                "tier": tiers["change_failure_rate"]},
        "recovery_time_hours": {**recovery_hours,
                                "incidents": recovery["n"] if recovery else 0,
                                "tier": tiers["recovery_time"]},
        "rework_rate": {"value": stats.ratio(rework, count), "rework_deployments": rework},
        "mttr_hours": {**stats.hours_summary(mttr), "incidents": mttr["n"] if mttr else 0},
        "tier": overall_tier(tiers.values()),
    }
