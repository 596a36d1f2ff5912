"""The alert writer: every ingest request's alerts recorded in groups, committed before
each request is answered.

One writer per application (the API keeps it). A request hands its integration key, the
integration types that key may have, and its alerts (``RecordAlert`` commands); the
writer queues them with other requests' and records each group in one transaction
(``record_group``: keys checked, alerts routed, then recorded by ``record_many``), so the
commit, the key checks and the correlation reads are paid once per group.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from steward.db import Database
from steward.db.conflicts import once_more_on_conflict, once_more_on_conflict_async
from steward.db.group_commit import GroupCommitter
from steward.incidents.commands import RecordAlert
from steward.incidents.use_cases.record_group import record_group

# Once a group has started, another request arriving within this long joins it. Under a
# steady stream of concurrent senders the groups are then about twice as large (and
# commits half as many) as when each takes only what is already queued; a lone request
# waits at most this long more.
GROUP_WAIT = 0.0005


class AlertWriter:
    def __init__(self, db: Database, *, max_wait: float = GROUP_WAIT):
        self.committer = GroupCommitter(db, max_wait=max_wait, run_group=record_group)

    def record(self, key: str | None, types: tuple[str, ...],
               commands: list[RecordAlert]) -> list[dict[str, Any]]:
        """Record the commands together, committed (with other requests' alerts) before
        this returns; tried once more if a concurrent twin in another process won a unique
        key. Each alert's outcome as the API reports it; raises what refused the request."""
        return once_more_on_conflict(lambda: self.committer.submit((key, types, commands)))

    async def record_async(self, key: str | None, types: tuple[str, ...],
                           commands: list[RecordAlert],
                           sender: Hashable | None = None) -> list[dict[str, Any]]:
        """:meth:`record` waiting on the event loop rather than in a worker thread.
        ``sender`` names the client connection, for the writer's grouping."""
        return await once_more_on_conflict_async(
            lambda: self.committer.submit_async((key, types, commands), sender))

    async def record_once_async(self, key: str | None, types: tuple[str, ...],
                                commands: list[RecordAlert],
                                sender: Hashable | None = None) -> list[dict[str, Any]]:
        """:meth:`record_async` without the second try: a lost race raises."""
        result: list[dict[str, Any]] = await self.committer.submit_async(
            (key, types, commands), sender)
        return result
