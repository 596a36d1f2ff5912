"""The one-click acknowledge link of a mailed page: opening it changes nothing, its button
acknowledges as the person paged (timeline, audit), once; a used, expired or altered link
gets a clear page and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from helpers import api_client
from notify_peers import smtp_server
from notify_world import declare, organisation, run_timers
from sqlalchemy import select

from steward.audit.models import AuditEntry
from steward.auth.keyring import current_key
from steward.db import Database
from steward.incidents.models import Incident, TimelineEntry
from steward.notify import ack_token, paging
from steward.timeutil import utcnow

LINK = re.compile(r"https?://\S+/ack/([A-Za-z0-9._-]+)")


def _mailed_token(db: Database, monkeypatch: pytest.MonkeyPatch, user_id: int,
                  incident_id: int) -> str:
    with smtp_server() as (port, box):
        monkeypatch.setenv("STEWARD_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("STEWARD_SMTP_PORT", str(port))
        with db.session() as session:
            paging.page_user(session, user_id=user_id, incident_id=incident_id,
                             urgency="high", reason="On call.", dedup_prefix="ack-test")
        run_timers(db)
    [message] = box.messages
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    found = LINK.search(plain.get_content())
    assert found is not None
    return found.group(1)


def _status(db: Database, incident_id: int) -> str:
    with db.read_session() as session:
        return session.scalars(select(Incident.status).where(Incident.id == incident_id)).one()


def test_opening_the_link_changes_nothing_and_the_button_acknowledges_once(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    users = organisation(db)
    incident_id = declare(db)
    token = _mailed_token(db, monkeypatch, users["alice"], incident_id)
    client = api_client(db)  # no session, no cookie: the link is the credential

    shown = client.get(f"/ack/{token}")
    again = client.get(f"/ack/{token}")  # a mail scanner's prefetch, then the person's click
    assert shown.status_code == again.status_code == 200
    assert f"Acknowledge INC-{incident_id}?" in shown.text and 'id="ack-button"' in shown.text
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert _status(db, incident_id) == "triggered"

    done = client.post(f"/ack/{token}")
    assert done.status_code == 200 and "acknowledged" in done.text
    assert _status(db, incident_id) == "acknowledged"
    with db.read_session() as session:
        entry = session.scalars(select(TimelineEntry).where(
            TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "state")
            .order_by(TimelineEntry.id.desc())).first()
        assert entry is not None and entry.actor == "alice"
        assert "Acknowledged from the link in a page." in entry.text
        actions = {(a.action, a.actor_name) for a in session.scalars(select(AuditEntry))}
    assert ("incident.acknowledge", "alice") in actions
    assert ("notification.ack_link", "alice") in actions

    used = client.post(f"/ack/{token}")
    assert used.status_code == 410 and "already used" in used.text
    assert client.get(f"/ack/{token}").status_code == 410


def test_an_expired_link_changes_nothing(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    users = organisation(db)
    incident_id = declare(db)
    _mailed_token(db, monkeypatch, users["alice"], incident_id)
    with db.read_session() as session:
        key = ack_token.signing_key(current_key(session).secret)
    from steward.notify.models import Notification

    with db.read_session() as session:
        notification_id = session.scalars(select(Notification.id)).one()
    expired = ack_token.make_token(key, notification_id=notification_id,
                                   incident_id=incident_id, user_id=users["alice"],
                                   expires_at=utcnow() - timedelta(minutes=1))
    client = api_client(db)
    answer = client.post(f"/ack/{expired}")
    assert answer.status_code == 410 and "expired" in answer.text
    assert _status(db, incident_id) == "triggered"


def test_an_altered_link_is_refused(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    users = organisation(db)
    incident_id = declare(db)
    other = declare(db, "Another")
    token = _mailed_token(db, monkeypatch, users["alice"], incident_id)
    parts = token.split(".")
    forged = ".".join([parts[0], str(other), *parts[2:]])
    client = api_client(db)
    for bad in (forged, "nonsense", token[:-2]):
        answer = client.post(f"/ack/{bad}")
        assert answer.status_code == 404 and "not a valid acknowledge link" in answer.text
    assert _status(db, incident_id) == _status(db, other) == "triggered"


def test_an_incident_acknowledged_meanwhile_is_left_alone(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    users = organisation(db)
    incident_id = declare(db)
    token = _mailed_token(db, monkeypatch, users["alice"], incident_id)
    from steward.auth.actor import SYSTEM
    from steward.incidents.use_cases import lifecycle

    with db.session() as session:
        lifecycle.act(session, SYSTEM, incident_id, "resolve")
    answer = api_client(db).post(f"/ack/{token}")
    assert answer.status_code == 409 and "already resolved" in answer.text
    assert _status(db, incident_id) == "resolved"
