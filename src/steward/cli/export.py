"""`steward export kpis`: download a KPI table from a server as CSV or JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from steward.cli.client import Client, TokenOption, UrlOption
from steward.cli.common import console

export_app = typer.Typer(help="Export data from a server.", no_args_is_help=True)


@export_app.command("kpis")
def export_kpis(
    table: Annotated[str, typer.Option(help="dora, itsm or goals")] = "dora",
    group_by: Annotated[str, typer.Option(help="team or service (dora and itsm)")] = "team",
    days: Annotated[int | None, typer.Option(
        help="window in days (default 28 for dora, 90 for itsm)")] = None,
    end: Annotated[str | None, typer.Option(help="window end, ISO-8601 (default now)")] = None,
    format: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write to this file (default: standard output)")] = None,
    url: UrlOption = None, token: TokenOption = None,
) -> None:
    """A KPI table per team or service (never per person), as CSV or JSON."""
    params: dict[str, str | int] = {"table": table, "group_by": group_by, "format": format}
    if days is not None:
        params["days"] = days
    if end:
        params["end"] = end
    response = Client(url, token).send("GET", "/api/v1/kpis/export", params=params)
    if output is None:
        sys.stdout.write(response.text)
        return
    output.write_bytes(response.content)
    console.print(f"Wrote {output} ({len(response.content):,} bytes).", highlight=False)
