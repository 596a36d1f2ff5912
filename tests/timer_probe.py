"""A timer kind for tests and benchmarks of the loop, loaded into real worker processes
with ``steward worker --handlers timer_probe`` (``tests/`` on PYTHONPATH).

``probe.insert`` inserts one row (the timer's id and the process's id) into
``timer_probe``, in the firing transaction: a timer fired twice leaves two rows. With
``{"sleep": seconds}`` in its payload it sleeps first, so a test can kill a worker in
the middle of its round. With TIMER_PROBE_LOG set, it appends ``<pid> <timer id>`` to
that file as it starts (outside the transaction, so it shows what a killed worker had
claimed).
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from steward.db import Database
from steward.jobs import timers
from steward.jobs.models import Timer
from steward.timeutil import utcnow

KIND = "probe.insert"


def create_table(db: Database) -> None:
    with db.session() as session:
        session.execute(text("CREATE TABLE timer_probe (timer_id INTEGER NOT NULL, "
                             "pid INTEGER NOT NULL)"))


def schedule_many(db: Database, count: int, *, sleep: float = 0.0,
                  due: datetime | None = None) -> None:
    """``count`` due probe timers, written in one statement."""
    due = due or utcnow() - timedelta(seconds=1)
    payload = {"sleep": sleep} if sleep else {}
    now = utcnow()
    with db.session() as session:
        session.execute(Timer.__table__.insert(), [
            {"kind": KIND, "key": f"probe:{n}", "due_at": due, "payload": payload,
             "state": "pending", "attempts": 0, "created_at": now} for n in range(count)])


def probe(session: Session, fired: timers.Fired) -> None:
    log = os.environ.get("TIMER_PROBE_LOG")
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{os.getpid()} {fired.id}\n".encode())
        finally:
            os.close(fd)
    if fired.payload.get("sleep"):
        time.sleep(float(fired.payload["sleep"]))
    session.execute(text("INSERT INTO timer_probe (timer_id, pid) VALUES (:id, :pid)"),
                    {"id": fired.id, "pid": os.getpid()})


timers.register(KIND, probe)
