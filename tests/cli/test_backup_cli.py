"""steward backup and steward restore: a round trip on SQLite and PostgreSQL keeps every
row and the audit chain, a database holding data is replaced only with --force, and
what cannot work says why."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from pathlib import Path

import pytest
from helpers import api_client
from serving import steward
from sqlalchemy import select

from steward.audit.service import verify
from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.backup.service import backup, count_rows
from steward.catalog.schemas import TeamCreate
from steward.catalog.use_cases import teams
from steward.db import migrate
from steward.incidents.models import Incident
from steward.models import ensure_seed_rows

PAYLOAD = (Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "github"
           / "deployment" / "payload.json")


def env_for(database) -> dict[str, str]:
    return {**os.environ, "STEWARD_DATABASE_URL": database.url}


def counts(database) -> dict[str, int]:
    with database.engine.connect() as connection:
        return count_rows(connection)


def add_team(database, name: str) -> None:
    with database.session() as session:
        teams.create_team(session, SYSTEM, TeamCreate(name=name))


def wipe(database) -> None:
    """Nothing left of an SQLite database; a PostgreSQL one is dropped by its fixture."""
    path = database.settings.sqlite_path
    database.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def github_delivery(database, secret: str) -> int:
    body = PAYLOAD.read_bytes()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return api_client(database).post("/ingest/github", content=body, headers={
        "X-GitHub-Event": "deployment", "X-GitHub-Delivery": "after-restore",
        "X-Hub-Signature-256": signature, "content-type": "application/json"}).status_code


@pytest.mark.demo
def test_backup_wipe_restore_keeps_every_row_and_the_audit_chain(db, empty_db, tmp_path):
    with db.session() as session:
        secret = create_integration(session, SYSTEM, "github", service="orders-service")[1]
    before = counts(db)
    assert before["audit_entries"] > 50 and before["incidents"] > 0
    backup_file = tmp_path / "backups" / "steward.backup"
    backup_file.parent.mkdir()

    made = steward(env_for(db), "backup", str(backup_file), "--json")
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert summary["tables"] == before and summary["schema"] == migrate.head_revision(db)
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    assert "is not in the backup" in made.stderr

    if db.settings.is_sqlite:
        target = db
        wipe(db)
    else:
        target = empty_db  # a new, empty PostgreSQL database: as on a new machine
    restored = steward(env_for(target), "restore", str(backup_file), "--json")
    assert restored.returncode == 0, restored.stderr
    result = json.loads(restored.stdout)
    assert result["tables"] == before and result["upgraded_from"] is None
    assert result["audit"] == {"ok": True, "entries": before["audit_entries"],
                               "first_bad_seq": None, "problem": ""}
    assert result["secret_key"]["ok"] is True

    assert counts(target) == before
    with target.read_session() as session:
        assert verify(session).ok
        assert session.scalar(select(Incident.title).order_by(Incident.id).limit(1))
    assert steward(env_for(target), "audit", "verify").returncode == 0
    # The key file was kept apart, so the restored GitHub secret still checks signatures.
    assert github_delivery(target, secret) == 201


def test_restore_replaces_a_database_holding_data_only_with_force(db, empty_db, tmp_path):
    add_team(db, "payments")
    backup_file = tmp_path / "steward.backup"
    assert steward(env_for(db), "backup", str(backup_file)).returncode == 0
    migrate.upgrade(empty_db)
    ensure_seed_rows(empty_db)
    empty = steward(env_for(empty_db), "restore", str(backup_file))
    assert empty.returncode == 0, empty.stderr  # an initialised database with no data

    add_team(empty_db, "identity")
    occupied = counts(empty_db)
    refused = steward(env_for(empty_db), "restore", str(backup_file))
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr and "--force" in refused.stderr
    assert counts(empty_db) == occupied
    forced = steward(env_for(empty_db), "restore", str(backup_file), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "Audit log intact" in forced.stdout and "teams" in forced.stdout
    assert counts(empty_db) == counts(db)


def test_a_backup_from_an_earlier_schema_is_upgraded_on_restore(empty_db, tmp_path):
    migrate.upgrade(empty_db, "0005")
    ensure_seed_rows(empty_db)
    backup_file = tmp_path / "old.backup"
    assert backup(empty_db, backup_file).schema == "0005"
    restored = steward(env_for(empty_db), "restore", str(backup_file), "--json")
    assert restored.returncode == 0, restored.stderr
    result = json.loads(restored.stdout)
    assert result["upgraded_from"] == "0005"
    assert result["schema"] == migrate.head_revision(empty_db) and result["audit"]["ok"]
    assert migrate.current_revision(empty_db) == migrate.head_revision(empty_db)


def test_backup_refuses_to_overwrite_a_file_unless_forced(db, tmp_path):
    backup_file = tmp_path / "steward.backup"
    backup_file.write_text("an older backup")
    refused = steward(env_for(db), "backup", str(backup_file))
    assert refused.returncode == 1 and "exists" in refused.stderr
    assert backup_file.read_text() == "an older backup"
    assert steward(env_for(db), "backup", str(backup_file), "--force").returncode == 0
    assert backup_file.read_bytes()[:5] in (b"SQLit", b"PGDMP")
    missing = steward(env_for(db), "backup", str(tmp_path / "nowhere" / "x.backup"))
    assert missing.returncode == 1 and "no such folder" in missing.stderr


def test_restore_says_why_a_file_cannot_be_restored(db, tmp_path):
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    other_kind = tmp_path / "other.backup"
    if db.settings.is_sqlite:
        other_kind.write_bytes(b"PGDMP" + b"\0" * 100)
        wrong_kind = "a PostgreSQL database"
    else:
        other_kind.write_bytes(b"SQLite format 3\x00" + b"\0" * 100)
        wrong_kind = "an SQLite database"
    env = env_for(db)
    for path, message in [(tmp_path / "missing.backup", "no such backup file"),
                          (not_a_backup, "not a Steward backup"),
                          (other_kind, f"is a backup of {wrong_kind}")]:
        result = steward(env, "restore", str(path), "--force")
        assert result.returncode == 1, result.stdout
        assert message in result.stderr.replace("\n", " ")


@pytest.mark.postgres
def test_postgresql_tools_missing_or_too_old_are_named(postgres_database, tmp_path):
    env = {**os.environ, "STEWARD_DATABASE_URL": postgres_database,
           "PATH": str(tmp_path / "bin")}
    (tmp_path / "bin").mkdir()
    missing = steward(env, "backup", str(tmp_path / "a.backup"))
    assert missing.returncode == 1 and "pg_dump is not on PATH" in missing.stderr
    old = tmp_path / "bin" / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    too_old = steward(env, "backup", str(tmp_path / "b.backup"))
    assert too_old.returncode == 1
    assert "pg_dump 9" in too_old.stderr and "cannot work with PostgreSQL 1" in too_old.stderr
    assert not (tmp_path / "b.backup").exists()
    assert not (tmp_path / "b.backup.partial").exists()
