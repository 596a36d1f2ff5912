"""Rich tables for the terminal."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from steward.cli.common import console

STATE_STYLE = {"down": "bold red", "degraded": "yellow"}


def impact_table(result: dict[str, Any]) -> None:
    console.print(f"Failing: {', '.join(result['failing'])}")
    rows = result["down"] + result["degraded"]
    if not rows:
        console.print("Nothing else is affected.")
        return
    table = Table(title="Impact")
    for column in ("service", "team", "state", "why"):
        table.add_column(column, overflow="fold")
    for row in rows:
        style = STATE_STYLE.get(row["state"], "")
        state = f"[{style}]{row['state']}[/]" if style else row["state"]
        table.add_row(row["service"], row["team"] or "-", state, row["reason"])
    console.print(table)
    business = [f"{b['service']} ({b['state']})" for b in result["business_services"]]
    console.print(f"Business services affected: {', '.join(business) or 'none'}")
    console.print(f"Teams affected: {', '.join(result['teams']) or 'none'}")
    console.print("Paths: steward impact --json", style="dim")


def audit_table(items: list[dict[str, Any]]) -> None:
    table = Table(title="Audit log")
    for column in ("seq", "at", "actor", "action", "entity"):
        table.add_column(column)
    for item in items:
        table.add_row(str(item["seq"]), item["at"], item["actor"]["name"], item["action"],
                      f"{item['entity_type']} {item['entity_id']}")
    console.print(table)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def token_table(items: list[dict[str, Any]]) -> None:
    if not items:
        console.print("No API tokens.")
        return
    table = Table(title="API tokens")
    for column in ("id", "user", "name", "prefix", "created", "expires", "last used", "state"):
        table.add_column(column, overflow="fold")
    for item in items:
        state = ("revoked" if item["revoked"] else "expired" if item["expired"]
                 else "active")
        table.add_row(str(item["id"]), item["user"], item["name"] or "-", item["prefix"],
                      _when(item["created_at"]), _when(item["expires_at"]),
                      _when(item["last_used_at"]), state)
    console.print(table)
