"""`steward health`: every service's live state from the open incidents, against a server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from steward.cli.client import Client, TokenOption, UrlOption
from steward.cli.common import console, print_json

STATE_TEXT = {"down": "✕ DOWN", "degraded": "! degraded", "up": "✓ up", "unknown": "? unknown"}


def health(
    state: Annotated[str | None, typer.Option(
        help="only services in these states, comma-separated (down,degraded,up,unknown)")
    ] = None,
    url: UrlOption = None, token: TokenOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Every service's state (down, degraded, up, unknown), why, and the incidents behind it."""
    params = {"state": state} if state else {}
    answer = Client(url, token).call("GET", "/api/v1/health", params=params)
    if json_out:
        print_json(answer)
        return
    counts = ", ".join(f"{n} {s}" for s, n in answer["counts"].items())
    table = Table(title=f"Service health ({counts})")
    for column in ("service", "state", "why", "incidents"):
        table.add_column(column, overflow="fold")
    for item in answer["items"]:
        incidents = ", ".join(f"INC-{i['id']} {i['priority']} {i['status']}"
                              for i in item["incidents"])
        table.add_row(item["service"], STATE_TEXT.get(item["state"], item["state"]),
                      item["reason"], incidents or "-")
    console.print(table)
