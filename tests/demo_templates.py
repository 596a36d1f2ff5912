"""The demo organisation seeded once and copied for each test that starts from it.

Seeding takes seconds (it goes through the use cases, as ``steward demo`` does); a
copy takes milliseconds: on SQLite a copy of the file, on PostgreSQL ``CREATE
DATABASE ... TEMPLATE``. Each test gets its own copy, so tests stay independent.

The demo places its records relative to the moment it is seeded: a live incident
that began minutes ago, SLO reports for the hours up to the current one, twelve
weeks of KPI history up to today. A template is therefore seeded again when it is
older than ``MAX_AGE`` or the hour has turned since: a copy reads as a seed made
just before the test would.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from steward.auth.secret_key import default_key_file
from steward.catalog import graph
from steward.config import Settings, normalise_database_url
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
    """Seeded templates of the demo (``kpi_history`` or not), per backend, made on first
    use and again when they get old (see the module's docstring)."""

    def __init__(self, folder: Path, sqlite_empty: Path, postgres_url: str,
                 migrated: Callable[[str], Database]) -> None:
        self.folder = folder
        self.sqlite_empty = sqlite_empty
        self.postgres_url = postgres_url
        self.migrated = migrated
        self.prefix = f"steward_demo_{uuid.uuid4().hex[:8]}"
        self.seeds = 0
        self._sqlite: dict[bool, tuple[Path, datetime]] = {}
        self._postgres: dict[bool, tuple[str, datetime]] = {}
        self._dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-copies")
        self._dropping: list[Future[None]] = []

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

    @property
    def _admin_url(self) -> URL:
        return make_url(normalise_database_url(self.postgres_url))

    def url(self, name: str) -> str:
        return self._admin_url.set(database=name).render_as_string(hide_password=False)

    def admin(self, statement: str) -> None:
        engine = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(statement))
        finally:
            engine.dispose()

    def drop(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_later(self, name: str) -> None:
        """Drops a copy while the next test runs: PostgreSQL (before 16) makes every
        DROP DATABASE wait for a checkpoint, seconds on a busy server."""
        self._dropping.append(self._dropper.submit(self.drop, name))

    def postgres_template(self, *, kpi_history: bool) -> str:
        made = self._postgres.get(kpi_history)
        if made is not None and _fresh(made[1]):
            return made[0]
        self.seeds += 1
        name = f"{self.prefix}_{self.seeds}{'_kpi' if kpi_history else ''}"
        self.admin(f'CREATE DATABASE "{name}"')
        seeded_at = utcnow()
        db = self.migrated(self.url(name))
        try:
            seed_demo(db, kpi_history=kpi_history)
        finally:
            db.dispose()
        graph.clear_cache()
        if made is not None:
            self.drop(made[0])
        self._postgres[kpi_history] = (name, seeded_at)
        return name

    def postgres_copy(self, *, kpi_history: bool = False) -> str:
        """A new database copied from the template; its name (the caller drops it)."""
        source = self.postgres_template(kpi_history=kpi_history)
        name = f"{source}_copy_{uuid.uuid4().hex[:8]}"
        # PostgreSQL refuses to copy a database anyone is connected to: a session that
        # has not gone yet is ended and the copy tried again.
        for attempt in range(5):
            try:
                self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
                return name
            except OperationalError as exc:
                if "being accessed by other users" not in str(exc) or attempt == 4:
                    raise
            self.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       f"WHERE datname = '{source}' AND pid <> pg_backend_pid()")
            time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._dropper.shutdown(wait=True)
        for name, _ in self._postgres.values():
            self.drop(name)
        for dropped in self._dropping:
            dropped.result()  # a copy that could not be dropped is an error of the run
