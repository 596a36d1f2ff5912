"""``steward backup`` and ``steward restore``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from steward.cli.common import console, domain_errors, err_console, fail, open_database, print_json

if TYPE_CHECKING:
    from steward.backup.service import Summary


def _print(summary: Summary) -> None:
    from rich.table import Table

    table = Table("table", "rows", title=None, box=None, pad_edge=False)
    for name, rows in summary.tables.items():
        table.add_row(name, str(rows))
    table.add_row("[bold]total[/]", f"[bold]{summary.total_rows}[/]")
    console.print(table)


def backup(
    file: Annotated[Path, typer.Argument(help="the backup file to write")],
    force: Annotated[bool, typer.Option("--force", help="replace FILE if it exists")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Copy the database into FILE, consistently, while servers keep running.

    SQLite: an SQLite file (online backup API). PostgreSQL: a pg_dump custom-format archive
    (pg_dump on PATH). The secret key is not in the database: back it up apart.
    """
    from steward.auth.keyring import source_of
    from steward.backup.service import backup as make_backup

    db = open_database()
    with domain_errors():
        summary = make_backup(db, file, force=force)
    with db.read_session() as session:
        source = source_of(session)
    if json_out:
        print_json(summary.as_dict())
    else:
        console.print(f"Backed up {summary.database} (schema {summary.schema}) to "
                      f"{summary.file} ({summary.size} bytes).", highlight=False)
        _print(summary)
    err_console.print(f"The secret key ({source.origin}) is not in the backup: keep a copy "
                      "of it apart from the backups.", highlight=False)


def restore(
    file: Annotated[Path, typer.Argument(help="a file written by `steward backup`")],
    force: Annotated[bool, typer.Option(
        "--force", help="replace a database that holds data")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Replace the database with a backup, then verify the audit chain and count the rows.

    Stop the servers first. A database that holds data is replaced only with --force. A
    backup from an earlier version is upgraded to this version's schema. Exits 1 if the
    restored audit chain does not verify.
    """
    from steward.backup.service import restore as restore_backup
    from steward.config import load_settings
    from steward.db import Database

    db = Database(load_settings())
    with domain_errors():
        summary = restore_backup(db, file, force=force)
    chain, key = summary.audit, summary.secret_key
    assert chain is not None and key is not None
    if json_out:
        print_json(summary.as_dict())
    else:
        console.print(f"Restored {summary.file} into {summary.database} (schema "
                      f"{summary.schema}"
                      + (f", upgraded from {summary.upgraded_from}" if summary.upgraded_from
                         else "") + ").", highlight=False)
        _print(summary)
        if chain.ok:
            console.print(f"Audit log intact: {chain.entries} entries verified.")
    if not key.ok:
        err_console.print(f"[bold yellow]warning:[/] {key.problem}", highlight=False)
    if not chain.ok:
        fail(f"the restored audit log does not verify: {chain.problem} (first bad entry: "
             f"{chain.first_bad_seq})")
