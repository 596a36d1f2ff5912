"""Facts other domains add to risk assessment later, without changes importing them.

Incidents register a counter of open incidents; SLOs register the error
budget left. Until they do, the defaults say "nothing known".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

OpenIncidents = Callable[[Session, Sequence[int]], int]
ErrorBudget = Callable[[Session, Sequence[int]], float | None]


def _no_incidents(_session: Session, _service_ids: Sequence[int]) -> int:
    return 0


def _no_budget(_session: Session, _service_ids: Sequence[int]) -> float | None:
    return None


open_incidents: OpenIncidents = _no_incidents
error_budget_remaining: ErrorBudget = _no_budget


def register_open_incidents(func: OpenIncidents) -> None:
    global open_incidents
    open_incidents = func


def register_error_budget(func: ErrorBudget) -> None:
    global error_budget_remaining
    error_budget_remaining = func
