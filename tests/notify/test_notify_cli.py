"""`steward notify ...`: the commands speak to the API (here the application itself, in
process, through httpx's ASGI transport)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from helpers import api_client
from notify_world import declare, organisation
from sqlalchemy import update
from typer.testing import CliRunner

from steward.auth.actor import SYSTEM
from steward.auth.use_cases import accounts
from steward.cli import client as cli_client
from steward.cli.main import app
from steward.db import Database
from steward.notify.models import Notification


@pytest.fixture
def run(db: Database, monkeypatch: pytest.MonkeyPatch) -> Any:
    organisation(db)
    with db.session() as session:
        token = accounts.create_token(session, SYSTEM, "root")
    served = api_client(db)

    def client(**kwargs: Any) -> httpx.Client:
        served.headers.update(kwargs.get("headers") or {})
        return served

    monkeypatch.setattr(cli_client.httpx, "Client", client)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        result = runner.invoke(app, ["notify", *args, "--url", "http://steward.test",
                                     "--token", token])
        return result

    return invoke


def test_methods_rules_subscriptions_log_and_retry(db: Database, run: Any) -> None:
    added = run("methods", "alice", "--add", "email:alice@work.example.test",
                "--label", "work")
    assert added.exit_code == 0, added.output
    assert "Added contact method 1: email alice@work.example.test" in added.output
    assert "alice@work.example.test" in run("methods", "alice").output
    rule = run("rules", "alice", "--add", "1", "--urgency", "high", "--delay", "5")
    assert rule.exit_code == 0 and "high urgency, email alice@work.example.test after 5 min" \
        in rule.output
    bad = run("methods", "alice", "--add", "email:nobody")
    assert bad.exit_code == 2 and "422" in bad.output and "email address" in bad.output

    sub = run("subscriptions", "payments", "--add", "bus", "--target",
              "https://hooks.example.test/bus", "--event", "incident.triggered")
    assert sub.exit_code == 0, sub.output
    assert "Signing secret (shown once): whsec_" in sub.output
    assert "whsec_" not in run("subscriptions", "payments").output

    declare(db)
    with db.session() as session:
        session.execute(update(Notification).values(state="dead", attempts=10,
                                                    last_error="HTTP 502 Bad Gateway"))
    dead = run("log", "--state", "dead", "--json")
    assert dead.exit_code == 0 and '"HTTP 502 Bad Gateway"' in dead.output
    retried = run("retry", "1")
    assert retried.exit_code == 0 and "is pending again" in retried.output
    assert run("retry", "1").exit_code == 2  # only a dead one
