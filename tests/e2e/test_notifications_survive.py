"""Acceptance: restarting with undelivered notifications delivers them later; an SMTP
server that is down for a minute loses nothing.

Real processes, real time, one PostgreSQL database. ``steward serve`` pages alice by
email for five declared P1 incidents while nothing listens on the SMTP port: every
attempt is refused. The server is stopped (SIGTERM) with the pages undelivered, started
again, and fails a while longer. A full minute after the first refused attempt a real
SMTP server starts on that port; every page then arrives exactly once (by its stable
Message-ID), after more than one attempt, and none is given up.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from notify_peers import smtp_server
from serving import free_port, start_serve, wait_until
from sqlalchemy import select

from escalation_setup import organisation
from steward.config import Settings
from steward.db import Database, migrate
from steward.jobs.models import Timer
from steward.models import ensure_seed_rows
from steward.notify.models import Notification
from steward.notify.outbox import DELIVER, timer_key
from steward.notify.schemas import ContactMethodIn
from steward.timeutil import utcnow

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

INCIDENTS = 5
SMTP_DOWN_SECONDS = 60.0
RETRY_SECONDS = 2  # the first wait after a failure: 2, 4, 8, 16, 32, 64 s ...
# After a minute of failures the next attempt may be 64 s away (or, for an attempt cut
# short by the stop, twice the timeout and a minute): the wait for delivery allows both.
DELIVERY_WAIT = 150.0


@dataclass(frozen=True)
class Row:
    id: int
    incident_id: int | None
    channel: str
    target: str
    event_type: str
    state: str
    attempts: int
    last_error: str
    delivered_at: datetime | None


def outbox(db: Database) -> list[Row]:
    with db.read_session() as session:
        return [Row(n.id, n.incident_id, n.channel, n.target, n.event_type, n.state,
                    n.attempts, n.last_error, n.delivered_at)
                for n in session.scalars(select(Notification).order_by(Notification.id))]


def pending_timers(db: Database) -> set[str]:
    with db.read_session() as session:
        return set(session.scalars(select(Timer.key).where(Timer.kind == DELIVER,
                                                           Timer.state == "pending")))


def refused(row: Row, port: int) -> bool:
    """The row's last attempt failed because nothing listened on the SMTP port."""
    return (row.state == "pending" and row.attempts >= 1
            and f"SMTP 127.0.0.1:{port}: ConnectionRefusedError" in row.last_error)


