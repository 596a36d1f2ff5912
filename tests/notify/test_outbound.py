"""Teams' subscriptions: incidents and changes told to a real HTTP receiver on 127.0.0.1
that checks the signature; chat in the Slack shape; CDEvents valid against the official
schema; unreachable receivers retry and dead-letter without slowing incident handling."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jsonschema_rs
import pytest
from helpers import api_client, bearer, make_service, make_team, make_user
from notify_peers import free_port, http_receiver
from notify_world import declare, organisation, run_timers
from sqlalchemy import select, update

from steward.auth.actor import SYSTEM
from steward.db import Database
from steward.incidents.use_cases import lifecycle
from steward.jobs.models import Timer
from steward.notify.channels import webhook
from steward.notify.models import Notification
from steward.notify.schemas import SubscriptionIn
from steward.notify.use_cases import subscriptions
from steward.timeutil import utcnow

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "cdevents-schema-v0.5.1"


def _subscribe(db: Database, team: str, kind: str, url: str, events: list[str],
               name: str = "hook") -> dict:
    with db.session() as session:
        return subscriptions.create_subscription(session, SYSTEM, team, SubscriptionIn(
            name=name, kind=kind, url=url, event_types=events))  # type: ignore[arg-type]


def _states(db: Database) -> list[tuple[str, str, int]]:
    with db.read_session() as session:
        return [(n.event_type, n.state, n.attempts) for n in session.scalars(
            select(Notification).order_by(Notification.id))]


def _due_now(db: Database) -> None:
    with db.session() as session:
        session.execute(update(Timer).where(Timer.state == "pending").values(due_at=utcnow()))


def test_a_signed_webhook_for_each_subscribed_incident_event(db: Database,
                                                             monkeypatch) -> None:
    monkeypatch.setenv("STEWARD_PUBLIC_URL", "https://steward.example.test")
    organisation(db)
    with http_receiver() as receiver:
        created = _subscribe(db, "payments", "webhook", receiver.url,
                             ["incident.triggered", "incident.resolved"])
        secret = created["secret"]
        assert secret and created["signed"]
        incident_id = declare(db)
        with db.session() as session:
            lifecycle.act(session, SYSTEM, incident_id, "acknowledge")  # not subscribed
            lifecycle.act(session, SYSTEM, incident_id, "resolve")
        run_timers(db)
    assert [r.headers["x-steward-event"] for r in receiver.requests] == [
        "incident.triggered", "incident.resolved"]
    for request in receiver.requests:
        # What a receiver does (docs/notifications.md): recompute the HMAC over the raw body.
        assert webhook.verify(secret, request.headers["x-steward-signature"], request.body,
                              int(time.time()))
        assert not webhook.verify("another secret", request.headers["x-steward-signature"],
                                  request.body, int(time.time()))
        assert not webhook.verify(secret, request.headers["x-steward-signature"],
                                  request.body + b" ", int(time.time()))
    body = receiver.requests[0].json()
    assert set(body) >= {"event", "at", "incident", "links"}
    assert body["event"] == "incident.triggered"
    assert body["incident"]["number"] == f"INC-{incident_id}"
    assert body["incident"]["priority"] == "P1" and body["incident"]["services"] == ["checkout"]
    assert body["links"]["incident"] == f"https://steward.example.test/incidents/{incident_id}"
    assert receiver.requests[1].json()["incident"]["status"] == "resolved"
    assert [s for _, s, _ in _states(db)] == ["delivered", "delivered"]


def test_a_responding_team_is_told_and_a_change_goes_to_its_owner(db: Database) -> None:
    organisation(db)
    make_team(db, "platform")
    make_service(db, "database", owner="platform")
    with http_receiver() as receiver:
        _subscribe(db, "platform", "webhook", receiver.url,
                   ["incident.triggered", "change.created"])
        token = make_user(db, "carol", role="member", teams=["platform"])
        client = api_client(db)
        made = client.post("/api/v1/changes", headers=bearer(token), json={
            "title": "Upgrade the database", "services": ["database"]})
        assert made.status_code == 201, made.text
        with db.session() as session:
            lifecycle.declare(session, SYSTEM, "Checkout and database down", "database")
        run_timers(db)
    events = sorted(r.headers["x-steward-event"] for r in receiver.requests)
    assert events == ["change.created", "incident.triggered"]
    change = next(r.json() for r in receiver.requests if r.json()["event"] == "change.created")
    assert change["change"]["owner_team"] == "platform" and "change" in change["links"]


def test_chat_messages_have_the_slack_incoming_webhook_shape(db: Database) -> None:
    organisation(db)
    with http_receiver() as receiver:
        _subscribe(db, "payments", "chat", receiver.url, ["incident.triggered"])
        incident_id = declare(db)
        run_timers(db)
    [request] = receiver.requests
    message = request.json()
    assert "x-steward-signature" not in request.headers
    assert message["text"].startswith(f"P1 INC-{incident_id} triggered: Checkout down")
    [attachment] = message["attachments"]
    assert attachment["title_link"].endswith(f"/incidents/{incident_id}")
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert fields["Priority"] == "P1" and fields["Services"] == "checkout"


def _validator(name: str) -> jsonschema_rs.Validator:
    links = [json.loads(p.read_text()) for p in (SCHEMAS / "links").glob("*.json")]
    registry = jsonschema_rs.Registry([(schema["$id"], schema) for schema in links])
    return jsonschema_rs.validator_for(json.loads((SCHEMAS / name).read_text()),
                                       registry=registry, validate_formats=True)


def test_cdevents_are_valid_against_the_official_schema(db: Database, monkeypatch) -> None:
    monkeypatch.setenv("STEWARD_PUBLIC_URL", "https://steward.example.test")
    organisation(db)
    with http_receiver() as receiver:
        _subscribe(db, "payments", "cdevents", receiver.url,
                   ["incident.triggered", "incident.resolved"])
        incident_id = declare(db)
        with db.session() as session:
            lifecycle.act(session, SYSTEM, incident_id, "resolve")
        run_timers(db)
    detected, resolved = receiver.requests
    for request, schema in ((detected, "incidentdetected.json"),
                            (resolved, "incidentresolved.json")):
        event = request.json()
        errors = [e.message for e in _validator(schema).iter_errors(event)]
        assert errors == []
        assert request.headers["ce-type"] == event["context"]["type"]
        assert request.headers["ce-id"] == event["context"]["id"]
        assert event["subject"]["id"] == f"INC-{incident_id}"
        assert event["subject"]["content"]["service"]["id"] == "checkout"
    assert detected.json()["context"]["type"] == "dev.cdevents.incident.detected.0.3.0"
    assert resolved.json()["context"]["type"] == "dev.cdevents.incident.resolved.0.3.0"
    # The schema is strict: something it does not know is refused.
    bad = detected.json()
    bad["subject"]["content"]["severity"] = "high"
    assert not _validator("incidentdetected.json").is_valid(bad)


def test_a_cdevents_subscription_refuses_events_cdevents_cannot_say(db: Database) -> None:
    organisation(db)
    with pytest.raises(Exception, match="event_types: a cdevents subscription"):
        _subscribe(db, "payments", "cdevents", "http://127.0.0.1:9/x",
                   ["incident.acknowledged"])


def test_an_unreachable_receiver_costs_incident_handling_nothing_and_dead_letters(
        db: Database, monkeypatch) -> None:
    monkeypatch.setenv("STEWARD_NOTIFY_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("STEWARD_NOTIFY_RETRY_SECONDS", "1")
    organisation(db)
    port = free_port()
    _subscribe(db, "payments", "webhook", f"http://127.0.0.1:{port}/hook",
               ["incident.triggered"])
    incident_id = declare(db)  # only rows written: no connection is tried here
    assert _states(db) == [("incident.triggered", "pending", 0)]
    run_timers(db)
    _due_now(db)
    run_timers(db)
    [(_, state, attempts)] = _states(db)
    assert (state, attempts) == ("dead", 2)
    with db.read_session() as session:
        error = session.scalars(select(Notification.last_error)).one()
    assert f"POST http://127.0.0.1:{port}/hook" in error

    # Retried from the API once the receiver is up: delivered.
    token = _token(db, "root")
    client = api_client(db)
    dead = client.get("/api/v1/notifications?state=dead", headers=bearer(token)).json()
    assert dead["total"] == 1 and dead["items"][0]["incident_id"] == incident_id
    with http_receiver() as receiver:
        with db.session() as session:
            session.execute(update(Notification).values(target=receiver.url))
        answer = client.post(f"/api/v1/notifications/{dead['items'][0]['id']}/retry",
                             headers=bearer(token))
        assert answer.status_code == 200, answer.text
        assert answer.json()["state"] == "pending" and answer.json()["attempts"] == 0
        run_timers(db)
        assert len(receiver.requests) == 1
    assert _states(db) == [("incident.triggered", "delivered", 1)]
    again = client.post(f"/api/v1/notifications/{dead['items'][0]['id']}/retry",
                        headers=bearer(token))
    assert again.status_code == 409


def _token(db: Database, username: str) -> str:
    from steward.auth.use_cases import accounts

    with db.session() as session:
        return accounts.create_token(session, SYSTEM, username)
