"""Pages by email, delivered to a real SMTP server and read back with the standard
library's parser; an SMTP server that is down loses nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from notify_peers import free_port, smtp_server, smtp_server_tls
from notify_world import declare, organisation, run_timers
from sqlalchemy import select

from steward.db import Database
from steward.jobs.models import Timer
from steward.notify import paging
from steward.notify.models import Notification
from steward.timeutil import utcnow

LINK = re.compile(r"https?://\S+/ack/[A-Za-z0-9._-]+")


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("STEWARD_SMTP_FROM", "steward@example.test")
    monkeypatch.setenv("STEWARD_PUBLIC_URL", "https://steward.example.test/")
    monkeypatch.setenv("STEWARD_NOTIFY_RETRY_SECONDS", "1")
    monkeypatch.setenv("STEWARD_NOTIFY_TIMEOUT_SECONDS", "5")
    return monkeypatch


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def _notifications(db: Database) -> list[SimpleNamespace]:
    with db.read_session() as session:
        return [SimpleNamespace(**{c.key: getattr(row, c.key)
                                   for c in Notification.__table__.columns})
                for row in session.scalars(select(Notification).order_by(Notification.id))]


def _make_due(db: Database) -> None:
    """Moves every pending notification timer to now (instead of waiting out a backoff)."""
    from sqlalchemy import update

    with db.session() as session:
        session.execute(update(Timer).where(Timer.state == "pending")
                        .values(due_at=utcnow() - timedelta(seconds=1)))


def test_a_page_is_mailed_with_plain_text_html_and_an_acknowledge_link(
        db: Database, smtp_env: pytest.MonkeyPatch) -> None:
    users = organisation(db)
    incident_id = declare(db)
    with smtp_server() as (port, box):
        smtp_env.setenv("STEWARD_SMTP_HOST", "127.0.0.1")
        smtp_env.setenv("STEWARD_SMTP_PORT", str(port))
        with db.session() as session:
            ids = paging.page_user(session, user_id=users["alice"], incident_id=incident_id,
                                   urgency="high", reason="You are on call for payments.",
                                   dedup_prefix=f"test:{incident_id}")
        assert len(ids) == 1
        run_timers(db)  # the escalation step of the incident too (its team has no policy)
        assert len(box.messages) == 1
    message = box.messages[0]
    assert box.envelopes[0] == ("steward@example.test", ["alice@example.test"])
    assert message["To"] == "alice@example.test"
    assert message["Subject"] == f"[PAGE P1] INC-{incident_id}: Checkout down"
    plain, html = _parts(message)
    assert "You are on call for payments." in plain and "Services: checkout" in plain
    assert "Priority: P1 (high urgency)" in plain
    link = LINK.search(plain)
    assert link is not None and link.group(0).startswith("https://steward.example.test/ack/")
    assert f'href="{link.group(0)}"' in html and ">Acknowledge</a>" in html
    assert f"https://steward.example.test/incidents/{incident_id}" in plain
    [sent] = _notifications(db)
    assert (sent.state, sent.attempts, sent.channel, sent.target) == (
        "delivered", 1, "email", "alice@example.test")
    # The same on every attempt, so a repeat is recognisable.
    assert message["Message-ID"] == (
        f"<steward-notification-{sent.id}@steward.example.test>")


def test_paging_twice_with_the_same_key_mails_once(db: Database,
                                                   smtp_env: pytest.MonkeyPatch) -> None:
    users = organisation(db)
    incident_id = declare(db)
    with db.session() as session:
        first = paging.page_user(session, user_id=users["alice"], incident_id=incident_id,
                                 urgency="high", reason="r", dedup_prefix="k")
        again = paging.page_user(session, user_id=users["alice"], incident_id=incident_id,
                                 urgency="high", reason="r", dedup_prefix="k")
    assert len(first) == 1 and again == []
    assert len(_notifications(db)) == 1


def test_a_person_without_address_or_rules_is_logged_not_lost(
        db: Database, smtp_env: pytest.MonkeyPatch) -> None:
    users = organisation(db)
    incident_id = declare(db)
    with db.session() as session:
        ids = paging.page_user(session, user_id=users["bob"], incident_id=incident_id,
                               urgency="high", reason="r", dedup_prefix="k")
    assert ids == []
    [logged] = _notifications(db)
    assert logged.state == "skipped"
    assert "bob has no email address and no notification rules" in logged.last_error


def test_smtp_down_then_up_loses_nothing(db: Database, smtp_env: pytest.MonkeyPatch) -> None:
    users = organisation(db)
    incident_id = declare(db)
    port = free_port()  # nothing listens here yet
    smtp_env.setenv("STEWARD_SMTP_HOST", "127.0.0.1")
    smtp_env.setenv("STEWARD_SMTP_PORT", str(port))
    with db.session() as session:
        paging.page_user(session, user_id=users["alice"], incident_id=incident_id,
                         urgency="high", reason="r", dedup_prefix="k")
    for _ in range(3):
        run_timers(db)
        _make_due(db)
    [waiting] = _notifications(db)
    assert waiting.state == "pending" and waiting.attempts == 3
    assert "Connection refused" in waiting.last_error or "ConnectionRefused" in waiting.last_error
    with smtp_server(port) as (_, box):
        run_timers(db)
        assert len(box.messages) == 1
    [sent] = _notifications(db)
    assert (sent.state, sent.attempts, sent.last_error) == ("delivered", 4, "")


def test_failed_attempts_back_off_exponentially(db: Database,
                                                smtp_env: pytest.MonkeyPatch) -> None:
    users = organisation(db)
    incident_id = declare(db)
    smtp_env.setenv("STEWARD_SMTP_HOST", "127.0.0.1")
    smtp_env.setenv("STEWARD_SMTP_PORT", str(free_port()))
    smtp_env.setenv("STEWARD_NOTIFY_RETRY_SECONDS", "10")
    with db.session() as session:
        paging.page_user(session, user_id=users["alice"], incident_id=incident_id,
                         urgency="high", reason="r", dedup_prefix="k")
    waits = []
    for _ in range(8):
        before = utcnow()
        run_timers(db)
        with db.read_session() as session:
            due = session.scalars(select(Timer.due_at).where(Timer.kind == "notify.deliver")).one()
            waits.append(round((due - before).total_seconds()))
        _make_due(db)
    assert waits[:4] == [10, 20, 40, 80]
    assert waits[-1] == 900  # never more than 15 minutes


def test_dead_after_max_attempts_and_nothing_else_fails(db: Database,
                                                        smtp_env: pytest.MonkeyPatch) -> None:
    users = organisation(db)
    incident_id = declare(db)
    smtp_env.setenv("STEWARD_SMTP_HOST", "127.0.0.1")
    smtp_env.setenv("STEWARD_SMTP_PORT", str(free_port()))
    smtp_env.setenv("STEWARD_NOTIFY_MAX_ATTEMPTS", "3")
    with db.session() as session:
        paging.page_user(session, user_id=users["alice"], incident_id=incident_id,
                         urgency="high", reason="r", dedup_prefix="k")
    for _ in range(5):
        run_timers(db)
        _make_due(db)
    [dead] = _notifications(db)
    assert (dead.state, dead.attempts) == ("dead", 3)
    assert dead.last_error.startswith("SMTP 127.0.0.1:")
    with db.read_session() as session:
        state = session.scalars(select(Timer.state).where(
            Timer.kind == "notify.deliver")).one()
    assert state == "canceled"  # no attempt is left armed; the notification is the dead letter


def test_starttls_and_login(db: Database, smtp_env: pytest.MonkeyPatch, tmp_path) -> None:
    users = organisation(db)
    incident_id = declare(db)
    with smtp_server_tls(tmp_path, "steward", "s3cret") as (port, box, ca_file, logins):
        smtp_env.setenv("SSL_CERT_FILE", str(ca_file))  # trust the test authority
        smtp_env.setenv("STEWARD_SMTP_HOST", "127.0.0.1")
        smtp_env.setenv("STEWARD_SMTP_PORT", str(port))
        smtp_env.setenv("STEWARD_SMTP_USER", "steward")
        smtp_env.setenv("STEWARD_SMTP_PASSWORD", "s3cret")
        with db.session() as session:
            paging.page_user(session, user_id=users["alice"], incident_id=incident_id,
                             urgency="high", reason="r", dedup_prefix="tls")
        run_timers(db)  # in plain text the server offers no login at all
        [plain] = _notifications(db)
        assert plain.state == "pending" and "AUTH extension not supported" in plain.last_error
        smtp_env.setenv("STEWARD_SMTP_STARTTLS", "1")  # the certificate is checked, then login
        _make_due(db)
        run_timers(db)
        assert len(box.messages) == 1 and logins == ["steward"]
    [sent] = _notifications(db)
    assert sent.state == "delivered"
