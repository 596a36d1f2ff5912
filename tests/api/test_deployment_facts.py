"""A deployment that happened is a fact: stored whatever its change's state, then judged.

Pipelines announce deployments while their change waits for approval; the
finished deployment must be recorded (2xx), flagged unauthorised when nobody
approved it, and shown so on its change and on the unauthorised list. Events a
source sends that Steward does not use are acknowledged, never refused.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import api_client, bearer, make_service, make_team, make_user
from sqlalchemy import func, select
from webclient import HTML, sign_in

from steward.audit.models import AuditEntry
from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.changes.models import Deployment
from steward.demo.seed import DEMO_PASSWORD
from steward.timeutil import isoformat_z, utcnow

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
APPROVAL_FOR_ALL = json.dumps([{"name": "everything-needs-approval",
                                "action": "require_approval"}])


def load(*parts: str) -> dict[str, Any]:
    return json.loads(PAYLOADS.joinpath(*parts).read_bytes())


def signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def org(db, monkeypatch):
    monkeypatch.setenv("STEWARD_CHANGE_POLICY", APPROVAL_FOR_ALL)
    make_team(db, "web")
    make_service(db, "hello-world", owner="web", annotations={
        "github.com/project-slug": "Codertocat/Hello-World"})
    make_service(db, "deploy-hooks", owner="web", annotations={
        "gitlab.com/project-slug": "root/test-deployment-webhooks"})
    token = make_user(db, "ana", teams=["web"], password=DEMO_PASSWORD)
    with db.session() as session:
        github_secret = create_integration(session, SYSTEM, "github")[1]
        gitlab_token = create_integration(session, SYSTEM, "gitlab")[1]
    return {"client": api_client(db), "github": github_secret, "gitlab": gitlab_token,
            "token": token}


def github(org, event: str, payload: dict[str, Any], delivery: str):
    body = json.dumps(payload).encode()
    return org["client"].post("/ingest/github", content=body, headers={
        "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signed(org["github"], body),
        "content-type": "application/json"})


def gitlab(org, payload: dict[str, Any], event: str = "Deployment Hook"):
    return org["client"].post("/ingest/gitlab", json=payload, headers={
        "X-Gitlab-Token": org["gitlab"], "X-Gitlab-Event": event})


def fresh_github(name: str, **times: str) -> dict[str, Any]:
    payload = load("github", name, "payload.json")
    obj = payload["deployment" if name == "deployment" else "deployment_status"]
    obj.update(times)
    return payload


def change_of(org, deployment: dict[str, Any]) -> dict[str, Any]:
    answer = org["client"].get(f"/api/v1/changes/{deployment['change_id']}",
                               headers=bearer(org["token"]))
    assert answer.status_code == 200, answer.text
    return answer.json()


def unauthorised_ids(org) -> set[int]:
    listed = org["client"].get("/api/v1/deployments?unauthorised=true",
                               headers=bearer(org["token"])).json()
    return {d["id"] for d in listed["items"]}


def audit_actions(db, change_id: int) -> list[str]:
    with db.read_session() as session:
        return list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_type == "change", AuditEntry.entity_id == str(change_id))
            .order_by(AuditEntry.id)))


def test_github_success_while_the_change_awaits_approval_is_stored_and_unauthorised(org, db):
    now = isoformat_z(utcnow())
    started = github(org, "deployment", fresh_github("deployment", created_at=now,
                                                     updated_at=now), "g-1")
    assert started.status_code == 201, started.text
    waiting = started.json()["deployment"]
    assert waiting["status"] == "in_progress" and waiting["change_id"] is not None
    # Waiting at the gate is not yet a deployment without approval.
    assert waiting["unauthorised"] is False
    assert change_of(org, waiting)["state"] == "authorize"

    done = github(org, "deployment_status", fresh_github("deployment_status", created_at=now,
                                                         updated_at=now), "g-2")
    assert done.status_code == 200, done.text
    deployment = done.json()["deployment"]
    assert deployment["id"] == waiting["id"] and deployment["status"] == "succeeded"
    assert deployment["unauthorised"] is True
    change = change_of(org, deployment)
    assert change["state"] == "review" and change["outcome"] == "successful"
    assert change["unauthorised"] is True
    assert change["deployments"][0]["unauthorised"] is True
    assert deployment["id"] in unauthorised_ids(org)
    assert "change.unauthorised_deployment" in audit_actions(db, change["id"])
    # The approval is moot now: nobody can approve what already happened.
    late = org["client"].post(f"/api/v1/changes/{change['id']}/approve",
                              headers=bearer(org["token"]), json={})
    assert late.status_code == 409 and "review" in late.json()["error"]
    # The change page and the change list say so.
    sign_in(org["client"], "ana")
    page = org["client"].get(f"/changes/{change['id']}", headers=HTML).text
    assert 'id="change-unauthorised"' in page and "post-implementation review" in page
    listing = org["client"].get("/changes", headers=HTML).text
    assert "⚠ unauthorised" in listing


def test_github_deployment_approved_while_waiting_is_authorised(org):
    now = isoformat_z(utcnow())
    started = github(org, "deployment", fresh_github("deployment", created_at=now,
                                                     updated_at=now), "a-1").json()
    change_id = started["deployment"]["change_id"]
    approved = org["client"].post(f"/api/v1/changes/{change_id}/approve",
                                  headers=bearer(org["token"]), json={"comment": "go"})
    assert approved.status_code == 200, approved.text
    later = isoformat_z(utcnow())
    done = github(org, "deployment_status", fresh_github(
        "deployment_status", created_at=later, updated_at=later), "a-2").json()
    assert done["deployment"]["unauthorised"] is False
    change = change_of(org, done["deployment"])
    assert change["state"] == "closed" and change["outcome"] == "successful"
    assert change["unauthorised"] is False
    assert done["deployment"]["id"] not in unauthorised_ids(org)


def test_gitlab_running_then_success_while_awaiting_approval(org, db):
    now = isoformat_z(utcnow())
    hook = load("gitlab", "deployment-hook.json")
    hook.update(environment="production", status="running", status_changed_at=now)
    running = gitlab(org, hook)
    assert running.status_code == 201, running.text
    assert running.json()["deployment"]["unauthorised"] is False
    hook.update(status="failed", status_changed_at=isoformat_z(utcnow()))
    failed = gitlab(org, hook)
    assert failed.status_code == 200, failed.text
    deployment = failed.json()["deployment"]
    assert deployment["status"] == "failed" and deployment["unauthorised"] is True
    change = change_of(org, deployment)
    assert (change["state"], change["outcome"], change["unauthorised"]) == (
        "review", "failed", True)
    # A person closes it after the review.
    closed = org["client"].post(f"/api/v1/changes/{change['id']}/closed",
                                headers=bearer(org["token"]), json={})
    assert closed.status_code == 200, closed.text
    assert change_of(org, deployment)["state"] == "closed"


def test_a_deployment_on_a_rejected_change_is_recorded_and_flagged(org, db):
    now = isoformat_z(utcnow())
    started = github(org, "deployment", fresh_github("deployment", created_at=now,
                                                     updated_at=now), "r-1").json()
    change_id = started["deployment"]["change_id"]
    rejected = org["client"].post(f"/api/v1/changes/{change_id}/reject",
                                  headers=bearer(org["token"]), json={"comment": "no"})
    assert rejected.status_code == 200, rejected.text
    done = github(org, "deployment_status", fresh_github("deployment_status", created_at=now,
                                                         updated_at=now), "r-2")
    assert done.status_code == 200, done.text
    assert done.json()["deployment"]["unauthorised"] is True
    change = change_of(org, done.json()["deployment"])
    assert change["state"] == "rejected" and change["unauthorised"] is True
    assert audit_actions(db, change_id)[-1] == "change.unauthorised_deployment"


def test_a_staging_event_reusing_an_id_never_touches_the_production_record(org, db):
    hook = load("gitlab", "deployment-hook.json")
    hook.update(environment="production", status="success",
                status_changed_at=isoformat_z(utcnow()))
    production = gitlab(org, hook).json()["deployment"]
    assert production["unauthorised"] is True
    staging_hook = {**hook, "environment": "staging"}
    staging = gitlab(org, staging_hook)
    assert staging.status_code == 201, staging.text
    assert staging.json()["deployment"]["id"] != production["id"]
    assert staging.json()["deployment"]["unauthorised"] is False
    again = gitlab(org, {**staging_hook, "status": "failed"}).json()["deployment"]
    assert again["id"] == staging.json()["deployment"]["id"] and again["status"] == "failed"
    with db.read_session() as session:
        stored = session.get(Deployment, production["id"])
        assert stored.environment == "production" and stored.unauthorised
        assert stored.status == "succeeded"
        assert session.scalar(select(func.count()).select_from(Deployment)) == 2


def test_every_octokit_example_gets_a_2xx(org, db):
    examples = load("github", "octokit-examples", "api.github.com.json")
    assert set(examples) == {"deployment", "deployment_status", "workflow_run", "push",
                             "ping"}
    answers = []
    for event, payloads in examples.items():
        for index, payload in enumerate(payloads):
            answer = github(org, event, payload, f"{event}-{index}")
            assert answer.status_code in (200, 201), (event, index, answer.text)
            answers.append((event, answer.json()))
    assert len(answers) == 24
    ignored = [(event, a["ignored"]) for event, a in answers if a["status"] == "ignored"]
    assert {e for e, _ in ignored} >= {"push", "ping", "workflow_run"}
    recorded = [a for _e, a in answers if a["status"] == "recorded"]
    # The production deployments of Codertocat/Hello-World and its GitHub Pages builds.
    assert {a["deployment"]["service"] for a in recorded} == {"hello-world"}
    assert {a["deployment"]["environment"] for a in recorded} == {"production",
                                                                  "github-pages"}


def workflow_run(name: str, path: str, conclusion: str = "success",
                 action: str = "completed") -> dict[str, Any]:
    examples = load("github", "octokit-examples", "api.github.com.json")["workflow_run"]
    payload = copy.deepcopy(examples[1])
    payload["action"] = action
    payload["repository"]["full_name"] = "Codertocat/Hello-World"
    run = payload["workflow_run"]
    run.update(name=name, path=path, conclusion=conclusion)
    payload["workflow"].update(name=name, path=path)
    return payload


def test_a_completed_deploy_workflow_run_is_a_production_deployment(org):
    answer = github(org, "workflow_run", workflow_run("Deploy", ".github/workflows/deploy.yml"),
                    "w-1")
    assert answer.status_code == 201, answer.text
    deployment = answer.json()["deployment"]
    assert (deployment["service"], deployment["environment"], deployment["status"]) == (
        "hello-world", "production", "succeeded")
    assert deployment["version"] == "3484a3fb816e" and deployment["batch_size"] == 1
    assert deployment["external_id"] == "Codertocat/Hello-World#run-289782451-1"
    failed = github(org, "workflow_run", workflow_run(
        "Deploy", ".github/workflows/deploy.yml", conclusion="failure"), "w-2").json()
    assert failed["deployment"]["id"] == deployment["id"]
    assert failed["deployment"]["status"] == "failed"
    for payload, reason in ((workflow_run("test", ".github/workflows/test.yml"), "not deploy"),
                            (workflow_run("Deploy", "deploy.yml", conclusion="cancelled"),
                             "cancelled"),
                            (workflow_run("Deploy", "deploy.yml", action="requested"),
                             "requested")):
        ignored = github(org, "workflow_run", payload, f"w-{reason}")
        assert ignored.status_code == 200 and reason in ignored.json()["ignored"]


def test_a_service_annotation_names_its_deploying_workflows(org, db):
    make_service(db, "ledger", owner="web", annotations={
        "github.com/project-slug": "acme/ledger",
        "steward.dev/deploy-workflows": "release.yml, Ship it"})
    listed = workflow_run("CI", ".github/workflows/release.yml")
    listed["repository"]["full_name"] = "acme/ledger"
    recorded = github(org, "workflow_run", listed, "l-1")
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["deployment"]["service"] == "ledger"
    by_name = workflow_run("Ship it", ".github/workflows/other.yml")
    by_name["repository"]["full_name"] = "acme/ledger"
    by_name["workflow_run"]["id"] = 1
    assert github(org, "workflow_run", by_name, "l-2").status_code == 201
    unlisted = workflow_run("Deploy", ".github/workflows/deploy.yml")
    unlisted["repository"]["full_name"] = "acme/ledger"
    unlisted["workflow_run"]["id"] = 2
    ignored = github(org, "workflow_run", unlisted, "l-3")
    assert ignored.status_code == 200 and "release.yml" in ignored.json()["ignored"]


@pytest.mark.parametrize("event", ["Push Hook", "Pipeline Hook", "Merge Request Hook"])
def test_gitlab_events_steward_does_not_use_are_acknowledged(org, db, event):
    kind = {"Push Hook": "push", "Pipeline Hook": "pipeline",
            "Merge Request Hook": "merge_request"}[event]
    answer = gitlab(org, {"object_kind": kind, "ref": "refs/heads/main"}, event)
    assert answer.status_code == 200 and event in answer.json()["ignored"]
    wrong_token = org["client"].post("/ingest/gitlab", json={"object_kind": kind}, headers={
        "X-Gitlab-Token": "stk_wrong", "X-Gitlab-Event": event})
    assert wrong_token.status_code == 401
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Deployment)) == 0
