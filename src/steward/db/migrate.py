"""Creating and upgrading the database schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from steward.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url",
                           database.engine.url.render_as_string(hide_password=False))
    return config


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(database: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()


def knows_revision(database: Database, revision: str) -> bool:
    """Whether this version's migrations include ``revision`` (a database from a newer
    version has one they do not)."""
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config(database)).get_revision(
            revision) is not None
    except CommandError:
        return False


def upgrade(database: Database, target: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to ``target``; returns (before, after) revisions."""
    before = current_revision(database)
    config = alembic_config(database)
    with database.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, target)
        conn.commit()
    if database.settings.is_sqlite:
        checkpoint(database)
    return before, current_revision(database)


def checkpoint(database: Database) -> None:
    """Copy SQLite's write-ahead log into the database file and empty it, so that what a
    migration erased is gone from both files."""
    raw = database.engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    finally:
        raw.close()

