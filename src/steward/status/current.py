"""The computed public page, shared by the Statuspage API and the ``/status`` pages:
each process reads it at most once per cache period (``steward.status.cache``)."""

from __future__ import annotations

from typing import Any

from steward.db import Database
from steward.status import queries
from steward.status.cache import TimedCache


def current_page(db: Database, cache: TimedCache) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        with db.read_session() as session:
            return queries.page(session)
    page: dict[str, Any] = cache.get("page", compute)
    return page
