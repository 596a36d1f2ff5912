"""Statements of the ingestion hot path, run on the driver's own connection.

A statement through SQLAlchemy costs a few hundred microseconds of Python
before the database sees it (compiling or looking up the compiled form,
running every value through its type's processors, wrapping the cursor); a
group of a few alerts needs about ten statements, so at thousands of alerts a
second that is most of the writer's time. The hot path's statements are
written once as SQL and run on the session's DBAPI connection, in its
transaction, with values formatted as SQLAlchemy's types would format them:
timestamps as SQLite stores them (or the aware UTC datetimes PostgreSQL's
driver takes), JSON serialised with the same ``json.dumps`` the ``JSON`` type
uses, so the stored values are the same as the ORM path's
(``tests/incidents/test_ingest_batching.py`` compares them).
"""

from __future__ import annotations

import contextlib
import json
import operator
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Integer, String, Table
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from steward.db import UTCDateTime

Convert = Callable[[Any], Any] | None

_INSERTS: dict[tuple[bool, str, tuple[str, ...]], tuple[str, list[Convert]]] = {}
_NATIVE: dict[tuple[bool, str], str] = {}
_RECORD_INSERTS: dict[tuple[str, tuple[str, ...]], str] = {}
_EMPTY_JSON = json.dumps({})
COPY_FROM = 20  # rows: from here PostgreSQL gets an INSERT's rows by COPY


def _sqlite_time(value: datetime | None) -> str | None:
    """What SQLAlchemy's SQLite DATETIME stores for a UTC datetime (naive, microseconds)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without its "+00:00"


def _aware_time(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value


def _from_sqlite_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _copy_time(value: datetime | None) -> str | None:
    """A UTC datetime as COPY's text for a timestamptz (ISO 8601 with its offset): the
    driver's own formatting of a datetime costs several times more, per value."""
    aware = _aware_time(value)
    return None if aware is None else aware.isoformat(" ")


