"""Shared pieces of the command line: the database, output and errors."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
import typer
from rich.console import Console

from steward.config import load_settings
from steward.db import Database
from steward.errors import StewardError

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

T = TypeVar("T")


def open_database(*, migrate_if_new: bool = False) -> Database:
    # steward.models registers every table, so the foreign keys of whatever a command
    # writes resolve (a domain's models know the tables they point at only by name).
    from steward.db import migrate
    from steward.models import ensure_seed_rows

    db = Database(load_settings())
    current = migrate.current_revision(db)
    if current is None and migrate_if_new:
        migrate.upgrade(db)
        ensure_seed_rows(db)
    elif current is None:
        fail(f"the database ({db.describe()}) is not initialised; run `steward init`")
    elif current != migrate.head_revision(db):
        fail(f"the database is at schema {current}, this Steward needs "
             f"{migrate.head_revision(db)}; run `steward migrate`")
    return db


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


@contextmanager
def domain_errors() -> Iterator[None]:
    """Domain errors become a message and exit code 1 instead of a traceback."""
    try:
        yield
    except StewardError as exc:
        fail(exc.message)


def run(func: Callable[[], T]) -> T:
    with domain_errors():
        return func()
