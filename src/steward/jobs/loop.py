"""The loop that fires due timers: one in every server process, one per ``steward worker``.

Each round is :func:`steward.jobs.timers.run_round`. A round that fired a whole batch
is followed at once by the next (a backlog drains at full speed); otherwise the loop
waits STEWARD_WORKER_POLL_SECONDS. Stopping lets the round under way finish and
commit; a process killed mid-round loses only its uncommitted round, whose timers
another process fires.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from steward.db import Database
from steward.jobs.timers import Round, run_round

log = logging.getLogger("steward.jobs")

# After a round that failed as a whole (the database away), the loop waits at least this
# long before the next, so an outage is not logged every poll.
PAUSE_AFTER_ERROR = 5.0


def worker_name(role: str) -> str:
    """Who fired a timer, as ``timers.fired_by`` records it: ``serve@host:pid``."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"


class TimerLoop:
    """Runs rounds until stopped, in the calling thread (:meth:`run`) or its own
    (:meth:`start`); counts what it fired."""

    def __init__(self, db: Database, *, worker: str, poll: float | None = None,
                 batch: int | None = None):
        self.db = db
        self.worker = worker
        self.poll = poll if poll is not None else db.settings.worker_poll_seconds
        self.batch = batch if batch is not None else db.settings.worker_batch
        self.fired = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Round:
        """One round; its figures are added to the loop's."""
        result = run_round(self.db, worker=self.worker, limit=self.batch)
        self.fired += result.fired
        self.failed += result.failed
        return result

    def run(self) -> None:
        """Rounds until :meth:`stop` (or :meth:`stop_soon`)."""
        while not self._stop.is_set():
            try:
                result = self.run_once()
            except Exception:
                log.exception("a round of timers failed; trying again")
                self._stop.wait(max(self.poll, PAUSE_AFTER_ERROR))
                continue
            if result.ran < self.batch:
                self._stop.wait(self.poll)

    def start(self) -> None:
        """Run in a thread of its own (a server process's)."""
        self._thread = threading.Thread(target=self.run, name="steward-timers", daemon=True)
        self._thread.start()

    def stop_soon(self) -> None:
        """Stop after the round under way (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop and wait for the round under way; False when it outlasted ``timeout``."""
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()
