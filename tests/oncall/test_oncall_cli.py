"""`steward oncall create / override / who / schedule` against a real server."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from serving import admin_token, database_env, served, steward

pytestmark = pytest.mark.e2e


def test_oncall_commands(tmp_path: Path) -> None:
    env = database_env(tmp_path / "steward.db")
    assert steward(env, "init").returncode == 0
    admin = admin_token(env)
    with served(env, tmp_path / "serve.log") as url:
        auth = {"Authorization": f"Bearer {admin}"}
        assert httpx.post(f"{url}/api/v1/teams", json={"name": "payments"},
                          headers=auth).status_code == 201
        for name in ("alice", "bob", "carol"):
            made = httpx.post(f"{url}/api/v1/users", headers=auth, json={
                "username": name, "teams": ["payments"], "email": f"{name}@example.com"})
            assert made.status_code == 201, made.text
        client = {**env, "STEWARD_URL": url, "STEWARD_TOKEN": admin, "COLUMNS": "200"}

        created = steward(client, "oncall", "create", "--team", "payments", "--name", "primary",
                          "--time-zone", "America/New_York", "--starts", "2026-03-02T09:00",
                          "--member", "alice", "--member", "bob")
        assert created.returncode == 0, created.stderr
        assert "Schedule 1 created: primary for payments" in created.stdout
        bad_zone = steward(client, "oncall", "create", "--team", "payments", "--name", "x",
                           "--time-zone", "America/Gotham", "--starts", "2026-03-02T09:00",
                           "--member", "alice")
        assert bad_zone.returncode == 2 and "time_zone" in bad_zone.stderr

        covered = steward(client, "oncall", "override", "--team", "payments", "--user", "carol",
                          "--from", "2026-03-10T00:00:00Z", "--to", "2026-03-11T00:00:00Z",
                          "--reason", "bob's day off")
        assert covered.returncode == 0, covered.stderr
        assert "carol on call from 2026-03-10T00:00:00Z" in covered.stdout
        clash = steward(client, "oncall", "override", "--team", "payments", "--user", "alice",
                        "--from", "2026-03-10T12:00:00Z", "--to", "2026-03-12T00:00:00Z")
        assert clash.returncode == 2 and "409" in clash.stderr and "override 1" in clash.stderr

        # After spring forward (8 March) the hand-off is still 09:00 New York time.
        who = steward(client, "oncall", "who", "--team", "payments", "--at",
                      "2026-03-09T12:59:00Z")
        assert who.returncode == 0, who.stderr
        assert "alice" in who.stdout and "until Mon 09 Mar 2026 09:00 EDT" in who.stdout
        assert "next bob from Mon 09 Mar 2026 09:00 EDT" in who.stdout
        as_json = json.loads(steward(client, "oncall", "who", "--team", "payments", "--at",
                                     "2026-03-10T06:00:00Z", "--json").stdout)
        assert as_json["oncall"] == [{"user": "carol", "email": "carol@example.com",
                                      "level": 1, "schedule": "primary"}]
        gap = steward(client, "oncall", "who", "--team", "payments", "--at",
                      "2026-01-01T00:00:00Z")
        assert "Gap: nobody is on call" in gap.stdout

        table = steward(client, "oncall", "schedule", "--team", "payments", "--weeks", "2",
                        "--from", "2026-02-28T00:00:00Z")
        assert table.returncode == 0, table.stderr
        assert "GAP: nobody on call" in table.stdout
        assert "override" in table.stdout and "carol" in table.stdout
        assert "Mon 02 Mar 2026 09:00 EST" in table.stdout
