"""How an SLO reads on a page: its figures as text, its burn rules, what is firing.

Shared by the SLO pages and the service page's SLO section.
"""

from __future__ import annotations

from typing import Any

from steward.slos import burn
from steward.slos.queries import SloReading


def percent(value: float | None, digits: int = 2) -> str:
    return "no data" if value is None else f"{value * 100:.{digits}f}%"


def rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}×"


def view(reading: SloReading) -> dict[str, Any]:
    slo, status = reading.slo, reading.status
    firing = {rule.name for rule in status.firing}
    return {
        "id": slo.id, "name": slo.name, "service": slo.service, "team": slo.team,
        "description": slo.description, "objective": slo.objective,
        "objective_text": percent(slo.objective, 3), "window_days": slo.window_days,
        "sli_kind": slo.sli, "sli": percent(status.sli, 3),
        "budget_left": status.budget.left, "budget_left_text": percent(status.budget.left, 1),
        "budget_consumed_text": percent(status.budget.consumed, 1),
        "exhausted": status.budget.exhausted,
        "low": 0 < status.budget.left < 0.25,
        "rates": {name: rate(value) for name, value in status.burn_rates.items()},
        "rules": [{"name": r.name, "action": r.action, "severity": r.severity,
                   "describe": r.describe(), "firing": r.name in firing} for r in burn.RULES],
        "firing": sorted(firing),
    }
