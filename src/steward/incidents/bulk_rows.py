"""Bulk INSERTs of the ingestion hot path, bound without per-value type processing.

SQLAlchemy runs every value of an executemany through its type's bind processor
(several Python calls per timestamp and per JSON column); at thousands of rows a
second that is a good part of the hot path's time. These INSERTs format the
values once, as those processors would, and hand them to the driver through the
session's connection (in its transaction): timestamps as SQLite stores them (or
as the aware UTC datetimes PostgreSQL's driver takes), JSON serialised with the
same ``json.dumps`` the ``JSON`` type uses, so the stored values are the same as
the ORM path's (``tests/incidents/test_ingest_batching.py`` compares them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session

from steward.db import UTCDateTime

Convert = Callable[[Any], Any] | None

_STATEMENTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[Convert]]] = {}


def _sqlite_time(value: datetime | None) -> str | None:
    """What SQLAlchemy's SQLite DATETIME stores for a UTC datetime (naive, microseconds)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:"
            f"{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}")


def _aware_time(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value


def _statement(table: Table, columns: tuple[str, ...],
               dialect: str) -> tuple[str, list[Convert]]:
    key = (dialect, table.name, columns)
    found = _STATEMENTS.get(key)
    if found is not None:
        return found
    missing = [c.name for c in table.c if c.name not in columns and not c.primary_key
               and (c.default is not None or not c.nullable)]
    if missing:  # a Core INSERT would fill those in; this one does not
        raise ValueError(f"{table.name}: no value for {', '.join(missing)}")
    marks, converts = [], []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, JSON):
            converts.append(json.dumps)
            marks.append("?" if dialect == "sqlite" else "%s::json")
        elif isinstance(kind, UTCDateTime):
            converts.append(_sqlite_time if dialect == "sqlite" else _aware_time)
            marks.append("?" if dialect == "sqlite" else "%s")
        else:
            converts.append(None)
            marks.append("?" if dialect == "sqlite" else "%s")
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
    found = _STATEMENTS[key] = (sql, converts)
    return found


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys, in the same order) in one executemany."""
    if not rows:
        return
    connection = session.connection()
    columns = tuple(rows[0])
    sql, converts = _statement(table, columns, connection.dialect.name)
    pairs = list(zip(columns, converts, strict=True))
    params = [tuple(row[name] if convert is None else convert(row[name])
                    for name, convert in pairs) for row in rows]
    connection.exec_driver_sql(sql, params)
