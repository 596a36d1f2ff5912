"""`steward kpi dora / itsm` against a running server."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from serving import admin_token, database_env, served, steward

from steward.timeutil import isoformat_z, utcnow

pytestmark = pytest.mark.e2e

def test_kpi_commands(tmp_path: Path) -> None:
    env = database_env(tmp_path / "steward.db")
    assert steward(env, "init").returncode == 0
    token = admin_token(env)
    with served(env, tmp_path / "serve.log") as url:
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{url}/api/v1/teams", json={"name": "pay"}, headers=headers,
                          timeout=30).status_code == 201
        assert httpx.post(f"{url}/api/v1/services", json={"name": "api", "owner": "pay"},
                          headers=headers, timeout=30).status_code == 201
        finished = utcnow() - timedelta(hours=3)
        deployment = {"service": "api", "environment": "production", "version": "2.0",
                      "status": "succeeded", "finished_at": isoformat_z(finished),
                      "commits": [{"sha": "a" * 40,
                                   "committed_at": isoformat_z(finished - timedelta(hours=5))}]}
        assert httpx.post(f"{url}/api/v1/deployments", json=deployment, headers=headers,
                          timeout=30).status_code < 300
        cli = {**env, "STEWARD_URL": url, "STEWARD_TOKEN": token}

        as_json = steward(cli, "kpi", "dora", "--team", "pay", "--days", "7", "--json")
        assert as_json.returncode == 0, as_json.stderr
        answer = json.loads(as_json.stdout)
        assert answer["deployments"] == 1
        assert answer["lead_time_hours"]["median"] == 5.0
        assert answer["lead_time_hours"]["tier"] == "elite"

        table = steward(cli, "kpi", "dora", "--team", "pay", "--days", "7")
        assert table.returncode == 0, table.stderr
        assert "lead time for changes" in table.stdout and "elite" in table.stdout
        assert "team pay" in table.stdout

        itsm = steward(cli, "kpi", "itsm", "--json")
        assert itsm.returncode == 0, itsm.stderr
        assert json.loads(itsm.stdout)["incidents"] == 0
        assert steward(cli, "kpi", "itsm").returncode == 0

        unknown = steward(cli, "kpi", "dora", "--team", "nobody")
        assert unknown.returncode != 0
        assert "team 'nobody' not found" in unknown.stderr + unknown.stdout
