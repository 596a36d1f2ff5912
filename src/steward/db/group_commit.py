"""Group commit: the events of many concurrent requests committed in one transaction.

Each request hands its piece of work to one writer thread and waits; the
writer runs whatever has queued up in one transaction, commits once, and only
then answers every waiting request. If the group fails, it is rolled back and
each piece runs again alone, so only the bad one fails. A request is never
answered before its events are committed, and the commit, the checks of the
integration key and the correlation caches are paid once per group instead of
once per request.

By default a piece is a function of the session. A committer may instead be
given ``run_group``, which receives every piece of a group at once (so it can
write them with a few bulk statements) and returns one result per piece: a
value, or an exception for a piece refused before it wrote anything (that
piece fails alone, the others commit).

Requests wait either blocking (:meth:`submit`, from a worker thread) or on the
event loop (:meth:`submit_async`), which spares the threadpool hop per request.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from steward.db import Database

T = TypeVar("T")
Work = Callable[[Session], Any]
RunGroup = Callable[[Session, Sequence[Any]], list[Any]]
Item = tuple[Future[Any], Any, Hashable | None]  # a request's future, its piece, its sender


# The writer keeps its connection between groups while requests keep coming, and gives it
# back to the pool after this long without one. Senders waiting for their answers leave the
# queue empty for a moment after every group: giving the connection back then cost a pool
# checkout (on PostgreSQL with its ping, a round trip) for nearly every group.
KEEP_CONNECTION = 1.0


def _run_each(session: Session, pieces: Sequence[Any]) -> list[Any]:
    return [work(session) for work in pieces]


class GroupCommitter:
    def __init__(self, db: Database, *, max_items: int = 200, max_wait: float = 0.0,
                 run_group: RunGroup | None = None, keep_connection: float = KEEP_CONNECTION):
        self.db = db
        self.max_items = max_items
        self.max_wait = max_wait
        self.keep_connection = keep_connection
        self.run_group = run_group or _run_each
        self._queue: queue.Queue[Item] = queue.Queue()
        self._last_senders: frozenset[Hashable] = frozenset()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._connection: Connection | None = None

    def submit(self, piece: Any, sender: Hashable | None = None) -> Any:
        """Run ``piece`` in the next group; returns once that group is committed.

        ``sender`` names where the piece came from (a client connection): see
        :meth:`_take_group`."""
        return self.submit_future(piece, sender).result()

    async def submit_async(self, piece: Any, sender: Hashable | None = None) -> Any:
        """:meth:`submit` for a coroutine: waits on the event loop, not in a thread."""
        return await asyncio.wrap_future(self.submit_future(piece, sender))

    def submit_future(self, piece: Any, sender: Hashable | None = None) -> Future[Any]:
        try:
            hash(sender)
        except TypeError:  # not a name the writer can compare: the piece waits as any other
            sender = None
        self._ensure_started()
        future: Future[Any] = Future()
        self._queue.put((future, piece, sender))
        return future

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="steward-group-commit",
                                                daemon=True)
                self._thread.start()

    def _take_group(self) -> list[Item]:
        """The next group: what is queued, and what arrives within ``max_wait`` of the last
        piece, unless every sender of the previous group has already sent its next piece.
        Keep-alive senders that each wait for their answer before sending again (webhook
        receivers, exporters) come back together after every group; once all of them are
        in, waiting longer only delays the group."""
        try:
            first = self._queue.get(timeout=self.keep_connection)
        except queue.Empty:
            self._release_connection()  # idle: back to the pool until work comes
            first = self._queue.get()
        group = [first]
        expected, senders = self._last_senders, {first[2]}
        while len(group) < self.max_items:
            try:
                if self.max_wait > 0 and not (expected and expected <= senders):
                    item = self._queue.get(timeout=self.max_wait)
                else:
                    item = self._queue.get_nowait()
            except queue.Empty:
                break
            group.append(item)
            senders.add(item[2])
        senders.discard(None)
        self._last_senders = frozenset(senders)
        return group

    def _run(self) -> None:
        while True:
            group = self._take_group()
            try:
                with self._session() as session:
                    results = self.run_group(session, [item[1] for item in group])
            except Exception:  # noqa: BLE001 - one piece failed: nothing of the group is stored
                self._release_connection()  # it may be the connection that failed
                self._one_by_one(group)
                continue
            for (future, _piece, _sender), result in zip(group, results, strict=True):
                _settle(future, result)

    def _session(self) -> AbstractContextManager[Session]:
        """A write session on the connection kept while requests keep coming (see
        ``KEEP_CONNECTION``)."""
        if self._connection is None:
            self._connection = self.db.engine.connect()
        return self.db.session_on(self._connection)

    def _release_connection(self) -> None:
        """Back to the pool when idle (a server holds no connection it does not use)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - a broken connection: the pool drops it
                pass

    def _one_by_one(self, group: list[Item]) -> None:
        """The slow path after a failure: each piece alone, so only the bad one fails."""
        for future, piece, _sender in group:
            try:
                with self.db.session() as session:
                    (result,) = self.run_group(session, [piece])
            except Exception as exc:  # noqa: BLE001 - handed to its request
                future.set_exception(exc)
            else:
                _settle(future, result)


def _settle(future: Future[Any], result: Any) -> None:
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
