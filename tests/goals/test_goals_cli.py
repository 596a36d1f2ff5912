"""`steward goal create / list / show` and `steward export kpis` against a real server,
and /metrics answering without a token."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from serving import admin_token, database_env, served, steward

pytestmark = pytest.mark.e2e


def test_goal_and_export_commands(tmp_path: Path) -> None:
    env = database_env(tmp_path / "steward.db")
    assert steward(env, "init").returncode == 0
    admin = admin_token(env)
    viewer_made = steward(env, "user", "create", "vera", "--role", "viewer")
    assert viewer_made.returncode == 0, viewer_made.stderr
    viewer = steward(env, "token", "create", "vera").stdout.strip()
    with served(env, tmp_path / "serve.log") as url:
        client = {**env, "STEWARD_URL": url, "COLUMNS": "200"}
        for name in ("pay", "web"):
            made = httpx.post(f"{url}/api/v1/teams", json={"name": name},
                              headers={"Authorization": f"Bearer {admin}"})
            assert made.status_code == 201, made.text

        created = steward({**client, "STEWARD_TOKEN": admin}, "goal", "create",
                          "Fewer failed changes", "--metric", "change_failure_rate",
                          "--target", "0.1", "--start", "2026-01-01", "--end", "2026-04-01")
        assert created.returncode == 0, created.stderr
        assert "Goal 1 set: Fewer failed changes (change_failure_rate <= 0.1)" in created.stdout

        refused = steward({**client, "STEWARD_TOKEN": viewer}, "goal", "create", "Mine",
                          "--metric", "sla_compliance", "--target", "0.9",
                          "--start", "2026-01-01", "--end", "2026-04-01")
        assert refused.returncode == 2 and "403" in refused.stderr
        bad = steward({**client, "STEWARD_TOKEN": admin}, "goal", "create", "Odd",
                      "--metric", "happiness", "--target", "1",
                      "--start", "2026-01-01", "--end", "2026-04-01")
        assert bad.returncode == 2 and "metric: unknown metric 'happiness'" in bad.stderr

        listed = steward({**client, "STEWARD_TOKEN": viewer}, "goal", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        items = json.loads(listed.stdout)["items"]
        assert [i["name"] for i in items] == ["Fewer failed changes"]
        assert {t["team"] for t in items[0]["teams"]} == {"pay", "web"}
        table = steward({**client, "STEWARD_TOKEN": viewer}, "goal", "list")
        assert "Fewer failed changes" in table.stdout and "0 of 2" in table.stdout

        shown = steward({**client, "STEWARD_TOKEN": viewer}, "goal", "show", "1", "--json")
        progress = json.loads(shown.stdout)
        assert progress["metric"] == "change_failure_rate" and progress["target"] == 0.1
        assert progress["organisation"]["value"] is None  # nothing deployed
        human = steward({**client, "STEWARD_TOKEN": viewer}, "goal", "show", "1")
        assert "Organisation: no data" in human.stdout and "pay" in human.stdout

        out = tmp_path / "dora.csv"
        exported = steward({**client, "STEWARD_TOKEN": viewer}, "export", "kpis", "--table",
                           "dora", "--end", "2026-03-30T00:00:00Z", "-o", str(out))
        assert exported.returncode == 0, exported.stderr
        rows = list(csv.DictReader(io.StringIO(out.read_text())))
        assert [r["team"] for r in rows] == ["pay", "web"]
        assert {r["deployments"] for r in rows} == {"0"}
        assert {r["lead_time_hours_median"] for r in rows} == {""}
        as_json = steward({**client, "STEWARD_TOKEN": viewer}, "export", "kpis", "--table",
                          "goals", "--format", "json")
        assert json.loads(as_json.stdout)["items"][0]["goal"] == "Fewer failed changes"
        wrong = steward({**client, "STEWARD_TOKEN": viewer}, "export", "kpis", "--table",
                        "people")
        assert wrong.returncode == 2 and "422" in wrong.stderr and "table" in wrong.stderr

        metrics = httpx.get(f"{url}/metrics")
        assert metrics.status_code == 200
        names = {f.name for f in text_string_to_metric_families(metrics.text)}
        assert {"steward_deployments", "steward_open_incidents"} <= names
