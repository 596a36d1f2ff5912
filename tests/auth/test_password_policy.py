"""Passwords: at least 12 characters, not the username, not a common password; wherever
one is set (API create and change, CLI, demo seed)."""

from __future__ import annotations

import pytest
from helpers import api_client, bearer, make_user
from typer.testing import CliRunner

from steward.auth.password_policy import common_passwords, password_problem
from steward.cli.main import app
from steward.demo.seed import DEMO_PASSWORD


@pytest.mark.parametrize("password, problem", [
    ("12345678", "at least 12 characters"),
    ("password", "at least 12 characters"),
    ("qwerty123456", "most common passwords"),
    ("1Q2W3E4R5T6Y", "most common passwords"),
    ("Password1234", "most common passwords"),
    ("margaret-ops", "the username"),
    ("Margaret-Ops", "the username"),
])
def test_weak_passwords_are_refused_with_the_reason(password, problem):
    assert problem in (password_problem(password, "margaret-ops") or "")


def test_a_long_rare_password_and_the_demo_password_are_accepted():
    assert password_problem("violet kestrel harbour", "pat") is None
    assert password_problem(DEMO_PASSWORD, "admin") is None


def test_the_shipped_list_is_loaded():
    common = common_passwords()
    assert len(common) > 19_000
    assert {"password", "123456", "qwerty"} <= common


@pytest.mark.parametrize("password", ["12345678", "password", "qwerty123456", "pat-the-user"])
def test_the_api_refuses_weak_passwords_on_create_and_change(db, password):
    admin = make_user(db, "root", role="admin")
    client = api_client(db)
    created = client.post("/api/v1/users", headers=bearer(admin),
                          json={"username": "pat-the-user", "password": password})
    assert created.status_code == 422, created.text
    assert created.json()["field"] == "password"
    make_user(db, "pat-the-user", password="violet kestrel harbour")
    changed = client.patch("/api/v1/users/pat-the-user", headers=bearer(admin),
                           json={"password": password})
    assert changed.status_code == 422 and changed.json()["field"] == "password"


def test_the_cli_refuses_a_common_password(db, monkeypatch):
    monkeypatch.setenv("STEWARD_DATABASE_URL", db.url)
    result = CliRunner().invoke(app, ["user", "create", "pat", "--password-stdin"],
                                input="password1234\n")
    assert result.exit_code == 1
    assert "password" in result.output and "common" in result.output
    result = CliRunner().invoke(app, ["user", "create", "pat", "--password-stdin"],
                                input="violet kestrel harbour\n")
    assert result.exit_code == 0, result.output
