"""Integration secrets: nothing in the database reproduces or uses a key without the
server's secret key, existing keys survive the upgrade that took it out of the database,
and every key survives a rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import api_client, make_service, make_team
from sqlalchemy import event, func, insert, inspect, select, text

from steward.audit.models import AuditEntry
from steward.audit.service import verify
from steward.auth import keyring
from steward.auth.actor import SYSTEM
from steward.auth.models import Integration
from steward.auth.secret_key import (
    SecretKeyProblem,
    ServerKey,
    create_key_file,
    generate_key,
    sealed_key_id,
)
from steward.auth.use_cases import integrations
from steward.changes.models import Deployment
from steward.db import migrate
from steward.errors import ValidationError
from steward.models import metadata

PAYLOAD = (Path(__file__).resolve().parents[1] / "fixtures" / "payloads" / "github"
           / "deployment" / "payload.json")
TYPES = ("github", "gitlab", "alertmanager", "pagerduty")


@pytest.fixture
def key_file(tmp_path, monkeypatch) -> Path:
    """A key file of this test's own, so rotating it touches no other test."""
    path = tmp_path / "keys" / "steward.key"
    create_key_file(path, generate_key())
    monkeypatch.setenv("STEWARD_SECRET_KEY_FILE", str(path))
    monkeypatch.delenv("STEWARD_SECRET_KEY", raising=False)
    return path


def legacy_key(secret: bytes, integration_id: int, salt: str, type: str) -> str:
    """How earlier versions derived every integration key from the server secret."""
    digest = hmac.new(secret, f"{integration_id}:{salt}".encode(), hashlib.sha256).digest()
    if type == "pagerduty":
        return digest.hex()[:32]
    return "stk_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def create_all(db) -> dict[str, str]:
    keys = {}
    with db.session() as session:
        for type in TYPES:
            keys[type] = integrations.create_integration(session, SYSTEM, type)[1]
    return keys


def github_secrets(db) -> list[str]:
    with db.read_session() as session:
        return [secret for _, secret in integrations.webhook_secrets(session, "github")]


def signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def every_text_in(db) -> list[str]:
    """Every text value stored in any of Steward's tables."""
    values = []
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                values += [str(value) for value in row if value is not None]
    return values


def test_keys_are_random_kept_by_hash_and_only_github_secrets_sealed(db, key_file):
    keys = create_all(db)
    assert len(keys["pagerduty"]) == 32 and all(keys[t].startswith("stk_") for t in TYPES[:3])
    with db.read_session() as session:
        rows = {row.type: row for row in session.scalars(select(Integration))}
        for type, key in keys.items():
            assert rows[type].key_hash == hashlib.sha256(key.encode()).hexdigest()
            assert integrations.by_key(session, key).id == rows[type].id
        assert rows["github"].secret_sealed.startswith("v1.")
        assert [rows[t].secret_sealed for t in TYPES[1:]] == [None, None, None]
    assert github_secrets(db) == [keys["github"]]


def test_the_database_alone_neither_holds_nor_reproduces_a_key(db, key_file, monkeypatch):
    make_team(db, "web")
    make_service(db, "hello-world", owner="web",
                 annotations={"github.com/project-slug": "Codertocat/Hello-World"})
    keys = create_all(db)
    server_key = key_file.read_text().strip()
    stored = every_text_in(db)
    for secret in [*keys.values(), server_key]:
        assert not any(secret in value for value in stored)
    with db.read_session() as session:
        rows = [(row.id, row.salt, row.type, row.secret_sealed)
                for row in session.scalars(select(Integration))]
    sealed_with = sealed_key_id(next(sealed for *_, sealed in rows if sealed))
    # What earlier versions allowed: a stored value taken as the server secret.
    for value in stored:
        candidate = value.encode()
        assert ServerKey(candidate, "a stored value").key_id != sealed_with
        for integration_id, salt, type, _ in rows:
            assert legacy_key(candidate, integration_id, salt, type) != keys[type]

    body = PAYLOAD.read_bytes()
    headers = {"X-GitHub-Event": "deployment", "X-GitHub-Delivery": "d-1",
               "X-Hub-Signature-256": signed(keys["github"], body),
               "content-type": "application/json"}
    client = api_client(db)
    monkeypatch.setenv("STEWARD_SECRET_KEY_FILE", str(key_file.with_name("elsewhere.key")))
    refused = client.post("/ingest/github", content=body, headers=headers)
    assert refused.status_code == 503
    assert "key" in refused.json()["error"] and str(key_file.parent) not in refused.text
    assert not key_file.with_name("elsewhere.key").exists()
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Deployment)) == 0
    monkeypatch.setenv("STEWARD_SECRET_KEY_FILE", str(key_file))
    assert client.post("/ingest/github", content=body, headers=headers).status_code == 201


def test_a_sealed_secret_opens_only_for_its_own_integration():
    server = ServerKey(b"k" * 32, "test")
    sealed = server.seal("stk_secret", "integration 1")
    assert server.unseal(sealed, "integration 1") == "stk_secret"
    with pytest.raises(SecretKeyProblem, match="altered"):
        server.unseal(sealed, "integration 2")
    with pytest.raises(SecretKeyProblem, match="sealed with key"):
        ServerKey(b"j" * 32, "other").unseal(sealed, "integration 1")


