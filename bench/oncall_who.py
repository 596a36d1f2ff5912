"""On-call benchmark: "who is on call" for 500 teams.

Fills a fresh database (SQLite, or PostgreSQL with --postgres: its own database, created
and dropped) with teams of three people, each with a weekly rotation in its own time
zone, an override in force for a third of them, and a two-level escalation policy (the
schedule, then a person; every tenth team's second level pages another team). Then asks
who is on call for each team at random times over a year:

- through the query (``oncall.queries.oncall_for_team``), counting its SQL statements;
- for every team at once (``oncall_for_teams``, what the catalog's column uses);
- through the API (``GET /api/v1/oncall?team=NAME&at=ISO``, in-process ASGI client).

    python bench/oncall_who.py [--postgres URL] [--teams 500] [--samples 2000]

Prints p50 and p95 of each.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from catalog import drop_database, fresh_database, percentile
from steward.auth.actor import SYSTEM
from steward.auth.models import TeamMembership, User
from steward.auth.schemas import UserCreate
from steward.auth.use_cases import accounts as auth
from steward.catalog.models import Team
from steward.db import Database
from steward.oncall import queries
from steward.oncall.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    LayerMember,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
)
from steward.timeutil import isoformat_z

ZONES = ["Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def fill(db: Database, teams: int) -> tuple[list[tuple[int, str]], str]:
    """Rows written in bulk (the use cases' audit chain is not what is measured here);
    the teams (id, name) and an API token of a viewer."""
    now = datetime.now(UTC)
    with db.session() as session:
        # The caller first: the rows below name their ids, which no sequence hands out.
        auth.create_user(session, SYSTEM, UserCreate(username="bench", role="viewer"))
        token = auth.create_token(session, SYSTEM, "bench")
        first = 100

        def rows(model: Any, values: list[dict[str, Any]]) -> None:
            if values:
                session.execute(insert(model), values)

        rows(Team, [{"id": t, "name": f"team-{t:03d}", "display_name": f"Team {t}",
                     "description": "", "contacts": {}, "created_at": now, "updated_at": now}
                    for t in range(1, teams + 1)])
        rows(User, [{"id": first + u, "username": f"user-{u:04d}", "display_name": "",
                     "email": f"user-{u:04d}@example.com", "role": "member", "active": True,
                     "created_at": now, "updated_at": now} for u in range(1, 3 * teams + 1)])
        rows(TeamMembership, [{"user_id": first + 3 * (t - 1) + k, "team_id": t}
                              for t in range(1, teams + 1) for k in (1, 2, 3)])
        rows(Schedule, [{"id": t, "team_id": t, "name": "primary",
                         "time_zone": ZONES[t % len(ZONES)], "description": "",
                         "created_at": now, "updated_at": now} for t in range(1, teams + 1)])
        rows(ScheduleLayer, [{"id": t, "schedule_id": t, "name": "weekly", "position": 1,
                              "starts": datetime(2025, 12, 29, 9, 0),
                              "handoff_interval_hours": 168} for t in range(1, teams + 1)])
        rows(LayerMember, [{"layer_id": t, "position": k, "user_id": first + 3 * (t - 1) + k + 1}
                           for t in range(1, teams + 1) for k in range(3)])
        rows(ScheduleOverride, [{"schedule_id": t, "user_id": first + 3 * (t - 1) + 3,
                                 "starts_at": START + timedelta(days=t % 300),
                                 "ends_at": START + timedelta(days=t % 300 + 2),
                                 "requested_by": "bench", "reason": "", "created_at": now}
                                for t in range(1, teams + 1) if t % 3 == 0])
        rows(EscalationPolicy, [{"id": t, "team_id": t, "name": "default", "repeat_count": 1,
                                 "created_at": now, "updated_at": now}
                                for t in range(1, teams + 1)])
        rows(EscalationLevel, [{"id": 2 * t - 1 + k, "policy_id": t, "level": k + 1,
                                "timeout_minutes": 5 * (k + 1)}
                               for t in range(1, teams + 1) for k in (0, 1)])
        targets = []
        for t in range(1, teams + 1):
            targets.append({"level_id": 2 * t - 1, "kind": "schedule", "schedule_id": t})
            if t % 10 == 0:
                targets.append({"level_id": 2 * t, "kind": "team", "team_id": t % teams + 1})
            else:
                targets.append({"level_id": 2 * t, "kind": "user",
                                "user_id": first + 3 * (t - 1) + 1})
        rows(EscalationTarget, targets)
    return [(t, f"team-{t:03d}") for t in range(1, teams + 1)], token


def measure(db: Database, backend: str, teams_wanted: int = 500, samples: int = 2000) -> None:
    """Fill ``db`` with ``teams_wanted`` teams and print the figures (also run by
    bench/oncall.py)."""
    started = time.perf_counter()
    teams, token = fill(db, teams_wanted)
    print(f"[{backend}] {teams_wanted} teams with a weekly rotation, overrides and a "
          f"two-level policy written in {time.perf_counter() - started:.1f} s")
    rng = random.Random(7)
    sample = [(rng.choice(teams), START + timedelta(minutes=rng.randrange(525_600)))
              for _ in range(samples)]
    statements = []

    def count(*_: Any) -> None:
        statements.append(1)

    timings, answers = [], 0
    for (team_id, _name), at in sample:
        event.listen(db.read_engine, "before_cursor_execute", count)
        start = time.perf_counter()
        with db.read_session() as session:
            found = queries.oncall_for_team(session, team_id, at)
        timings.append((time.perf_counter() - start) * 1000)
        event.remove(db.read_engine, "before_cursor_execute", count)
        answers += bool(found)
    per_call = len(statements) / len(sample)
    print(f"[{backend}] oncall_for_team over {len(sample)} samples: p50 "
          f"{percentile(timings, 0.5):.2f} ms, p95 {percentile(timings, 0.95):.2f} ms, "
          f"max {max(timings):.2f} ms; {per_call:.1f} SQL statements per answer "
          f"(whatever the number of levels and schedules); {answers} answered "
          "somebody")

    batch = []
    for _ in range(20):
        at = START + timedelta(minutes=rng.randrange(525_600))
        start = time.perf_counter()
        with db.read_session() as session:
            every = queries.oncall_for_teams(session, [t for t, _ in teams], at)
        batch.append((time.perf_counter() - start) * 1000)
    assert len(every) == len(teams)
    print(f"[{backend}] oncall_for_teams for all {len(teams)} teams at once: p50 "
          f"{percentile(batch, 0.5):.1f} ms, p95 {percentile(batch, 0.95):.1f} ms")

    from fastapi.testclient import TestClient

    from steward.app import create_app

    # Request rates are not what is measured: the one token asks thousands of times.
    unthrottled = dataclasses.replace(db.settings, rate_limit_api="")
    client = TestClient(create_app(unthrottled, database=db))
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    for (_team_id, name), at in sample:
        start = time.perf_counter()
        response = client.get("/api/v1/oncall", headers=headers,
                              params={"team": name, "at": isoformat_z(at)})
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    print(f"[{backend}] GET /api/v1/oncall?team=&at= over {len(sample)} samples: p50 "
          f"{percentile(timings, 0.5):.2f} ms, p95 {percentile(timings, 0.95):.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a database is created)")
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        db, pg_name = fresh_database(args.postgres, Path(tmp))
        try:
            measure(db, backend, args.teams, args.samples)
        finally:
            db.dispose()
            if pg_name and args.postgres:
                drop_database(args.postgres, pg_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
