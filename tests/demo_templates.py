"""The demo organisation seeded once and copied for each test that starts from it.

Seeding takes seconds (it goes through the use cases, as ``steward demo`` does); a
copy takes a fraction of one: on SQLite a copy of the file, on PostgreSQL the seeded
rows written back into the session's test database (``snapshots``). Each test gets
its own copy, so tests stay independent.

The demo places its records relative to the moment it is seeded: a live incident
that began minutes ago, SLO reports for the hours up to the current one, twelve
weeks of KPI history up to today. A template is therefore seeded again when it is
older than ``MAX_AGE`` or the hour has turned since: a copy reads as a seed made
just before the test would.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import snapshots
from snapshots import Snapshot
from steward.auth.secret_key import default_key_file
from steward.catalog import graph
from steward.config import Settings
from steward.db import Database
from steward.demo.seed import seed_demo
from steward.timeutil import utcnow

MAX_AGE = timedelta(minutes=10)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _fresh(seeded_at: datetime) -> bool:
    now = utcnow()
    return now - seeded_at < MAX_AGE and _hour(now) == _hour(seeded_at)


def copy_sqlite(source: Path, target: Path) -> None:
    """A copy of an SQLite database whose WAL was checkpointed and closed, with the key
    file Steward keeps beside it (when sealing a secret made one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        shutil.copy(wal, target.with_name(target.name + "-wal"))
    key = default_key_file(source)
    if key.exists():
        shutil.copy(key, default_key_file(target))


class DemoTemplates:
    """The seeded demo (``kpi_history`` or not) per backend: an SQLite file, or a snapshot
    of a PostgreSQL database's rows; made on first use and again when they get old (see
    the module's docstring)."""

    def __init__(self, folder: Path, sqlite_empty: Path,
                 reset_postgres: Callable[[Database], None]) -> None:
        self.folder = folder
        self.sqlite_empty = sqlite_empty
        self.reset_postgres = reset_postgres
        self.seeds = 0
        self._sqlite: dict[bool, tuple[Path, datetime]] = {}
        self._postgres: dict[bool, tuple[Snapshot, datetime]] = {}

    # SQLite

    def sqlite_template(self, *, kpi_history: bool) -> Path:
        made = self._sqlite.get(kpi_history)
        if made is not None and _fresh(made[1]):
            return made[0]
        self.seeds += 1
        path = self.folder / f"demo-{self.seeds}{'-kpi' if kpi_history else ''}.db"
        copy_sqlite(self.sqlite_empty, path)
        seeded_at = utcnow()
        db = Database(Settings(database_url=f"sqlite:///{path}"))
        try:
            seed_demo(db, kpi_history=kpi_history)
        finally:
            db.dispose()
        # Everything into the file itself, so that a copy of the file is the database.
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        graph.clear_cache()
        if made is not None:
            for stale in made[0].parent.glob(made[0].name + "*"):
                stale.unlink()
        self._sqlite[kpi_history] = (path, seeded_at)
        return path

    def sqlite_copy(self, target: Path, *, kpi_history: bool = False) -> None:
        copy_sqlite(self.sqlite_template(kpi_history=kpi_history), target)

    # PostgreSQL

    def postgres_snapshot(self, url: str, *, kpi_history: bool) -> Snapshot:
        """The demo seeded into the session's PostgreSQL database (``url``), as rows to
        write back into it for each test (``snapshots.restore``)."""
        made = self._postgres.get(kpi_history)
        if made is not None and _fresh(made[1]):
            return made[0]
        self.seeds += 1
        seeded_at = utcnow()
        db = Database(Settings(database_url=url))
        try:
            self.reset_postgres(db)
            seed_demo(db, kpi_history=kpi_history)
            snapshot = snapshots.take(db)
        finally:
            db.dispose()
        self._postgres[kpi_history] = (snapshot, seeded_at)
        return snapshot
