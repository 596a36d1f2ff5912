"""Team subscriptions through the API: a member of the team (or an admin) adds them, the
signing secret is shown once and kept sealed; removing one stops what it had pending."""

from __future__ import annotations

from helpers import api_client, bearer, make_team, make_user
from notify_world import declare, organisation
from sqlalchemy import select

from steward.auth.actor import SYSTEM
from steward.auth.use_cases import accounts
from steward.db import Database
from steward.notify.models import Notification, Subscription

HOOK = {"name": "ops-bus", "kind": "webhook", "url": "https://hooks.example.test/steward",
        "event_types": ["incident.triggered", "incident.resolved"]}


def test_secret_shown_once_and_sealed(db: Database) -> None:
    organisation(db)
    with db.session() as session:
        alice = accounts.create_token(session, SYSTEM, "alice")
    client = api_client(db)
    made = client.post("/api/v1/teams/payments/subscriptions", headers=bearer(alice),
                       json=HOOK)
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    listed = client.get("/api/v1/teams/payments/subscriptions", headers=bearer(alice)).json()
    assert listed["total"] == 1 and "secret" not in listed["items"][0]
    assert listed["items"][0]["signed"] is True
    with db.read_session() as session:
        sealed = session.scalars(select(Subscription.secret_sealed)).one()
    assert sealed and secret not in sealed  # kept sealed with the server's key
    again = client.post("/api/v1/teams/payments/subscriptions", headers=bearer(alice),
                        json=HOOK)
    assert again.status_code == 409 and again.json()["field"] == "name"


def test_only_the_team_or_an_admin_subscribes(db: Database) -> None:
    organisation(db)
    make_team(db, "platform")
    outsider = make_user(db, "dave", teams=["platform"])
    viewer = make_user(db, "vic", role="viewer", teams=["payments"])
    client = api_client(db)
    for token in (outsider, viewer):
        answer = client.post("/api/v1/teams/payments/subscriptions", headers=bearer(token),
                             json=HOOK)
        assert answer.status_code == 403, answer.text
    bad = client.post("/api/v1/teams/payments/subscriptions", headers=bearer(outsider),
                      json={**HOOK, "url": "ftp://x"})
    assert bad.status_code == 403  # rights come first
    with db.session() as session:
        root = accounts.create_token(session, SYSTEM, "root")
    for body, field in (({**HOOK, "url": "ftp://x.example"}, "url"),
                        ({**HOOK, "event_types": []}, "event_types"),
                        ({**HOOK, "event_types": ["incident.exploded"]}, "event_types")):
        answer = client.post("/api/v1/teams/payments/subscriptions", headers=bearer(root),
                             json=body)
        assert answer.status_code == 422 and field in answer.text, answer.text
    missing = client.post("/api/v1/teams/nobody/subscriptions", headers=bearer(root), json=HOOK)
    assert missing.status_code == 404


def test_removing_a_subscription_stops_its_pending_notifications(db: Database) -> None:
    organisation(db)
    with db.session() as session:
        root = accounts.create_token(session, SYSTEM, "root")
    client = api_client(db)
    made = client.post("/api/v1/teams/payments/subscriptions", headers=bearer(root),
                       json=HOOK).json()
    declare(db)
    gone = client.delete(f"/api/v1/teams/payments/subscriptions/{made['id']}",
                         headers=bearer(root))
    assert gone.status_code == 204
    log = client.get("/api/v1/notifications", headers=bearer(root)).json()
    [item] = log["items"]
    assert item["state"] == "skipped" and "was removed" in item["last_error"]
    with db.read_session() as session:
        assert session.scalars(select(Notification.subscription_id)).one() is None
