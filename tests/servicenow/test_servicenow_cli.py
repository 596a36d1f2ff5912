"""`steward import servicenow` on the local database."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from steward.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(sqlite_db, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STEWARD_DATABASE_URL", sqlite_db.url)
    return sqlite_db


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["import", "servicenow", *args], catch_exceptions=False)


def test_json_summary_then_unchanged_on_repeat(env, snow, tmp_path):
    path = tmp_path / "incidents.csv.gz"
    path.write_bytes(gzip.compress(snow.csv([*snow.history(), snow.row("INC2")]).encode()))
    first = invoke(str(path), "--json")
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout)
    assert out["incidents"]["created"] == 2 and out["events"] == 5
    assert out["files"] == ["incidents.csv.gz"]
    again = invoke(str(path))
    assert again.exit_code == 0
    assert "Incidents: 0 created, 0 updated, 2 unchanged (nothing changed)" in again.stdout
    assert "Timeline entries added: 0" in again.stdout


def test_bad_rows_are_listed_and_strict_exits_non_zero_naming_the_line(env, snow, tmp_path):
    rows = [snow.row("INC1"), snow.row("INC2", opened_at="31/2/2016 10:00"), snow.row("INC3")]
    path = tmp_path / "export.csv"
    path.write_text(snow.csv(rows))
    lenient = invoke(str(path), "--timezone", "Europe/Amsterdam")
    assert lenient.exit_code == 0
    assert "Incidents: 2 created" in lenient.stdout
    assert "1 x opened_at: not a valid date" in lenient.stdout
    assert "skipped export.csv line 3: opened_at: not a valid date" in lenient.stdout
    strict = invoke(str(path), "--strict")
    assert strict.exit_code == 1
    assert "stopped at export.csv line 3" in strict.output


def test_missing_file_and_bad_timezone(env, snow, tmp_path):
    missing = invoke(str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1 and "no such file" in missing.output
    path = tmp_path / "export.csv"
    path.write_text(snow.csv([snow.row("INC1")]))
    zone = invoke(str(path), "--timezone", "Atlantis/Capital")
    assert zone.exit_code == 1 and "'Atlantis/Capital' is not an IANA time zone" in zone.output
