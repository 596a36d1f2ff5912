"""Backing up a Steward database into one file, and restoring it.

SQLite copies are SQLite files made with the online backup API; PostgreSQL
copies are ``pg_dump`` custom-format archives. Either is one consistent
snapshot taken while servers keep running. A restore refuses a database that
holds data unless forced, brings the restored schema up to this version,
verifies the audit chain and counts every table's rows. The server's secret
key is not in the database, so it is in no backup: it is kept apart.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, exists, func, inspect, select

from steward.audit.service import VerifyResult, verify
from steward.auth.keyring import KeyStatus, key_status
from steward.backup import BackupProblem, postgres, sqlite
from steward.db import Database, migrate
from steward.models import metadata

T = TypeVar("T")
# Rows every initialised database has, even one nobody has used.
SEED_TABLES = frozenset({"audit_head", "catalog_state"})


@dataclass
class Summary:
    action: str  # backup or restore
    file: Path
    database: str
    schema: str | None
    tables: dict[str, int]
    size: int
    upgraded_from: str | None = None
    audit: VerifyResult | None = None
    secret_key: KeyStatus | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action": self.action, "file": str(self.file), "database": self.database,
            "schema": self.schema, "bytes": self.size, "tables": self.tables,
            "total_rows": self.total_rows}
        if self.action == "restore":
            out["upgraded_from"] = self.upgraded_from
        if self.audit is not None:
            out["audit"] = {"ok": self.audit.ok, "entries": self.audit.entries,
                            "first_bad_seq": self.audit.first_bad_seq,
                            "problem": self.audit.problem}
        if self.secret_key is not None:
            out["secret_key"] = self.secret_key.as_dict()
        return out


def count_rows(connection: Connection) -> dict[str, int]:
    """Rows in each of Steward's tables that the database has."""
    present = set(inspect(connection).get_table_names())
    return {name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in sorted(metadata.tables.items()) if name in present}


def tables_with_rows(database: Database) -> list[str]:
    """Steward's tables that hold data, beyond the rows every database starts with."""
    with database.engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        return [name for name, table in sorted(metadata.tables.items())
                if name in present and name not in SEED_TABLES
                and connection.execute(select(exists().select_from(table))).scalar_one()]


def _revision(connection: Connection) -> str | None:
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _counted(path: Path) -> tuple[dict[str, int], str | None]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return count_rows(connection), _revision(connection)
    finally:
        engine.dispose()


def _written(target: Path, force: bool, write: Callable[[Path], T]) -> T:
    """Write through ``<target>.partial``, so a failed backup leaves no file that looks
    like a good one."""
    if not target.parent.is_dir():
        raise BackupProblem(f"no such folder: {target.parent}")
    if target.exists() and not force:
        raise BackupProblem(f"{target} exists: choose another name, or pass --force to "
                            "replace it")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        result = write(partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return result


def backup(database: Database, target: Path, *, force: bool = False) -> Summary:
    target = target.absolute()
    if database.settings.is_sqlite:
        path = database.settings.sqlite_path
        if path is None:
            raise BackupProblem("an in-memory database cannot be backed up")

        def write_sqlite(partial: Path) -> tuple[dict[str, int], str | None]:
            sqlite.backup(path, partial)
            return _counted(partial)

        counts, schema = _written(target, force, write_sqlite)
    else:
        def write_dump(partial: Path) -> tuple[dict[str, int], str | None]:
            with database.engine.connect() as connection:
                return postgres.backup(connection, database.engine.url, partial,
                                       lambda c: (count_rows(c), _revision(c)))

        counts, schema = _written(target, force, write_dump)
    return Summary("backup", target, database.describe(), schema, counts,
                   target.stat().st_size)


def _backup_kind(source: Path) -> str:
    if not source.is_file():
        raise BackupProblem(f"no such backup file: {source}")
    if sqlite.is_sqlite_file(source):
        return "sqlite"
    if postgres.is_dump_file(source):
        return "postgresql"
    raise BackupProblem(f"{source} is not a Steward backup (neither an SQLite file nor a "
                        "pg_dump custom-format archive)")


def _check_backup(database: Database, source: Path) -> None:
    kind = _backup_kind(source)
    wanted = "sqlite" if database.settings.is_sqlite else "postgresql"
    if kind != wanted:
        raise BackupProblem(
            f"{source} is a backup of a{'n SQLite' if kind == 'sqlite' else ' PostgreSQL'} "
            f"database; restore it with STEWARD_DATABASE_URL naming "
            f"{'an SQLite file' if kind == 'sqlite' else 'a PostgreSQL database'}")
    revision = (sqlite.schema_revision(source) if kind == "sqlite"
                else postgres.schema_revision(source))
    if revision is None:
        raise BackupProblem(f"{source} holds no Steward database (it has no schema revision)")
    if not migrate.knows_revision(database, revision):
        raise BackupProblem(f"{source} comes from a newer Steward (schema {revision}): "
                            "restore it with that version")


def restore(database: Database, source: Path, *, force: bool = False) -> Summary:
    """Replace everything in ``database`` with the backup in ``source``."""
    source = source.absolute()
    _check_backup(database, source)
    occupied = tables_with_rows(database)
    if occupied and not force:
        shown = ", ".join(occupied[:5]) + (", ..." if len(occupied) > 5 else "")
        raise BackupProblem(f"the database ({database.describe()}) is not empty ({shown} "
                            "hold rows): pass --force to replace everything in it")
    if database.settings.is_sqlite:
        path = database.settings.sqlite_path
        if path is None:
            raise BackupProblem("cannot restore into an in-memory database")
        database.dispose()
        sqlite.restore(source, path)
    else:
        with database.engine.connect() as connection:
            postgres.check_versions(postgres.tool("pg_restore"), connection)
        database.dispose()
        postgres.restore(database.engine.url, source)
    database.dispose()
    return _after_restore(Database(database.settings), source)


def _after_restore(database: Database, source: Path) -> Summary:
    try:
        before = migrate.current_revision(database)
        upgraded_from = None
        if before != migrate.head_revision(database):
            migrate.upgrade(database)
            upgraded_from = before
        with database.read_session() as session:
            chain = verify(session)
            key = key_status(session)
        with database.engine.connect() as connection:
            counts = count_rows(connection)
            schema = _revision(connection)
    finally:
        database.dispose()
    return Summary("restore", source, database.describe(), schema, counts,
                   source.stat().st_size, upgraded_from, chain, key)
