"""A small in-process cache for the public status page's answers.

During an outage everyone opens the status page at once; it is the same for every
visitor, so each process computes it at most once per ``ttl`` seconds and serves the
bytes it made to everyone else. One computation at a time per key: the others wait for
it rather than all reading the database together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

DEFAULT_TTL = 2.0


class TimedCache:
    def __init__(self, ttl: float = DEFAULT_TTL, *, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._values: dict[str, tuple[float, Any]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        """The value kept for ``key`` if younger than ``ttl``, else ``compute()``'s."""
        found = self._values.get(key)
        if found is not None and self._clock() - found[0] < self.ttl:
            return found[1]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            found = self._values.get(key)
            if found is not None and self._clock() - found[0] < self.ttl:
                return found[1]
            value = compute()
            self._values[key] = (self._clock(), value)
            return value

    def clear(self) -> None:
        """Forget everything: the next request computes afresh (after an admin's change)."""
        self._values.clear()


def cache_of(state: Any) -> TimedCache:
    """The application's status page cache (``app.state``), made on first use."""
    found: TimedCache | None = getattr(state, "status_cache", None)
    if found is None:
        found = state.status_cache = TimedCache()
    return found
