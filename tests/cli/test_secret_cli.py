"""steward secret and the key file: made on first use, refused when it cannot open the
database's sealed secrets, rotated without changing any integration's key."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import stat
from pathlib import Path

import pytest
from helpers import api_client, make_service, make_team
from serving import free_port, steward
from sqlalchemy import select
from typer.testing import CliRunner

from steward.audit.models import AuditEntry
from steward.auth.models import Integration
from steward.auth.secret_key import create_key_file, generate_key
from steward.auth.use_cases import integrations
from steward.cli.main import app
from steward.config import Settings
from steward.db import Database

runner = CliRunner()
PAYLOAD = (Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "github"
           / "deployment" / "payload.json")


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(db, secret: str, delivery: str) -> int:
    body = PAYLOAD.read_bytes()
    return api_client(db).post("/ingest/github", content=body, headers={
        "X-GitHub-Event": "deployment", "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signed(secret, body),
        "content-type": "application/json"}).status_code


@pytest.fixture
def sqlite_home(tmp_path, monkeypatch) -> Path:
    """An SQLite database with no key configured: the key file goes beside it."""
    path = tmp_path / "a" / "steward.db"
    monkeypatch.setenv("STEWARD_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("STEWARD_SECRET_KEY_FILE", raising=False)
    monkeypatch.delenv("STEWARD_SECRET_KEY", raising=False)
    return path


@pytest.fixture
def env(db, tmp_path, monkeypatch):
    """``db`` with a key file of this test's own."""
    key = tmp_path / "keys" / "steward.key"
    create_key_file(key, generate_key())
    monkeypatch.setenv("STEWARD_DATABASE_URL", db.url)
    monkeypatch.setenv("STEWARD_SECRET_KEY_FILE", str(key))
    monkeypatch.delenv("STEWARD_SECRET_KEY", raising=False)
    make_team(db, "web")
    make_service(db, "hello-world", owner="web",
                 annotations={"github.com/project-slug": "Codertocat/Hello-World"})
    return db, key


def create(type: str) -> str:
    result = invoke("integration", "create", "--type", type, "--service", "hello-world")
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def sealed_values(db) -> list[str | None]:
    with db.read_session() as session:
        return list(session.scalars(select(Integration.secret_sealed).order_by(Integration.id)))


def test_init_makes_an_owner_only_key_file_beside_the_database_once(sqlite_home):
    first = invoke("init")
    key_file = sqlite_home.with_name("steward.db.key")
    assert first.exit_code == 0 and f"key file {key_file}" in first.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text()
    assert len(key.strip()) == 64
    again = invoke("init")
    assert again.exit_code == 0 and key_file.read_text() == key


def test_a_copy_of_the_database_file_alone_cannot_check_a_signature(sqlite_home, tmp_path,
                                                                    monkeypatch):
    assert invoke("init").exit_code == 0
    db = Database(Settings(database_url=f"sqlite:///{sqlite_home}"))
    make_team(db, "web")
    make_service(db, "hello-world", owner="web",
                 annotations={"github.com/project-slug": "Codertocat/Hello-World"})
    secret = create("github")
    db.dispose()
    # Everything of the database (its file and write-ahead log), not the key file.
    copy = tmp_path / "b" / "steward.db"
    copy.parent.mkdir()
    server_key = sqlite_home.with_name("steward.db.key").read_text().strip().encode()
    for name in ("steward.db", "steward.db-wal"):
        if sqlite_home.with_name(name).exists():
            shutil.copy(sqlite_home.with_name(name), copy.with_name(name))
            content = copy.with_name(name).read_bytes()
            assert secret.encode() not in content and server_key not in content

    monkeypatch.setenv("STEWARD_DATABASE_URL", f"sqlite:///{copy}")
    status = invoke("secret", "status")
    assert status.exit_code == 1
    assert f"no key file at {copy}.key" in status.output
    assert "1 webhook secret(s) sealed" in status.output
    copied = Database(Settings(database_url=f"sqlite:///{copy}"))
    assert deliver(copied, secret, "d-1") == 503
    assert not copy.with_name("steward.db.key").exists()  # no new key made in its place
    served = steward({**os.environ}, "serve", "--port", str(free_port()), timeout=60)
    assert served.returncode == 1 and "no key file at" in served.stderr
    # With the key file put back, the copy works.
    shutil.copy(sqlite_home.with_name("steward.db.key"), copy.with_name("steward.db.key"))
    assert invoke("secret", "status").exit_code == 0
    assert deliver(copied, secret, "d-2") == 201
    copied.dispose()


