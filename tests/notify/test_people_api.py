"""A person's contact methods, rules and quiet hours through the API, with rights and
audit; paging follows them (delays, urgency, quiet hours never holding high urgency)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpers import api_client, bearer
from notify_world import declare, organisation
from sqlalchemy import select

from steward.audit.models import AuditEntry
from steward.auth.actor import SYSTEM
from steward.auth.use_cases import accounts
from steward.db import Database
from steward.notify import paging
from steward.notify.models import Notification


def _tokens(db: Database) -> dict[str, str]:
    with db.session() as session:
        return {name: accounts.create_token(session, SYSTEM, name)
                for name in ("alice", "bob", "root")}


def test_a_person_edits_their_own_contact_methods_and_rules_an_admin_anyones(
        db: Database) -> None:
    organisation(db)
    tokens = _tokens(db)
    client = api_client(db)
    base = "/api/v1/users/alice"
    made = client.post(f"{base}/contact-methods", headers=bearer(tokens["alice"]), json={
        "kind": "webhook", "target": "https://hooks.example.test/alice", "label": "phone"})
    assert made.status_code == 201, made.text
    method = made.json()
    assert method["kind"] == "webhook" and method["label"] == "phone"
    rule = client.post(f"{base}/notification-rules", headers=bearer(tokens["alice"]), json={
        "contact_method_id": method["id"], "urgency": "high", "delay_minutes": 5})
    assert rule.status_code == 201, rule.text
    assert rule.json()["contact_target"] == "https://hooks.example.test/alice"

    # bob may neither read nor change alice's; the admin may.
    assert client.get(f"{base}/contact-methods", headers=bearer(tokens["bob"])).status_code == 403
    refused = client.post(f"{base}/contact-methods", headers=bearer(tokens["bob"]), json={
        "kind": "email", "target": "bob@example.test"})
    assert refused.status_code == 403 and "only alice or an admin" in refused.json()["error"]
    listed = client.get(f"{base}/notification-rules", headers=bearer(tokens["root"]))
    assert listed.status_code == 200 and listed.json()["total"] == 1

    # Bad input names the field, writes nothing.
    for body, field in (({"kind": "email", "target": "not an address"}, "target"),
                        ({"kind": "webhook", "target": "javascript:alert(1)"}, "target"),
                        ({"kind": "pager", "target": "x"}, "kind")):
        answer = client.post(f"{base}/contact-methods", headers=bearer(tokens["alice"]),
                             json=body)
        assert answer.status_code == 422, answer.text
        assert field in answer.text
    other = client.post(f"{base}/notification-rules", headers=bearer(tokens["alice"]),
                        json={"contact_method_id": 999, "urgency": "any"})
    assert other.status_code == 422 and other.json()["field"] == "contact_method_id"
    duplicate = client.post(f"{base}/contact-methods", headers=bearer(tokens["alice"]), json={
        "kind": "webhook", "target": "https://hooks.example.test/alice"})
    assert duplicate.status_code == 409

    prefs = client.put(f"{base}/notify-preferences", headers=bearer(tokens["alice"]), json={
        "time_zone": "Europe/Amsterdam", "quiet_start": "22:00", "quiet_end": "07:00"})
    assert prefs.status_code == 200 and prefs.json()["quiet_end"] == "07:00"
    for body, field in (({"time_zone": "Mars/Base"}, "time_zone"),
                        ({"time_zone": "UTC", "quiet_start": "25:00", "quiet_end": "07:00"},
                         "quiet_start"),
                        ({"time_zone": "UTC", "quiet_start": "22:00"}, "quiet_end")):
        answer = client.put(f"{base}/notify-preferences", headers=bearer(tokens["alice"]),
                            json=body)
        assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
    assert client.get(f"{base}/notify-preferences",
                      headers=bearer(tokens["alice"])).json()["time_zone"] == "Europe/Amsterdam"

    # Removing the method removes its rule.
    gone = client.delete(f"{base}/contact-methods/{method['id']}",
                         headers=bearer(tokens["alice"]))
    assert gone.status_code == 204
    assert client.get(f"{base}/notification-rules",
                      headers=bearer(tokens["alice"])).json()["total"] == 0
    with db.read_session() as session:
        actions = [a.action for a in session.scalars(select(AuditEntry).where(
            AuditEntry.action.like("contact_method.%") | AuditEntry.action.like(
                "notification_rule.%") | AuditEntry.action.like("notify_preferences.%")))]
    assert actions == ["contact_method.create", "notification_rule.create",
                       "notify_preferences.update", "contact_method.delete"]


def _due(db: Database) -> list[tuple[str, str, float]]:
    with db.read_session() as session:
        return [(n.channel, n.target, (n.due_at - n.created_at).total_seconds())
                for n in session.scalars(select(Notification).where(
                    Notification.state == "pending").order_by(Notification.id))]


def test_rules_page_at_their_delays_and_only_for_their_urgency(db: Database) -> None:
    organisation(db)
    tokens = _tokens(db)
    client = api_client(db)
    base = "/api/v1/users/alice"
    mail = client.post(f"{base}/contact-methods", headers=bearer(tokens["alice"]),
                       json={"kind": "email", "target": "alice@example.test"}).json()
    hook = client.post(f"{base}/contact-methods", headers=bearer(tokens["alice"]),
                       json={"kind": "webhook", "target": "https://h.example.test/a"}).json()
    for method, urgency, delay in ((mail, "any", 0), (hook, "high", 5)):
        client.post(f"{base}/notification-rules", headers=bearer(tokens["alice"]), json={
            "contact_method_id": method["id"], "urgency": urgency, "delay_minutes": delay})
    users = {"alice": 0}
    with db.read_session() as session:
        users["alice"] = accounts.get_user(session, "alice").id
    high = declare(db)
    low = declare(db, "Slow checkout", impact=3, urgency=3)
    with db.session() as session:
        assert len(paging.page_user(session, user_id=users["alice"], incident_id=high,
                                    urgency="high", reason="r", dedup_prefix="h")) == 2
        assert len(paging.page_user(session, user_id=users["alice"], incident_id=low,
                                    urgency="low", reason="r", dedup_prefix="l")) == 1
    due = _due(db)
    assert [(c, round(s / 60)) for c, _, s in due] == [("email", 0), ("webhook", 5),
                                                        ("email", 0)]


def test_quiet_hours_hold_low_urgency_never_high(db: Database, monkeypatch) -> None:
    organisation(db)
    tokens = _tokens(db)
    client = api_client(db)
    now = datetime.now(UTC)
    # Quiet hours around now, in alice's zone: from an hour ago to two hours ahead.
    start, end = ((now - timedelta(hours=1)).strftime("%H:%M"),
                  (now + timedelta(hours=2)).strftime("%H:%M"))
    client.put("/api/v1/users/alice/notify-preferences", headers=bearer(tokens["alice"]),
               json={"time_zone": "UTC", "quiet_start": start, "quiet_end": end})
    with db.read_session() as session:
        alice = accounts.get_user(session, "alice").id
    high = declare(db)
    low = declare(db, "Slow checkout", impact=3, urgency=3)
    with db.session() as session:
        paging.page_user(session, user_id=alice, incident_id=high, urgency="high",
                         reason="r", dedup_prefix="h")
        paging.page_user(session, user_id=alice, incident_id=low, urgency="low",
                         reason="r", dedup_prefix="l")
    (_, _, high_wait), (_, _, low_wait) = _due(db)
    assert high_wait < 5  # at once
    assert 1.9 * 3600 < low_wait <= 2 * 3600 + 60  # until the quiet hours end
