"""`steward overview`: what is on fire now, as the home page shows it, against a server."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from steward.cli.client import Client, TokenOption, UrlOption
from steward.cli.common import console, print_json
from steward.timeutil import parse_timestamp

STATE_TEXT = {"down": "✕ DOWN", "degraded": "! degraded", "up": "✓ up", "unknown": "? unknown"}


def _age(started: str | None, now: datetime) -> str:
    if not started:
        return "-"
    minutes = int((now - parse_timestamp(started, bounded=False)).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} d"


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]],
           empty: str) -> None:
    if not rows:
        console.print(f"[bold]{title}[/]: {empty}", highlight=False)
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _show(answer: dict[str, Any]) -> None:
    now = parse_timestamp(answer["at"], bounded=False)
    incidents = answer["incidents"]
    counts = "  ".join(f"{p} {n}" for p, n in incidents["by_priority"].items())
    console.print(f"[bold]Open incidents: {incidents['open']}[/]  ({counts})", highlight=False)
    _table(f"Open {' and '.join(incidents['listed_priorities'])} incidents",
           ("incident", "priority", "status", "open for", "assignee", "services", "title"),
           [(i["number"], i["priority"], i["status"], _age(i["started_at"], now),
             i["assignee"] or "nobody", ", ".join(i["services"]), i["title"])
            for i in incidents["urgent"]], "none")
    business = answer["business_services"]
    _table("Business services", ("service", "state", "why"),
           [(s["service"], STATE_TEXT.get(s["state"], s["state"]), s["reason"])
            for s in business["items"]], "none in the catalog")
    _table("Changes in flight today", ("change", "state", "planned start", "services", "title"),
           [(c["number"], c["state"], (c["planned_start"] or "-")[:16].replace("T", " "),
             ", ".join(c["services"]), c["title"]) for c in answer["changes_today"]],
           "nothing being implemented or planned to start today")
    _table("Waiting for your approval", ("change", "risk", "author", "title"),
           [(c["number"], c["risk_level"], c["author"] or "-", c["title"])
            for c in answer["my_approvals"]], "nothing")
    unauthorised = answer["unauthorised_deployments"]
    _table(f"Unauthorised deployments, last {unauthorised['days']} days "
           f"({unauthorised['total']} in all)",
           ("service", "version", "environment", "finished", "by"),
           [(d["service"], d["version"] or "-", d["environment"],
             (d["finished_at"] or d["started_at"] or "-")[:16].replace("T", " "),
             d["author"] or "-") for d in unauthorised["recent"]], "none")
    _table("On call now", ("team", "on call"),
           [(t["team"], "NOBODY (a gap)" if t["gap"] else ", ".join(t["oncall"]))
            for t in answer["oncall"]], "no team has a schedule")


def overview(
    url: UrlOption = None, token: TokenOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """What is on fire now: open incidents by priority, the business services' health,
    today's changes, approvals waiting for you, unauthorised deployments, who is on call."""
    answer = Client(url, token).call("GET", "/api/v1/overview")
    if json_out:
        print_json(answer)
        return
    _show(answer)
