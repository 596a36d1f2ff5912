"""`steward notify methods / rules / subscriptions / log / retry`: notification settings
and the delivery log, against a server."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from steward.cli.client import Client, TokenOption, UrlOption
from steward.cli.common import console, fail, print_json

notify_app = typer.Typer(help="Notifications: contact methods, rules, subscriptions, "
                              "the delivery log.", no_args_is_help=True)
JsonOut = Annotated[bool, typer.Option("--json", help="print as JSON")]
Remove = Annotated[int | None, typer.Option("--remove", help="remove the one with this id")]


def _table(title: str, columns: tuple[str, ...], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("-" if v is None or v == "" else str(v) for v in row))
    console.print(table)


def _said(answer: Any, json_out: bool, sentence: str) -> None:
    if json_out:
        print_json(answer)
    else:
        console.print(sentence, highlight=False)


@notify_app.command("methods")
def methods(
    user: Annotated[str, typer.Argument(help="username (yours, or anyone's as admin)")],
    add: Annotated[str | None, typer.Option(
        help="KIND:TARGET, e.g. email:alice@example.com or webhook:https://...")] = None,
    label: Annotated[str, typer.Option(help="a label for the one added")] = "",
    remove: Remove = None, url: UrlOption = None, token: TokenOption = None,
    json_out: JsonOut = False,
) -> None:
    """A person's contact methods: list, add one, or remove one."""
    client = Client(url, token)
    path = f"/api/v1/users/{user}/contact-methods"
    if add is not None:
        kind, _, target = add.partition(":")
        if not target:
            fail("--add: KIND:TARGET, e.g. email:alice@example.com", 2)
        answer = client.call("POST", path, json={"kind": kind, "target": target,
                                                 "label": label})
        _said(answer, json_out,
              f"Added contact method {answer['id']}: {answer['kind']} {answer['target']}")
        return
    if remove is not None:
        client.call("DELETE", f"{path}/{remove}")
        console.print(f"Removed contact method {remove} (and its rules).")
        return
    answer = client.call("GET", path)
    if json_out:
        print_json(answer)
        return
    _table(f"Contact methods of {user} ({answer['total']})", ("id", "kind", "target", "label"),
           [[m["id"], m["kind"], m["target"], m["label"]] for m in answer["items"]])


@notify_app.command("rules")
def rules(
    user: Annotated[str, typer.Argument(help="username (yours, or anyone's as admin)")],
    add: Annotated[int | None, typer.Option(
        "--add", help="add a rule through this contact method id")] = None,
    urgency: Annotated[str, typer.Option(help="high, low or any")] = "any",
    delay: Annotated[int, typer.Option(help="minutes after the page starts")] = 0,
    remove: Remove = None, url: UrlOption = None, token: TokenOption = None,
    json_out: JsonOut = False,
) -> None:
    """A person's notification rules: list, add one, or remove one."""
    client = Client(url, token)
    path = f"/api/v1/users/{user}/notification-rules"
    if add is not None:
        answer = client.call("POST", path, json={"contact_method_id": add, "urgency": urgency,
                                                 "delay_minutes": delay})
        _said(answer, json_out,
              f"Added rule {answer['id']}: {answer['urgency']} urgency, "
              f"{answer['contact_kind']} {answer['contact_target']} after "
              f"{answer['delay_minutes']} min")
        return
    if remove is not None:
        client.call("DELETE", f"{path}/{remove}")
        console.print(f"Removed rule {remove}.")
        return
    answer = client.call("GET", path)
    if json_out:
        print_json(answer)
        return
    _table(f"Notification rules of {user} ({answer['total']})",
           ("id", "urgency", "contact", "after (min)"),
           [[r["id"], r["urgency"], f"{r['contact_kind']} {r['contact_target']}",
             r["delay_minutes"]] for r in answer["items"]])


@notify_app.command("subscriptions")
def subscriptions(
    team: Annotated[str, typer.Argument(help="team name")],
    add: Annotated[str | None, typer.Option("--add", help="add one with this name")] = None,
    kind: Annotated[str, typer.Option(help="webhook, chat or cdevents")] = "webhook",
    target: Annotated[str | None, typer.Option("--target", help="its URL")] = None,
    event: Annotated[list[str] | None, typer.Option(
        "--event", help="an event type (repeat), e.g. incident.triggered")] = None,
    remove: Remove = None, url: UrlOption = None, token: TokenOption = None,
    json_out: JsonOut = False,
) -> None:
    """A team's subscriptions: list, add one (a webhook's secret is printed once), or
    remove one."""
    client = Client(url, token)
    path = f"/api/v1/teams/{team}/subscriptions"
    if add is not None:
        if not target:
            fail("--target: the subscription's URL", 2)
        answer = client.call("POST", path, json={
            "name": add, "kind": kind, "url": target,
            "event_types": event or ["incident.triggered", "incident.acknowledged",
                                     "incident.escalated", "incident.resolved"]})
        if json_out:
            print_json(answer)
            return
        console.print(f"Added subscription {answer['id']} ({answer['kind']}) for "
                      f"{', '.join(answer['event_types'])}", highlight=False)
        if answer.get("secret"):
            console.print(f"Signing secret (shown once): {answer['secret']}", highlight=False)
        return
    if remove is not None:
        client.call("DELETE", f"{path}/{remove}")
        console.print(f"Removed subscription {remove}.")
        return
    answer = client.call("GET", path)
    if json_out:
        print_json(answer)
        return
    _table(f"Subscriptions of {team} ({answer['total']})",
           ("id", "name", "kind", "url", "events", "signed"),
           [[s["id"], s["name"], s["kind"], s["url"], ", ".join(s["event_types"]),
             "yes" if s["signed"] else "no"] for s in answer["items"]])


@notify_app.command("log")
def log(
    state: Annotated[str | None, typer.Option(
        help="pending, delivered, dead or skipped")] = None,
    incident: Annotated[int | None, typer.Option(help="an incident's id")] = None,
    limit: Annotated[int, typer.Option(help="at most this many")] = 50,
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOut = False,
) -> None:
    """The delivery log, newest first (`--state dead`: the dead letters)."""
    params: dict[str, Any] = {"limit": limit}
    if state:
        params["state"] = state
    if incident is not None:
        params["incident"] = incident
    answer = Client(url, token).call("GET", "/api/v1/notifications", params=params)
    if json_out:
        print_json(answer)
        return
    _table(f"Notifications ({answer['total']})",
           ("id", "created", "event", "channel", "target", "state", "attempts", "last error"),
           [[n["id"], n["created_at"], n["event_type"], n["channel"], n["target"], n["state"],
             n["attempts"], n["last_error"]] for n in answer["items"]])


@notify_app.command("retry")
def retry(
    notification: Annotated[int, typer.Argument(help="a dead notification's id")],
    url: UrlOption = None, token: TokenOption = None, json_out: JsonOut = False,
) -> None:
    """Send a dead notification again (its attempts start over)."""
    answer = Client(url, token).call("POST", f"/api/v1/notifications/{notification}/retry")
    if json_out:
        print_json(answer)
        return
    console.print(f"Notification {answer['id']} is {answer['state']} again: "
                  f"{answer['channel']} to {answer['target']}", highlight=False)