def _from_aware_time(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is UTC:
        return value
    return value.astimezone(UTC)


def _record_type(kind: TypeEngine[Any]) -> str:
    """A column's type in a ``json_to_recordset`` row. JSON values come as the text the
    JSON type stores (``json.dumps``), so they are read as text and cast, keeping that
    text; strings as text (the assignment to a VARCHAR(n) refuses what is too long, as
    a plain INSERT would)."""
    if isinstance(kind, JSON | String):
        return "text"
    if isinstance(kind, UTCDateTime):
        return "timestamptz"
    if isinstance(kind, Integer):
        return "integer"
    raise TypeError(f"no recordset type for {kind!r}")


class JsonText(str):
    """A value already serialised as the JSON type serialises it (``json.dumps``)."""


def _json(value: Any) -> str:
    if type(value) is JsonText:
        return value
    return _EMPTY_JSON if value == {} else json.dumps(value)


def _from_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class Driver:
    """The session's DBAPI connection (SQLite's or psycopg's), in the session's transaction.

    SQL is written with ``?`` placeholders, ``?json`` for a JSON value and
    :meth:`one_of` for a list; on PostgreSQL they become ``%s`` and ``%s::json``."""

    def __init__(self, session: Session):
        session.flush()  # as the ORM autoflushes before a query: pending objects are seen
        connection = session.connection()
        self.sqlite = connection.dialect.name == "sqlite"
        self.raw: Any = connection.connection.driver_connection
        self.time = _sqlite_time if self.sqlite else _aware_time
        self.read_time = _from_sqlite_time if self.sqlite else _from_aware_time
        self.json = _json
        self.read_json = _from_json

    def _native(self, sql: str) -> str:
        key = (self.sqlite, sql)
        native = _NATIVE.get(key)
        if native is None:
            native = _NATIVE[key] = (sql.replace("?json", "?") if self.sqlite else
                                     sql.replace("?json", "%s::json").replace("?", "%s"))
        return native

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.raw.execute(self._native(sql), params).fetchall())

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A statement whose rows are not wanted (in a pipeline, none are waited for)."""
        self.raw.execute(self._native(sql), params)

    def pipeline(self) -> AbstractContextManager[Any]:
        """On PostgreSQL, the statements inside are sent without waiting for each answer:
        one round trip to the server where each would take one (libpq's pipeline mode);
        reading a result waits for it. On SQLite, which has no round trips, nothing."""
        return contextlib.nullcontext() if self.sqlite else self.raw.pipeline()

    def many(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        params = list(params)
        if not params:
            return
        if self.sqlite:
            self.raw.executemany(self._native(sql), params)
        else:
            with self.raw.cursor() as cursor:
                cursor.executemany(self._native(sql), params)

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column`` is one of ``values``: the SQL and its parameters. On PostgreSQL one
        array parameter (``= ANY``), so the statement's text is the same for any number
        of values and the driver prepares it once; on SQLite ``IN (?, ...)``."""
        if not values:
            return "1 = 0", []
        if self.sqlite:
            return f"{column} IN ({', '.join('?' * len(values))})", list(values)
        return f"{column} = ANY(?)", [list(values)]

    def insert_rows(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """INSERT ``rows`` (dicts with the same keys, in the same order) in one statement
        on PostgreSQL (COPY for many rows), one executemany on SQLite."""
        if not rows:
            return
        by_copy = not self.sqlite and len(rows) >= COPY_FROM
        sql, columns, params = self._bound(table, rows, _copy_time if by_copy else self.time)
        if self.sqlite:
            self.many(sql, params)
        elif by_copy:
            # PostgreSQL takes many rows fastest as one COPY stream (times as its text).
            with self.raw.cursor() as cursor, cursor.copy(
                    f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for param in params:
                    copy.write_row(param)
        else:
            self.run(*self._records_insert(table, columns, params))

    def insert_returning(self, table: Table, rows: Sequence[dict[str, Any]],
                         returning: str) -> list[tuple[Any, ...]]:
        """PostgreSQL: INSERT ``rows`` and return the ``returning`` columns of each (in no
        particular order), in one statement."""
        if not rows:
            return []
        _sql, columns, params = self._bound(table, rows, self.time)
        sql, values = self._records_insert(table, columns, params)
        return self.rows(f"{sql} RETURNING {returning}", values)

    def _records_insert(self, table: Table, columns: tuple[str, ...],
                        params: list[list[Any]]) -> tuple[str, list[str]]:
        """PostgreSQL: the rows' INSERT as one statement taking every row in one JSON
        parameter (``json_to_recordset``). An executemany sends, and the server parses,
        binds and runs, one statement per row; array parameters cost the driver more
        Python per value than orjson takes to serialise the rows (values as the driver
        takes them: aware datetimes, JSON as its text)."""
        key = (table.name, columns)
        sql = _RECORD_INSERTS.get(key)
        if sql is None:
            values = ", ".join(f'v."{name}"::json' if isinstance(table.c[name].type, JSON)
                               else f'v."{name}"' for name in columns)
            fields = ", ".join(f'"{name}" {_record_type(table.c[name].type)}'
                               for name in columns)
            sql = _RECORD_INSERTS[key] = (
                f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {values} "
                f"FROM json_to_recordset(?::json) AS v({fields})")
        rows = [dict(zip(columns, param, strict=True)) for param in params]
        return sql, [orjson.dumps(rows).decode()]

    def _bound(self, table: Table, rows: Sequence[dict[str, Any]],
               time: Callable[[Any], Any],
               ) -> tuple[str, tuple[str, ...], list[list[Any]]]:
        """The INSERT, its columns and each row's values as the driver takes them (times
        given by ``time``)."""
        columns = tuple(rows[0])
        sql, converts = self._insert(table, columns)
        values = operator.itemgetter(*columns)
        times = [i for i, convert in enumerate(converts) if convert is self.time]
        others = [(i, convert) for i, convert in enumerate(converts)
                  if convert is not None and convert is not self.time]
        formatted: dict[datetime, Any] = {}  # a group's events share times: each formatted once
        params = []
        for row in rows:
            param = list(values(row)) if len(columns) > 1 else [values(row)]
            for i in times:
                value = param[i]
                if value is not None:
                    text = formatted.get(value)
                    if text is None:
                        text = formatted[value] = time(value)
                    param[i] = text
            for i, convert in others:
                param[i] = convert(param[i])
            params.append(param)
        return sql, columns, params

    def _insert(self, table: Table, columns: tuple[str, ...]) -> tuple[str, list[Convert]]:
        key = (self.sqlite, table.name, columns)
        found = _INSERTS.get(key)
        if found is not None:
            return found
        missing = [c.name for c in table.c if c.name not in columns and not c.primary_key
                   and (c.default is not None or not c.nullable)]
        if missing:  # a Core INSERT would fill those in; this one does not
            raise ValueError(f"{table.name}: no value for {', '.join(missing)}")
        marks: list[str] = []
        converts: list[Convert] = []
        for name in columns:
            kind = table.c[name].type
            if isinstance(kind, JSON):
                converts.append(_json)
                marks.append("?json")
            elif isinstance(kind, UTCDateTime):
                converts.append(self.time)
                marks.append("?")
            else:
                converts.append(None)
                marks.append("?")
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
        found = _INSERTS[key] = (sql, converts)
        return found
