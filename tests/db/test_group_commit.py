"""Group commit: answers only after commit, and a bad piece fails alone."""

from __future__ import annotations

import threading

import pytest
from helpers import make_team
from sqlalchemy import select

from steward.catalog.models import Team
from steward.db.group_commit import GroupCommitter
from steward.errors import ValidationError


def test_concurrent_pieces_commit_together_and_a_bad_one_fails_alone(sqlite_db):
    writer = GroupCommitter(sqlite_db, max_wait=0.05)
    results: dict[str, object] = {}
    start = threading.Barrier(6)

    def piece(name: str) -> None:
        def work(session):  # type: ignore[no-untyped-def]
            if name == "bad":
                raise ValidationError("name: refused", field="name")
            session.add(Team(name=name, display_name=name))
            session.flush()
            return name

        start.wait()
        try:
            results[name] = writer.submit(work)
        except ValidationError as exc:
            results[name] = exc

    names = ["a", "b", "bad", "c", "d", "e"]
    threads = [threading.Thread(target=piece, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert isinstance(results.pop("bad"), ValidationError)
    assert results == {n: n for n in names if n != "bad"}
    with sqlite_db.read_session() as session:
        assert sorted(session.scalars(select(Team.name))) == ["a", "b", "c", "d", "e"]


def test_a_failed_commit_reaches_every_waiter(sqlite_db):
    make_team(sqlite_db, "taken")
    writer = GroupCommitter(sqlite_db)

    def duplicate(session):  # type: ignore[no-untyped-def]
        session.add(Team(name="taken", display_name="again"))
        session.flush()

    with pytest.raises(Exception, match=r"UNIQUE|unique"):
        writer.submit(duplicate)


class _Groups:
    """A run_group that only remembers each group's pieces."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []

    def __call__(self, session, pieces):  # type: ignore[no-untyped-def]
        self.groups.append(list(pieces))
        return list(pieces)


def _round(writer: GroupCommitter, *pieces: tuple[str, str, float]) -> None:
    """Submit (piece, sender, delay before it) in order and wait for every answer."""
    import time

    futures = []
    for piece, sender, delay in pieces:
        time.sleep(delay)
        futures.append(writer.submit_future(piece, sender))
    for future in futures:
        future.result(timeout=30)


def test_a_group_starts_once_every_sender_of_the_last_one_is_back(sqlite_db):
    """Senders that wait for their answers come back together: when all of the last
    group's senders are in, the group starts without waiting out the window, so a
    newcomer arriving meanwhile goes to the next group."""
    groups = _Groups()
    writer = GroupCommitter(sqlite_db, max_wait=1.0, run_group=groups)
    _round(writer, ("a1", "A", 0), ("b1", "B", 0))
    _round(writer, ("a2", "A", 0), ("b2", "B", 0), ("c2", "C", 0.3))
    assert groups.groups == [["a1", "b1"], ["a2", "b2"], ["c2"]]


def test_a_group_waits_for_a_sender_of_the_last_one_still_missing(sqlite_db):
    groups = _Groups()
    writer = GroupCommitter(sqlite_db, max_wait=1.0, run_group=groups)
    _round(writer, ("a1", "A", 0), ("b1", "B", 0))
    _round(writer, ("a2", "A", 0), ("b2", "B", 0.3))
    assert groups.groups == [["a1", "b1"], ["a2", "b2"]]


def test_a_sender_that_cannot_be_compared_is_grouped_as_any_other(sqlite_db):
    """A sender name the writer cannot hash (an ASGI server handing the client address as a
    list) must not stop the writer: the piece is recorded and answered."""
    groups = _Groups()
    writer = GroupCommitter(sqlite_db, run_group=groups)
    assert writer.submit_future("a", ["10.0.0.1", 5000]).result(timeout=30) == "a"  # type: ignore[arg-type]
    assert writer.submit_future("b", ("10.0.0.1", 5000)).result(timeout=30) == "b"
