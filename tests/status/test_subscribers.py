"""Status page subscribers, end to end: subscribing on the public page, the confirmation
and the update delivered by a real SMTP server, unsubscribing with the email's link; and
the bad inputs: a bad address, subscribing twice, expired, forged and retired links, a
component removed from the catalog."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage

import pytest
from helpers import api_client, bearer
from notify_peers import smtp_server
from notify_world import run_timers
from sqlalchemy import select
from status_world import declare_on, world

from steward.auth.actor import SYSTEM
from steward.auth.keyring import current_key
from steward.catalog.use_cases import services as catalog
from steward.db import Database
from steward.status import links
from steward.status.models import StatusSubscriber
from steward.timeutil import utcnow

CONFIRM = re.compile(r"https://status\.example\.test/status/subscribe/confirm\?token=\S+")
UNSUBSCRIBE = re.compile(r"https://status\.example\.test/status/unsubscribe\?token=\S+")
HTML = {"accept": "text/html"}


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("STEWARD_SMTP_FROM", "status@example.test")
    monkeypatch.setenv("STEWARD_PUBLIC_URL", "https://status.example.test/")
    monkeypatch.setenv("STEWARD_NOTIFY_TIMEOUT_SECONDS", "5")
    return monkeypatch


def _plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _path(url: str) -> str:
    return url.removeprefix("https://status.example.test")


def _publish(client, token: str, incident: int, status: str, body: str) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(f"/api/v1/incidents/{incident}/updates", headers=bearer(token),
                         json={"status": status, "title": "Checkout unavailable",
                               "body": body, "components": ["Checkout"]})
    assert answer.status_code == 201, answer.text


def test_a_subscriber_gets_an_update_by_email_and_unsubscribes_with_its_link(
        db: Database, smtp_env: pytest.MonkeyPatch) -> None:
    tokens = world(db)
    incident = declare_on(db)
    client = api_client(db)  # no sign-in: the public pages
    with smtp_server() as (port, box):
        smtp_env.setenv("STEWARD_SMTP_HOST", "127.0.0.1")
        smtp_env.setenv("STEWARD_SMTP_PORT", str(port))
        form = client.get("/status/subscribe", headers=HTML)
        assert form.status_code == 200 and 'value="Checkout"' in form.text
        assert "payments-db" not in form.text  # not published
        done = client.post("/status/subscribe", headers=HTML,
                           data={"email": "Pat@Example.test", "components": ["Checkout"]})
        assert done.status_code == 202 and "confirmation email is on its way" in done.text
        run_timers(db)
        [confirmation] = box.messages
        assert confirmation["To"] == "pat@example.test"
        assert "Checkout" in _plain(confirmation)
        # Not confirmed yet: an update mails nobody.
        _publish(client, tokens["alice"], incident, "investigating", "Looking into it.")
        run_timers(db)
        assert len(box.messages) == 1

        link = CONFIRM.search(_plain(confirmation))
        assert link is not None
        confirmed = client.get(_path(link.group(0)), headers=HTML)
        assert confirmed.status_code == 200 and "Subscribed" in confirmed.text
        _publish(client, tokens["alice"], incident, "identified",
                 "A connection limit was reached; raising it.")
        run_timers(db)
        assert len(box.messages) == 2
        update = box.messages[1]
        text = _plain(update)
        assert update["Subject"] == "[Service status] Identified: Checkout unavailable"
        assert "A connection limit was reached; raising it." in text
        assert "Checkout (major outage)" in text
        assert f"https://status.example.test/status/incidents/i{incident}" in text
        # Nothing internal: not the incident's title or number, not the database.
        assert "refuses" not in text and f"INC-{incident}" not in text
        assert "payments-db" not in text
        unsubscribe = UNSUBSCRIBE.search(text)
        assert unsubscribe is not None
        assert update["List-Unsubscribe"] == f"<{unsubscribe.group(0)}>"
        assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        # Opening the link only asks; the button unsubscribes.
        page = client.get(_path(unsubscribe.group(0)), headers=HTML)
        assert page.status_code == 200 and 'id="unsubscribe-button"' in page.text
        gone = client.post(_path(unsubscribe.group(0)), headers=HTML)
        assert gone.status_code == 200 and "Unsubscribed" in gone.text
        again = client.post(_path(unsubscribe.group(0)), headers=HTML)
        assert "Already unsubscribed" in again.text
        _publish(client, tokens["alice"], incident, "resolved", "All good again.")
        run_timers(db)
        assert len(box.messages) == 2


def test_a_mail_clients_one_click_post_unsubscribes(db: Database,
                                                    smtp_env: pytest.MonkeyPatch) -> None:
    world(db)
    client = api_client(db)
    with db.session() as session:
        session.add(StatusSubscriber(email="lee@example.test", components=[],
                                     token="t" * 43, confirmed_at=utcnow()))
        session.flush()
        key = links.signing_key(current_key(session).secret)
        subscriber_id = session.scalars(select(StatusSubscriber.id)).one()
    token = links.make_link_token(key, purpose="unsubscribe", subscriber_id=subscriber_id,
                                  subscriber_token="t" * 43)
    answer = client.post(f"/status/unsubscribe?token={token}",
                         data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    with db.read_session() as session:
        assert session.scalars(select(StatusSubscriber.unsubscribed_at)).one() is not None


def test_subscribing_twice_keeps_one_row_and_says_so(db: Database,
                                                     smtp_env: pytest.MonkeyPatch) -> None:
    world(db)
    client = api_client(db)
    first = client.post("/status/subscribe", headers=HTML, data={"email": "kim@example.test"})
    assert first.status_code == 202 and "confirmation email is on its way" in first.text
    second = client.post("/status/subscribe", headers=HTML,
                         data={"email": "KIM@example.test "})
    assert "no second one is sent yet" in second.text  # at most one every 10 minutes
    with db.session() as session:
        session.execute(StatusSubscriber.__table__.update().values(confirmed_at=utcnow()))
    third = client.post("/status/subscribe", headers=HTML, data={"email": "kim@example.test"})
    assert third.status_code == 202 and "Already subscribed" in third.text
    with db.read_session() as session:
        assert len(session.scalars(select(StatusSubscriber)).all()) == 1


def test_bad_addresses_and_unknown_components_are_refused(db: Database) -> None:
    world(db)
    client = api_client(db)
    for email in ("", "not-an-address", "a@b", "x" * 400 + "@example.test"):
        answer = client.post("/status/subscribe", headers=HTML, data={"email": email})
        assert answer.status_code == 422 and "email:" in answer.text, email
    for name in ("payments-db", "no-such-component"):
        answer = client.post("/status/subscribe", headers=HTML,
                             data={"email": "a@example.test", "components": [name]})
        assert answer.status_code == 422 and "components:" in answer.text


def test_expired_forged_and_retired_links_get_a_400_page_and_change_nothing(
        db: Database) -> None:
    world(db)
    client = api_client(db)
    with db.session() as session:
        session.add(StatusSubscriber(email="sam@example.test", components=[],
                                     token="s" * 43, created_at=utcnow()))
        session.flush()
        key = links.signing_key(current_key(session).secret)
        sid = session.scalars(select(StatusSubscriber.id)).one()
    expired = links.make_link_token(key, purpose="confirm", subscriber_id=sid,
                                    subscriber_token="s" * 43,
                                    expires_at=utcnow() - timedelta(minutes=1))
    answer = client.get(f"/status/subscribe/confirm?token={expired}", headers=HTML)
    assert answer.status_code == 400 and "expired" in answer.text
    good = links.make_link_token(key, purpose="confirm", subscriber_id=sid,
                                 subscriber_token="s" * 43,
                                 expires_at=utcnow() + timedelta(days=7))
    forged = [good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # altered signature
              good.replace(f".{sid}.", f".{sid + 1}.", 1),  # another subscriber
              links.make_link_token(b"another steward's key" * 2, purpose="confirm",
                                    subscriber_id=sid, subscriber_token="s" * 43),
              "unsubscribe" + good.removeprefix("confirm"),  # another purpose
              "", "nonsense"]
    for token in forged:
        answer = client.get("/status/subscribe/confirm", params={"token": token},
                            headers=HTML)
        assert answer.status_code == 400 and "not a valid link" in answer.text, token
        assert client.get("/status/unsubscribe", params={"token": token},
                          headers=HTML).status_code == 400
    # A new subscription (a new token) retires the old links.
    with db.session() as session:
        session.execute(StatusSubscriber.__table__.update().values(token="n" * 43))
    assert client.get(f"/status/subscribe/confirm?token={good}",
                      headers=HTML).status_code == 400
    with db.read_session() as session:
        assert session.scalars(select(StatusSubscriber.confirmed_at)).one() is None


def test_a_component_removed_from_the_catalog(db: Database,
                                              smtp_env: pytest.MonkeyPatch) -> None:
    tokens = world(db)
    incident = declare_on(db, service="help-centre", title="help-centre search down")
    client = api_client(db)
    auth = bearer(tokens["root"])
    assert client.post(f"/api/v1/incidents/{incident}/updates", headers=auth, json={
        "status": "investigating", "title": "Help centre unavailable", "body": "On it.",
        "components": ["help-centre"]}).status_code == 201
    with db.session() as session:
        session.add(StatusSubscriber(email="fan@example.test", components=[],
                                     token="f" * 43, confirmed_at=utcnow()))
        catalog.delete_service(session, SYSTEM, "help-centre")
    # Its updates stay readable; naming it again is refused with the field named.
    listed = client.get(f"/api/v1/incidents/{incident}/updates", headers=auth)
    assert listed.status_code == 200
    [component] = listed.json()["items"][0]["components"]
    assert component["name"] == "(removed from the catalog)" and not component["published"]
    refused = client.post(f"/api/v1/incidents/{incident}/updates", headers=auth, json={
        "status": "resolved", "body": "Fixed.", "components": ["help-centre"]})
    assert refused.status_code == 422 and refused.json()["field"] == "components"
    later = client.post(f"/api/v1/incidents/{incident}/updates", headers=auth, json={
        "status": "resolved", "body": "Fixed."})
    assert later.status_code == 201 and later.json()["title"] == "Help centre unavailable"
    assert client.post("/status/subscribe", headers=HTML, data={
        "email": "new@example.test", "components": ["help-centre"]}).status_code == 422
