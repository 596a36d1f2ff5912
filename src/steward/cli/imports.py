"""`steward import servicenow`: bring incident history into the local database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from steward.cli.common import console, domain_errors, err_console, fail, open_database, print_json

import_app = typer.Typer(help="Import history from other tools.", no_args_is_help=True)


@import_app.command("servicenow")
def import_servicenow_command(
    files: Annotated[list[Path], typer.Argument(help="ServiceNow incident exports "
                                                "(.csv or .csv.gz)")],
    timezone: Annotated[str, typer.Option(help="IANA time zone the export's times are in")
                        ] = "UTC",
    strict: Annotated[bool, typer.Option("--strict", help="stop at the first bad row "
                                         "(nothing of its batch is stored)")] = False,
    batch_size: Annotated[int, typer.Option(help="incidents per transaction", min=1)] = 2000,
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Import ServiceNow incident history (event log or one row per incident). Safe to repeat."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    from steward.auth.actor import cli_actor
    from steward.servicenow.service import Source, import_servicenow

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        fail(f"no such file: {', '.join(missing)}")
    sources = [Source.from_path(f) for f in files]
    db = open_database()
    progress = Progress(TextColumn("Importing"), BarColumn(), DownloadColumn(),
                        TextColumn("{task.fields[rows]} rows"), TimeElapsedColumn(),
                        console=err_console, transient=True, disable=json_out)
    with progress, domain_errors():
        task = progress.add_task("import", total=sum(s.size or 0 for s in sources), rows=0)

        def advance(done: int, total: int | None, rows: int) -> None:
            progress.update(task, completed=done, total=total, rows=rows)

        summary = import_servicenow(db, cli_actor(), sources, timezone=timezone, strict=strict,
                                    batch_size=batch_size, on_progress=advance)
    if json_out:
        print_json(summary.as_dict())
    else:
        for line in summary.lines():
            console.print(line, highlight=False)
        for skipped in summary.skipped_lines[:20]:
            console.print(f"[yellow]skipped[/] {skipped['file']} line {skipped['line']}: "
                          f"{skipped['reason']}", highlight=False)
        if len(summary.skipped_lines) > 20:
            console.print("More skipped lines: steward import servicenow --json", style="dim")
    if summary.stopped is not None:
        stop = summary.stopped
        fail(f"stopped at {stop['file']} line {stop['line']}: {stop['reason']}")
