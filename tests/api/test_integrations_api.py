"""Integrations keep one set of rules whether made through the API, the web form or the CLI.

A name longer than its column (200 characters) is refused naming ``name`` and
stores nothing; revoking an integration already revoked answers 409 and the
audit log keeps its one revocation.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from helpers import api_client, bearer, make_service, make_team, make_user
from sqlalchemy import func, select
from typer.testing import CliRunner
from webclient import HTML, sign_in

from steward.audit.models import AuditEntry
from steward.auth.models import Integration
from steward.cli.main import app as cli
from steward.db import Database
from steward.demo.seed import DEMO_PASSWORD

TOO_LONG = "n" * 201
KEY = re.compile(r'id="new-key-value"[^>]*>([^<]+)</code>')


@pytest.fixture
def org(db: Database) -> dict[str, str]:
    make_team(db, "platform")
    make_service(db, "core-db", owner="platform")
    make_user(db, "carol", teams=["platform"], password=DEMO_PASSWORD)
    return {"carol": make_user(db, "carol-bot", teams=["platform"])}


def stored(db: Database) -> list[str]:
    with db.read_session() as session:
        return list(session.scalars(select(Integration.name).order_by(Integration.id)))


def revocations(db: Database, integration_id: int) -> int:
    with db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "integration.revoke",
            AuditEntry.entity_id == str(integration_id))) or 0)


def web_form(db: Database) -> tuple[TestClient, str]:
    client = api_client(db)
    return client, sign_in(client, "carol")


def test_a_name_over_200_characters_is_refused_naming_name(db, org, monkeypatch):
    api = api_client(db)
    refused = api.post("/api/v1/integrations", headers=bearer(org["carol"]),
                       json={"type": "generic", "service": "core-db", "name": TOO_LONG})
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "name"

    web, csrf = web_form(db)
    page = web.post("/integrations", headers=HTML, data={
        "csrf_token": csrf, "type": "generic", "service": "core-db", "name": TOO_LONG})
    assert page.status_code == 422
    assert "name: at most 200 characters" in page.text
    assert KEY.search(page.text) is None

    monkeypatch.setenv("STEWARD_DATABASE_URL", db.url)
    command = CliRunner().invoke(cli, ["integration", "create", "--type", "generic",
                                       "--service", "core-db", "--name", TOO_LONG])
    assert command.exit_code == 1
    assert "name: at most 200 characters" in command.output
    assert stored(db) == []

    longest = "n" * 200
    assert api.post("/api/v1/integrations", headers=bearer(org["carol"]), json={
        "type": "generic", "service": "core-db", "name": longest}).status_code == 201
    assert web.post("/integrations", headers=HTML, data={
        "csrf_token": csrf, "type": "generic", "service": "core-db",
        "name": longest}).status_code == 201
    assert stored(db) == [longest, longest]


def test_revoking_an_integration_twice_answers_409_and_audits_once(db, org):
    api = api_client(db)
    made = api.post("/api/v1/integrations", headers=bearer(org["carol"]),
                    json={"type": "generic", "service": "core-db", "name": "by-api"}).json()
    path = f"/api/v1/integrations/{made['id']}"
    assert api.delete(path, headers=bearer(org["carol"])).status_code == 204
    again = api.delete(path, headers=bearer(org["carol"]))
    assert again.status_code == 409, again.text
    assert "already revoked" in again.json()["error"]
    assert revocations(db, made["id"]) == 1
    listed = api.get("/api/v1/integrations", headers=bearer(org["carol"])).json()
    assert [(i["name"], i["revoked"]) for i in listed["items"]] == [("by-api", True)]

    web, csrf = web_form(db)
    key = KEY.search(web.post("/integrations", headers=HTML, data={
        "csrf_token": csrf, "type": "generic", "service": "core-db",
        "name": "by-form"}).text)
    assert key is not None
    number = next(i["id"] for i in api.get("/api/v1/integrations",
                                           headers=bearer(org["carol"])).json()["items"]
                  if i["name"] == "by-form")
    revoke = f"/integrations/{number}/revoke"
    first = web.post(revoke, data={"csrf_token": csrf}, follow_redirects=False)
    assert first.status_code == 303
    second = web.post(revoke, data={"csrf_token": csrf}, headers=HTML)
    assert second.status_code == 409
    assert "already revoked" in second.text
    assert revocations(db, number) == 1
    assert api.delete(f"/api/v1/integrations/{number}",
                      headers=bearer(org["carol"])).status_code == 409
