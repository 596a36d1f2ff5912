"""Chromium on a real ``steward serve``: the acknowledge link read from a page delivered
to a real SMTP server acknowledges the incident (its button, not its opening); the
incident page's notification log; the dead letters with their Retry button. Screenshots
go to test-output/screenshots."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notify_peers import free_port, smtp_server
from serving import start_serve
from sqlalchemy import delete, select, update

from demo_templates import DemoTemplates
from steward.auth.actor import SYSTEM
from steward.auth.models import User
from steward.config import Settings
from steward.db import Database
from steward.demo.seed import DEMO_PASSWORD
from steward.incidents.models import Incident
from steward.incidents.use_cases import lifecycle
from steward.jobs import timers
from steward.notify import paging
from steward.notify.models import ContactMethod, Notification, NotificationRule

pytestmark = pytest.mark.ui
LINK = re.compile(r"https?://\S+/ack/[A-Za-z0-9._-]+")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture
def served(tmp_path: Path, demo_templates: DemoTemplates, browser: Any,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The demo on a server of its own whose public address is known before it starts,
    mailing through a real SMTP server."""
    demo_templates.sqlite_copy(tmp_path / "steward.db")
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    seeded = Database(Settings(database_url=url))
    with seeded.session() as session:
        # The demo pages everyone on its own pager; here people have no rules of their
        # own, so each page is one email at once, to the real SMTP server.
        session.execute(delete(NotificationRule))
        session.execute(delete(ContactMethod))
    seeded.dispose()
    port = free_port()
    with smtp_server() as (smtp_port, box):
        env = {"STEWARD_DATABASE_URL": url, "STEWARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "STEWARD_SMTP_HOST": "127.0.0.1", "STEWARD_SMTP_PORT": str(smtp_port),
               "STEWARD_SMTP_FROM": "steward@example.com"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        server_env = {**os.environ, **env}
        server_env.pop("STEWARD_SECURE_COOKIES", None)
        process, base = start_serve(server_env, tmp_path / "server.log", port)
        db = Database(Settings(database_url=url))
        context = browser.new_context(base_url=base, viewport={"width": 1300, "height": 900})
        context.set_default_timeout(15_000)
        try:
            yield {"db": db, "box": box, "page": context.new_page(), "base": base}
        finally:
            context.close()
            db.dispose()
            process.terminate()
            process.wait(timeout=10)


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _deliver(db: Database) -> None:
    """One round of the timer loop, as every server process and worker runs it."""
    for _ in range(3):
        timers.run_due(db, worker="ui-test")


def _sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def test_the_acknowledge_link_from_a_delivered_email_acknowledges(served: dict) -> None:
    db, box, page = served["db"], served["box"], served["page"]
    with db.session() as session:
        incident = lifecycle.declare(session, SYSTEM, "Card payments failing",
                                     "banking-portal", impact=1, urgency=1)
        alice = session.scalars(select(User.id).where(User.username == "alice")).one()
        paging.page_user(session, user_id=alice, incident_id=incident.id, urgency="high",
                         reason="You are on call for order-to-cash.", dedup_prefix="ui")
        number = incident.id
    _deliver(db)
    # The incident's escalation mails whoever is on call too; this is alice's page.
    [message] = [m for m in box.messages if m["To"] == "alice@example.com"
                 and "You are on call for order-to-cash." in str(
                     m.get_body(preferencelist=("plain",)).get_content())]
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    link = LINK.search(plain.get_content())
    assert link is not None and link.group(0).startswith(served["base"])
    assert link.group(0) in html.get_content()

    page.goto(link.group(0))  # no session: the link is enough
    assert page.locator("#ack-h").inner_text() == f"Acknowledge INC-{number}?"
    _shot(page, "notify-ack-link")
    with db.read_session() as session:
        assert session.get(Incident, number).status == "triggered"  # opening did nothing
    page.click("#ack-button")
    page.wait_for_selector("[data-ack-state=acknowledged]")
    assert "acknowledged" in page.locator("#ack-h").inner_text()
    _shot(page, "notify-ack-done")
    with db.read_session() as session:
        assert session.get(Incident, number).status == "acknowledged"

    page.goto(link.group(0))  # used: a clear page, nothing changes
    assert "already used" in page.locator("#ack-h").inner_text()

    _sign_in(page, "alice")
    page.goto(f"/incidents/{number}#notifications")
    log = page.locator("#incident-notifications")
    with db.read_session() as session:
        sent = session.scalars(select(Notification).where(
            Notification.incident_id == number)).all()
    # One row per notification of the incident (its escalation's pages and alice's).
    assert log.locator("tbody tr").count() == len(sent) >= 1
    row = log.locator("tbody tr", has_text="alice@example.com").first
    assert "email" in row.inner_text() and "delivered" in row.inner_text()
    page.locator("#notifications").scroll_into_view_if_needed()
    _shot(page, "incident-notification-log")


def test_dead_letters_are_listed_and_retried(served: dict) -> None:
    db, page = served["db"], served["page"]
    with db.session() as session:
        incident = lifecycle.declare(session, SYSTEM, "Statements missing", "banking-portal",
                                     impact=3, urgency=3)
        bob = session.scalars(select(User.id).where(User.username == "bob")).one()
        [notification_id] = paging.page_user(
            session, user_id=bob, incident_id=incident.id, urgency="low", reason="r",
            dedup_prefix="ui-dead")
        session.execute(update(Notification).where(Notification.id == notification_id).values(
            state="dead", attempts=10,
            last_error="SMTP 127.0.0.1:2525: ConnectionRefusedError: [Errno 111] refused"))
    _sign_in(page, "admin")
    page.goto("/notifications?state=dead")
    row = page.locator(f"tr[data-notification='{notification_id}']")
    assert "dead" in row.inner_text() and "ConnectionRefusedError" in row.inner_text()
    _shot(page, "notifications-dead-letters")
    row.get_by_role("button", name="Retry").click()
    page.wait_for_url(re.compile(r"done=retried"))
    assert "Sent for delivery again." in page.inner_text("main")
    _deliver(db)
    page.goto("/notifications")
    row = page.locator(f"tr[data-notification='{notification_id}']")
    assert row.get_attribute("data-state") == "delivered"
    _shot(page, "notifications-log")
