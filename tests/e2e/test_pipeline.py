"""A pipeline that uses only `steward change gate` and `steward deploy record`.

It runs against a real server: blocked during a freeze, waits for a peer's
approval on a high-risk change, and passes a low-risk standard change at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from serving import database_env, served, steward

from steward.timeutil import isoformat_z, utcnow

pytestmark = pytest.mark.e2e


def git(repo: Path, *args: str, when: str | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
    if when:
        env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"] = when
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "commit", "-q", "--allow-empty", "-m", "start")
    git(path, "tag", "v1")
    start = utcnow() - timedelta(days=2)
    for i in range(60):
        git(path, "commit", "-q", "--allow-empty", "-m", f"change {i}",
            when=isoformat_z(start + timedelta(minutes=10 * i)))
    git(path, "tag", "v2")
    return path


def admin_api(url: str, token: str, method: str, path: str, **kwargs):
    response = httpx.request(method, url + path, headers={"Authorization": f"Bearer {token}"},
                             timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def test_pipeline_gate_and_deploy_record(tmp_path: Path, repo: Path):
    env = database_env(tmp_path / "steward.db")
    assert steward(env, "init").returncode == 0
    admin = _setup_org(env)
    with served(env, tmp_path / "serve.log") as url:
        _catalog(url, admin)
        pipeline_token = steward(env, "token", "create", "robot").stdout.strip()
        peer_token = steward(env, "token", "create", "quinn").stdout.strip()
        cli = {**env, "STEWARD_URL": url, "STEWARD_TOKEN": pipeline_token}

        # 1. A freeze is in force: the gate says no at once.
        now = utcnow()
        freeze = admin_api(url, admin, "POST", "/api/v1/calendar/windows", json={
            "name": "Launch freeze", "kind": "freeze", "starts_at": isoformat_z(now),
            "ends_at": isoformat_z(now + timedelta(hours=2))})
        frozen = steward(cli, "change", "gate", "--service", "ledger", "--env", "production",
                         "--pipeline-run", "run-1")
        assert frozen.returncode == 1, frozen.stdout + frozen.stderr
        assert "Launch freeze" in frozen.stdout
        admin_api(url, admin, "DELETE", f"/api/v1/calendar/windows/{freeze['id']}")

        # 2. A big change to a critical service with a poor record waits for a peer.
        for run in range(3):
            failed = steward(cli, "deploy", "record", "--service", "ledger-db", "--env",
                             "production", "--status", "failed", "--version", f"0.{run}")
            assert failed.returncode == 0, failed.stderr
        gate = subprocess.Popen(
            [sys.executable, "-m", "steward.cli.main", "change", "gate", "--service",
             "ledger-db", "--env", "production", "--git-range", "v1..v2", "--repo", str(repo),
             "--pipeline-run", "run-2", "--wait", "60", "--interval", "0.5", "--json"],
            env=cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        change = _wait_for_change(url, admin, state="authorize", service="ledger-db")
        assert change["risk"]["level"] in ("high", "very high"), change["risk"]
        assert {"batch_size", "blast_radius", "change_failure_rate"} <= {
            f["key"] for f in change["risk"]["factors"]}
        # The pipeline's own account cannot approve its change; a peer can.
        refused = httpx.post(f"{url}/api/v1/changes/{change['id']}/approve", json={},
                             headers={"Authorization": f"Bearer {pipeline_token}"})
        assert refused.status_code == 403 and "author" in refused.json()["error"]
        time.sleep(1)
        assert gate.poll() is None, "the gate must still be waiting"
        for approver in ("quinn", "wendy"):
            token = peer_token if approver == "quinn" else steward(
                env, "token", "create", approver).stdout.strip()
            current = admin_api(url, admin, "GET", f"/api/v1/changes/{change['id']}")
            if current["state"] == "authorize":
                admin_api(url, token, "POST", f"/api/v1/changes/{change['id']}/approve",
                          json={"comment": "reviewed"})
        out, err = gate.communicate(timeout=60)
        assert gate.returncode == 0, out + err
        recorded = steward(cli, "deploy", "record", "--service", "ledger-db", "--env",
                           "production", "--git-range", "v1..v2", "--repo", str(repo),
                           "--json")
        assert recorded.returncode == 0, recorded.stderr
        assert f'"change_id": {change["id"]}' in recorded.stdout
        assert '"batch_size": 60' in recorded.stdout
        assert '"unauthorised": false' in recorded.stdout
        closed = admin_api(url, admin, "GET", f"/api/v1/changes/{change['id']}")
        assert (closed["state"], closed["outcome"]) == ("closed", "successful")

        # 3. A standard change within its template passes at once.
        admin_api(url, admin, "POST", "/api/v1/change-templates", json={
            "name": "ledger config", "services": ["ledger"], "risk_ceiling": "moderate"})
        started = time.monotonic()
        standard = steward(cli, "change", "gate", "--service", "ledger", "--env", "production",
                           "--template", "ledger config", "--pipeline-run", "run-3")
        assert standard.returncode == 0, standard.stdout + standard.stderr
        assert "ALLOWED" in standard.stdout and time.monotonic() - started < 15

        # The unauthorised deployments (the failed ones without a change) are listed.
        listed = admin_api(url, admin, "GET", "/api/v1/deployments?unauthorised=true")
        assert listed["total"] == 3


def _setup_org(env: dict[str, str]) -> str:
    for args in (["user", "create", "root", "--role", "admin"],):
        assert steward(env, *args).returncode == 0
    return steward(env, "token", "create", "root").stdout.strip()


def _catalog(url: str, admin: str) -> None:
    for team in ("payments", "web"):
        admin_api(url, admin, "POST", "/api/v1/teams", json={"name": team})
    for user, team in (("robot", "payments"), ("quinn", "payments"), ("wendy", "web")):
        admin_api(url, admin, "POST", "/api/v1/users", json={"username": user, "teams": [team]})
    admin_api(url, admin, "POST", "/api/v1/services", json={
        "name": "ledger-db", "kind": "resource", "tier": 1, "owner": "payments"})
    admin_api(url, admin, "POST", "/api/v1/services", json={
        "name": "ledger", "tier": 3, "owner": "payments"})
    admin_api(url, admin, "POST", "/api/v1/services", json={
        "name": "shop", "kind": "business_service", "tier": 1, "owner": "web"})
    admin_api(url, admin, "POST", "/api/v1/dependencies", json={
        "service": "ledger", "depends_on": "ledger-db"})
    for i in range(12):
        admin_api(url, admin, "POST", "/api/v1/services", json={
            "name": f"web-{i}", "tier": 2, "owner": "web"})
        admin_api(url, admin, "POST", "/api/v1/dependencies", json={
            "service": f"web-{i}", "depends_on": "ledger-db"})
        admin_api(url, admin, "POST", "/api/v1/dependencies", json={
            "service": "shop", "depends_on": f"web-{i}"})


def _wait_for_change(url: str, admin: str, *, state: str, service: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = admin_api(url, admin, "GET",
                          f"/api/v1/changes?state={state}&service={service}")["items"]
        if found:
            return admin_api(url, admin, "GET", f"/api/v1/changes/{found[0]['id']}")
        time.sleep(0.3)
    raise AssertionError(f"no change reached {state}")
