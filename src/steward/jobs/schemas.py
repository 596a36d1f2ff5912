"""API shapes of the timers."""

from __future__ import annotations

from typing import Any, Literal

from steward.shapes import Out, Timestamp

TimerState = Literal["pending", "done", "failed", "canceled"]


class TimerOut(Out):
    id: int
    kind: str
    key: str
    state: TimerState
    due_at: Timestamp
    payload: dict[str, Any]
    attempts: int
    fired_at: Timestamp | None
    fired_by: str | None
    last_error: str | None
    created_at: Timestamp


class TimerCountOut(Out):
    kind: str
    state: TimerState
    count: int


class TimersOut(Out):
    """One page of timers, and the counts of every timer (of ``kind`` when asked) by kind
    and state: how much background work waits, how much failed."""

    total: int
    limit: int
    offset: int
    items: list[TimerOut]
    counts: list[TimerCountOut]
    overdue: int
    oldest_due: Timestamp | None