def _legacy_database(database, stored: str) -> dict[str, str]:
    """A database as an earlier version left it: the server secret in server_secrets and
    every key derived from it."""
    if database.settings.is_sqlite:
        # As SQLite is usually built (not as Debian builds it): erased rows stay in the file.
        event.listen(database.engine, "connect",
                     lambda dbapi, _record: dbapi.execute("PRAGMA secure_delete=OFF"))
    migrate.upgrade(database, "0005")
    keys = {}
    with database.engine.begin() as conn:
        conn.execute(text("INSERT INTO server_secrets (id, value) VALUES (1, :value)"),
                     {"value": stored})
        for number, type in enumerate(TYPES, start=1):
            salt = secrets.token_hex(16)
            keys[type] = legacy_key(stored.encode(), number, salt, type)
            conn.execute(insert(Integration.__table__).values(
                id=number, type=type, name=type, prefix=keys[type][:10], salt=salt,
                key_hash=hashlib.sha256(keys[type].encode()).hexdigest(),
                created_at=datetime(2026, 1, 5, tzinfo=UTC)))
    if database.settings.is_sqlite:
        migrate.checkpoint(database)  # the secret has long been in the database file
        assert stored.encode() in database.settings.sqlite_path.read_bytes()
    return keys


def test_upgrade_moves_the_stored_secret_out_and_every_key_keeps_working(
        empty_db, tmp_path, monkeypatch):
    stored = secrets.token_hex(32)
    keys = _legacy_database(empty_db, stored)
    monkeypatch.delenv("STEWARD_SECRET_KEY", raising=False)
    monkeypatch.delenv("STEWARD_SECRET_KEY_FILE", raising=False)
    sqlite_path = empty_db.settings.sqlite_path
    if sqlite_path is None:
        # PostgreSQL has no place of its own for the key: the upgrade asks for one.
        with pytest.raises(SecretKeyProblem, match="STEWARD_SECRET_KEY_FILE"):
            migrate.upgrade(empty_db)
        assert migrate.current_revision(empty_db) == "0005"
        key_path = tmp_path / "moved" / "steward.key"
        monkeypatch.setenv("STEWARD_SECRET_KEY_FILE", str(key_path))
    else:
        key_path = sqlite_path.with_name("steward.db.key")
    migrate.upgrade(empty_db)

    assert key_path.read_text().strip() == stored
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    with empty_db.engine.connect() as conn:
        assert "server_secrets" not in inspect(conn).get_table_names()
    if sqlite_path is not None:
        for path in (sqlite_path, sqlite_path.with_name("steward.db-wal")):
            if path.exists():
                assert stored.encode() not in path.read_bytes(), path
    with empty_db.read_session() as session:
        for type in TYPES:
            assert integrations.by_key(session, keys[type]).type == type
        status = keyring.key_status(session)
    assert github_secrets(empty_db) == [keys["github"]]
    assert status.ok and status.derived_keys == 4 and sum(status.sealed.values()) == 1


def test_upgrade_with_a_configured_key_seals_with_it_and_erases_the_stored_one(
        empty_db, key_file):
    stored = secrets.token_hex(32)
    keys = _legacy_database(empty_db, stored)
    before = key_file.read_text()
    migrate.upgrade(empty_db)
    assert key_file.read_text() == before
    with empty_db.read_session() as session:
        assert keyring.key_status(session).sealed == {
            ServerKey(before.strip().encode(), "").key_id: 1}
    assert github_secrets(empty_db) == [keys["github"]]


def test_rotation_reseals_and_every_key_keeps_working(db, key_file):
    keys = create_all(db)
    old = current_key(db)
    new = ServerKey(generate_key().encode(), "the new key")
    with db.session() as session:
        done = keyring.rotate(session, SYSTEM, old, new)
    assert (done.old_key_id, done.new_key_id, done.resealed) == (old.key_id, new.key_id, 1)
    key_file.write_text(new.secret.decode() + "\n")
    assert github_secrets(db) == [keys["github"]]
    with db.read_session() as session:
        for type, key in keys.items():
            assert integrations.by_key(session, key).type == type
        assert keyring.key_status(session).sealed == {new.key_id: 1}
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "secret.rotate")).one()
        assert entry.before == {"key_id": old.key_id}
        assert entry.after == {"key_id": new.key_id, "resealed": 1}
        assert verify(session).ok
    # Run again (as after an interruption): what is sealed with the new key is left alone.
    with db.session() as session:
        assert keyring.rotate(session, SYSTEM, old, new).resealed == 0
    assert github_secrets(db) == [keys["github"]]


def current_key(db) -> ServerKey:
    with db.read_session() as session:
        return keyring.current_key(session, create=False)


def test_rotation_with_the_wrong_current_key_changes_nothing(db, key_file):
    create_all(db)
    with db.read_session() as session:
        sealed = session.scalar(select(Integration.secret_sealed).where(
            Integration.type == "github"))
    wrong = ServerKey(generate_key().encode(), "STEWARD_SECRET_KEY")
    with db.session() as session, pytest.raises(SecretKeyProblem, match="does not open 1"):
        keyring.rotate(session, SYSTEM, wrong, ServerKey(generate_key().encode(), "new"))
    current = current_key(db)
    with db.session() as session, pytest.raises(ValidationError, match="current key"):
        keyring.rotate(session, SYSTEM, current, current)
    with db.read_session() as session:
        assert session.scalar(select(Integration.secret_sealed).where(
            Integration.type == "github")) == sealed
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "secret.rotate")) == 0
