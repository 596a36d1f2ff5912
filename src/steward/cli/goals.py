"""`steward goal list / create / show`: shared goals, against a server."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from steward.cli.client import Client, TokenOption, UrlOption
from steward.cli.common import console, print_json

goal_app = typer.Typer(help="Shared goals: an organisation objective on a KPI.",
                       no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="print as JSON")]


def _yes_no(meets: bool | None) -> str:
    return "-" if meets is None else "met" if meets else "not met"


@goal_app.command("list")
def goal_list(url: UrlOption = None, token: TokenOption = None,
              json_out: JsonOption = False) -> None:
    """Every goal with the organisation's value so far and how many teams meet it."""
    answer = Client(url, token).call("GET", "/api/v1/goals", params={"progress": "true"})
    if json_out:
        print_json(answer)
        return
    table = Table(title=f"Shared goals ({answer['total']})")
    for column in ("id", "goal", "target", "period", "organisation", "teams meeting"):
        table.add_column(column, overflow="fold")
    for item in answer["items"]:
        org = item["organisation"]
        table.add_row(str(item["id"]), item["name"],
                      f"{item['metric']} {item['comparator']} {item['target']:g}",
                      f"{item['period_start'][:10]} to {item['period_end'][:10]}",
                      f"{org['display']} ({_yes_no(org['meets'])})",
                      f"{item.get('teams_meeting', 0)} of {len(item.get('teams', []))}")
    console.print(table)


@goal_app.command("create")
def goal_create(
    name: Annotated[str, typer.Argument(help="e.g. 'Change failure rate at most 10 %'")],
    metric: Annotated[str, typer.Option(help="e.g. change_failure_rate, "
                                        "deploy_days_per_week, mttr_median_hours")],
    target: Annotated[float, typer.Option(help="rates as fractions: 0.1 for 10 %")],
    start: Annotated[str, typer.Option(help="period start, ISO-8601 (e.g. 2026-10-01)")],
    end: Annotated[str, typer.Option(help="period end, ISO-8601 (e.g. 2027-01-01)")],
    comparator: Annotated[str | None, typer.Option(
        help="<= or >= (default: the metric's better direction)")] = None,
    description: Annotated[str, typer.Option(help="why this goal")] = "",
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False,
) -> None:
    """Set a shared goal (admins only)."""
    body: dict[str, Any] = {"name": name, "metric": metric, "target": target,
                            "period_start": _day(start), "period_end": _day(end),
                            "description": description}
    if comparator:
        body["comparator"] = comparator
    answer = Client(url, token).call("POST", "/api/v1/goals", json=body)
    if json_out:
        print_json(answer)
        return
    console.print(f"Goal {answer['id']} set: {answer['name']} ({answer['metric']} "
                  f"{answer['comparator']} {answer['target']:g}).", highlight=False)


def _day(value: str) -> str:
    """A bare date means midnight UTC."""
    value = value.strip()
    return f"{value}T00:00:00Z" if len(value) == 10 else value


@goal_app.command("show")
def goal_show(goal_id: Annotated[int, typer.Argument(help="goal id (steward goal list)")],
              url: UrlOption = None, token: TokenOption = None,
              json_out: JsonOption = False) -> None:
    """Every team's progress toward a goal, and its weekly trend."""
    answer = Client(url, token).call("GET", f"/api/v1/goals/{goal_id}")
    if json_out:
        print_json(answer)
        return
    org = answer["organisation"]
    console.print(f"[bold]{answer['name']}[/]: {answer['metric_label']} "
                  f"{answer['comparator']} {answer['target']:g} "
                  f"({answer['period_start'][:10]} to {answer['period_end'][:10]}, "
                  f"{answer['status']})", highlight=False)
    console.print(f"Organisation: {org['display']} ({_yes_no(org['meets'])}); "
                  f"trend {answer['trend'] or 'not enough weeks yet'}", highlight=False)
    table = Table(title="Teams")
    for column in ("team", "value", "target", "trend"):
        table.add_column(column)
    for team in answer["teams"]:
        table.add_row(team["team"], team["display"], _yes_no(team["meets"]),
                      team["trend"] or "-")
    console.print(table)
    if answer["weeks"]:
        weeks = Table(title="Organisation per week")
        weeks.add_column("week from")
        weeks.add_column("value")
        weeks.add_column("target")
        for week in answer["weeks"]:
            value = week["value"]
            weeks.add_row(week["week_start"][:10], "-" if value is None else f"{value:g}",
                          _yes_no(week["meets"]))
        console.print(weeks)
