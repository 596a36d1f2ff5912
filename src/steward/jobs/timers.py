"""Timers: scheduling background work in a transaction, and firing it exactly once.

A domain registers a handler per kind at import (:func:`register`), schedules timers
in the transaction that decides they are needed (:func:`schedule`), and cancels them
the same way (:func:`cancel`). :func:`run_due` is one round of the loop: it claims
due timers, runs each handler in a SAVEPOINT of the claiming transaction, and marks
the timer done in that same transaction, so a handler's writes and its timer's
"done" are committed together or not at all.

Claims: on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED``, so any number of
processes share the work and none waits for another; a process that dies loses its
connection and with it its row locks, and its timers are claimed again at once (its
uncommitted work is rolled back with them). On SQLite the round is a write
transaction (``BEGIN IMMEDIATE`` behind Steward's writer lock), so one process at a
time claims and fires.

Handlers must not commit: they write in the session they are given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from steward.db import Database
from steward.jobs.backoff import gives_up, retry_delay
from steward.jobs.models import Timer
from steward.timeutil import utcnow

log = logging.getLogger("steward.jobs")

KIND_LENGTH = 60
KEY_LENGTH = 200
ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Fired:
    """A timer as its handler sees it; ``attempts``: how often it failed before."""

    id: int
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


Handler = Callable[[Session, Fired], None]
_handlers: dict[str, Handler] = {}


def register(kind: str, handler: Handler) -> None:
    """Fire timers of ``kind`` with ``handler`` in this process (registering again replaces
    the handler). A process claims only the kinds it has handlers for."""
    if not kind or len(kind) > KIND_LENGTH:
        raise ValueError(f"kind: 1 to {KIND_LENGTH} characters, got {kind!r}")
    _handlers[kind] = handler


def registered_kinds() -> tuple[str, ...]:
    return tuple(sorted(_handlers))


def schedule(session: Session, kind: str, key: str, due_at: datetime,
             payload: dict[str, Any] | None = None, *, replace: bool = False) -> None:
    """One timer per ``key``, in the caller's transaction.

    A key that exists is kept as it is (pending, done, failed or canceled: a step
    that happened does not happen again); ``replace=True`` moves it to ``due_at`` with
    ``payload`` and makes it pending again with no failures counted, whatever its state.
    """
    if not kind or len(kind) > KIND_LENGTH:
        raise ValueError(f"kind: 1 to {KIND_LENGTH} characters, got {kind!r}")
    if not key or len(key) > KEY_LENGTH:
        raise ValueError(f"key: 1 to {KEY_LENGTH} characters, got {key!r}")
    if due_at.tzinfo is None:
        raise ValueError("due_at: a timezone-aware time")
    values = {"kind": kind, "key": key, "due_at": due_at, "payload": payload or {},
              "state": "pending", "attempts": 0, "created_at": utcnow()}
    insert = (postgresql_insert if session.get_bind().dialect.name == "postgresql"
              else sqlite_insert)
    statement = insert(Timer).values(**values)
    if replace:
        statement = statement.on_conflict_do_update(index_elements=["key"], set_={
            "kind": kind, "due_at": due_at, "payload": values["payload"],
            "state": "pending", "attempts": 0, "last_error": None})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["key"])
    session.execute(statement)


def cancel(session: Session, *, key: str | None = None, key_prefix: str | None = None) -> int:
    """Pending timers with ``key``, or whose key starts with ``key_prefix``, become
    canceled (in the caller's transaction); returns how many."""
    if (key is None) == (key_prefix is None):
        raise ValueError("cancel: give either key or key_prefix")
    statement = update(Timer).where(Timer.state == "pending")
    if key is not None:
        statement = statement.where(Timer.key == key)
    else:
        if not key_prefix:
            raise ValueError("key_prefix: empty (it would cancel every timer)")
        statement = statement.where(Timer.key.startswith(key_prefix, autoescape=True))
    result = session.execute(statement.values(state="canceled"),
                             execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Round:
    """What one round did: timers whose handlers committed, and those that raised."""

    fired: int = 0
    failed: int = 0

    @property
    def ran(self) -> int:
        return self.fired + self.failed


def run_due(db: Database, *, worker: str, limit: int = 100, now: datetime | None = None) -> int:
    """One round: claim up to ``limit`` timers due by ``now`` (of the kinds this process
    has handlers for), fire them and commit; returns how many ran (fired or failed)."""
    return run_round(db, worker=worker, limit=limit, now=now).ran


def run_round(db: Database, *, worker: str, limit: int = 100,
              now: datetime | None = None) -> Round:
    """:func:`run_due`, telling fired from failed."""
    kinds = registered_kinds()
    if not kinds or limit < 1:
        return Round()
    now = now or utcnow()
    table = Timer.__table__
    due = (table.c.state == "pending", table.c.due_at <= now, table.c.kind.in_(kinds))
    # A look on a read connection first: an idle round takes no lock (on SQLite no
    # write transaction, which would queue behind the alert writer).
    with db.read_session() as session:
        if session.scalar(select(table.c.id).where(*due).limit(1)) is None:
            return Round()
    # In the index's order (state, due_at), so the claim reads no more rows than it takes.
    chosen = (select(table.c.id, table.c.kind, table.c.key, table.c.due_at, table.c.payload,
                     table.c.attempts).where(*due).order_by(table.c.due_at).limit(limit))
    fired = failed = 0
    with db.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            chosen = chosen.with_for_update(skip_locked=True)
        claimed = sorted(session.execute(chosen).all(), key=lambda row: (row.due_at, row.id))
        if not claimed:
            return Round()
        # Marked done together, by primary key; a handler that schedules its own key again
        # (a recurring timer) makes it pending for its next time, and a handler that fails
        # puts it back (:func:`_failed`).
        session.execute(update(table).where(table.c.id.in_([row.id for row in claimed]))
                        .values(state="done", fired_at=utcnow(),
                                fired_by=worker[:KEY_LENGTH], last_error=None))
        for row in claimed:
            timer = Fired(id=row.id, kind=row.kind, key=row.key, due_at=row.due_at,
                          payload=dict(row.payload or {}), attempts=row.attempts)
            if _fire(session, timer, db):
                fired += 1
            else:
                failed += 1
    return Round(fired, failed)


def _fire(session: Session, timer: Fired, db: Database) -> bool:
    """Run one claimed timer's handler in a savepoint; True when it committed."""
    handler = _handlers[timer.kind]
    try:
        with session.begin_nested():
            handler(session, timer)
    except Exception as exc:  # noqa: BLE001 - one timer's failure never stops the others
        _failed(session, timer, exc, db)
        return False
    return True


def _failed(session: Session, timer: Fired, exc: Exception, db: Database) -> None:
    attempts = timer.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]
    values: dict[str, Any] = {"attempts": attempts, "last_error": error, "state": "pending",
                              "fired_at": None, "fired_by": None}
    if gives_up(attempts, db.settings.timer_max_attempts):
        values["state"] = "failed"
        log.error("timer %s (%s) failed for good after %d attempts: %s", timer.key,
                  timer.kind, attempts, error)
    else:
        delay = retry_delay(attempts, db.settings.timer_retry_seconds)
        values["due_at"] = utcnow() + delay
        log.warning("timer %s (%s) failed (attempt %d), retried in %s: %s", timer.key,
                    timer.kind, attempts, delay, error)
    table = Timer.__table__
    session.execute(update(table).where(table.c.id == timer.id).values(**values))


def clear_handlers(kinds: Sequence[str]) -> None:
    """Forget the handlers of ``kinds`` (tests that register their own)."""
    for kind in kinds:
        _handlers.pop(kind, None)
