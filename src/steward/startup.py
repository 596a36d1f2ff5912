"""What a server process does besides answering requests, from start to stop.

The application's lifespan (see :func:`steward.app.create_app`) runs this in
every server process: the garbage collector is tuned for the alert writer, the
recurring timers the settings ask for are armed (SLO burn-alert evaluation), and
a thread fires due timers (:mod:`steward.jobs.loop`) until the process stops.
``steward worker`` arms the same timers and runs the same loop on its own.

Timer handlers register when their modules are imported; this module imports the
ones of the work it arms, and the application imports every domain (so every
handler) before a server or a worker fires anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from steward.config import Settings
from steward.db import Database
from steward.jobs.loop import TimerLoop, worker_name
from steward.slos import periodic as slo_periodic

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


def arm_recurring(settings: Settings, db: Database) -> None:
    """The recurring timers as the settings ask for them: SLO evaluation every
    STEWARD_SLO_EVALUATE_SECONDS (0: none)."""
    with db.session() as session:
        slo_periodic.arm(session, settings.slo_evaluate_interval)


def server_lifespan(settings: Settings, db: Database) -> Lifespan:
    """The lifespan of an application serving ``db`` with ``settings``."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        fewer_collections()
        await asyncio.to_thread(arm_recurring, settings, db)
        loop = TimerLoop(db, worker=worker_name("serve"), poll=settings.worker_poll_seconds,
                         batch=settings.worker_batch)
        loop.start()
        try:
            yield
        finally:
            await asyncio.to_thread(loop.stop)

    return lifespan
