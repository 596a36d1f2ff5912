"""`steward status policy TEAM`: whether a team's P1 incidents publish their first public
update by themselves."""

from __future__ import annotations

from typing import Annotated

import typer

from steward.cli.client import Client, TokenOption, UrlOption
from steward.cli.common import console, print_json


def status_policy(
    team: Annotated[str, typer.Argument(help="team name")],
    auto_publish_p1: Annotated[bool | None, typer.Option(
        "--auto-publish-p1/--no-auto-publish-p1",
        help="set it; without either, show it")] = None,
    url: UrlOption = None, token: TokenOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Show or set whether the team's P1 incidents publish their suggested first update."""
    path = f"/api/v1/teams/{team}/status-policy"
    client = Client(url, token)
    answer = (client.call("GET", path) if auto_publish_p1 is None else
              client.call("PUT", path, json={"auto_publish_p1": auto_publish_p1}))
    if json_out:
        print_json(answer)
        return
    console.print(f"{answer['team']}: P1 incidents "
                  + ("publish their first public update automatically"
                     if answer["auto_publish_p1"] else
                     "publish nothing until a responder does"), highlight=False)
