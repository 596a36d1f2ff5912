"""Acceptance: two ``steward serve`` and two ``steward worker`` processes on one
PostgreSQL; 200 incidents whose escalations time out through two levels. Every step
happens once (timeline entries, pages) and every notification once (rows with unique
dedup keys, and what a real HTTP receiver and a real SMTP server got).

Level timeouts are whole minutes; the test does not wait them out: once a level has
paged everybody, it moves the pending escalation timers' ``due_at`` to now in the
database (as docs/oncall.md describes for rehearsals), and the processes fire them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from notify_peers import http_receiver, smtp_server
from serving import free_port, start_serve, steward, wait_until
from sqlalchemy import func, select, update

from escalation_setup import organisation
from steward.config import Settings
from steward.db import Database, migrate
from steward.incidents.models import TimelineEntry
from steward.jobs.models import Timer
from steward.models import ensure_seed_rows
from steward.notify.models import Notification
from steward.notify.schemas import ContactMethodIn
from steward.oncall.escalation_models import EscalationPage, IncidentEscalation
from steward.timeutil import utcnow

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

INCIDENTS = 200
STEP = "escalation.step"


def counts(db: Database) -> dict[str, int]:
    with db.read_session() as session:
        entries = session.scalar(select(func.count()).select_from(TimelineEntry).where(
            TimelineEntry.kind == "escalation"))
        pending = session.scalar(select(func.count()).select_from(Timer).where(
            Timer.kind == STEP, Timer.state == "pending"))
        delivered = session.scalar(select(func.count()).select_from(Notification).where(
            Notification.state == "delivered"))
        return {"entries": int(entries or 0), "pending": int(pending or 0),
                "delivered": int(delivered or 0)}


def due_now(db: Database) -> int:
    """The pending escalation steps, moved to now: the level's timeout has passed."""
    with db.session() as session:
        moved = session.execute(update(Timer).where(Timer.kind == STEP,
                                                    Timer.state == "pending")
                                .values(due_at=utcnow() - timedelta(seconds=1)))
        return int(getattr(moved, "rowcount", 0))


