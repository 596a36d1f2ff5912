"""The steward command on a local database."""

from __future__ import annotations

import json

import pytest
from helpers import make_dependency, make_service, make_team
from sqlalchemy import update
from typer.testing import CliRunner

from steward.audit.models import AuditEntry
from steward.auth.use_cases import accounts as auth
from steward.auth.use_cases.login import LoginPolicy, sign_in
from steward.cli.main import app
from steward.config import Settings
from steward.db import Database

runner = CliRunner()


@pytest.fixture
def env(db, monkeypatch):
    monkeypatch.setenv("STEWARD_DATABASE_URL", db.url)
    return db


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def test_init_creates_then_is_safe_to_repeat(tmp_path, monkeypatch):
    path = tmp_path / "fresh" / "steward.db"
    monkeypatch.setenv("STEWARD_DATABASE_URL", f"sqlite:///{path}")
    first = invoke("init")
    assert first.exit_code == 0 and "Created" in first.output and path.exists()
    second = invoke("init")
    assert second.exit_code == 0 and "already at schema" in second.output
    db = Database(Settings(database_url=f"sqlite:///{path}"))
    with db.read_session() as session:
        from steward.audit.service import verify
        assert verify(session).ok
    db.dispose()


def test_user_and_token_create(env):
    make_team(env, "payments")
    result = invoke("user", "create", "pat", "--role", "member", "--team", "payments",
                    "--password-stdin", input="correct horse battery\n")
    assert result.exit_code == 0, result.output
    token_out = invoke("token", "create", "pat")
    token = token_out.stdout.strip()
    assert token.startswith("stw_") and "\n" not in token
    with env.read_session() as session:
        actor = auth.authenticate_token(session, token)
        assert actor.name == "pat" and len(actor.team_ids) == 1
    cookie, _ = sign_in(env, "pat", "correct horse battery", address=None, hours=1,
                        policy=LoginPolicy())
    assert cookie


@pytest.mark.parametrize("args, message", [
    (["user", "create", "x", "--role", "boss"], "role"),
    (["user", "create", "x", "--team", "nope"], "nope"),
    (["token", "create", "ghost"], "ghost"),
    (["impact", "nothing-here"], "nothing-here"),
])
def test_bad_input_exits_non_zero_with_message(env, args, message):
    result = invoke(*args)
    assert result.exit_code == 1
    assert message in result.output


def test_impact_json(env):
    make_team(env, "t")
    make_service(env, "web", owner="t")
    make_service(env, "db", owner="t", kind="resource")
    make_dependency(env, "web", "db")
    result = invoke("impact", "db", "--json")
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert [d["service"] for d in body["down"]] == ["db", "web"]
    assert body["down"][1]["path"] == ["db", "web"]


def test_audit_verify_catches_tampering(env):
    make_team(env, "t")
    make_service(env, "web", owner="t")
    ok = invoke("audit", "verify")
    assert ok.exit_code == 0 and "2 entries" in ok.output
    with env.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 1)
                        .values(action="team.delete"))
    bad = invoke("audit", "verify")
    assert bad.exit_code == 1
    assert "entry 1" in bad.output


def test_commands_refuse_an_uninitialised_database(tmp_path, monkeypatch):
    monkeypatch.setenv("STEWARD_DATABASE_URL", f"sqlite:///{tmp_path}/none.db")
    result = invoke("impact", "x")
    assert result.exit_code == 1 and "steward init" in result.output


def test_integration_create_prints_only_the_secret(env):
    make_team(env, "t")
    make_service(env, "web", owner="t")
    result = invoke("integration", "create", "--type", "github", "--service", "web")
    assert result.exit_code == 0
    secret = result.stdout.strip()
    assert secret.startswith("stk_") and len(secret.splitlines()) == 1
    pagerduty = invoke("integration", "create", "--type", "pagerduty", "--service", "web")
    assert len(pagerduty.stdout.strip()) == 32
    bad = invoke("integration", "create", "--type", "jenkins")
    assert bad.exit_code == 1 and "type" in bad.output


def test_deploy_record_refuses_a_missing_git_range(tmp_path, monkeypatch):
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.setenv("STEWARD_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("STEWARD_TOKEN", "stw_x")
    result = invoke("deploy", "record", "--service", "web", "--env", "production",
                    "--git-range", "v1..v2", "--repo", str(tmp_path))
    assert result.exit_code == 1
    assert "--git-range" in result.output


def test_gate_needs_a_server(monkeypatch):
    monkeypatch.delenv("STEWARD_URL", raising=False)
    result = invoke("change", "gate", "--service", "web")
    assert result.exit_code == 2 and "STEWARD_URL" in result.output
