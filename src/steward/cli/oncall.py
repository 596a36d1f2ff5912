"""`steward oncall who / schedule / create / override`: on-call against a server."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from steward.cli.client import EXIT_ERROR, Client, TokenOption, UrlOption
from steward.cli.common import console, fail, print_json
from steward.errors import StewardError
from steward.timeutil import isoformat_z, parse_timestamp, utcnow

oncall_app = typer.Typer(help="On-call: who is on call, schedules, overrides.",
                         no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="print as JSON")]


def _local(stamp: str | None, zone: str) -> str:
    """An ISO time from the server as the schedule's local time, e.g. Mon 30 Mar 09:00."""
    if stamp is None:
        return "-"
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M %Z")


def _schedule_id(client: Client, team: str, schedule: str | None) -> int:
    """The team's schedule by name, or its only one."""
    if schedule is not None and schedule.isdigit():
        return int(schedule)
    items = client.call("GET", "/api/v1/schedules", params={"team": team})["items"]
    if schedule is not None:
        items = [s for s in items if s["name"] == schedule]
    if len(items) != 1:
        names = ", ".join(s["name"] for s in items) or "none"
        fail(f"schedule: name one of team {team}'s schedules with --schedule ({names})",
             EXIT_ERROR)
    return int(items[0]["id"])


@oncall_app.command("who")
def who(
    team: Annotated[str | None, typer.Option(help="the team")] = None,
    service: Annotated[str | None, typer.Option(help="a service (its owner team)")] = None,
    at: Annotated[str | None, typer.Option(help="at this time, ISO-8601 (default now)")] = None,
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False,
) -> None:
    """Who is on call now (or --at) by escalation level, and each schedule's now and next."""
    if (team is None) == (service is None):
        fail("name a --team or a --service", EXIT_ERROR)
    client = Client(url, token)
    params = {"team": team} if team is not None else {"service": service}
    if at is not None:
        params["at"] = at
    answer = client.call("GET", "/api/v1/oncall", params=params)
    turns = None
    if answer["team"] is not None:
        turns = client.call("GET", "/api/v1/oncall/now-next",
                            params={"team": answer["team"], "at": answer["at"]})
    if json_out:
        print_json({**answer, "schedules": turns["schedules"] if turns else []})
        return
    if answer["team"] is None:
        console.print(f"{service} has no owner team: nobody is on call for it.")
        return
    table = Table(title=f"On call for {answer['team']} at {answer['at']}")
    for column in ("level", "user", "email", "schedule"):
        table.add_column(column)
    for entry in answer["oncall"]:
        table.add_row(str(entry["level"]), entry["user"], entry["email"] or "-",
                      entry["schedule"] or "-")
    if answer["oncall"]:
        console.print(table)
    else:
        console.print(f"[bold red]Gap: nobody is on call for {answer['team']} at "
                      f"{answer['at']}.[/]")
    for item in (turns or {}).get("schedules", []):
        zone = item["time_zone"]
        now, following = item["now"], item["next"]
        current = (f"{now['user']}" + (" (override)" if now["override"] else "")
                   if now["user"] else "[red]nobody (gap)[/]")
        console.print(f"{item['schedule']}: now {current} until {_local(now['end'], zone)}",
                      highlight=False)
        if following is not None:
            console.print(f"  next {following['user']}"
                          + (" (override)" if following["override"] else "")
                          + f" from {_local(following['start'], zone)}", highlight=False)


