"""`steward incident list / ack / resolve / update`: responders' commands against a
server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from steward.cli.client import Client, TokenOption, UrlOption
from steward.cli.common import console, print_json

incident_app = typer.Typer(help="Incidents.", no_args_is_help=True)


@incident_app.command("list")
def incident_list(
    status: Annotated[str, typer.Option(
        help="comma-separated states, or 'all'")] = "triggered,acknowledged,mitigated",
    priority: Annotated[str | None, typer.Option(help="e.g. P1,P2")] = None,
    team: Annotated[str | None, typer.Option(help="owning team")] = None,
    service: Annotated[str | None, typer.Option(help="a service in the incident")] = None,
    limit: Annotated[int, typer.Option(help="at most this many")] = 50,
    url: UrlOption = None, token: TokenOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Open incidents (or any state), newest first."""
    params: dict[str, str | int] = {"limit": limit}
    if status != "all":
        params["status"] = status
    for name, value in (("priority", priority), ("team", team), ("service", service)):
        if value:
            params[name] = value
    answer = Client(url, token).call("GET", "/api/v1/incidents", params=params)
    if json_out:
        print_json(answer)
        return
    table = Table(title=f"Incidents ({answer['total']})")
    for column in ("number", "priority", "status", "title", "origin", "team", "started"):
        table.add_column(column, overflow="fold")
    for item in answer["items"]:
        table.add_row(item["number"], item["priority"], item["status"], item["title"],
                      item["origin_service"] or "-", item["team"] or "-", item["started_at"])
    console.print(table)


def _number(incident: str) -> str:
    number = incident.upper().removeprefix("INC-")
    if not number.isdigit():
        from steward.cli.common import fail

        fail(f"incident: expected an id like 42 or INC-42, got {incident!r}", 2)
    return number


def _act(action: str, incident: str, note: str, url: str | None, token: str | None,
         json_out: bool) -> None:
    number = _number(incident)
    answer = Client(url, token).call("POST", f"/api/v1/incidents/{number}/{action}",
                                     json={"note": note})
    if json_out:
        print_json(answer)
        return
    console.print(f"{answer['number']} is now {answer['status']} ({answer['priority']}): "
                  f"{answer['title']}", highlight=False)


@incident_app.command("ack")
def incident_ack(
    incident: Annotated[str, typer.Argument(help="incident id, e.g. 42 or INC-42")],
    note: Annotated[str, typer.Option(help="a note for the timeline")] = "",
    url: UrlOption = None, token: TokenOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Acknowledge an incident."""
    _act("acknowledge", incident, note, url, token, json_out)


@incident_app.command("resolve")
def incident_resolve(
    incident: Annotated[str, typer.Argument(help="incident id, e.g. 42 or INC-42")],
    note: Annotated[str, typer.Option(help="a note for the timeline")] = "",
    url: UrlOption = None, token: TokenOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Resolve an incident."""
    _act("resolve", incident, note, url, token, json_out)


@incident_app.command("update")
def incident_update(
    incident: Annotated[str, typer.Argument(help="incident id, e.g. 42 or INC-42")],
    status: Annotated[str, typer.Option(
        help="investigating, identified, monitoring or resolved")],
    message: Annotated[str, typer.Option(help="the text the public reads")],
    title: Annotated[str | None, typer.Option(
        help="the public incident's name (required for its first update)")] = None,
    component: Annotated[list[str] | None, typer.Option(
        help="a published component it affects, NAME or NAME=STATUS (e.g. "
             "Checkout=major_outage); repeat for more")] = None,
    impact: Annotated[str | None, typer.Option(
        help="none, minor, major or critical")] = None,
    url: UrlOption = None, token: TokenOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Publish a public update of an incident on the status page (its subscribers are
    mailed)."""
    components: list[str | dict[str, str]] = []
    for item in component or []:
        name, _, state = item.partition("=")
        components.append({"name": name.strip(), "status": state.strip()} if state
                          else name.strip())
    body: dict[str, object] = {"status": status, "body": message, "components": components}
    if title is not None:
        body["title"] = title
    if impact is not None:
        body["impact"] = impact
    answer = Client(url, token).call("POST", f"/api/v1/incidents/{_number(incident)}/updates",
                                     json=body)
    if json_out:
        print_json(answer)
        return
    named = ", ".join(f"{c['name']} ({c['status']})" for c in answer["components"])
    console.print(f"Published ({answer['status']}): {answer['title']}"
                  + (f" \u2014 {named}" if named else ""), highlight=False)
