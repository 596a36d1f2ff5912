"""The loop: a backlog drains without waiting between full rounds; stopping waits for
the round under way; a round that fails as a whole does not end the loop."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from steward.db import Database, Session
from steward.jobs import timers
from steward.jobs.loop import TimerLoop, worker_name
from steward.jobs.models import Timer
from steward.timeutil import utcnow


def pending(db: Database) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Timer).where(
            Timer.state == "pending")) or 0


def test_a_backlog_drains_at_once_and_stop_waits_for_the_round(sqlite_db: Database) -> None:
    db = sqlite_db
    in_round = threading.Event()
    release = threading.Event()

    def handler(session: Session, timer: timers.Fired) -> None:
        if timer.key == "slow":
            in_round.set()
            release.wait(10)

    timers.register("loop.test", handler)
    try:
        with db.session() as session:
            for n in range(250):
                timers.schedule(session, "loop.test", f"t{n}", utcnow() - timedelta(seconds=1))
        # A poll of a minute: only draining without waiting fires 250 with batches of 100.
        loop = TimerLoop(db, worker=worker_name("test"), poll=60, batch=100)
        loop.start()
        deadline = time.monotonic() + 20
        while pending(db) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pending(db) == 0 and loop.fired == 250
        assert loop.stop(timeout=5)

        with db.session() as session:
            timers.schedule(session, "loop.test", "slow", utcnow())
        loop = TimerLoop(db, worker=worker_name("test"), poll=60, batch=100)
        loop.start()
        assert in_round.wait(10)
        assert not loop.stop(timeout=0.2)  # the round under way holds it
        release.set()
        assert loop.stop(timeout=10)
        assert pending(db) == 0 and loop.fired == 1
    finally:
        timers.clear_handlers(["loop.test"])


def test_the_loop_outlives_a_failed_round(sqlite_db: Database, monkeypatch) -> None:
    from steward.jobs import loop as loop_module

    calls = []

    def failing_round(db: Database, **_kwargs: object) -> timers.Round:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the database went away")
        return timers.Round()

    monkeypatch.setattr(loop_module, "run_round", failing_round)
    monkeypatch.setattr(loop_module, "PAUSE_AFTER_ERROR", 0.05)
    loop = TimerLoop(sqlite_db, worker="w", poll=0.05, batch=10)
    loop.start()
    deadline = time.monotonic() + 10
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert loop.stop(timeout=5)
    assert len(calls) >= 3


def test_worker_names_say_role_host_and_process() -> None:
    name = worker_name("serve")
    assert name.startswith("serve@") and name.rsplit(":", 1)[1].isdigit()
