"""`steward incident update` and `steward status policy`: the commands speak to the API
(the application itself, in process, through httpx's ASGI transport)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from helpers import api_client
from status_world import declare_on, world
from typer.testing import CliRunner

from steward.cli import client as cli_client
from steward.cli.main import app
from steward.db import Database


@pytest.fixture
def run(db: Database, monkeypatch: pytest.MonkeyPatch) -> Any:
    tokens = world(db)
    served = api_client(db)

    def client(**kwargs: Any) -> httpx.Client:
        served.headers.update(kwargs.get("headers") or {})
        return served

    monkeypatch.setattr(cli_client.httpx, "Client", client)
    runner = CliRunner()

    def invoke(*args: str, user: str = "alice") -> Any:
        return runner.invoke(app, [*args, "--url", "http://steward.test",
                                   "--token", tokens[user]])

    return invoke


def test_incident_update_publishes_and_says_what(db: Database, run: Any) -> None:
    incident = declare_on(db)
    done = run("incident", "update", f"INC-{incident}", "--status", "investigating",
               "--title", "Checkout unavailable", "--message", "Payments fail.",
               "--component", "Checkout=major_outage")
    assert done.exit_code == 0, done.output
    assert "Published (investigating): Checkout unavailable" in done.output
    assert "Checkout (major_outage)" in done.output
    later = run("incident", "update", str(incident), "--status", "monitoring",
                "--message", "Recovering.", "--component", "checkout")
    assert later.exit_code == 0 and "Checkout (degraded_performance)" in later.output
    empty = run("incident", "update", str(incident), "--status", "resolved", "--message", " ")
    assert empty.exit_code != 0 and "body" in empty.output


def test_status_policy_shows_and_sets(db: Database, run: Any) -> None:
    assert "publish nothing until a responder does" in run("status", "policy",
                                                           "payments").output
    on = run("status", "policy", "payments", "--auto-publish-p1")
    assert on.exit_code == 0 and "automatically" in on.output
    refused = run("status", "policy", "payments", "--no-auto-publish-p1", user="vic")
    assert refused.exit_code != 0 and "viewer" in refused.output
    assert "automatically" in run("status", "policy", "payments").output
