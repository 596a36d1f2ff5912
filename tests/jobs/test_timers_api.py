"""GET /api/v1/timers: admins see the background work, its states and counts."""

from __future__ import annotations

from datetime import timedelta

from helpers import api_client, bearer, make_user

from steward.db import Database, Session
from steward.jobs import timers
from steward.timeutil import utcnow


def broken(session: Session, timer: timers.Fired) -> None:
    raise RuntimeError("mail server refused")


def test_admins_list_timers_with_counts_and_filters(db: Database) -> None:
    admin = make_user(db, "ada", "admin")
    member = make_user(db, "mo", "member")
    now = utcnow()
    with db.session() as session:
        timers.schedule(session, "api.a", "a:late", now - timedelta(minutes=3), {"n": 1})
        timers.schedule(session, "api.a", "a:soon", now + timedelta(minutes=1))
        timers.schedule(session, "api.a", "a:later", now + timedelta(hours=1))
        timers.schedule(session, "api.b", "b:1", now - timedelta(minutes=1))
        timers.cancel(session, key="a:later")
    timers.register("api.b", broken)
    try:
        assert timers.run_due(db, worker="test-worker") == 1
    finally:
        timers.clear_handlers(["api.b"])
    client = api_client(db)

    answer = client.get("/api/v1/timers", headers=bearer(admin))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 4
    # Pending first, the next due first; then the others.
    assert [t["key"] for t in body["items"]] == ["a:late", "b:1", "a:soon", "a:later"]
    assert {(c["kind"], c["state"], c["count"]) for c in body["counts"]} == {
        ("api.a", "pending", 2), ("api.a", "canceled", 1), ("api.b", "pending", 1)}
    assert body["overdue"] == 1  # b:1 waits for its retry, 10 s on
    assert body["oldest_due"] == body["items"][0]["due_at"]
    late = body["items"][0]
    assert late["payload"] == {"n": 1} and late["attempts"] == 0
    failed_once = body["items"][1]
    assert failed_once["attempts"] == 1
    assert failed_once["last_error"] == "RuntimeError: mail server refused"

    only = client.get("/api/v1/timers?state=canceled&kind=api.a", headers=bearer(admin)).json()
    assert [t["key"] for t in only["items"]] == ["a:later"] and only["total"] == 1
    paged = client.get("/api/v1/timers?limit=1&offset=1", headers=bearer(admin)).json()
    assert [t["key"] for t in paged["items"]] == ["b:1"] and paged["total"] == 4

    bad = client.get("/api/v1/timers?state=sleeping", headers=bearer(admin))
    assert bad.status_code == 422
    assert "state" in bad.text
    assert client.get("/api/v1/timers", headers=bearer(member)).status_code == 403
    assert client.get("/api/v1/timers").status_code == 401
