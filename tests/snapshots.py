"""A PostgreSQL database's rows kept in memory and written back: how each test on
PostgreSQL starts from the state right after migration, or from a state built once
(the demo organisation, the authorisation matrix's organisation), in the session's
test database.

Writing back empties the tables a test used and inserts the snapshot's rows: no
per-test database is needed (before PostgreSQL 16 every DROP DATABASE waits for a
checkpoint of the whole server, seconds on a busy one), and the tables no test
wrote to are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from steward.catalog import graph
from steward.db import Database
from steward.models import metadata


@dataclass(frozen=True)
class Snapshot:
    rows: dict[str, list[dict[str, Any]]]  # table -> its rows, in the order a scan reads them
    sequences: dict[str, int | None]  # sequence -> its last value, None when never used


_migrated: dict[str, Snapshot] = {}  # database name -> its state right after migration


def take(db: Database) -> Snapshot:
    with db.engine.connect() as conn:
        rows = {table.name: [dict(row._mapping) for row in conn.execute(table.select())]
                for table in metadata.sorted_tables}
        sequences = {name: last for name, last in conn.execute(text(
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = current_schema()"))}
    return Snapshot(rows, sequences)


def restore(db: Database, snapshot: Snapshot) -> None:
    """Every table as it was in the snapshot, sequences included."""
    names = [table.name for table in metadata.sorted_tables]
    with db.engine.begin() as conn:
        # Only the tables that hold pages are emptied: a test touches a few of them, and
        # TRUNCATE makes new files for a table and each of its indexes. TRUNCATE, not
        # DELETE: a table starts empty, so rows are stored (and a query without ORDER
        # BY meets them) in the order they are inserted, as in a new database.
        used = list(conn.execute(text(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname = ANY(:names) "
            "AND relnamespace = current_schema()::regnamespace AND pg_relation_size(oid) > 0"),
            {"names": names}).scalars())
        if used:
            quoted = ", ".join(f'"{name}"' for name in used)
            conn.execute(text(f"TRUNCATE {quoted} CASCADE"))
        # Rows go back in the order they were read; a team may come before its parent, a
        # deployment before the one it rolled back (an update moves a row), so foreign
        # keys are not checked while rows that were consistent are put back.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in metadata.sorted_tables:
            if snapshot.rows[table.name]:
                conn.execute(table.insert(), snapshot.rows[table.name])
        if snapshot.sequences:
            values: dict[str, Any] = {}
            calls = []
            for n, (name, last) in enumerate(snapshot.sequences.items()):
                calls.append(f"setval(quote_ident(:name{n}), :value{n}, :called{n})")
                values |= {f"name{n}": name, f"value{n}": last or 1,
                           f"called{n}": last is not None}
            conn.execute(text(f"SELECT {', '.join(calls)}"), values)
    # The catalog revision went back: a graph cached since must not be taken for this one.
    graph.clear_cache()


def remember_migrated(db: Database) -> None:
    """Keeps a freshly migrated database's state for :func:`reset`."""
    _migrated[_name(db)] = take(db)


def reset(db: Database) -> None:
    """The database as it was right after migration (:func:`remember_migrated`)."""
    restore(db, _migrated[_name(db)])


def _name(db: Database) -> str:
    return str(db.engine.url.database)