@oncall_app.command("schedule")
def schedule(
    team: Annotated[str, typer.Option(help="the team")],
    weeks: Annotated[int, typer.Option(min=1, max=52, help="weeks to show")] = 2,
    start: Annotated[str | None, typer.Option("--from", help="from, ISO-8601 (default "
                                                             "now)")] = None,
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False,
) -> None:
    """The team's schedules as shifts over the coming weeks; gaps are marked."""
    try:
        begin = parse_timestamp(start, field="from") if start is not None else utcnow()
    except StewardError as exc:
        fail(exc.message, EXIT_ERROR)
    client = Client(url, token)
    items = client.call("GET", "/api/v1/schedules", params={"team": team})["items"]
    if not items:
        fail(f"team {team} has no schedule", EXIT_ERROR)
    window = {"from": isoformat_z(begin), "to": isoformat_z(begin + timedelta(weeks=weeks))}
    answers = [client.call("GET", f"/api/v1/schedules/{item['id']}/shifts", params=window)
               for item in items]
    if json_out:
        print_json({"team": team, "schedules": answers})
        return
    for answer in answers:
        _print_shifts(answer)


def _print_shifts(answer: dict[str, Any]) -> None:
    zone = answer["time_zone"]
    table = Table(title=f"{answer['schedule']} ({answer['team']}, times in {zone})")
    for column in ("from", "to", "on call", "layer"):
        table.add_column(column)
    rows: list[tuple[str, str, str, str, str]] = []
    for shift in answer["shifts"]:
        layer = "override" if shift["override"] else shift["layer"] or "-"
        rows.append((shift["start"], shift["end"], shift["user"], layer, ""))
    for gap in answer["gaps"]:
        rows.append((gap["start"], gap["end"], "GAP: nobody on call", "-", "red"))
    for begin, end, user, layer, style in sorted(rows):
        table.add_row(_local(begin, zone), _local(end, zone), user, layer, style=style or None)
    console.print(table)


@oncall_app.command("create")
def create(
    team: Annotated[str, typer.Option(help="the team")],
    name: Annotated[str, typer.Option(help="the schedule's name")],
    time_zone: Annotated[str, typer.Option("--time-zone", help="e.g. Europe/Amsterdam")],
    starts: Annotated[str, typer.Option(help="first hand-off, local time YYYY-MM-DDTHH:MM")],
    member: Annotated[list[str], typer.Option(help="a member, in rotation order (repeat)")],
    interval: Annotated[int, typer.Option(help="hours between hand-offs (168 weekly)")] = 168,
    layer: Annotated[str, typer.Option(help="the rotation's name")] = "rotation",
    description: Annotated[str, typer.Option(help="what the schedule covers")] = "",
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False,
) -> None:
    """Create a schedule with one rotation."""
    answer = Client(url, token).call("POST", "/api/v1/schedules", json={
        "team": team, "name": name, "time_zone": time_zone, "description": description,
        "layers": [{"name": layer, "starts": starts, "handoff_interval_hours": interval,
                    "members": member}]})
    if json_out:
        print_json(answer)
        return
    console.print(f"Schedule {answer['id']} created: {answer['name']} for {answer['team']} "
                  f"({', '.join(member)}, every {interval} h from {starts} {time_zone})",
                  highlight=False)


@oncall_app.command("override")
def override(
    team: Annotated[str, typer.Option(help="the schedule's team")],
    user: Annotated[str, typer.Option(help="who takes the shift")],
    start: Annotated[str, typer.Option("--from", help="from, ISO-8601")],
    end: Annotated[str, typer.Option("--to", help="to, ISO-8601")],
    reason: Annotated[str, typer.Option(help="why")] = "",
    schedule_name: Annotated[str | None, typer.Option(
        "--schedule", help="the schedule's name or id (default: the team's only one)")] = None,
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False,
) -> None:
    """Put somebody on call instead, from --from to --to."""
    client = Client(url, token)
    schedule_id = _schedule_id(client, team, schedule_name)
    answer = client.call("POST", f"/api/v1/schedules/{schedule_id}/overrides", json={
        "user": user, "starts_at": start, "ends_at": end, "reason": reason})
    if json_out:
        print_json(answer)
        return
    console.print(f"Override {answer['id']}: {answer['user']} on call from "
                  f"{answer['starts_at']} to {answer['ends_at']} (asked by "
                  f"{answer['requested_by']})", highlight=False)

