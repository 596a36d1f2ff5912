"""Change records end to end in the service layer: risk, policy, approvals, deployments."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from helpers import make_dependency, make_service, make_team, make_user

from steward.auth.actor import SYSTEM
from steward.auth.use_cases import accounts as auth
from steward.changes import queries
from steward.changes.commands import CommitInfo, RecordDeployment
from steward.changes.schemas import ChangeCreate, TemplateCreate, WindowCreate
from steward.changes.use_cases import lifecycle, records
from steward.changes.use_cases.deployments import record_deployment
from steward.errors import Conflict, PermissionDenied, ValidationError
from steward.timeutil import utcnow


@pytest.fixture
def org(db):
    make_team(db, "payments")
    make_team(db, "web")
    make_service(db, "shop", owner="web", kind="business_service", tier=1)
    make_service(db, "checkout", owner="web", tier=1)
    make_service(db, "ledger", owner="payments", tier=2)
    make_service(db, "ledger-db", owner="payments", kind="resource", tier=1)
    make_dependency(db, "shop", "checkout")
    make_dependency(db, "checkout", "ledger")
    make_dependency(db, "ledger", "ledger-db")
    make_user(db, "pat", teams=["payments"], password="correct horse")
    make_user(db, "quinn", teams=["payments"])
    make_user(db, "wendy", teams=["web"])
    return db


def actor(db, username):
    with db.read_session() as session:
        return auth.actor_for_user(session, auth.get_user(session, username))


def open_change(db, who="pat", **fields):
    fields.setdefault("title", "Ledger release")
    fields.setdefault("services", ["ledger"])
    # Business hours on a weekday, so off-hours adds nothing unless a test wants it.
    start = utcnow().replace(hour=10, minute=0, second=0, microsecond=0)
    while start.weekday() >= 5 or start < utcnow():
        start += timedelta(days=1)
    fields.setdefault("planned_start", start)
    fields.setdefault("planned_end", start + timedelta(hours=1))
    with db.session() as session:
        change = lifecycle.create_change(session, actor(db, who), ChangeCreate(**fields))
        return queries.change_out(session, change, detail=True)


def test_low_risk_normal_change_is_auto_approved(org):
    change = open_change(org, batch_size=2)
    assert change["state"] == "scheduled" and change["auto_approved"]
    assert change["risk"]["level"] == "low"
    assert change["policy"]["rule"] == "low-risk-auto-approve"
    with org.read_session() as session:
        gate = lifecycle.gate(session, lifecycle.get_change(session, change["id"]))
    assert gate["decision"] == "allowed"


def test_moderate_risk_waits_for_a_peer_not_the_author(org):
    change = open_change(org, batch_size=60, services=["ledger-db"])
    assert change["risk"]["level"] in ("moderate", "high"), change["risk"]
    assert change["state"] == "authorize"
    keys = {f["key"] for f in change["risk"]["factors"]}
    assert {"batch_size", "blast_radius"} <= keys
    assert all(f["sentence"] for f in change["risk"]["factors"])
    with org.read_session() as session:
        assert lifecycle.gate(session, lifecycle.get_change(session, change["id"]))[
            "decision"] == "pending"
    with pytest.raises(PermissionDenied, match="author"), org.session() as session:
        lifecycle.decide(session, actor(org, "pat"), change["id"], "approve")
    needed = change["policy"]["approver_teams"]
    approvers = {"payments": "quinn", "web": "wendy"}
    for team in needed:
        with org.session() as session:
            lifecycle.decide(session, actor(org, approvers[team]), change["id"], "approve", "ok")
    with org.read_session() as session:
        stored = lifecycle.get_change(session, change["id"])
        assert stored.state == "scheduled"
        assert lifecycle.gate(session, stored)["decision"] == "allowed"


def test_freeze_makes_change_high_risk_and_the_gate_denies(org):
    now = utcnow()
    with org.session() as session:
        records.create_window(session, SYSTEM, WindowCreate(
            name="Year-end freeze", kind="freeze", starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=2)))
    change = open_change(org, planned_start=now, planned_end=now + timedelta(hours=1))
    factors = {f["key"]: f for f in change["risk"]["factors"]}
    assert "freeze" in factors and "Year-end freeze" in factors["freeze"]["sentence"]
    assert change["risk"]["level"] in ("high", "very high")
    assert change["state"] == "authorize"
    with org.session() as session:
        lifecycle.decide(session, actor(org, "quinn"), change["id"], "approve")
        for approval_by in ("wendy",):
            stored = lifecycle.get_change(session, change["id"])
            if stored.state == "authorize":
                lifecycle.decide(session, actor(org, approval_by), change["id"], "approve")
    with org.read_session() as session:
        gate = lifecycle.gate(session, lifecycle.get_change(session, change["id"]))
    assert gate["decision"] == "denied"
    assert "Year-end freeze" in gate["reasons"][0]


def test_standard_change_within_template_passes_at_once(org):
    with org.session() as session:
        records.create_template(session, actor(org, "pat"), TemplateCreate(
            name="ledger-config", services=["ledger"], risk_ceiling="moderate"))
    change = open_change(org, template="ledger-config", batch_size=3)
    assert change["model"] == "standard" and change["state"] == "scheduled"
    assert change["template"] == "ledger-config"
    with pytest.raises(ValidationError, match="does not cover"), org.session() as session:
        lifecycle.create_change(session, actor(org, "pat"), ChangeCreate(
            title="x", services=["ledger-db"], template="ledger-config"))


def test_deployments_close_changes_and_flag_unauthorised(org):
    change = open_change(org, batch_size=1)
    with org.session() as session:
        recorded = record_deployment(session, actor(org, "pat"), RecordDeployment(
            service="ledger", environment="production", status="succeeded", version="1.2",
            commits=(CommitInfo("abc", utcnow() - timedelta(hours=3), "fix"),)))
        assert recorded.deployment.change_id == change["id"]
        assert not recorded.deployment.unauthorised
        assert recorded.deployment.batch_size == 1
        stored = lifecycle.get_change(session, change["id"])
        assert (stored.state, stored.outcome) == ("closed", "successful")
    with org.session() as session:
        rogue = record_deployment(session, actor(org, "pat"), RecordDeployment(
            service="ledger", environment="production", status="succeeded", version="1.3"))
        assert rogue.deployment.unauthorised and rogue.change is None
        staging = record_deployment(session, actor(org, "pat"), RecordDeployment(
            service="ledger", environment="staging", status="succeeded", version="1.3"))
        assert not staging.deployment.unauthorised


def test_batch_links_authorised_changes_like_single_records(org):
    from steward.changes.use_cases.deployments import record_batch

    change = open_change(org, batch_size=1)
    with org.session() as session:
        recorded = record_batch(session, actor(org, "pat"), [
            RecordDeployment(service="ledger", environment="production", status="succeeded",
                             version="2.0"),
            RecordDeployment(service="ledger-db", environment="production",
                             status="succeeded", version="9"),
            RecordDeployment(service="ledger", environment="staging", status="succeeded")])
        linked, rogue, staging = (r.deployment for r in recorded)
        assert linked.change_id == change["id"] and not linked.unauthorised
        assert rogue.change_id is None and rogue.unauthorised
        assert not staging.unauthorised
        stored = lifecycle.get_change(session, change["id"])
        assert (stored.state, stored.outcome) == ("closed", "successful")


def test_failed_deployment_fails_its_change(org):
    change = open_change(org, batch_size=1)
    with org.session() as session:
        record_deployment(session, actor(org, "pat"), RecordDeployment(
            service="ledger", environment="production", status="in_progress",
            external_id="run-7", source="api"))
        assert lifecycle.get_change(session, change["id"]).state == "implement"
        again = record_deployment(session, actor(org, "pat"), RecordDeployment(
            service="ledger", environment="production", status="failed",
            external_id="run-7", source="api"))
        assert not again.created
        stored = lifecycle.get_change(session, change["id"])
        assert (stored.state, stored.outcome) == ("closed", "failed")


def test_forbidden_transitions_name_the_states(org):
    change = open_change(org, batch_size=1)
    with pytest.raises(Conflict, match="cannot go from scheduled to review"), \
            org.session() as session:
        lifecycle.transition(session, actor(org, "pat"), change["id"], "review")
    with org.session() as session:
        lifecycle.transition(session, actor(org, "pat"), change["id"], "canceled")
    with pytest.raises(Conflict), org.session() as session:
        lifecycle.transition(session, actor(org, "pat"), change["id"], "implement")


def test_members_of_other_teams_cannot_open_or_record(org):
    with pytest.raises(PermissionDenied), org.session() as session:
        lifecycle.create_change(session, actor(org, "wendy"), ChangeCreate(
            title="x", services=["ledger"]))
    with pytest.raises(PermissionDenied), org.session() as session:
        record_deployment(session, actor(org, "wendy"), RecordDeployment(
            service="ledger", environment="production", status="succeeded"))


def test_unknown_service_and_repository_are_named(org):
    with pytest.raises(ValidationError, match="nope"), org.session() as session:
        record_deployment(session, SYSTEM, RecordDeployment(
            service="nope", environment="production", status="succeeded"))
    with pytest.raises(ValidationError, match="acme/unknown"), org.session() as session:
        record_deployment(session, SYSTEM, RecordDeployment(
            repository="acme/unknown", environment="production", status="succeeded"))


def test_success_score_per_team(org):
    for status in ("succeeded", "succeeded", "failed"):
        change = open_change(org, batch_size=1)
        with org.session() as session:
            record_deployment(session, actor(org, "pat"), RecordDeployment(
                service="ledger", environment="production", status=status))
            assert lifecycle.get_change(session, change["id"]).state == "closed"
    with org.read_session() as session:
        scores = queries.success_scores(session, days=30)
    assert scores == [{"team": "payments", "days": 30, "closed": 3,
                       "outcomes": {"successful": 2, "failed": 1},
                       "success_rate": 2 / 3, "score": 3 + 3 - 5}]


def test_a_policy_may_auto_approve_emergency_changes(org, monkeypatch):
    monkeypatch.setenv("STEWARD_CHANGE_POLICY", json.dumps([
        {"name": "emergencies-go", "action": "auto_approve", "models": ["emergency"]},
        {"name": "everything-else", "action": "require_approval"}]))
    change = open_change(org, model="emergency", title="Hotfix the ledger")
    assert change["state"] == "scheduled" and change["auto_approved"]
    assert change["policy"]["rule"] == "emergencies-go"
    normal = open_change(org, title="Ordinary release")
    assert normal["state"] == "authorize" and not normal["auto_approved"]
