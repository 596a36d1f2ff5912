"""Answers every client sees: nosniff everywhere, HSTS over HTTPS when set, 401 before
any check of an ingest body, 413 for a chunked body over the limit, and statement
parameters (password hashes) kept out of database errors."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from helpers import api_client, bearer, make_service, make_team, make_user
from sqlalchemy import event, insert
from sqlalchemy.exc import IntegrityError

from steward.api.app import create_app
from steward.auth.actor import SYSTEM
from steward.auth.models import User
from steward.auth.schemas import UserCreate
from steward.auth.use_cases import accounts as auth

INVALID_BODY = {"alerts": "not a list", "payload": 7}


@pytest.fixture
def shop(db):
    make_team(db, "shop")
    make_service(db, "checkout", owner="shop")
    return db


def test_every_answer_says_nosniff(shop):
    client = api_client(shop)
    token = make_user(shop, "pat")
    answers = [
        client.get("/healthz"),
        client.get("/api/v1/users/me", headers=bearer(token)),
        client.get("/api/v1/users/me"),  # 401
        client.get("/api/v1/nothing-here"),  # 404
        client.post("/api/v1/alerts", headers=bearer("stk_unknown"), json={}),  # 401
        client.get("/login"),
    ]
    for answer in answers:
        assert answer.headers.get("x-content-type-options") == "nosniff", answer.request.url


def test_hsts_only_over_https_and_only_when_set(shop):
    settings = dataclasses.replace(shop.settings, hsts="max-age=31536000; includeSubDomains")
    app = create_app(settings, database=shop)
    secure = TestClient(app, base_url="https://testserver").get("/healthz")
    assert secure.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    plain = TestClient(app).get("/healthz")
    assert "strict-transport-security" not in plain.headers
    unset = TestClient(create_app(shop.settings, database=shop), base_url="https://testserver")
    assert "strict-transport-security" not in unset.get("/healthz").headers


def test_an_hsts_setting_that_is_no_hsts_value_is_refused(shop):
    from steward.api.headers import HstsSettingError

    with pytest.raises(HstsSettingError, match="STEWARD_HSTS"):
        create_app(dataclasses.replace(shop.settings, hsts="forever"), database=shop)


@pytest.mark.parametrize("path", ["/ingest/alertmanager", "/ingest/grafana", "/api/v1/alerts",
                                  "/ingest/cdevents"])
@pytest.mark.parametrize("credential", [None, "stk_not-a-key"])
def test_ingest_answers_401_before_looking_at_the_body(shop, path, credential):
    client = api_client(shop)
    headers = bearer(credential) if credential else {}
    for body in (INVALID_BODY, [1, 2], "not json"):
        answer = (client.post(path, headers=headers, content=body) if isinstance(body, str)
                  else client.post(path, headers=headers, json=body))
        assert answer.status_code == 401, (path, body, answer.text)


def test_gitlab_and_github_answer_401_before_looking_at_the_body(shop):
    client = api_client(shop)
    for headers in ({}, {"X-Gitlab-Token": "stk_not-a-key"}):
        assert client.post("/ingest/gitlab", headers=headers,
                           content="not json").status_code == 401
    assert client.post("/ingest/github", headers={"X-GitHub-Event": "deployment"},
                       content="not json").status_code == 401


@pytest.mark.parametrize("path", ["/v2/enqueue", "/v2/change/enqueue"])
def test_pagerduty_names_an_unknown_routing_key_first(shop, path):
    answer = api_client(shop).post(path, json={"routing_key": "a" * 32, "payload": {}})
    assert answer.status_code == 400  # PagerDuty's answer to a bad routing key
    assert answer.json()["errors"] == ["Invalid routing key"]


def test_a_valid_key_still_gets_the_bodys_errors(shop):
    from steward.auth.use_cases.integrations import create_integration

    with shop.session() as session:
        key = create_integration(session, SYSTEM, "generic", service="checkout")[1]
    answer = api_client(shop).post("/ingest/grafana", headers=bearer(key), json=INVALID_BODY)
    assert answer.status_code == 422


def test_a_chunked_body_over_the_limit_gets_413(shop):
    settings = dataclasses.replace(shop.settings, max_body_bytes=1000)
    client = TestClient(create_app(settings, database=shop))
    token = make_user(shop, "pat", role="admin")

    def chunks():
        for _ in range(10):
            yield b'{"name": "' + b"x" * 500 + b'"}'

    for path in ("/api/v1/teams", "/api/v1/alerts", "/ingest/grafana"):
        answer = client.post(path, headers={**bearer(token), "Content-Type": "application/json"},
                             content=chunks())
        assert answer.status_code == 413, (path, answer.text)
        assert "larger than 1000 bytes" in answer.json()["error"]


def test_a_failed_statement_never_shows_its_parameters(db):
    make_user(db, "pat", password="violet kestrel harbour")
    with pytest.raises(IntegrityError) as failed, db.session() as session:
        session.execute(insert(User).values(username="pat", display_name="x", email="",
                                            role="member", active=True,
                                            password_hash="$argon2id$secret-hash"))
    assert "secret-hash" not in str(failed.value)
    assert "hidden" in str(failed.value)


def test_a_password_hash_is_sent_only_in_its_own_update(db):
    statements: list[tuple[str, str]] = []

    def seen(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        statements.append((statement.split()[0], repr(parameters)))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.session() as session:
            auth.create_user(session, SYSTEM, UserCreate(username="pat",
                                                         password="violet kestrel harbour"))
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    carrying = [verb for verb, parameters in statements if "$argon2" in parameters]
    assert carrying == ["UPDATE"]
