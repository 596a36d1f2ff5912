"""`steward kpi dora / itsm / oncall`: KPIs from a server, as a table or JSON."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from steward.cli.client import Client, TokenOption, UrlOption
from steward.cli.common import console, print_json

kpi_app = typer.Typer(help="DORA, ITSM and on-call KPIs per team, per service or for the "
                      "organisation.",
                      no_args_is_help=True)

TeamOption = Annotated[str | None, typer.Option(help="one team (default: the organisation)")]
ServiceOption = Annotated[str | None, typer.Option(help="one service")]
EndOption = Annotated[str | None, typer.Option(help="window end, ISO-8601 (default: now)")]
JsonOption = Annotated[bool, typer.Option("--json", help="print as JSON")]


def _params(team: str | None, service: str | None, days: int,
            end: str | None) -> dict[str, str | int]:
    params: dict[str, str | int] = {"days": days}
    for name, value in (("team", team), ("service", service), ("end", end)):
        if value:
            params[name] = value
    return params


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}{unit}"
    return f"{value}{unit}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _scope(answer: dict[str, Any]) -> str:
    scope = answer["scope"]
    what = (f"service {scope['service']}" if scope["service"]
            else f"team {scope['team']}" if scope["team"] else "organisation")
    window = answer["window"]
    return f"{what}, {window['days']} days to {window['end']}"


@kpi_app.command("dora")
def kpi_dora(team: TeamOption = None, service: ServiceOption = None,
             days: Annotated[int, typer.Option(help="window length in days")] = 28,
             end: EndOption = None, url: UrlOption = None, token: TokenOption = None,
             json_out: JsonOption = False) -> None:
    """Deployment frequency, lead time, change failure rate, recovery time and tiers."""
    answer = Client(url, token).call("GET", "/api/v1/kpis/dora",
                                     params=_params(team, service, days, end))
    if json_out:
        print_json(answer)
        return
    freq, lead = answer["deployment_frequency"], answer["lead_time_hours"]
    cfr, rec = answer["change_failure_rate"], answer["recovery_time_hours"]
    table = Table(title=f"DORA: {_scope(answer)}")
    for column in ("metric", "value", "tier"):
        table.add_column(column)
    table.add_row("deployments", str(answer["deployments"]), "")
    table.add_row("deployment frequency",
                  f"{_fmt(freq['per_day'])}/day, {_fmt(freq['deploy_days_per_week'])} "
                  "deploy days/week", freq["tier"] or "-")
    table.add_row("lead time for changes",
                  f"median {_fmt(lead['median'], ' h')}, p90 {_fmt(lead['p90'], ' h')}",
                  lead["tier"] or "-")
    table.add_row("change failure rate",
                  f"{_pct(cfr['value'])} ({cfr['failed_deployments']} failed)",
                  cfr["tier"] or "-")
    table.add_row("failed deployment recovery", f"median {_fmt(rec['median'], ' h')}",
                  rec["tier"] or "-")
    table.add_row("rework rate", _pct(answer["rework_rate"]["value"]), "")
    table.add_row("MTTR (all incidents)", f"median {_fmt(answer['mttr_hours']['median'], ' h')}",
                  "")
    table.add_row("overall", "", answer["tier"] or "-")
    console.print(table)


@kpi_app.command("itsm")
def kpi_itsm(team: TeamOption = None, service: ServiceOption = None,
             days: Annotated[int, typer.Option(help="window length in days")] = 90,
             end: EndOption = None, url: UrlOption = None, token: TokenOption = None,
             json_out: JsonOption = False) -> None:
    """MTTA, MTTR and SLA compliance by priority; change and problem figures."""
    answer = Client(url, token).call("GET", "/api/v1/kpis/itsm",
                                     params=_params(team, service, days, end))
    if json_out:
        print_json(answer)
        return
    table = Table(title=f"Incidents: {_scope(answer)}")
    for column in ("priority", "incidents", "MTTA median", "MTTR median", "MTTR p90", "SLA met"):
        table.add_column(column)
    rows = [("all", answer), *answer["by_priority"].items()]
    for name, row in rows:
        table.add_row(name, str(row["incidents"]), _fmt(row["mtta_hours"]["median"], " h"),
                      _fmt(row["mttr_hours"]["median"], " h"),
                      _fmt(row["mttr_hours"]["p90"], " h"), _pct(row["sla_compliance"]))
    console.print(table)
    changes, problems = answer["changes"], answer["problems"]
    console.print(
        f"Reopen rate {_pct(answer['reopen_rate'])}. Changes: {changes['total']}, success rate "
        f"{_pct(changes['success_rate'])}, score {changes['score']}, auto-approved "
        f"{_pct(changes['auto_approval_rate'])}, approval wait median "
        f"{_fmt(changes['approval_wait_hours']['median'], ' h')}, emergency "
        f"{_pct(changes['emergency_share'])}, unauthorised deployments "
        f"{changes['unauthorised']}. Problem backlog {problems['backlog']}"
        f" (median age {_fmt(problems['median_age_days'], ' days')}).", highlight=False)


@kpi_app.command("oncall")
def kpi_oncall(team: TeamOption = None,
               days: Annotated[int, typer.Option(help="window length in days")] = 28,
               end: EndOption = None, url: UrlOption = None, token: TokenOption = None,
               json_out: JsonOption = False) -> None:
    """The load on each team's on-call: pages per shift, out of hours, time to acknowledge
    by escalation level (per team, never per person)."""
    answer = Client(url, token).call("GET", "/api/v1/kpis/oncall",
                                     params=_params(team, None, days, end))
    if json_out:
        print_json(answer)
        return
    hours = answer["business_hours"]
    table = Table(title=f"On-call load: {_scope(answer)}")
    for column in ("team", "pages", "high urgency", "shifts", "pages/shift",
                   f"out of hours ({hours['start']}-{hours['end']} {hours['weekdays']})",
                   "time to acknowledge by level (median / p90)", "ran out"):
        table.add_column(column)
    for row in answer["teams"]:
        acks = "; ".join(f"L{a['level']}: {_fmt(a['median'], ' min')} / "
                         f"{_fmt(a['p90'], ' min')} ({a['acknowledged']})"
                         for a in row["time_to_acknowledge_minutes"]) or "-"
        table.add_row(row["team"], str(row["pages"]), str(row["high_urgency_pages"]),
                      _fmt(row["shifts"]), _fmt(row["pages_per_shift"]),
                      f"{row['out_of_hours_pages']} ({_pct(row['out_of_hours_share'])})",
                      acks, str(row["escalations_ran_out"]))
    console.print(table)
