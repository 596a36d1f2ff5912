"""Signing in: lockout with backoff per account and per address, audited; disabled and
unknown accounts answered like a wrong password. On SQLite and PostgreSQL: the counts
are rows every server process shares."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from helpers import api_client, make_user
from sqlalchemy import select, update

from steward.audit.models import AuditEntry
from steward.audit.service import verify
from steward.auth.models import LoginFailure, User
from steward.auth.use_cases.login import LoginPolicy, sign_in
from steward.errors import AuthenticationFailed, Throttled
from steward.timeutil import utcnow

PASSWORD = "long enough and rare"
POLICY = LoginPolicy(max_failures=5, max_failures_per_address=20, lockout_seconds=60,
                     lockout_max_seconds=3600)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def attempt(db, username: str, password: str, address: str | None = "10.0.0.1",
            policy: LoginPolicy = POLICY):
    try:
        sign_in(db, username, password, address=address, hours=1, policy=policy)
    except (AuthenticationFailed, Throttled) as exc:
        return exc
    return "signed in"


def unlock(db, key: str) -> None:
    """As if the lockout had run out."""
    with db.session() as session:
        session.execute(update(LoginFailure).where(LoginFailure.key == key)
                        .values(locked_until=utcnow() - timedelta(seconds=1)))


def test_five_failures_lock_the_account_even_for_the_right_password(db):
    make_user(db, "pat", password=PASSWORD)
    for _ in range(4):
        assert isinstance(attempt(db, "pat", "wrong password!"), AuthenticationFailed)
    fifth = attempt(db, "pat", "wrong password!")
    assert isinstance(fifth, AuthenticationFailed)  # the failure that locks is still a 401
    refused = attempt(db, "pat", PASSWORD)
    assert isinstance(refused, Throttled)
    assert refused.status_code == 429 and 55 <= refused.retry_after <= 60
    assert "too many failed sign-ins for this account: try again in" in refused.message
    with db.read_session() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "login.lockout")).all()
        assert len(entries) == 1
        assert entries[0].entity_type == "user"
        assert entries[0].after["scope"] == "account"
        assert entries[0].after["failures"] == 5 and entries[0].after["seconds"] == 60
        assert verify(session).ok


def test_backoff_doubles_after_each_further_failure_and_a_success_resets(db):
    make_user(db, "pat", password=PASSWORD)
    for _ in range(5):
        attempt(db, "pat", "wrong password!")
    unlock(db, "account:pat")
    assert isinstance(attempt(db, "pat", "wrong again!!"), AuthenticationFailed)
    refused = attempt(db, "pat", PASSWORD)
    assert isinstance(refused, Throttled) and 115 <= refused.retry_after <= 120
    unlock(db, "account:pat")
    assert attempt(db, "pat", PASSWORD) == "signed in"
    with db.read_session() as session:
        assert session.get(LoginFailure, "account:pat") is None
    # the count starts again: four failures do not lock
    for _ in range(4):
        attempt(db, "pat", "wrong password!")
    assert attempt(db, "pat", PASSWORD) == "signed in"


def test_lockout_never_exceeds_the_maximum(db):
    policy = LoginPolicy(max_failures=1, lockout_seconds=60, lockout_max_seconds=300)
    make_user(db, "pat", password=PASSWORD)
    for _ in range(6):
        attempt(db, "pat", "wrong password!", policy=policy)
        unlock(db, "account:pat")
    attempt(db, "pat", "wrong password!", policy=policy)
    refused = attempt(db, "pat", PASSWORD, policy=policy)
    assert isinstance(refused, Throttled) and 295 <= refused.retry_after <= 300


def test_an_address_is_locked_after_failures_on_many_accounts(db):
    policy = LoginPolicy(max_failures=5, max_failures_per_address=3, lockout_seconds=30)
    make_user(db, "pat", password=PASSWORD)
    for name in ("ann", "bob", "cy"):
        attempt(db, name, "wrong password!", address="192.0.2.7", policy=policy)
    refused = attempt(db, "pat", PASSWORD, address="192.0.2.7", policy=policy)
    assert isinstance(refused, Throttled)
    assert "for this address" in refused.message
    assert attempt(db, "pat", PASSWORD, address="192.0.2.8", policy=policy) == "signed in"
    with db.read_session() as session:
        scopes = [e.after["scope"] for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login.lockout"))]
    assert scopes == ["address"]


def test_an_unknown_name_locks_exactly_like_an_account(db):
    answers = [attempt(db, "nobody", "wrong password!") for _ in range(6)]
    assert [type(a).__name__ for a in answers] == ["AuthenticationFailed"] * 5 + ["Throttled"]
    assert answers[0].message == "wrong username or password"


def test_a_disabled_account_answers_like_a_wrong_password_even_with_the_right_one(db):
    make_user(db, "gone", password=PASSWORD)
    with db.session() as session:
        session.execute(update(User).where(User.username == "gone").values(active=False))
    right = attempt(db, "gone", PASSWORD)
    wrong = attempt(db, "gone", "not the password")
    assert isinstance(right, AuthenticationFailed) and isinstance(wrong, AuthenticationFailed)
    assert right.message == wrong.message == "wrong username or password"
    with db.read_session() as session:
        assert session.get(LoginFailure, "account:gone").failures == 2


def _web_sign_in(client: TestClient, username: str, password: str):
    token = TOKEN.search(client.get("/login").text).group(1)
    return client.post("/login", data={"csrf_token": token, "username": username,
                                       "password": password}, follow_redirects=False)


def test_the_web_form_says_when_to_retry(db):
    make_user(db, "pat", password=PASSWORD)
    client = api_client(db)
    statuses = [_web_sign_in(client, "pat", "wrong password!").status_code for _ in range(5)]
    assert statuses == [401] * 5
    page = _web_sign_in(client, "pat", PASSWORD)
    assert page.status_code == 429
    assert int(page.headers["retry-after"]) > 0
    assert "Too many failed sign-ins for this account: try again in" in page.text
    assert "steward_session" not in page.headers.get("set-cookie", "")


@pytest.mark.parametrize("address", ["198.51.100.1"])
def test_the_web_form_counts_the_client_address(db, address):
    app_client = TestClient(api_client(db).app, client=(address, 1234))
    with db.session() as session:
        session.add(LoginFailure(key=f"address:{address}", failures=20,
                                 last_failure_at=utcnow(),
                                 locked_until=utcnow() + timedelta(minutes=5)))
    page = _web_sign_in(app_client, "anyone", "whatever password")
    assert page.status_code == 429 and "for this address" in page.text
