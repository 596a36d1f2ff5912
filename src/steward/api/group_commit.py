"""Group commit: the events of many concurrent requests committed in one transaction.

Each request hands its work to one writer thread and waits; the writer runs
whatever has queued up in one transaction, commits once, and only then answers
every waiting request. If any piece fails, the group is rolled back and each
piece runs again alone, so only the bad one fails. A
request is never answered before its events are committed, and the commit,
the checks of the integration key and the correlation caches are paid once
per group instead of once per request.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from steward.db import Database

T = TypeVar("T")
Work = Callable[[Session], Any]


class GroupCommitter:
    def __init__(self, db: Database, *, max_items: int = 200, max_wait: float = 0.002):
        self.db = db
        self.max_items = max_items
        self.max_wait = max_wait
        self._queue: queue.Queue[tuple[Future[Any], Work]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in the next group; returns once that group is committed."""
        self._ensure_started()
        future: Future[T] = Future()
        self._queue.put((future, work))
        return future.result()

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="steward-group-commit",
                                                daemon=True)
                self._thread.start()

    def _take_group(self) -> list[tuple[Future[Any], Work]]:
        group = [self._queue.get()]
        while len(group) < self.max_items:
            try:
                group.append(self._queue.get(timeout=self.max_wait))
            except queue.Empty:
                break
        return group

    def _run(self) -> None:
        while True:
            group = self._take_group()
            try:
                with self.db.session() as session:
                    results = [work(session) for _future, work in group]
            except Exception:  # noqa: BLE001 - one piece failed: nothing of the group is stored
                self._one_by_one(group)
                continue
            for (future, _work), result in zip(group, results, strict=True):
                future.set_result(result)

    def _one_by_one(self, group: list[tuple[Future[Any], Work]]) -> None:
        """The slow path after a failure: each piece alone, so only the bad one fails."""
        for future, work in group:
            try:
                with self.db.session() as session:
                    result = work(session)
            except Exception as exc:  # noqa: BLE001 - handed to its request
                future.set_exception(exc)
            else:
                future.set_result(result)