def test_two_servers_two_workers_200_incidents_two_levels_each_step_and_page_once(
        postgres_url: str, tmp_path: Path) -> None:
    db = Database(Settings(database_url=postgres_url))
    migrate.upgrade(db)
    ensure_seed_rows(db)
    with ExitStack() as stack:
        receiver = stack.enter_context(http_receiver())
        smtp_port, mailbox = stack.enter_context(smtp_server())
        token = organisation(db, lambda name: ContactMethodIn(
            kind="webhook", target=f"{receiver.url}/{name}"))
        env = {**os.environ, "STEWARD_DATABASE_URL": postgres_url,
               "STEWARD_SECRET_KEY": secrets.token_hex(32), "STEWARD_WORKER_POLL_SECONDS":
               "0.2", "STEWARD_SMTP_HOST": "127.0.0.1", "STEWARD_SMTP_PORT": str(smtp_port),
               "STEWARD_SMTP_FROM": "steward@example.test", "PYTHONUNBUFFERED": "1",
               "STEWARD_RATE_LIMIT_API": ""}
        processes: list[subprocess.Popen[bytes]] = []

        def stop_all() -> None:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

        stack.callback(stop_all)
        urls = []
        for n in range(2):
            server, url = start_serve(env, tmp_path / f"serve-{n}.log", free_port())
            processes.append(server)
            urls.append(url)
        for n in range(2):
            with (tmp_path / f"worker-{n}.log").open("w") as out:
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "steward.cli.main", "worker"], env=env,
                    stdout=out, stderr=subprocess.STDOUT))
        wait_until(lambda: all("escalation.step" in (tmp_path / f"worker-{n}.log").read_text()
                               for n in range(2)), timeout=90, interval=0.3,
                   what="the workers to start")

        clients = [httpx.Client(base_url=url, timeout=60,
                                headers={"Authorization": f"Bearer {token}"}) for url in urls]
        stack.callback(lambda: [c.close() for c in clients])

        def declare(n: int) -> int:
            answer = clients[n % 2].post("/api/v1/incidents", json={
                "title": f"Checkout failing #{n}", "service": "checkout",
                "impact": 1, "urgency": 1})
            assert answer.status_code == 201, answer.text
            return int(answer.json()["id"])

        began = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            incident_ids = list(pool.map(declare, range(INCIDENTS)))
        assert len(set(incident_ids)) == INCIDENTS
        declared = time.monotonic() - began

        # Level 1: alice paged by webhook, for every incident, while the level-2 steps
        # wait for their timeout.
        wait_until(lambda: counts(db) == {"entries": INCIDENTS, "pending": INCIDENTS,
                                          "delivered": INCIDENTS},
                   timeout=180, interval=0.5, what="level 1 of every incident")
        level_one = time.monotonic() - began
        assert due_now(db) == INCIDENTS
        # Level 2: carol mailed; then each escalation runs out at the end of level 2.
        wait_until(lambda: counts(db)["entries"] == 2 * INCIDENTS
                   and counts(db)["pending"] == INCIDENTS, timeout=180, interval=0.5,
                   what="level 2 of every incident")
        assert due_now(db) == INCIDENTS
        wait_until(lambda: counts(db) == {"entries": 3 * INCIDENTS, "pending": 0,
                                          "delivered": 2 * INCIDENTS},
                   timeout=180, interval=0.5, what="every escalation to run out, every "
                   "notification delivered")
        total = time.monotonic() - began
        time.sleep(2)  # anything fired twice would show by now
        oncall = steward({**env, "STEWARD_URL": urls[1], "STEWARD_TOKEN": token},
                         "kpi", "oncall", "--team", "payments", "--days", "1", "--json")
        stop_all()

    # Every step once: three entries per incident (level 1, level 2, ran out).
    with db.read_session() as session:
        entries = session.execute(select(TimelineEntry.incident_id, TimelineEntry.text)
                                  .where(TimelineEntry.kind == "escalation")).all()
        pages = session.execute(select(EscalationPage.incident_id, EscalationPage.level,
                                       EscalationPage.user_id)).all()
        notes = session.execute(select(Notification.dedup_key, Notification.channel,
                                       Notification.state, Notification.attempts,
                                       Notification.incident_id)).all()
        states = Counter(session.scalars(select(IncidentEscalation.state)))
        fired = session.execute(select(Timer.fired_by, func.count()).where(
            Timer.state == "done", Timer.kind.in_([STEP, "notify.deliver"]))
            .group_by(Timer.fired_by)).all()
        steps_done = session.scalar(select(func.count()).select_from(Timer).where(
            Timer.kind == STEP, Timer.state == "done"))
    per_incident = Counter(incident for incident, _ in entries)
    assert set(per_incident) == set(incident_ids)
    assert set(per_incident.values()) == {3}
    kinds = Counter(re.sub(r" #\d+|INC-\d+", "", t).split(":")[0] for _, t in entries)
    assert kinds == {"Escalated to level 1 of 2": INCIDENTS,
                     "Escalated to level 2 of 2": INCIDENTS,
                     "Escalation ran out": INCIDENTS}
    assert steps_done == 3 * INCIDENTS
    assert len(pages) == len(set(pages)) == 2 * INCIDENTS
    assert states == {"ran_out": INCIDENTS}

    # Every notification once: unique keys, each delivered at its first attempt...
    assert len(notes) == 2 * INCIDENTS
    assert len({key for key, *_ in notes}) == 2 * INCIDENTS
    assert Counter(channel for _, channel, *_ in notes) == {"webhook": INCIDENTS,
                                                            "email": INCIDENTS}
    assert {(state, attempts) for _, _, state, attempts, _ in notes} == {("delivered", 1)}
    # ... and received once by the real peers.
    hooks = [r.json() for r in receiver.requests]
    assert len(hooks) == INCIDENTS
    assert sorted(h["incident"]["id"] for h in hooks) == sorted(incident_ids)
    assert {r.path for r in receiver.requests} == {"/hook/alice"}
    assert len(mailbox.messages) == INCIDENTS
    mailed = [re.search(r"INC-(\d+)", str(m["Subject"])) for m in mailbox.messages]
    assert sorted(int(m.group(1)) for m in mailed if m) == sorted(incident_ids)
    assert {rcpt for _, rcpts in mailbox.envelopes for rcpt in rcpts} == {"carol@example.test"}

    # The on-call KPIs count the same pages.
    assert oncall.returncode == 0, oncall.stderr
    row = json.loads(oncall.stdout)["teams"][0]
    assert (row["pages"], row["escalations_ran_out"]) == (2 * INCIDENTS, INCIDENTS)

    print(f"\n{INCIDENTS} incidents declared in {declared:.1f} s; level 1 paged and "
          f"delivered after {level_one:.1f} s; all {3 * INCIDENTS} steps and "
          f"{2 * INCIDENTS} deliveries done after {total:.1f} s; timers fired by "
          f"{dict(fired)}")
    db.dispose()
