"""A PostgreSQL database's rows kept in memory and written back: how each test on
PostgreSQL starts from the state right after migration, or from a state built once
(the demo organisation, the authorisation matrix's organisation), in the session's
test database.

Writing back empties the tables a test used and inserts the snapshot's rows: no
per-test database is needed (before PostgreSQL 16 every DROP DATABASE waits for a
checkpoint of the whole server, seconds on a busy one), and the tables no test
wrote to are left alone.

Emptying a table by TRUNCATE gives it new files, and those of every table that refers
to it (CASCADE: the teams take most of the schema along): tenths of a second per test,
more on a busy disk, where DELETE of the few rows a test wrote takes milliseconds. A
table is therefore emptied by DELETE while it has never grown past one page, and by
TRUNCATE once it has (a table that spread over more pages has a free space map, which
could send a new row to an earlier page). Every ``FULL_EVERY``-th time, every table a
test used is truncated.

Either way a query without ORDER BY meets the rows in the order they were inserted, as
in a new database: in a table of one page whose rows were all deleted, new rows take new
line pointers after the dead ones (with indexes, pruning leaves a dead row's pointer in
place until a VACUUM, which the test database never runs: :func:`no_autovacuum`). Only
pruning a page while a test writes to it could free pointers of rows updated in place
by an earlier test for a later row to take; it happens to a page nearly full, which a
page truncated every few tests seldom is. The planner's estimates stay those of a new
database: a table keeps at most one page, and no table is vacuumed or analysed.
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


FULL_EVERY = 8  # every how many restores every table used is truncated (see above)
_restores = 0
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
        # Only the tables that hold pages are emptied (a test touches a few of them).
        used = conn.execute(text(
            "SELECT relname, pg_relation_size(oid, 'fsm') > 0 OR (reltoastrelid <> 0 "
            "AND pg_relation_size(reltoastrelid, 'fsm') > 0) FROM pg_class "
            "WHERE relkind = 'r' AND relname = ANY(:names) "
            "AND relnamespace = current_schema()::regnamespace AND pg_relation_size(oid) > 0"),
            {"names": names}).all()
        global _restores
        _restores += 1
        full = _restores % FULL_EVERY == 0
        truncated = [f'"{name}"' for name, spread in used if spread or full]
        # Rows go back in the order they were read; a team may come before its parent, a
        # deployment before the one it rolled back (an update moves a row), so foreign
        # keys are not checked while rows that were consistent are put back, nor while
        # tables are emptied one by one.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        if truncated:
            conn.execute(text(f"TRUNCATE {', '.join(truncated)} CASCADE"))
        for name, spread in used:
            if not (spread or full):
                conn.execute(text(f'DELETE FROM "{name}"'))
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


def no_autovacuum(db: Database) -> None:
    """No VACUUM on the tables of a test database (see the module's docstring): deleted
    rows keep their places until the table is truncated."""
    with db.engine.begin() as conn:
        for table in metadata.sorted_tables:
            conn.execute(text(f'ALTER TABLE "{table.name}" SET (autovacuum_enabled = false, '
                              "toast.autovacuum_enabled = false)"))


def remember_migrated(db: Database) -> None:
    """Keeps a freshly migrated database's state for :func:`reset`."""
    _migrated[_name(db)] = take(db)


def reset(db: Database) -> None:
    """The database as it was right after migration (:func:`remember_migrated`)."""
    restore(db, _migrated[_name(db)])


def _name(db: Database) -> str:
    return str(db.engine.url.database)
