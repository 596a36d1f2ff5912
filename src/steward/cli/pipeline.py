"""Commands for pipelines: record a deployment, wait at the change gate."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from steward.cli.client import EXIT_ERROR, Client, TokenOption, UrlOption, pipeline_run_id
from steward.cli.common import console, domain_errors, print_json

deploy_app = typer.Typer(help="Deployments.", no_args_is_help=True)
change_app = typer.Typer(help="Changes.", no_args_is_help=True)

GATE_EXIT = {"allowed": 0, "denied": 1, "pending": 3}


def _commits(git_range: str | None, repo: Path) -> list[dict[str, str | None]]:
    if not git_range:
        return []
    from steward.changes.gitlog import read_commits
    from steward.timeutil import isoformat_z

    with domain_errors():
        commits = read_commits(repo, git_range)
    return [{"sha": c.sha, "committed_at": isoformat_z(c.committed_at), "message": c.message}
            for c in commits]


@deploy_app.command("record")
def deploy_record(
    service: Annotated[str, typer.Option(help="the service deployed")],
    env: Annotated[str, typer.Option("--env", help="environment, e.g. production")],
    git_range: Annotated[str | None, typer.Option(help="commits shipped, e.g. v1.3..v1.4")] = None,
    repo: Annotated[Path, typer.Option(help="the local git repository")] = Path("."),
    version: Annotated[str | None, typer.Option(help="version or artifact")] = None,
    status: Annotated[str, typer.Option(
        help="in_progress, succeeded, failed or rolled_back")] = "succeeded",
    started_at: Annotated[str | None, typer.Option(help="ISO-8601 start time")] = None,
    finished_at: Annotated[str | None, typer.Option(help="ISO-8601 finish time")] = None,
    change: Annotated[int | None, typer.Option(help="the change it belongs to")] = None,
    link: Annotated[str | None, typer.Option(help="URL of the pipeline run")] = None,
    url: UrlOption = None, token: TokenOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
) -> None:
    """Record a deployment with the commits of a local git range."""
    commits = _commits(git_range, repo)
    if version is None and git_range:
        version = git_range.split("..")[-1]
    body = {"service": service, "environment": env, "version": version, "status": status,
            "started_at": started_at, "finished_at": finished_at, "commits": commits,
            "change_id": change}
    if link:
        body["url"] = link
    answer = Client(url, token).call("POST", "/api/v1/deployments", json=body)
    if json_out:
        print_json(answer)
        return
    flag = "  [bold red]UNAUTHORISED: no approved change[/]" if answer["unauthorised"] else ""
    change_text = f" under CHG-{answer['change_id']}" if answer.get("change_id") else ""
    console.print(f"Deployment {answer['id']}: {service} {answer['version']} to {env}, "
                  f"{answer['status']}, {answer['batch_size']} commit(s){change_text}.{flag}")


@change_app.command("gate")
def change_gate(
    service: Annotated[str, typer.Option(help="the service about to be deployed")],
    env: Annotated[str, typer.Option("--env", help="environment")] = "production",
    change: Annotated[int | None, typer.Option(help="an existing change id")] = None,
    wait: Annotated[int, typer.Option(help="seconds to wait for approval")] = 0,
    template: Annotated[str | None, typer.Option(help="standard change template")] = None,
    emergency: Annotated[bool, typer.Option(help="an emergency change")] = False,
    title: Annotated[str, typer.Option(help="the change's title")] = "",
    git_range: Annotated[str | None, typer.Option(help="commits to ship, for batch size")] = None,
    repo: Annotated[Path, typer.Option(help="the local git repository")] = Path("."),
    pipeline_run: Annotated[str | None, typer.Option(
        help="this run's id (default: from the CI's environment)")] = None,
    interval: Annotated[float, typer.Option(help="seconds between checks")] = 2.0,
    url: UrlOption = None, token: TokenOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the decision as JSON")] = False,
) -> None:
    """Open or find this run's change; exit 0 allowed, 1 denied, 3 still pending."""
    client = Client(url, token)
    body = {"service": service, "environment": env, "change_id": change,
            "pipeline_run": pipeline_run or pipeline_run_id(), "template": template,
            "model": "emergency" if emergency else "normal", "title": title,
            "batch_size": len(_commits(git_range, repo)) if git_range else None}
    answer = client.call("POST", "/api/v1/gate", json=body)
    deadline = time.monotonic() + max(wait, 0)
    shown = False
    while answer["decision"] == "pending" and time.monotonic() < deadline:
        if not shown and not json_out:
            console.print(f"CHG-{answer['change_id']} waits for approval: "
                          + "; ".join(answer["reasons"]), highlight=False)
            shown = True
        time.sleep(min(interval, max(deadline - time.monotonic(), 0.1)))
        answer = client.call("GET", f"/api/v1/changes/{answer['change_id']}/gate")
    if json_out:
        print_json(answer)
    else:
        style = {"allowed": "bold green", "denied": "bold red"}.get(answer["decision"], "yellow")
        console.print(f"CHG-{answer['change_id']} ({answer['model']}, risk "
                      f"{answer['risk']['level']} {answer['risk']['score']}): "
                      f"[{style}]{answer['decision'].upper()}[/]", highlight=False)
        for reason in answer["reasons"]:
            console.print(f"  - {reason}", highlight=False)
    raise typer.Exit(GATE_EXIT.get(answer["decision"], EXIT_ERROR))


@change_app.command("policy")
def change_policy(
    url: UrlOption = None, token: TokenOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the policy as JSON")] = False,
) -> None:
    """Show the approval policy in effect: its rules in order, the guards above them and
    the risk levels they read."""
    answer = Client(url, token).call("GET", "/api/v1/change-policy")
    if json_out:
        print_json(answer)
        return
    table = Table(title=f"Approval rules ({answer['source']}): the first that matches decides")
    for column in ("#", "rule", "when", "action", "approvers"):
        table.add_column(column, overflow="fold")
    for number, rule in enumerate(answer["rules"], 1):
        approvers = (f"{', '.join(rule['approvers'])} (quorum {rule['quorum']})"
                     if rule["approvers"] else "-")
        table.add_row(str(number), rule["name"], rule["when"], rule["action"], approvers)
    console.print(table)
    console.print(answer["no_rule"], highlight=False)
    for guard in answer["guards"]:
        console.print(f"  - {guard}", highlight=False)
    bounds = [lv["below"] for lv in answer["risk"]["levels"]]
    levels = ", ".join(f"{lv['level']} below {lv['below']}" if lv["below"] is not None
                       else f"{lv['level']} from {bounds[n - 1]}"
                       for n, lv in enumerate(answer["risk"]["levels"]))
    console.print(f"Risk levels ({answer['risk']['source']} weights): {levels}.",
                  highlight=False)
