"""Reads of the timers: lists, counts by kind and state, the oldest waiting. Plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from steward.errors import ValidationError
from steward.jobs.models import STATES, Timer
from steward.timeutil import isoformat_z, utcnow


@dataclass(frozen=True)
class TimerRecord:
    id: int
    kind: str
    key: str
    state: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int
    fired_at: datetime | None
    fired_by: str | None
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True)
class KindCount:
    kind: str
    state: str
    count: int


@dataclass(frozen=True)
class TimerSummary:
    counts: list[KindCount]  # by kind, then state
    oldest_due: datetime | None  # the pending timer due first
    overdue: int  # pending timers whose time has come


def _checked_state(state: str | None) -> str | None:
    if state is not None and state not in STATES:
        raise ValidationError(f"state: one of {', '.join(STATES)}, got {state!r}",
                              field="state")
    return state


def list_timers(session: Session, *, state: str | None = None, kind: str | None = None,
                limit: int = 100, offset: int = 0) -> tuple[int, list[TimerRecord]]:
    """(how many match, one page): pending timers first, the next due first; then the
    others, the most recent first."""
    filters = []
    if _checked_state(state) is not None:
        filters.append(Timer.state == state)
    if kind:
        filters.append(Timer.kind == kind)
    total = session.scalar(select(func.count()).select_from(Timer).where(*filters)) or 0
    pending = Timer.state == "pending"
    rows = session.scalars(
        select(Timer).where(*filters)
        .order_by(case((pending, 0), else_=1), case((pending, Timer.due_at)),
                  Timer.due_at.desc(), Timer.id.desc())
        .limit(limit).offset(offset)).all()
    return total, [TimerRecord(
        id=t.id, kind=t.kind, key=t.key, state=t.state, due_at=t.due_at,
        payload=dict(t.payload or {}), attempts=t.attempts, fired_at=t.fired_at,
        fired_by=t.fired_by, last_error=t.last_error, created_at=t.created_at)
        for t in rows]


def summary(session: Session, *, kind: str | None = None,
            now: datetime | None = None) -> TimerSummary:
    """Counts by kind and state, and how far behind the pending ones are."""
    now = now or utcnow()
    filters = [Timer.kind == kind] if kind else []
    counts = [KindCount(k, s, n) for k, s, n in session.execute(
        select(Timer.kind, Timer.state, func.count()).where(*filters)
        .group_by(Timer.kind, Timer.state).order_by(Timer.kind, Timer.state))]
    oldest, overdue = session.execute(
        select(func.min(Timer.due_at),
               func.count().filter(Timer.due_at <= now))
        .where(Timer.state == "pending", *filters)).one()
    return TimerSummary(counts=counts, oldest_due=oldest, overdue=int(overdue or 0))


def timer_state(session: Session, key: str) -> tuple[str, dict[str, Any]] | None:
    """A timer's state and payload, or None when there is no timer with that key."""
    row = session.execute(select(Timer.state, Timer.payload).where(Timer.key == key)).first()
    return None if row is None else (row.state, dict(row.payload or {}))


def timer_out(timer: TimerRecord) -> dict[str, Any]:
    """A timer as the API shows it (``schemas.TimerOut``)."""
    return {"id": timer.id, "kind": timer.kind, "key": timer.key, "state": timer.state,
            "due_at": isoformat_z(timer.due_at), "payload": timer.payload,
            "attempts": timer.attempts, "fired_at": isoformat_z(timer.fired_at),
            "fired_by": timer.fired_by, "last_error": timer.last_error,
            "created_at": isoformat_z(timer.created_at)}


def timers_page(session: Session, *, state: str | None = None, kind: str | None = None,
                limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """``schemas.TimersOut``: a page of timers with the counts by kind and state."""
    total, items = list_timers(session, state=state, kind=kind, limit=limit, offset=offset)
    found = summary(session, kind=kind)
    return {"total": total, "limit": limit, "offset": offset,
            "items": [timer_out(t) for t in items],
            "counts": [{"kind": c.kind, "state": c.state, "count": c.count}
                       for c in found.counts],
            "overdue": found.overdue, "oldest_due": isoformat_z(found.oldest_due)}
