"""Deployment webhooks with real payloads: GitHub, GitLab, CDEvents, PagerDuty, generic."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from helpers import api_client, bearer, make_service, make_team, make_user
from sqlalchemy import func, select

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.changes.models import Deployment

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"


def load(*parts: str) -> bytes:
    return (PAYLOADS.joinpath(*parts)).read_bytes()


def count(db) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Deployment))


def integration(db, type: str, service: str | None = None) -> str:
    with db.session() as session:
        return create_integration(session, SYSTEM, type, service=service)[1]


@pytest.fixture
def setup(db):
    make_team(db, "web")
    make_service(db, "hello-world", owner="web", annotations={
        "github.com/project-slug": "Codertocat/Hello-World"})
    make_service(db, "deploy-hooks", owner="web", annotations={
        "gitlab.com/project-slug": "root/test-deployment-webhooks"})
    make_service(db, "mySubject123", owner="web")
    make_service(db, "payments", owner="web")
    return api_client(db)


def signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_github_deployment_then_status_then_redelivery(setup, db):
    client = setup
    secret = integration(db, "github")
    created = load("github", "deployment", "payload.json")
    response = client.post("/ingest/github", content=created, headers={
        "X-GitHub-Event": "deployment", "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": signed(secret, created), "content-type": "application/json"})
    assert response.status_code == 201, response.text
    deployment = response.json()["deployment"]
    assert deployment["service"] == "hello-world" and deployment["status"] == "in_progress"
    assert deployment["environment"] == "production" and deployment["source"] == "github"
    status = load("github", "deployment_status", "payload.json")
    headers = {"X-GitHub-Event": "deployment_status", "X-GitHub-Delivery": "d-2",
               "X-Hub-Signature-256": signed(secret, status), "content-type": "application/json"}
    updated = client.post("/ingest/github", content=status, headers=headers)
    assert updated.status_code == 200, updated.text
    assert updated.json()["deployment"]["id"] == deployment["id"]
    assert updated.json()["deployment"]["status"] == "succeeded"
    assert updated.json()["deployment"]["unauthorised"] is True
    again = client.post("/ingest/github", content=status, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert count(db) == 1


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc"])
def test_github_bad_signature_stores_nothing(setup, db, signature):
    client = setup
    integration(db, "github")
    body = load("github", "deployment", "payload.json")
    headers = {"X-GitHub-Event": "deployment", "X-GitHub-Delivery": "d-9",
               "content-type": "application/json"}
    if signature:
        headers["X-Hub-Signature-256"] = signature
    response = client.post("/ingest/github", content=body, headers=headers)
    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.json()["error"]
    assert count(db) == 0


def test_github_ping_and_events_steward_does_not_record(setup, db):
    client = setup
    secret = integration(db, "github")
    body = b'{"zen": "Keep it logically awesome."}'
    ping = client.post("/ingest/github", content=body, headers={
        "X-GitHub-Event": "ping", "X-Hub-Signature-256": signed(secret, body)})
    assert ping.status_code == 200 and ping.json()["status"] == "ignored"
    push = client.post("/ingest/github", content=body, headers={
        "X-GitHub-Event": "push", "X-Hub-Signature-256": signed(secret, body)})
    assert push.status_code == 200 and "'push'" in push.json()["ignored"]
    unsigned = client.post("/ingest/github", content=body, headers={"X-GitHub-Event": "push"})
    assert unsigned.status_code == 401
    nameless = client.post("/ingest/github", content=body, headers={
        "X-Hub-Signature-256": signed(secret, body)})
    assert nameless.status_code == 422 and nameless.json()["field"] == "X-GitHub-Event"
    assert count(db) == 0


def test_gitlab_deployment_hook(setup, db):
    client = setup
    token = integration(db, "gitlab")
    body = load("gitlab", "deployment-hook.json")
    response = client.post("/ingest/gitlab", content=body, headers={
        "X-Gitlab-Token": token, "X-Gitlab-Event": "Deployment Hook",
        "content-type": "application/json"})
    assert response.status_code == 201, response.text
    deployment = response.json()["deployment"]
    assert deployment["service"] == "deploy-hooks" and deployment["status"] == "succeeded"
    assert deployment["environment"] == "staging" and deployment["unauthorised"] is False
    wrong = client.post("/ingest/gitlab", content=body, headers={
        "X-Gitlab-Token": "stk_wrong", "X-Gitlab-Event": "Deployment Hook"})
    assert wrong.status_code == 401
    assert count(db) == 1


def test_cdevents_binary_and_structured_are_one_event(setup, db):
    client = setup
    key = integration(db, "cdevents")
    for name in ("cloudevents-binary-mode-request.json",
                 "cloudevents-structured-mode-request.json"):
        capture = json.loads(load("cdevents", name))
        headers = {k: v for k, v in capture["headers"].items()
                   if k.lower().startswith("ce-") or k.lower() == "content-type"}
        response = client.post("/ingest/cdevents", content=json.dumps(capture["body"]),
                               headers={**headers, "Authorization": f"Bearer {key}"})
        assert response.status_code in (200, 201), response.text
        assert response.json()["deployment"]["service"] == "mySubject123"
    assert count(db) == 1
    no_key = client.post("/ingest/cdevents", json={}, headers={})
    assert no_key.status_code == 401


def test_pagerduty_change_event_answers_like_pagerduty(setup, db):
    client = setup
    key = integration(db, "pagerduty", service="payments")
    assert len(key) == 32 and key.isalnum()
    event = json.loads(load("pagerduty", "change-event-docs-example.json"))
    event["routing_key"] = key
    response = client.post("/v2/change/enqueue", json=event)
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "success", "message": "Change event processed"}
    assert count(db) == 1
    missing = client.post("/v2/change/enqueue", json={"routing_key": key, "payload": {}})
    assert missing.status_code == 400
    body = missing.json()
    assert body["status"] == "invalid event" and body["errors"]
    unknown = client.post("/v2/change/enqueue", json={**event, "routing_key": "a" * 32})
    assert unknown.status_code == 400 and "routing key" in unknown.json()["errors"][0]
    assert count(db) == 1


def test_generic_deployments_single_and_batch(setup, db):
    client = setup
    token = make_user(db, "ci", teams=["web"])
    one = client.post("/api/v1/deployments", headers=bearer(token), json={
        "service": "payments", "environment": "production", "version": "1.4.2",
        "status": "succeeded", "started_at": "2026-03-02T10:00:00Z",
        "finished_at": "2026-03-02T10:04:00+00:00",
        "commits": [{"sha": "9f1c", "committed_at": "2026-03-01T16:20:00.123456789Z",
                     "message": "Retry ledger writes"}],
        "rollback_of": None, "fixes_incident": None, "change_id": None})
    assert one.status_code == 201, one.text
    assert set(one.json()) >= {"id", "change_id", "unauthorised"}
    assert one.json()["unauthorised"] is True and one.json()["batch_size"] == 1
    batch = client.post("/api/v1/deployments", headers=bearer(token), json=[
        {"service": "payments", "environment": "staging", "version": f"1.5.{i}",
         "status": "succeeded", "finished_at": "2026-03-03T10:00:00Z"} for i in range(5)])
    assert batch.status_code == 201 and batch.json()["total"] == 5
    assert count(db) == 6
    bad_batch = client.post("/api/v1/deployments", headers=bearer(token), json=[
        {"service": "payments", "environment": "staging", "status": "succeeded"},
        {"service": "payments", "environment": "staging", "status": "done"}])
    assert bad_batch.status_code == 422 and "status" in bad_batch.json()["field"]
    half_bad = client.post("/api/v1/deployments", headers=bearer(token), json=[
        {"service": "payments", "environment": "staging", "status": "succeeded"},
        {"service": "payments", "environment": "staging", "status": "succeeded"},
        {"service": "ghost", "environment": "staging", "status": "succeeded"}])
    assert half_bad.status_code == 422 and "ghost" in half_bad.json()["error"]
    unknown = client.post("/api/v1/deployments", headers=bearer(token), json={
        "service": "ghost", "environment": "production", "status": "succeeded"})
    assert unknown.status_code == 422 and "ghost" in unknown.json()["error"]
    bad_time = client.post("/api/v1/deployments", headers=bearer(token), json={
        "service": "payments", "environment": "production", "status": "succeeded",
        "finished_at": "yesterday"})
    assert bad_time.status_code == 422 and "finished_at" in bad_time.json()["field"]
    assert count(db) == 6
    listed = client.get("/api/v1/deployments?unauthorised=true", headers=bearer(token)).json()
    assert listed["total"] == 1


def test_github_deployment_opens_a_change_that_policy_approves(setup, db):
    """A pipeline announcing a low-risk deployment gets a change approved by policy at once."""
    from steward.timeutil import isoformat_z, utcnow

    client = setup
    secret = integration(db, "github")
    now = isoformat_z(utcnow())
    created = json.loads(load("github", "deployment", "payload.json"))
    created["deployment"]["created_at"] = created["deployment"]["updated_at"] = now
    body = json.dumps(created).encode()
    first = client.post("/ingest/github", content=body, headers={
        "X-GitHub-Event": "deployment", "X-GitHub-Delivery": "n-1",
        "X-Hub-Signature-256": signed(secret, body), "content-type": "application/json"})
    deployment = first.json()["deployment"]
    assert deployment["change_id"] is not None and deployment["unauthorised"] is False
    status = json.loads(load("github", "deployment_status", "payload.json"))
    status["deployment_status"]["created_at"] = status["deployment_status"]["updated_at"] = now
    body = json.dumps(status).encode()
    done = client.post("/ingest/github", content=body, headers={
        "X-GitHub-Event": "deployment_status", "X-GitHub-Delivery": "n-2",
        "X-Hub-Signature-256": signed(secret, body), "content-type": "application/json"})
    assert done.json()["deployment"]["status"] == "succeeded"
    admin = make_user(db, "root", role="admin")
    change = client.get(f"/api/v1/changes/{deployment['change_id']}", headers=bearer(admin))
    assert change.json()["state"] == "closed" and change.json()["outcome"] == "successful"
    assert change.json()["auto_approved"] is True and change.json()["source"] == "github"
