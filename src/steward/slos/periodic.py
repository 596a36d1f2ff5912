"""SLO burn alerts evaluated on a schedule: one recurring timer, fired by one process.

The timer (kind and key ``slo.evaluate``, payload ``{"every": seconds}``) is armed
when a server or a worker starts, from STEWARD_SLO_EVALUATE_SECONDS (``0`` cancels
it). Its handler evaluates every SLO in the firing transaction and schedules itself
``every`` seconds later, so however many processes run, each round happens once.
A failed evaluation is logged and the next one is still scheduled: a recurring job
never gives up the way a one-off timer does.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from steward.jobs import queries as timer_queries
from steward.jobs import timers
from steward.slos.burn_alerts import evaluate_all, lock_evaluation
from steward.timeutil import utcnow

KIND = KEY = "slo.evaluate"

log = logging.getLogger("steward.slo")


def evaluate_on_timer(session: Session, fired: timers.Fired) -> None:
    every = float(fired.payload.get("every") or 0)
    try:
        with session.begin_nested():
            lock_evaluation(session, wait=True)
            evaluate_all(session)
    except Exception:
        log.exception("SLO evaluation failed")
    if every > 0:
        _schedule(session, every)


def arm(session: Session, every: float) -> None:
    """Evaluate every ``every`` seconds from now on (0: never), unless a timer with that
    period already waits."""
    if every <= 0:
        timers.cancel(session, key=KEY)
        return
    current = timer_queries.timer_state(session, KEY)
    if current is not None and current[0] == "pending" and current[1].get("every") == every:
        return
    _schedule(session, every)


def _schedule(session: Session, every: float) -> None:
    timers.schedule(session, KIND, KEY, utcnow() + timedelta(seconds=every),
                    {"every": every}, replace=True)


timers.register(KIND, evaluate_on_timer)