def stop(process: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM, as a service manager stops it: the server finishes the round of timers
    under way and shuts down cleanly (uvicorn ends by raising the signal again)."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) in (0, -signal.SIGTERM), log.read_text()
    text = log.read_text()
    assert "Application shutdown complete" in text and "Traceback" not in text, text


def test_pages_survive_a_restart_and_a_minute_without_smtp_and_arrive_once(
        postgres_url: str, tmp_path: Path) -> None:
    began = time.monotonic()
    db = Database(Settings(database_url=postgres_url))
    migrate.upgrade(db)
    ensure_seed_rows(db)
    # Levels of 30 minutes: level 1 (alice, email at once) is the only page in the test.
    token = organisation(db, lambda name: ContactMethodIn(
        kind="email", target=f"{name}@example.test"), level_minutes=30)
    smtp_port = free_port()  # nothing listens there until the SMTP server starts
    env = {**os.environ, "STEWARD_DATABASE_URL": postgres_url,
           "STEWARD_SECRET_KEY": secrets.token_hex(32), "STEWARD_WORKER_POLL_SECONDS": "0.2",
           "STEWARD_SMTP_HOST": "127.0.0.1", "STEWARD_SMTP_PORT": str(smtp_port),
           "STEWARD_SMTP_FROM": "steward@example.test",
           "STEWARD_NOTIFY_RETRY_SECONDS": str(RETRY_SECONDS),
           "STEWARD_NOTIFY_MAX_ATTEMPTS": "50", "STEWARD_NOTIFY_TIMEOUT_SECONDS": "2",
           "STEWARD_SLO_EVALUATE_SECONDS": "0", "STEWARD_RATE_LIMIT_API": "",
           "PYTHONUNBUFFERED": "1"}

    with ExitStack() as stack:
        running: list[subprocess.Popen[bytes]] = []

        def kill_leftovers() -> None:
            for process in running:
                if process.poll() is None:
                    process.kill()
                    process.wait()

        stack.callback(kill_leftovers)

        # 1. One server; five P1 incidents declared through the API page alice by email.
        first, url = start_serve(env, tmp_path / "serve-1.log")
        running.append(first)
        with httpx.Client(base_url=url, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            declared = []
            for n in range(INCIDENTS):
                answer = client.post("/api/v1/incidents", json={
                    "title": f"Checkout failing #{n}", "service": "checkout",
                    "impact": 1, "urgency": 1})
                assert answer.status_code == 201, answer.text
                assert answer.json()["priority"] == "P1"
                declared.append((int(answer.json()["id"]), answer.json()["number"]))

        # The first refused attempt starts the minute without SMTP.
        first_failure = wait_until(
            lambda: time.monotonic() if any(refused(r, smtp_port) for r in outbox(db))
            else None, timeout=60, interval=0.05, what="a first refused attempt")
        pages = wait_until(
            lambda: rows if len(rows := outbox(db)) == INCIDENTS
            and all(refused(r, smtp_port) for r in rows) else None,
            timeout=60, interval=0.1, what="every page to have failed once")
        assert {(r.incident_id, r.channel, r.target, r.event_type) for r in pages} == {
            (incident, "email", "alice@example.test", "incident.page")
            for incident, _ in declared}
        ids = sorted(r.id for r in pages)

        # 2. Stopped with the pages undelivered: they stay pending, their timers armed.
        stop(first, tmp_path / "serve-1.log")
        at_stop = {r.id: r.attempts for r in outbox(db)}
        assert all(refused(r, smtp_port) for r in outbox(db))
        assert pending_timers(db) == {timer_key(i) for i in ids}
        time.sleep(3)  # no process runs: nothing is attempted, nothing is lost
        assert {r.id: r.attempts for r in outbox(db)} == at_stop

        # 3. Started again, the server takes the pages up and keeps failing for a while
        # (at least two more refused attempts each), all within the minute.
        second, url = start_serve(env, tmp_path / "serve-2.log")
        running.append(second)
        wait_until(lambda: all(refused(r, smtp_port) and r.attempts >= at_stop[r.id] + 2
                               for r in outbox(db)),
                   timeout=45, interval=0.2, what="two more refused attempts of every page "
                   "after the restart")
        assert time.monotonic() - first_failure < SMTP_DOWN_SECONDS, \
            "the attempts after the restart took longer than the minute without SMTP"

        # 4. A full minute after the first refused attempt, still nothing delivered...
        time.sleep(max(0.0, first_failure + SMTP_DOWN_SECONDS - time.monotonic()))
        down_for = time.monotonic() - first_failure
        before = outbox(db)
        assert all(refused(r, smtp_port) for r in before), before
        # ... then a real SMTP server on that port receives every page.
        smtp_up = utcnow()
        _, mailbox = stack.enter_context(smtp_server(port=smtp_port))
        wait_until(lambda: all(r.state == "delivered" for r in outbox(db)),
                   timeout=DELIVERY_WAIT, interval=0.2, what="every page to be delivered")
        delivered_after = time.monotonic() - first_failure
        time.sleep(3)  # a page sent twice would have arrived by now
        stop(second, tmp_path / "serve-2.log")
        messages = list(mailbox.messages)

    # Each page arrived exactly once, recognised by its Message-ID (the same on every
    # attempt), addressed to alice, about its own incident.
    message_ids = Counter(str(m["Message-ID"]) for m in messages)
    expected = {f"<steward-notification-{i}@localhost>" for i in ids}
    assert message_ids == dict.fromkeys(expected, 1), message_ids
    by_id = {str(m["Message-ID"]): m for m in messages}
    numbers = {r.id: dict(declared)[r.incident_id] for r in pages if r.incident_id}
    for notification_id, number in numbers.items():
        message = by_id[f"<steward-notification-{notification_id}@localhost>"]
        assert str(message["To"]) == "alice@example.test"
        assert re.match(rf"\[PAGE P1\] {number}: Checkout failing #\d$",
                        str(message["Subject"])), message["Subject"]
    assert sorted(rcpt for _, rcpts in mailbox.envelopes for rcpt in rcpts) == \
        ["alice@example.test"] * INCIDENTS

    # Every row delivered after the SMTP server came up, after more than one attempt;
    # none given up, no timer left behind, nothing else queued.
    after = outbox(db)
    assert [r.id for r in after] == ids
    assert {r.state for r in after} == {"delivered"}
    assert all(r.attempts > 1 for r in after), [(r.id, r.attempts) for r in after]
    assert all(r.delivered_at is not None and r.delivered_at >= smtp_up for r in after)
    assert all(r.last_error == "" for r in after)
    assert pending_timers(db) == set()

    print(f"\n{INCIDENTS} pages: SMTP down for {down_for:.1f} s from the first refused "
          f"attempt, one restart; all delivered {delivered_after - down_for:.1f} s after "
          f"SMTP came up, attempts {sorted(r.attempts for r in after)}; test took "
          f"{time.monotonic() - began:.1f} s")
    db.dispose()
