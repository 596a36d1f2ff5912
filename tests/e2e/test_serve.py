"""A real `steward` process: init, demo seed, serve, and HTTP against it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from serving import database_env, free_port, served, steward

pytestmark = pytest.mark.e2e


def test_demo_serve_and_api_over_http(tmp_path: Path):
    db_path = tmp_path / "steward.db"
    env = database_env(db_path)
    seeded = steward(env, "demo", "--no-serve")
    assert seeded.returncode == 0, seeded.stderr
    assert "33 services" in seeded.stdout
    again = steward(env, "demo", "--no-serve")
    assert "already there" in again.stdout
    token = steward(env, "token", "create", "viewer").stdout.strip()
    log = tmp_path / "serve.log"
    with served(env, log) as url:
        headers = {"Authorization": f"Bearer {token}"}
        services = httpx.get(f"{url}/api/v1/services?limit=1000", headers=headers).json()
        assert services["total"] == 33
        listed = httpx.get(f"{url}/api/v1/teams", headers=headers).json()["items"]
        assert {"order-to-cash", "banking-webapp"} <= {t["name"] for t in listed}
        impact = httpx.get(f"{url}/api/v1/impact", params={"failing": "core-db"},
                           headers=headers).json()
        down = {row["service"] for row in impact["business_services"] if row["state"] == "down"}
        assert {"online-banking", "order-to-cash-process"} <= down
        refused = httpx.post(f"{url}/api/v1/teams", headers=headers, json={"name": "x"})
        assert refused.status_code == 403
        assert httpx.get(f"{url}/api/v1/services").status_code == 401
    assert f"SQLite file {db_path}" in log.read_text()


def test_serve_refuses_a_database_behind_the_schema(tmp_path: Path):
    db_path = tmp_path / "old.db"
    env = database_env(db_path)
    assert steward(env, "init").returncode == 0
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'older'")
    result = steward(env, "serve", "--port", str(free_port()))
    assert result.returncode == 1
    assert "steward migrate" in result.stderr
