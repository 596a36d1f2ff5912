"""What a server process does besides answering requests, from start to stop.

The application's lifespan (see :func:`steward.app.create_app`) runs this in
every server process: the garbage collector is tuned for the alert writer, and
SLO burn alerts are evaluated periodically in the background until the process
stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from steward.config import Settings
from steward.db import Database
from steward.slos import burn_alerts

log = logging.getLogger("steward.slo")

# The alert writer allocates many short-lived objects (thousands of rows a second) in a
# process holding a large, long-lived heap (the app, SQLAlchemy's caches, the catalog
# graph); with Python's default thresholds the cyclic collector walks that heap over and
# over, about a fifth of the writer's time in a storm. Collections are made rarer, not
# stopped: garbage is still freed by reference counting, cycles a little later.
GC_THRESHOLDS = (10_000, 10, 100)

Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


def fewer_collections() -> None:
    current = gc.get_threshold()
    gc.set_threshold(*(max(now, wanted) for now, wanted in zip(current, GC_THRESHOLDS,
                                                               strict=True)))


def server_lifespan(settings: Settings, db: Database) -> Lifespan:
    """The lifespan of an application serving ``db`` with ``settings``."""
    interval = settings.slo_evaluate_interval

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        fewer_collections()
        evaluator = (asyncio.create_task(_evaluate_forever(db, interval)) if interval > 0
                     else None)
        try:
            yield
        finally:
            if evaluator is not None:
                evaluator.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await evaluator

    return lifespan


async def _evaluate_forever(db: Database, interval: float) -> None:
    """Evaluate burn alerts every STEWARD_SLO_EVALUATE_SECONDS while the server runs."""
    while True:
        await asyncio.sleep(interval)
        try:
            # Several server processes: whoever holds the lock evaluates, the others skip.
            await asyncio.to_thread(burn_alerts.run_evaluation, db, wait=False)
        except Exception:  # the loop must outlive one failed round
            log.exception("SLO evaluation failed")
