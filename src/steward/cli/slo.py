"""`steward slo ...`: SLOs against a server (list, create, report) and local evaluation.

`list`, `create` and `report` are client commands (--url/--token, like
`steward change` and `steward incident`), so they act with the caller's own
rights and work from any machine or pipeline. `evaluate` works on the local
database like the administration commands, for cron on the server's host.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from steward.cli.client import Client, TokenOption, UrlOption
from steward.cli.common import console, domain_errors, fail, open_database, print_json

slo_app = typer.Typer(help="Service level objectives and error budgets.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="print as JSON")]


def _percent(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


@slo_app.command("list")
def slo_list(
    team: Annotated[str | None, typer.Option(help="owning team")] = None,
    service: Annotated[str | None, typer.Option(help="service name")] = None,
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False,
) -> None:
    """SLOs with their SLI, error budget left and burn rates."""
    params = {name: value for name, value in (("team", team), ("service", service)) if value}
    answer = Client(url, token).call("GET", "/api/v1/slos", params=params)
    if json_out:
        print_json(answer)
        return
    table = Table(title=f"SLOs ({answer['total']})")
    for column in ("id", "service", "name", "objective", "window", "SLI", "budget left",
                   "burn 1h", "burn 6h", "burn 3d", "firing"):
        table.add_column(column, overflow="fold")
    for item in answer["items"]:
        status = item["status"]
        left = _percent(status["budget_left"], 1) + (" spent" if status["exhausted"] else "")
        table.add_row(str(item["id"]), item["service"], item["name"],
                      _percent(item["objective"]), f"{item['window_days']}d",
                      _percent(status["sli"]), left, _rate(status["burn_rates"]["1h"]),
                      _rate(status["burn_rates"]["6h"]), _rate(status["burn_rates"]["3d"]),
                      ", ".join(status["firing"]) or "-")
    console.print(table)


@slo_app.command("create")
def slo_create(
    service: Annotated[str, typer.Option(help="the service the SLO is for")],
    name: Annotated[str, typer.Option(help="the SLO's name, e.g. availability")],
    objective: Annotated[float, typer.Option(help="target share, e.g. 0.999")],
    window_days: Annotated[int, typer.Option(help="rolling window in days (1..365)")] = 28,
    sli: Annotated[str, typer.Option(help="impact (time in incidents) or counts "
                                          "(reported good/total)")] = "impact",
    description: Annotated[str, typer.Option(help="what it promises")] = "",
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False,
) -> None:
    """Define an SLO for a service (admin or a member of its team)."""
    answer = Client(url, token).call(
        "POST", f"/api/v1/services/{service}/slos",
        json={"name": name, "objective": objective, "window_days": window_days, "sli": sli,
              "description": description})
    if json_out:
        print_json(answer)
        return
    console.print(f"SLO {answer['id']} {answer['name']!r} for {answer['service']}: "
                  f"{_percent(answer['objective'])} over {answer['window_days']} days "
                  f"({answer['sli']}).", highlight=False)


@slo_app.command("report")
def slo_report(
    slo_id: Annotated[int, typer.Argument(help="SLO id")],
    good: Annotated[int, typer.Option(help="good events in the period")],
    total: Annotated[int, typer.Option(help="all events in the period")],
    start: Annotated[str, typer.Option(help="period start, ISO-8601 (e.g. 2026-03-02T10:00Z)")],
    end: Annotated[str, typer.Option(help="period end, ISO-8601; not in the future")],
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOption = False,
) -> None:
    """Report good/total counts of a counts SLO (a user token or an integration key)."""
    answer = Client(url, token).call("POST", f"/api/v1/slos/{slo_id}/reports", json={
        "start": start, "end": end, "good": good, "total": total})
    if json_out:
        print_json(answer)
        return
    status = answer["slo"]["status"]
    console.print(f"Stored. SLI {_percent(status['sli'])}, error budget left "
                  f"{_percent(status['budget_left'], 1)}"
                  f"{' (spent)' if status['exhausted'] else ''}; firing: "
                  f"{', '.join(status['firing']) or 'none'}.", highlight=False)


@slo_app.command("evaluate")
def slo_evaluate(
    at: Annotated[str | None, typer.Option(help="evaluate as of this time (default now)")] = None,
    json_out: JsonOption = False,
) -> None:
    """Raise and clear SLO burn alerts on the local database (for cron)."""
    from steward.slos import service as _registers_hooks  # noqa: F401
    from steward.slos.burn_alerts import run_evaluation
    from steward.timeutil import parse_timestamp

    db = open_database()
    with domain_errors():
        when: datetime | None = parse_timestamp(at, field="at") if at else None
        result = run_evaluation(db, wait=True, at=when)
    if result is None:  # pragma: no cover - waiting always gets the lock
        fail("another evaluation holds the lock")
        return
    summary: dict[str, Any] = {"slos": result.slos, "raised": result.raised,
                               "cleared": result.cleared, "incidents": result.incidents}
    if json_out:
        print_json(summary)
        return
    console.print(f"Evaluated {result.slos} SLO(s): {len(result.raised)} alert(s) raised, "
                  f"{len(result.cleared)} cleared.", highlight=False)
    for key in result.raised:
        console.print(f"  firing  {key}", highlight=False)
    for key in result.cleared:
        console.print(f"  cleared {key}", highlight=False)
