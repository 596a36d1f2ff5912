"""Who may approve, and approvals racing on one change.

The rule lives in ``lifecycle.approval_rights``: the API, the CLI and the change
page all ask it. Racing final approvals (and an approval racing a rejection)
move a change exactly once: the change's row is locked before it is judged.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from helpers import api_client, bearer, make_service, make_team, make_user
from sqlalchemy import func, select
from webclient import HTML, sign_in

from steward.audit.models import AuditEntry
from steward.auth.use_cases import accounts as auth
from steward.changes.models import Approval
from steward.changes.schemas import ChangeCreate
from steward.changes.use_cases import lifecycle
from steward.demo.seed import DEMO_PASSWORD
from steward.errors import Conflict, PermissionDenied, StewardError

QUORUM_TWO = json.dumps([{"name": "two-payments-approvers", "action": "require_approval",
                          "approvers": ["payments"], "quorum": 2}])


@pytest.fixture
def org(db, monkeypatch):
    monkeypatch.setenv("STEWARD_CHANGE_POLICY", QUORUM_TWO)
    make_team(db, "payments")
    make_service(db, "ledger", owner="payments")
    tokens = {name: make_user(db, name, teams=["payments"], password=DEMO_PASSWORD)
              for name in ("author", "ann", "bob", "cid")}
    tokens["vic"] = make_user(db, "vic", role="viewer", teams=["payments"],
                              password=DEMO_PASSWORD)
    return tokens


def actor(db, username):
    with db.read_session() as session:
        return auth.actor_for_user(session, auth.get_user(session, username))


def open_change(db) -> int:
    with db.session() as session:
        change = lifecycle.create_change(session, actor(db, "author"), ChangeCreate(
            title="Ledger release", services=["ledger"]))
        assert change.state == "authorize"
        return change.id


def state(db, change_id: int) -> str:
    with db.read_session() as session:
        return lifecycle.get_change(session, change_id).state


def test_a_viewer_in_an_approver_team_may_neither_approve_nor_reject(db, org):
    change_id = open_change(db)
    client = api_client(db)
    for verb in ("approve", "reject"):
        answer = client.post(f"/api/v1/changes/{change_id}/{verb}",
                             headers=bearer(org["vic"]), json={})
        assert answer.status_code == 403, answer.text
        assert "viewer" in answer.json()["error"]
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Approval)) == 0
    assert state(db, change_id) == "authorize"
    # The page shows the viewer no form, and says why.
    sign_in(client, "vic")
    page = client.get(f"/changes/{change_id}", headers=HTML).text
    assert 'id="decide"' not in page and "a viewer may not approve" in page
    # Posting the form anyway changes nothing.
    token = sign_in(client, "vic", f"/changes/{change_id}")
    client.post(f"/changes/{change_id}/decide", data={
        "csrf_token": token, "decision": "approve"}, follow_redirects=False)
    assert state(db, change_id) == "authorize"
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Approval)) == 0
    # A member sees the form.
    sign_in(client, "ann")
    assert 'id="decide"' in client.get(f"/changes/{change_id}", headers=HTML).text


def test_a_person_votes_once(db, org):
    change_id = open_change(db)
    client = api_client(db)
    first = client.post(f"/api/v1/changes/{change_id}/approve", headers=bearer(org["ann"]),
                        json={})
    assert first.status_code == 200
    again = client.post(f"/api/v1/changes/{change_id}/approve", headers=bearer(org["ann"]),
                        json={})
    assert again.status_code == 403 and "already approved" in again.json()["error"]
    assert state(db, change_id) == "authorize"


def race(db, change_id: int, moves: list[tuple[str, str]]) -> list[Any]:
    """Run the decisions at once, each in its own transaction; their outcomes in order."""
    actors = [actor(db, who) for who, _ in moves]
    barrier = threading.Barrier(len(moves))
    outcomes: list[Any] = [None] * len(moves)

    def run(index: int) -> None:
        barrier.wait()
        try:
            with db.session() as session:
                lifecycle.decide(session, actors[index], change_id, moves[index][1])
            outcomes[index] = "ok"
        except StewardError as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(moves))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def transitions(db, change_id: int) -> list[tuple[str, str]]:
    with db.read_session() as session:
        rows = session.execute(select(AuditEntry.before, AuditEntry.after).where(
            AuditEntry.entity_type == "change", AuditEntry.entity_id == str(change_id),
            AuditEntry.action == "change.transition").order_by(AuditEntry.id)).all()
    return [(before["state"], after["state"]) for before, after in rows]


def approvals(db, change_id: int) -> list[str]:
    with db.read_session() as session:
        return list(session.scalars(select(Approval.decision).where(
            Approval.change_id == change_id).order_by(Approval.id)))


@pytest.mark.postgres
def test_racing_final_approvals_move_a_change_once(db, org, request):
    rounds = 100 if db.engine.dialect.name == "postgresql" else 10
    for _ in range(rounds):
        change_id = open_change(db)
        with db.session() as session:
            lifecycle.decide(session, actor(db, "ann"), change_id, "approve")
        outcomes = race(db, change_id, [("bob", "approve"), ("cid", "approve")])
        assert outcomes.count("ok") == 1, outcomes
        assert any(isinstance(o, Conflict) for o in outcomes), outcomes
        assert transitions(db, change_id).count(("authorize", "scheduled")) == 1
        assert approvals(db, change_id) == ["approve", "approve"]
        assert state(db, change_id) == "scheduled"


@pytest.mark.postgres
def test_an_approval_racing_a_rejection_records_one_of_them(db, org):
    rounds = 100 if db.engine.dialect.name == "postgresql" else 10
    for _ in range(rounds):
        change_id = open_change(db)
        with db.session() as session:
            lifecycle.decide(session, actor(db, "ann"), change_id, "approve")
        outcomes = race(db, change_id, [("bob", "approve"), ("cid", "reject")])
        assert outcomes.count("ok") == 1, outcomes
        won = "approve" if outcomes[0] == "ok" else "reject"
        assert approvals(db, change_id) == ["approve", won]
        assert state(db, change_id) == ("scheduled" if won == "approve" else "rejected")
        assert len([t for t in transitions(db, change_id) if t[0] == "authorize"]) == 1


def test_permission_errors_name_the_reason(db, org):
    change_id = open_change(db)
    with db.session() as session, pytest.raises(PermissionDenied) as caught:
        lifecycle.decide(session, actor(db, "author"), change_id, "approve")
    assert "author" in caught.value.message