def test_rotate_with_a_key_file_keeps_every_key_working(env):
    db, key_file = env
    github, alertmanager = create("github"), create("alertmanager")
    old = key_file.read_text()
    before = sealed_values(db)
    result = steward({**os.environ}, "secret", "rotate")
    assert result.returncode == 0, result.stderr
    assert "Re-sealed 1 webhook secret(s)" in result.stderr and result.stdout == ""
    assert key_file.read_text() != old and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not key_file.with_name("steward.key.new").exists()
    assert sealed_values(db) != before
    assert deliver(db, github, "d-1") == 201
    with db.read_session() as session:
        assert integrations.by_key(session, alertmanager).type == "alertmanager"
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "secret.rotate")).one()
        assert entry.actor_id == "cli" and entry.after["resealed"] == 1
    assert invoke("audit", "verify").exit_code == 0
    assert invoke("secret", "status").exit_code == 0


def test_rotate_with_the_key_in_the_environment_prints_the_new_one(env, monkeypatch):
    db, key_file = env
    monkeypatch.setenv("STEWARD_SECRET_KEY", key_file.read_text().strip())
    github = create("github")
    key_file.unlink()  # the variable wins: the file plays no part
    result = invoke("secret", "rotate")
    assert result.exit_code == 0, result.output
    new = result.stdout.strip()
    assert len(new) == 64 and "Set STEWARD_SECRET_KEY" in result.output
    stale = invoke("secret", "status")
    assert stale.exit_code == 1 and "is not the one 1 webhook secret(s)" in stale.output
    monkeypatch.setenv("STEWARD_SECRET_KEY", new)
    assert invoke("secret", "status").exit_code == 0
    assert deliver(db, github, "d-1") == 201
    chosen = "c" * 40
    again = invoke("secret", "rotate", "--new-key-stdin", input=chosen + "\n")
    assert again.exit_code == 0 and again.stdout == ""
    monkeypatch.setenv("STEWARD_SECRET_KEY", chosen)
    assert deliver(db, github, "d-2") == 200


def test_rotate_with_a_wrong_or_missing_current_key_fails_and_changes_nothing(
        env, monkeypatch):
    db, key_file = env
    create("github")
    before = sealed_values(db)
    monkeypatch.setenv("STEWARD_SECRET_KEY", "w" * 64)
    wrong = invoke("secret", "rotate")
    assert wrong.exit_code == 1
    assert "does not open 1 webhook secret(s)" in wrong.output and wrong.stdout == ""
    monkeypatch.delenv("STEWARD_SECRET_KEY")
    short = invoke("secret", "rotate", "--new-key-stdin", input="too short\n")
    assert short.exit_code == 1 and "at least 32 characters" in short.output
    kept = key_file.read_text()
    key_file.unlink()
    missing = invoke("secret", "rotate")
    assert missing.exit_code == 1 and "no current secret key" in missing.output
    assert sealed_values(db) == before
    key_file.write_text(kept)
    assert not key_file.with_name("steward.key.new").exists()
    with db.read_session() as session:
        assert session.scalars(select(AuditEntry).where(
            AuditEntry.action == "secret.rotate")).first() is None


def test_serve_refuses_to_start_without_a_key_that_opens_the_sealed_secrets(env):
    db, key_file = env
    create("github")
    server_env = {**os.environ}
    if db.settings.is_sqlite:
        other = key_file.with_name("other.key")
        create_key_file(other, generate_key())
        server_env["STEWARD_SECRET_KEY_FILE"] = str(other)
        expected = "is not the one 1 webhook secret(s) in the database are sealed with"
    else:
        del server_env["STEWARD_SECRET_KEY_FILE"]
        expected = "on PostgreSQL set STEWARD_SECRET_KEY_FILE"
    served = steward(server_env, "serve", "--port", str(free_port()), timeout=60)
    assert served.returncode == 1
    assert expected in served.stderr.replace("\n", " ")


def test_generate_prints_a_new_key_each_time():
    first, second = invoke("secret", "generate"), invoke("secret", "generate")
    assert first.exit_code == 0 and len(first.stdout.strip()) == 64
    assert first.stdout != second.stdout
