"""Notifications benchmark: what the outbox costs incident handling, and delivery rates.

1. Declaring incidents (the event's transaction) with no subscriptions, and with five
   webhook subscriptions whose receiver takes the connection and never answers: the
   event's transaction only writes rows, so the two should cost about the same.
2. Delivering 500 webhooks to a real HTTP receiver on 127.0.0.1 through the timer loop
   (``run_due``): notifications per second.
3. One delivery round against the blackholed receiver: what a worker spends waiting
   (``STEWARD_NOTIFY_TIMEOUT_SECONDS``, set to 1 here).

    python bench/notify.py                     # SQLite
    python bench/notify.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from steward.auth.actor import SYSTEM
from steward.catalog.schemas import ServiceCreate, TeamCreate
from steward.catalog.use_cases import services, teams
from steward.config import Settings, normalise_database_url
from steward.db import Database, migrate
from steward.incidents.use_cases import lifecycle
from steward.jobs import timers
from steward.models import ensure_seed_rows
from steward.notify.models import Notification
from steward.notify.schemas import SubscriptionIn
from steward.notify.use_cases import subscriptions

# A receiver that takes the connection and never answers: each attempt waits out its
# timeout.
_HOLE = socket.socket()
_HOLE.bind(("127.0.0.1", 0))
_HOLE.listen(1000)
BLACKHOLE = f"http://127.0.0.1:{_HOLE.getsockname()[1]}/hook"


def _database(postgres: str | None, folder: Path) -> tuple[Database, Any]:
    if not postgres:
        db = Database(Settings(database_url=f"sqlite:///{folder / 'bench.db'}"))
        return db, None
    admin_url = make_url(normalise_database_url(postgres))
    name = f"steward_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(Settings(database_url=admin_url.set(database=name).render_as_string(
        hide_password=False)))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return db, drop


def _declare_times(db: Database, service: str, count: int) -> list[float]:
    times = []
    for i in range(count):
        start = time.perf_counter()
        with db.session() as session:
            lifecycle.declare(session, SYSTEM, f"Bench incident {i}", service, impact=1,
                              urgency=1)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def _receiver() -> tuple[ThreadingHTTPServer, str, list[int]]:
    got: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.append(1)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/hook", got


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="")
    parser.add_argument("--incidents", type=int, default=200)
    args = parser.parse_args()
    os.environ["STEWARD_NOTIFY_TIMEOUT_SECONDS"] = "1"
    logging.getLogger("steward.notify").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("STEWARD_SECRET_KEY", "bench-" + "k" * 40)
        db, drop = _database(args.postgres or None, Path(folder))
        try:
            migrate.upgrade(db)
            ensure_seed_rows(db)
            with db.session() as session:
                for team in ("quiet", "loud"):
                    teams.create_team(session, SYSTEM, TeamCreate(name=team))
                    services.create_service(session, SYSTEM, ServiceCreate(
                        name=f"{team}-svc", owner=team))
                for i in range(5):
                    subscriptions.create_subscription(session, SYSTEM, "loud", SubscriptionIn(
                        name=f"hole-{i}", kind="webhook", url=BLACKHOLE,
                        event_types=["incident.triggered"]))
            backend = "PostgreSQL" if args.postgres else "SQLite"
            print(f"backend: {backend}")
            _declare_times(db, "quiet-svc", 20)  # warm up
            quiet = _declare_times(db, "quiet-svc", args.incidents)
            loud = _declare_times(db, "loud-svc", args.incidents)
            print(f"declare an incident, no subscriptions:           p50 "
                  f"{statistics.median(quiet):6.2f} ms  p95 {_p(quiet, 95):6.2f} ms")
            print(f"declare an incident, 5 unreachable subscriptions: p50 "
                  f"{statistics.median(loud):6.2f} ms  p95 {_p(loud, 95):6.2f} ms")

            # The blackholed ones wait for a round of their own (part 3).
            with db.session() as session:
                session.execute(text("UPDATE timers SET due_at = due_at + interval '1 day'"
                                     if args.postgres else
                                     "UPDATE timers SET due_at = datetime(due_at, '+1 day')"))
            server, url, got = _receiver()
            with db.session() as session:
                teams.create_team(session, SYSTEM, TeamCreate(name="fast"))
                services.create_service(session, SYSTEM, ServiceCreate(
                    name="fast-svc", owner="fast"))
                subscriptions.create_subscription(session, SYSTEM, "fast", SubscriptionIn(
                    name="receiver", kind="webhook", url=url,
                    event_types=["incident.triggered"]))
            _declare_times(db, "fast-svc", 500)
            start = time.perf_counter()
            while len(got) < 500:
                if not timers.run_due(db, worker="bench", limit=100):
                    break
            spent = time.perf_counter() - start
            with db.read_session() as session:
                delivered = session.scalar(select(func.count()).where(
                    Notification.state == "delivered")) or 0
            print(f"deliver 500 signed webhooks to 127.0.0.1: {spent:.2f} s, "
                  f"{500 / spent:,.0f}/s (delivered {delivered}, received {len(got)})")
            server.shutdown()

            with db.session() as session:
                session.execute(text("UPDATE timers SET due_at = due_at - interval '2 days'"
                                     if args.postgres else
                                     "UPDATE timers SET due_at = datetime(due_at, '-2 days')"))
            start = time.perf_counter()
            ran = timers.run_due(db, worker="bench", limit=20)
            spent = time.perf_counter() - start
            print(f"one round of {ran} attempts to a blackholed receiver (timeout 1 s): "
                  f"{spent:.2f} s")
        finally:
            db.dispose()
            if drop:
                drop()


if __name__ == "__main__":
    sys.exit(main())
