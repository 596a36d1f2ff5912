"""Timers on SQLite and PostgreSQL: scheduled in a transaction, fired once, retried,
given up on, canceled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from steward.db import Database, Session
from steward.jobs import timers
from steward.jobs.models import Timer
from steward.timeutil import utcnow

KINDS = ("test.record", "test.fail", "test.again", "test.child")
fired: list[timers.Fired] = []


def record(session: Session, timer: timers.Fired) -> None:
    fired.append(timer)


def fail(session: Session, timer: timers.Fired) -> None:
    # Its write must vanish with the failure.
    timers.schedule(session, "test.child", f"child:{timer.key}", utcnow())
    raise RuntimeError(f"{timer.key} cannot be done")


def again(session: Session, timer: timers.Fired) -> None:
    fired.append(timer)
    timers.schedule(session, timer.kind, timer.key, utcnow() + timedelta(minutes=5),
                    {"round": timer.payload.get("round", 0) + 1}, replace=True)


def child(session: Session, timer: timers.Fired) -> None:
    fired.append(timer)
    timers.schedule(session, "test.record", f"child:{timer.key}", utcnow(), {"from": timer.id})


@pytest.fixture(autouse=True)
def handlers() -> Iterator[None]:
    fired.clear()
    timers.register("test.record", record)
    timers.register("test.fail", fail)
    timers.register("test.again", again)
    timers.register("test.child", child)
    yield
    timers.clear_handlers(KINDS)
    fired.clear()


def rows(db: Database) -> dict[str, dict[str, Any]]:
    with db.read_session() as session:
        return {t.key: {"state": t.state, "attempts": t.attempts, "due_at": t.due_at,
                        "payload": t.payload, "fired_by": t.fired_by,
                        "fired_at": t.fired_at, "last_error": t.last_error, "kind": t.kind}
                for t in session.scalars(select(Timer))}


def add(db: Database, kind: str, key: str, due_in: timedelta = timedelta(0),
        payload: dict[str, Any] | None = None, *, replace: bool = False) -> None:
    with db.session() as session:
        timers.schedule(session, kind, key, utcnow() + due_in, payload, replace=replace)


def test_due_timers_fire_once_with_their_payload(db: Database) -> None:
    add(db, "test.record", "a", -timedelta(seconds=5), {"n": 1})
    add(db, "test.record", "b", timedelta(0), {"n": 2})
    add(db, "test.record", "later", timedelta(hours=1))
    assert timers.run_due(db, worker="w1") == 2
    assert sorted((f.key, f.payload["n"], f.attempts) for f in fired) == [
        ("a", 1, 0), ("b", 2, 0)]
    stored = rows(db)
    assert stored["a"]["state"] == stored["b"]["state"] == "done"
    assert stored["a"]["fired_by"] == "w1" and stored["a"]["fired_at"] is not None
    assert stored["later"]["state"] == "pending"
    assert timers.run_due(db, worker="w1") == 0  # nothing fires twice
    assert len(fired) == 2
    # Its time comes.
    assert timers.run_due(db, worker="w2", now=utcnow() + timedelta(hours=2)) == 1
    assert rows(db)["later"]["fired_by"] == "w2"


def test_a_round_fires_at_most_its_limit_oldest_first(db: Database) -> None:
    for n in range(5):
        add(db, "test.record", f"t{n}", -timedelta(minutes=10 - n))
    assert timers.run_due(db, worker="w", limit=2) == 2
    assert [f.key for f in fired] == ["t0", "t1"]
    assert timers.run_due(db, worker="w", limit=10) == 3


def test_scheduling_a_key_again_keeps_it_unless_replaced(db: Database) -> None:
    add(db, "test.record", "k", timedelta(minutes=5), {"v": 1})
    first = rows(db)["k"]
    add(db, "test.record", "k", timedelta(minutes=1), {"v": 2})
    assert rows(db)["k"]["due_at"] == first["due_at"]
    assert rows(db)["k"]["payload"] == {"v": 1}
    add(db, "test.record", "k", timedelta(minutes=1), {"v": 3}, replace=True)
    moved = rows(db)["k"]
    assert moved["due_at"] < first["due_at"] and moved["payload"] == {"v": 3}
    assert len(rows(db)) == 1


def test_a_done_or_canceled_key_stays_so_until_replaced(db: Database) -> None:
    add(db, "test.record", "once")
    add(db, "test.record", "stopped", timedelta(minutes=1))
    timers.run_due(db, worker="w")
    with db.session() as session:
        assert timers.cancel(session, key="stopped") == 1
    add(db, "test.record", "once")
    add(db, "test.record", "stopped")
    assert timers.run_due(db, worker="w", now=utcnow() + timedelta(hours=1)) == 0
    assert {k: r["state"] for k, r in rows(db).items()} == {"once": "done",
                                                           "stopped": "canceled"}
    add(db, "test.record", "once", replace=True)
    add(db, "test.record", "stopped", replace=True)
    assert timers.run_due(db, worker="w") == 2
    assert [f.key for f in fired] == ["once", "once", "stopped"]


def test_cancel_by_key_or_prefix_touches_pending_timers_only(db: Database) -> None:
    for key in ("escalation:1:0:1", "escalation:1:0:2", "escalation:12:0:1",
                "escalation:1_x", "other"):
        add(db, "test.record", key, timedelta(minutes=5))
    add(db, "test.record", "escalation:1:done")
    timers.run_due(db, worker="w")
    with db.session() as session:
        # "_" is no wildcard: escalation:1_x is not under escalation:1:
        assert timers.cancel(session, key_prefix="escalation:1:") == 2
        assert timers.cancel(session, key="other") == 1
        assert timers.cancel(session, key="other") == 0
        assert timers.cancel(session, key="missing") == 0
    states = {k: r["state"] for k, r in rows(db).items()}
    assert states == {"escalation:1:0:1": "canceled", "escalation:1:0:2": "canceled",
                      "escalation:12:0:1": "pending", "escalation:1_x": "pending",
                      "other": "canceled", "escalation:1:done": "done"}
    with db.session() as session, pytest.raises(ValueError):
        timers.cancel(session)


def test_scheduling_in_a_transaction_that_rolls_back_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        timers.schedule(session, "test.record", "ghost", utcnow())
        raise RuntimeError("the use case failed")
    assert rows(db) == {}


def test_a_handlers_writes_commit_with_its_timer(db: Database) -> None:
    add(db, "test.child", "parent")
    assert timers.run_due(db, worker="w") == 1
    stored = rows(db)
    assert stored["parent"]["state"] == "done"
    assert stored["child:parent"]["state"] == "pending"
    assert timers.run_due(db, worker="w") == 1
    assert fired[-1].key == "child:parent"


def test_a_failing_handler_is_retried_later_and_others_still_fire(db: Database) -> None:
    add(db, "test.record", "before", -timedelta(seconds=2))
    add(db, "test.fail", "broken", -timedelta(seconds=1))
    add(db, "test.record", "after")
    started = utcnow()
    result = timers.run_round(db, worker="w")
    assert (result.fired, result.failed) == (2, 1)
    stored = rows(db)
    assert stored["before"]["state"] == stored["after"]["state"] == "done"
    broken = stored["broken"]
    assert broken["state"] == "pending" and broken["attempts"] == 1
    assert broken["last_error"] == "RuntimeError: broken cannot be done"
    assert broken["fired_at"] is None
    # Retried after STEWARD_TIMER_RETRY_SECONDS (10 s), not at once.
    assert started + timedelta(seconds=9) < broken["due_at"] < utcnow() + timedelta(seconds=11)
    assert "child:broken" not in stored  # the handler's write rolled back with it
    assert timers.run_due(db, worker="w") == 0


def test_a_handler_failing_every_time_ends_failed(db: Database) -> None:
    add(db, "test.fail", "hopeless")
    attempts = db.settings.timer_max_attempts
    assert attempts == 8
    later = utcnow()
    for n in range(1, attempts + 1):
        later += timedelta(hours=2)  # past any backoff
        assert timers.run_round(db, worker="w", now=later).failed == 1
        assert rows(db)["hopeless"]["attempts"] == n
    stored = rows(db)["hopeless"]
    assert stored["state"] == "failed"
    assert "cannot be done" in stored["last_error"]
    assert timers.run_due(db, worker="w", now=later + timedelta(days=1)) == 0
    # Scheduled again on purpose, it gets a fresh start.
    add(db, "test.fail", "hopeless", replace=True)
    again_stored = rows(db)["hopeless"]
    assert (again_stored["state"], again_stored["attempts"]) == ("pending", 0)


def test_a_handler_may_schedule_its_own_key_for_next_time(db: Database) -> None:
    add(db, "test.again", "every-5-min", payload={"round": 0})
    assert timers.run_due(db, worker="w") == 1
    stored = rows(db)["every-5-min"]
    assert stored["state"] == "pending" and stored["payload"] == {"round": 1}
    assert stored["due_at"] > utcnow() + timedelta(minutes=4)
    assert timers.run_due(db, worker="w", now=utcnow() + timedelta(minutes=6)) == 1
    assert [f.payload["round"] for f in fired] == [0, 1]


def test_kinds_without_a_handler_here_wait_for_a_process_that_has_one(db: Database) -> None:
    add(db, "test.elsewhere", "theirs")
    add(db, "test.record", "ours")
    assert timers.run_due(db, worker="w") == 1
    assert rows(db)["theirs"]["state"] == "pending"


def test_bad_arguments_are_refused(db: Database) -> None:
    with db.session() as session:
        with pytest.raises(ValueError, match="key"):
            timers.schedule(session, "test.record", "", utcnow())
        with pytest.raises(ValueError, match="key"):
            timers.schedule(session, "test.record", "k" * 201, utcnow())
        with pytest.raises(ValueError, match="kind"):
            timers.schedule(session, "k" * 61, "key", utcnow())
        with pytest.raises(ValueError, match="timezone"):
            timers.schedule(session, "test.record", "key", utcnow().replace(tzinfo=None))
    with pytest.raises(ValueError, match="kind"):
        timers.register("", record)
