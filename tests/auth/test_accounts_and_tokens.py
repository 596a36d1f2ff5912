"""Sessions end on a password change; the last admin stays; tokens expire and record
their last use; steward token list/revoke."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from helpers import api_client, bearer, make_user
from sqlalchemy import select, update
from typer.testing import CliRunner

from steward.auth.models import ApiToken, WebSession
from steward.cli.main import app
from steward.timeutil import utcnow

PASSWORD = "violet kestrel harbour"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_session(db, username: str, password: str = PASSWORD) -> TestClient:
    client = api_client(db)
    token = TOKEN.search(client.get("/login").text).group(1)
    answer = client.post("/login", data={"csrf_token": token, "username": username,
                                         "password": password}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def csrf(client: TestClient) -> str:
    return TOKEN.search(client.get("/catalog").text).group(1)


def test_a_password_change_ends_the_users_other_sessions(db):
    admin = make_user(db, "root", role="admin", password=PASSWORD)
    make_user(db, "pat", password=PASSWORD)
    laptop, phone = web_session(db, "pat"), web_session(db, "pat")
    assert laptop.get("/api/v1/users/me").status_code == 200
    changed = api_client(db).patch("/api/v1/users/pat", headers=bearer(admin),
                                   json={"password": "a brand new passphrase"})
    assert changed.status_code == 200
    assert laptop.get("/api/v1/users/me").status_code == 401
    assert phone.get("/catalog", follow_redirects=False).status_code == 303  # to /login
    web_session(db, "pat", "a brand new passphrase")


def test_changing_your_own_password_keeps_the_session_you_used(db):
    make_user(db, "root", role="admin", password=PASSWORD)
    mine, other = web_session(db, "root"), web_session(db, "root")
    answer = mine.patch("/api/v1/users/root", headers={"X-CSRF-Token": csrf(mine)},
                        json={"password": "a brand new passphrase"})
    assert answer.status_code == 200, answer.text
    assert mine.get("/api/v1/users/me").status_code == 200
    assert other.get("/api/v1/users/me").status_code == 401
    with db.read_session() as session:
        assert len(session.scalars(select(WebSession)).all()) == 1


def test_the_last_admin_cannot_be_demoted_disabled_or_deleted(db):
    root = make_user(db, "root", role="admin")
    client = api_client(db)
    for change in ({"role": "member"}, {"active": False}):
        answer = client.patch("/api/v1/users/root", headers=bearer(root), json=change)
        assert answer.status_code == 409, change
        assert "last active admin" in answer.json()["error"]
    make_user(db, "second", role="admin")
    assert client.patch("/api/v1/users/second", headers=bearer(root),
                        json={"active": False}).status_code == 200
    # a disabled admin is no admin: root is the last active one again
    assert client.patch("/api/v1/users/root", headers=bearer(root),
                        json={"role": "viewer"}).status_code == 409
    make_user(db, "third", role="admin")
    assert client.patch("/api/v1/users/third", headers=bearer(root),
                        json={"role": "member"}).status_code == 200
    make_user(db, "fourth", role="admin")
    assert client.delete("/api/v1/users/fourth", headers=bearer(root)).status_code == 204


def test_an_expired_token_is_refused_naming_its_expiry(db):
    admin = make_user(db, "root", role="admin")
    client = api_client(db)
    created = client.post("/api/v1/users/root/tokens", headers=bearer(admin),
                          json={"name": "ci", "expires_in": "90d"})
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["token"]
    assert body["expires_at"] is not None and body["prefix"] == token[:12]
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
    with db.session() as session:
        session.execute(update(ApiToken).where(ApiToken.id == body["id"])
                        .values(expires_at=utcnow() - timedelta(minutes=1)))
    refused = client.get("/api/v1/users/me", headers=bearer(token))
    assert refused.status_code == 401
    assert "expired at" in refused.json()["error"]


def test_a_lifetime_that_is_not_one_is_refused(db):
    admin = make_user(db, "root", role="admin")
    answer = api_client(db).post("/api/v1/users/root/tokens", headers=bearer(admin),
                                 json={"expires_in": "forever"})
    assert answer.status_code == 422 and answer.json()["field"] == "expires_in"


def test_last_use_is_recorded_at_most_once_a_minute(db):
    token = make_user(db, "pat")
    client = api_client(db)

    def last_used():
        with db.read_session() as session:
            return session.scalar(select(ApiToken.last_used_at))

    assert last_used() is None
    client.get("/api/v1/users/me", headers=bearer(token))
    first = last_used()
    assert first is not None and utcnow() - first < timedelta(seconds=30)
    client.get("/api/v1/users/me", headers=bearer(token))
    assert last_used() == first
    with db.session() as session:
        session.execute(update(ApiToken).values(last_used_at=first - timedelta(minutes=2)))
    client.get("/api/v1/users/me", headers=bearer(token))
    assert last_used() > first


def test_token_create_list_and_revoke_on_the_command_line(db, monkeypatch):
    monkeypatch.setenv("STEWARD_DATABASE_URL", db.url)
    make_user(db, "pat")  # and a token without expiry
    runner = CliRunner()
    created = runner.invoke(app, ["token", "create", "pat", "--name", "ci",
                                  "--expires-in", "30d"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    listed = json.loads(runner.invoke(app, ["token", "list", "pat", "--json"]).stdout)
    assert [t["name"] for t in listed] == ["", "ci"]
    assert listed[0]["expires_at"] is None and listed[1]["expires_at"] is not None
    assert listed[1]["prefix"] == token[:12] and not listed[1]["revoked"]
    table = runner.invoke(app, ["token", "list"])
    assert table.exit_code == 0 and "API tokens" in table.stdout
    assert table.stdout.count("active") == 2
    revoked = runner.invoke(app, ["token", "revoke", str(listed[1]["id"]), "--json"])
    assert revoked.exit_code == 0 and json.loads(revoked.stdout)["revoked"] is True
    assert api_client(db).get("/api/v1/users/me", headers=bearer(token)).status_code == 401
    bad = runner.invoke(app, ["token", "create", "pat", "--expires-in", "soon"])
    assert bad.exit_code == 1 and "expires_in" in bad.output
    missing = runner.invoke(app, ["token", "revoke", "999"])
    assert missing.exit_code == 1 and "999" in missing.output
