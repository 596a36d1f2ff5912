"""SQLite: copies made with SQLite's online backup API.

The copy is one consistent snapshot even while servers keep writing (a read
transaction on a WAL database sees one state and never blocks the writers);
a restore writes the snapshot into the live file through the same API, so the
database's locks and write-ahead log stay coherent.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

MAGIC = b"SQLite format 3\x00"


def is_sqlite_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def backup(database: Path, target: Path) -> None:
    """Copy ``database`` into ``target``, a new file readable by its owner only."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    source = sqlite3.connect(database, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            # One self-contained file: no write-ahead log beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        source.close()
    with target.open("rb") as handle:
        os.fsync(handle.fileno())


def restore(copy: Path, database: Path) -> None:
    """Replace every page of ``database`` with the copy's."""
    source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        live = sqlite3.connect(database, timeout=30, isolation_level=None)
        try:
            live.execute("PRAGMA busy_timeout=30000")
            source.backup(live)
            live.execute("PRAGMA journal_mode=WAL")
            live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            live.close()
    finally:
        source.close()


def schema_revision(copy: Path) -> str | None:
    """The Alembic revision a copy is at; None when it is no Steward database."""
    connection = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()
    return row[0] if row else None
