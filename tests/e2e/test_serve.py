"""A real `steward` process: init, demo seed, serve, and HTTP against it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def steward(env: dict[str, str], *args: str,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "steward.cli.main", *args], env=env,
                          input=stdin, capture_output=True, text=True, timeout=120, check=False)


def wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"server exited: {output}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not answer /healthz within 30 s")


def test_demo_serve_and_api_over_http(tmp_path: Path):
    db_path = tmp_path / "steward.db"
    env = {**os.environ, "STEWARD_DATABASE_URL": f"sqlite:///{db_path}"}
    seeded = steward(env, "demo", "--no-serve")
    assert seeded.returncode == 0, seeded.stderr
    assert "33 services" in seeded.stdout
    again = steward(env, "demo", "--no-serve")
    assert "already there" in again.stdout
    token = steward(env, "token", "create", "viewer").stdout.strip()

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "steward.cli.main", "serve", "--host", "127.0.0.1", "--port",
         str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        headers = {"Authorization": f"Bearer {token}"}
        services = httpx.get(f"{url}/api/v1/services?limit=1000", headers=headers).json()
        assert services["total"] == 33
        listed = httpx.get(f"{url}/api/v1/teams", headers=headers).json()["items"]
        teams = {t["name"] for t in listed}
        assert {"order-to-cash", "banking-webapp"} <= teams
        impact = httpx.get(f"{url}/api/v1/impact", params={"failing": "core-db"},
                           headers=headers).json()
        down = {row["service"] for row in impact["business_services"] if row["state"] == "down"}
        assert {"online-banking", "order-to-cash-process"} <= down
        refused = httpx.post(f"{url}/api/v1/teams", headers=headers, json={"name": "x"})
        assert refused.status_code == 403
        assert httpx.get(f"{url}/api/v1/services").status_code == 401
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"SQLite file {db_path}" in output


def test_serve_refuses_a_database_behind_the_schema(tmp_path: Path):
    db_path = tmp_path / "old.db"
    env = {**os.environ, "STEWARD_DATABASE_URL": f"sqlite:///{db_path}"}
    assert steward(env, "init").returncode == 0
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'older'")
    result = steward(env, "serve", "--port", str(free_port()))
    assert result.returncode == 1
    assert "steward migrate" in result.stderr
