"""The audit log: written with every mutation, hash-chained, tamper-evident."""

from __future__ import annotations

from helpers import api_client, bearer, make_service, make_team, make_user
from sqlalchemy import delete, select, update

from steward.audit import service as audit
from steward.audit.models import AuditEntry


def entries(db):
    with db.read_session() as session:
        return [audit.entry_out(e) for e in
                session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def test_every_mutation_is_audited_with_who_before_and_after(db):
    make_team(db, "payments")
    token = make_user(db, "pat", role="member", teams=["payments"])
    client = api_client(db)
    created = client.post("/api/v1/services", headers=bearer(token),
                          json={"name": "ledger", "owner": "payments", "tier": 2})
    assert created.status_code == 201
    client.patch("/api/v1/services/ledger", headers=bearer(token), json={"tier": 1})
    log = entries(db)
    update_entry = log[-1]
    assert update_entry["action"] == "service.update"
    assert update_entry["actor"]["kind"] == "token" and update_entry["actor"]["name"] == "pat"
    assert update_entry["before"]["tier"] == 2 and update_entry["after"]["tier"] == 1
    assert log[-2]["action"] == "service.create" and log[-2]["before"] is None
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))


def test_failed_mutation_leaves_no_entry_and_no_record(db):
    make_team(db, "payments")
    make_service(db, "ledger", owner="payments")
    before = len(entries(db))
    token = make_user(db, "root", role="admin")
    client = api_client(db)
    response = client.post("/api/v1/dependencies", headers=bearer(token),
                           json={"service": "ledger", "depends_on": "missing"})
    assert response.status_code == 422
    assert len(entries(db)) == before + 2  # user.create and token.create only


def test_verify_passes_on_untouched_chain(db):
    make_team(db, "a")
    make_service(db, "s1", owner="a")
    with db.read_session() as session:
        result = audit.verify(session)
    assert result.ok and result.entries == 2


def test_verify_names_altered_entry(db):
    make_team(db, "a")
    make_service(db, "s1", owner="a")
    make_service(db, "s2", owner="a")
    with db.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2)
                        .values(after={"name": "s1", "tier": 1}))
    with db.read_session() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_bad_seq == 2 and "altered" in result.problem


def test_verify_names_deleted_entry(db):
    make_team(db, "a")
    for i in range(4):
        make_service(db, f"s{i}", owner="a")
    with db.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    with db.read_session() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_bad_seq == 3 and "missing" in result.problem


def test_verify_notices_deleted_tail(db):
    make_team(db, "a")
    make_service(db, "s1", owner="a")
    with db.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    with db.read_session() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_bad_seq == 2


def test_verify_notices_rehashed_forgery(db):
    """Recomputing a forged entry's own hash still breaks the link to the next one."""
    make_team(db, "a")
    make_service(db, "s1", owner="a")
    make_service(db, "s2", owner="a")
    with db.session() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.seq == 2))
        entry.actor_name = "someone-else"
        entry.hash = audit.entry_hash(audit._hashed_fields(entry))
    with db.read_session() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_bad_seq == 3


def test_audit_api_is_admin_only(db):
    make_team(db, "a")
    admin = make_user(db, "root", role="admin")
    member = make_user(db, "m", role="member", teams=["a"])
    client = api_client(db)
    assert client.get("/api/v1/audit", headers=bearer(member)).status_code == 403
    page = client.get("/api/v1/audit?entity_type=team", headers=bearer(admin)).json()
    assert page["total"] == 1 and page["items"][0]["action"] == "team.create"
    verified = client.get("/api/v1/audit/verify", headers=bearer(admin)).json()
    assert verified["ok"] is True


def test_concurrent_writers_keep_one_unbroken_chain(db):
    from concurrent.futures import ThreadPoolExecutor

    make_team(db, "a")

    def write(i: int) -> None:
        make_service(db, f"svc-{i}", owner="a")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(40)))
    with db.read_session() as session:
        result = audit.verify(session)
    assert result.ok, result.problem
    assert result.entries == 41
