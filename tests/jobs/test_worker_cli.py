"""`steward worker --once` and `steward worker status` on a local database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from steward.cli.main import app
from steward.db import Database, Session
from steward.jobs import timers
from steward.timeutil import utcnow

runner = CliRunner()


def refuse(session: Session, timer: timers.Fired) -> None:
    raise ValueError("the target refused")


@pytest.fixture
def env(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("STEWARD_DATABASE_URL", db.url)
    timers.register("cli.ok", lambda session, timer: None)
    timers.register("cli.refused", refuse)
    yield db
    timers.clear_handlers(["cli.ok", "cli.refused"])


def test_once_fires_one_round_and_status_counts_by_kind_and_state(env: Database) -> None:
    with env.session() as session:
        for n in range(3):
            timers.schedule(session, "cli.ok", f"ok:{n}", utcnow() - timedelta(minutes=1))
        timers.schedule(session, "cli.refused", "refused:1", utcnow() - timedelta(minutes=2))
        timers.schedule(session, "cli.ok", "ok:later", utcnow() + timedelta(hours=1))
    once = runner.invoke(app, ["worker", "--once"], catch_exceptions=False)
    assert once.exit_code == 0, once.output
    assert "3 timer(s) fired, 1 failed." in once.output
    again = runner.invoke(app, ["worker", "--once"], catch_exceptions=False)
    assert "0 timer(s) fired, 0 failed." in again.output

    status = runner.invoke(app, ["worker", "status"], catch_exceptions=False)
    assert status.exit_code == 0, status.output
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:6]]
            for line in status.output.splitlines() if line.startswith("│")}
    assert rows["cli.ok"] == ["1", "3", "0", "0"]  # pending, done, failed, canceled
    assert rows["cli.refused"] == ["1", "0", "0", "0"]  # waiting for its retry
    assert "0 overdue" in status.output and "the oldest waiting was due" in status.output

    answer = json.loads(runner.invoke(app, ["worker", "status", "--json", "--kind",
                                            "cli.refused"]).output)
    assert answer["counts"] == [{"kind": "cli.refused", "state": "pending", "count": 1}]
    assert answer["overdue"] == 0 and answer["oldest_due"].endswith("Z")


def test_a_handlers_module_that_cannot_be_imported_is_named(env: Database) -> None:
    result = runner.invoke(app, ["worker", "--once", "--handlers", "no_such_module_here"])
    assert result.exit_code == 1
    assert "no_such_module_here" in result.output
