"""Engine, sessions and the declarative base.

SQLite runs in WAL mode with foreign keys on. Write transactions on SQLite
start with ``BEGIN IMMEDIATE`` so two writers never read the same audit chain
head and then fail to upgrade their lock; reads use a separate engine with
ordinary deferred transactions so they never wait for writers.

Engines hide statement parameters: an error's message (and so the server's log)
names the statement, never the values (password hashes, secrets, alert text).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    create_engine,
    event,
    func,
    or_,
    text,
)
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.orm import Session as Session  # pages name the type without SQLAlchemy
from sqlalchemy.schema import Table
from sqlalchemy.types import TypeDecorator

from steward.config import Settings
from steward.timeutil import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def text_search(text: str, *columns: Any) -> Any:
    """Case-insensitive "contains" over columns; % and _ in the text match themselves."""
    needle = text.strip().lower()
    return or_(*(func.lower(column).contains(needle, autoescape=True) for column in columns))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        # Every model maps one Table (none maps a join or a select), which Core
        # statements and the drivers' bulk inserts take.
        __table__: ClassVar[Table]


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always hands back timezone-aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


class WriterLock:
    """Queues SQLite write transactions: this process's threads on a lock, and Steward's
    processes (``serve --workers N``, the CLI) on an ``flock`` of a file beside the
    database (``<database>-lock``), so a writer starts the moment the previous one
    commits. SQLite's own busy handler, which still guards anything else, polls with
    sleeps of up to 100 ms."""

    def __init__(self, database: Path | None):
        self._threads = threading.RLock()
        self._path = None if database is None else database.with_name(database.name + "-lock")
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> WriterLock:
        self._threads.acquire()
        try:
            if self._depth == 0 and self._path is not None:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1
        return self

    def __exit__(self, *_exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


class Database:
    """The engines and session factories of one Steward database."""

    def __init__(self, settings: Settings):
        self.settings = settings
        url = settings.database_url
        if settings.is_sqlite:
            path = settings.sqlite_path
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True,
                                        hide_parameters=True)
            self.read_engine = self.engine
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time: queue writers on a lock instead of letting
        # them sleep and retry in SQLite's busy handler.
        self._write_lock = (WriterLock(settings.sqlite_path) if settings.is_sqlite
                            else None)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.settings.database_url

    def describe(self) -> str:
        path: Path | None = self.settings.sqlite_path
        if path is not None:
            return f"SQLite file {path}"
        return self.engine.url.render_as_string(hide_password=True)

    def session(self) -> AbstractContextManager[Session]:
        """A write session: commits on success, rolls back on any error."""
        return self._committed(self._write)

    def session_on(self, connection: Connection) -> AbstractContextManager[Session]:
        """:meth:`session` on a connection the caller keeps between transactions (a busy
        writer spares itself the pool's checkout and, on PostgreSQL, its ping)."""
        return self._committed(lambda: Session(bind=connection, expire_on_commit=False))

    @contextmanager
    def _committed(self, make: Callable[[], Session]) -> Iterator[Session]:
        lock = self._write_lock or contextlib.nullcontext()
        with lock, make() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with self._read() as session:
            try:
                yield session
            finally:
                session.rollback()

    def ping(self) -> None:
        """One round trip on a read connection: raises when the database does not answer."""
        with self.read_session() as session:
            session.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
