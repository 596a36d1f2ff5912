"""`steward status ...`: what the public status page publishes, against a server.

Client commands (--url/--token, like `steward slo`): they act with the caller's own
rights (publishing and hiding need an admin) through /api/v1/status/components.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.table import Table

from steward.cli.client import Client, TokenOption, UrlOption
from steward.cli.common import console, print_json

status_app = typer.Typer(help="The public status page.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="print as JSON")]


def _show(item: dict[str, Any]) -> None:
    state = "published" if item["published"] else "hidden"
    group = f" in {item['group']!r}" if item["group"] else ""
    console.print(f"{item['service']}: {state} as {item['public_name']!r}{group}, "
                  f"position {item['position']} ({item['public_id']})", highlight=False)


@status_app.command("components")
def components(
    published: Annotated[bool, typer.Option("--published", help="only those shown")] = False,
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False,
) -> None:
    """Every service with how the status page shows it, published first."""
    params = {"published": "true"} if published else {}
    answer = Client(url, token).call("GET", "/api/v1/status/components", params=params)
    if json_out:
        print_json(answer)
        return
    table = Table(title="Status page components")
    for column in ("service", "kind", "published", "public name", "group", "position", "id"):
        table.add_column(column, overflow="fold")
    for item in answer["items"]:
        table.add_row(item["service"], item["kind"], "yes" if item["published"] else "no",
                      item["public_name"], item["group"] or "-", str(item["position"]),
                      item["public_id"])
    console.print(table)


def _put(service: str, body: dict[str, Any], url: str | None, token: str | None,
         json_out: bool) -> None:
    answer = Client(url, token).call("PUT", f"/api/v1/status/components/{quote(service, safe='')}",
                                     json=body)
    if json_out:
        print_json(answer)
    else:
        _show(answer)


@status_app.command("publish")
def publish(
    service: Annotated[str, typer.Argument(help="the catalog service's name")],
    name: Annotated[str | None, typer.Option(help="public name (\"\": the catalog's)")] = None,
    group: Annotated[str | None, typer.Option(help="group heading (\"\": none)")] = None,
    position: Annotated[int | None, typer.Option(help="order within its group")] = None,
    description: Annotated[str | None, typer.Option(help="public description")] = None,
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False,
) -> None:
    """Show a service on the public status page (admins), optionally renamed, grouped
    and ordered."""
    body: dict[str, Any] = {"published": True}
    for key, value in (("name", name), ("group", group), ("position", position),
                       ("description", description)):
        if value is not None:
            body[key] = value
    _put(service, body, url, token, json_out)


@status_app.command("hide")
def hide(
    service: Annotated[str, typer.Argument(help="the catalog service's name")],
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False,
) -> None:
    """Take a service off the public status page (admins)."""
    _put(service, {"published": False}, url, token, json_out)
