"""KPI benchmark: DORA and ITSM KPIs over two years of history.

Generates 1,000,000 production deployments (1-5 commits each) and 200,000
incidents across 50 teams and their 250 services, spread over two years, and
bulk-loads them into a fresh database (executemany on SQLite, COPY on
PostgreSQL), then times ``dora_kpis`` (28 days) and ``itsm_kpis`` (90 days)
for the organisation and for one team, windows ending at the newest data.

    python bench/kpis.py                     # SQLite
    python bench/kpis.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    python bench/kpis.py --deployments 100000 --incidents 20000   # a quick run
    python bench/kpis.py --sqlite-file /tmp/kpis.db --explain      # keep the data; plans

Target: < 1 s for each query on SQLite and on PostgreSQL. Prints the median and
the maximum of several runs, the first (cold) run, and the peak memory.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, text

from catalog import drop_database, fresh_database
from steward.catalog.models import Service, Team
from steward.changes.models import Deployment, DeploymentCommit
from steward.config import Settings
from steward.db import Database, migrate
from steward.incidents.models import Incident, IncidentService
from steward.models import ensure_seed_rows

END = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_DAYS = 730
TEAMS = 50
SERVICES_PER_TEAM = 5
CHUNK = 50_000
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
PRIORITY_WEIGHTS = (2, 8, 30, 40, 20)


class Loader:
    """Bulk rows into one table, in the column order of its model."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.postgres = db.engine.dialect.name == "postgresql"

    def load(self, table: Table, rows: Iterator[dict[str, Any]]) -> int:
        columns = [c.name for c in table.columns]
        count = 0
        raw = self.db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.postgres:
                names = ", ".join(f'"{c}"' for c in columns)
                with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row([row.get(c) for c in columns])
                        count += 1
            else:
                sql = (f'INSERT INTO "{table.name}" ({", ".join(columns)}) '
                       f'VALUES ({", ".join("?" for _ in columns)})')
                batch: list[tuple[Any, ...]] = []
                cursor.execute("PRAGMA synchronous=OFF")  # a throwaway database
                cursor.execute("BEGIN")
                for row in rows:
                    batch.append(tuple(_sqlite(row.get(c)) for c in columns))
                    if len(batch) >= CHUNK:
                        cursor.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                cursor.execute("COMMIT")
            raw.commit()
        finally:
            raw.close()
        return count


def _sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def at(seconds: float) -> datetime:
    return END - timedelta(seconds=seconds)


class History:
    """The generated organisation: times are seconds before END."""

    def __init__(self, deployments: int, incidents: int, seed: int = 5) -> None:
        rng = random.Random(seed)
        self.rng = rng
        span = SPAN_DAYS * 86400.0
        self.n = deployments
        self.ages = array("d", sorted((rng.random() * span for _ in range(deployments)),
                                      reverse=True))
        services = TEAMS * SERVICES_PER_TEAM
        weights = [1 + (s % 7) for s in range(services)]  # some services ship more
        self.service = array("i", (s + 1 for s in rng.choices(range(services), weights,
                                                               k=deployments)))
        # 0 succeeded, 1 rolled back, 2 failed, 3 staging
        self.status = array("b", rng.choices((0, 1, 2, 3), (90, 3, 3, 4), k=deployments))
        self.caused: dict[int, int] = {}  # deployment index -> incident id
        self.fixes: dict[int, int] = {}
        self.incidents = incidents
        shipped = [i for i in rng.sample(range(deployments), min(deployments, incidents))
                   if self.status[i] in (0, 1)]
        self.caused_list = shipped[: incidents * 15 // 100]
        for k, index in enumerate(self.caused_list):
            self.caused[index] = k + 1
            fix = index + rng.randint(1, 40)
            if fix < deployments and fix not in self.fixes and self.status[fix] == 0:
                self.fixes[fix] = k + 1

    def deployments(self) -> Iterator[dict[str, Any]]:
        statuses = ("succeeded", "rolled_back", "failed", "succeeded")
        for i in range(self.n):
            finished = at(self.ages[i])
            code = self.status[i]
            yield {"id": i + 1, "service_id": self.service[i],
                   "environment": "staging" if code == 3 else "production",
                   "version": f"1.{i % 1000}.{i % 7}", "status": statuses[code],
                   "started_at": finished - timedelta(minutes=6), "finished_at": finished,
                   "source": "api", "external_id": None, "url": "", "description": "",
                   "author": "", "change_id": None, "unauthorised": False,
                   "batch_size": 0, "rollback_of_id": None,
                   "fixes_incident_id": self.fixes.get(i),
                   "caused_incident_id": self.caused.get(i),
                   "created_at": finished, "updated_at": finished}

    def commits(self) -> Iterator[dict[str, Any]]:
        rng = random.Random(6)
        number = 0
        for i in range(self.n):
            finished = at(self.ages[i])
            for _ in range(rng.randint(1, 5)):
                number += 1
                yield {"id": number, "deployment_id": i + 1, "sha": f"{number:040x}",
                       "committed_at": finished - timedelta(hours=rng.expovariate(1 / 30)),
                       "message": ""}

    def incident_rows(self) -> Iterator[dict[str, Any]]:
        rng = random.Random(7)
        span = SPAN_DAYS * 86400.0
        for k in range(self.incidents):
            number = k + 1
            if k < len(self.caused_list):
                index = self.caused_list[k]
                service = self.service[index]
                started = at(self.ages[index]) + timedelta(minutes=rng.randint(5, 120))
                caused_by: int | None = index + 1
            else:
                service = rng.randint(1, TEAMS * SERVICES_PER_TEAM)
                started = at(rng.random() * span)
                caused_by = None
            if started >= END:
                started = END - timedelta(minutes=1)
            priority = rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
            acked = started + timedelta(minutes=rng.expovariate(1 / 20))
            resolved = acked + timedelta(hours=rng.expovariate(1 / 6))
            still_open = resolved > END or rng.random() < 0.005
            yield {"id": number, "title": f"Incident {number}", "description": "",
                   "status": "acknowledged" if still_open else "resolved",
                   "priority": priority, "impact": 2, "urgency": 2,
                   "impact_overridden": False, "urgency_overridden": False,
                   "priority_reasons": "[]", "origin_service_id": service,
                   "origin_reasoning": "", "owner_team_id": (service - 1) // SERVICES_PER_TEAM + 1,
                   "assignee_id": None, "commander_id": None, "business_services": "{}",
                   "group_keys": "[]", "manual": False, "started_at": started,
                   "last_alert_at": started, "acknowledged_at": acked,
                   "mitigated_at": None, "resolved_at": None if still_open else resolved,
                   "closed_at": None, "reopen_count": 1 if rng.random() < 0.02 else 0,
                   "caused_by_deployment_id": caused_by, "made_sla": None,
                   "reassignment_count": 0, "category": "", "problem_id": None,
                   "source": "steward", "external_ref": None, "change_ref": None,
                   "caused_by_ref": None, "created_at": started, "updated_at": started}

    def incident_services(self) -> Iterator[dict[str, Any]]:
        for row in self.incident_rows():
            yield {"incident_id": row["id"], "service_id": row["origin_service_id"],
                   "first_alert_at": row["started_at"]}


def catalog_rows(db: Database) -> None:
    now = END
    with db.engine.begin() as conn:
        conn.execute(insert(Team.__table__), [
            {"id": t + 1, "name": f"team-{t:02d}", "display_name": "", "description": "",
             "contacts": {}, "created_at": now, "updated_at": now} for t in range(TEAMS)])
        conn.execute(insert(Service.__table__), [
            {"id": s + 1, "name": f"svc-{s // SERVICES_PER_TEAM:02d}-{s % SERVICES_PER_TEAM}",
             "display_name": "", "description": "", "kind": "service", "tier": 2,
             "lifecycle": "production", "owner_team_id": s // SERVICES_PER_TEAM + 1,
             "links": [], "annotations": {}, "created_at": now, "updated_at": now}
            for s in range(TEAMS * SERVICES_PER_TEAM)])


def load(db: Database, history: History) -> None:
    loader = Loader(db)
    catalog_rows(db)
    for table, rows in ((Deployment.__table__, history.deployments()),
                        (DeploymentCommit.__table__, history.commits()),
                        (Incident.__table__, history.incident_rows()),
                        (IncidentService.__table__, history.incident_services())):
        start = time.perf_counter()
        count = loader.load(table, rows)  # type: ignore[arg-type]
        took = time.perf_counter() - start
        print(f"  loaded {count:>9,} rows into {table.name:<20} in {took:6.1f} s "
              f"({count / took:,.0f} rows/s)", flush=True)
    # What autovacuum does after a bulk load: statistics, and on PostgreSQL the
    # visibility map that lets the KPI queries read the covering indexes alone.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE" if db.settings.is_sqlite else "VACUUM (ANALYZE)"))


def timed(runs: int, func: Callable[[], Any]) -> tuple[float, float, float, Any]:
    """(first, median, max) in seconds over ``runs`` runs after the first, and the answer."""
    start = time.perf_counter()
    answer = func()
    first = time.perf_counter() - start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times), max(times), answer


def explain(db: Database, name: str, query: Callable[[Any], Any], top: int = 3) -> None:
    """The slowest statements of one run of the query, with their plans."""
    from sqlalchemy import event

    timings: list[tuple[float, str, Any]] = []
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        timings.append((time.perf_counter() - started.pop(id(cursor), 0.0), statement,
                        parameters))

    engine = db.read_engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        with db.read_session() as session:
            query(session)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    postgres = engine.dialect.name == "postgresql"
    print(f"\n== {name}: {len(timings)} statements, slowest first")
    for took, statement, parameters in sorted(timings, key=lambda t: -t[0])[:top]:
        print(f"-- {took * 1000:.0f} ms\n{statement.strip()}")
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(prefix + statement, parameters)
            for row in cursor.fetchall():
                print("   ", " | ".join(str(v) for v in row))
        finally:
            raw.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a database is created)")
    parser.add_argument("--deployments", type=int, default=1_000_000)
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sqlite-file", type=Path,
                        help="keep the SQLite database here; an existing one is reused")
    parser.add_argument("--explain", action="store_true",
                        help="print the slowest SQL statements of each query and their plans")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    from steward.kpis.dora_queries import dora_kpis
    from steward.kpis.itsm import itsm_kpis

    with tempfile.TemporaryDirectory() as tmp:
        reuse = bool(args.sqlite_file and not args.postgres and args.sqlite_file.exists())
        if args.sqlite_file and not args.postgres:
            db = Database(Settings(database_url=f"sqlite:///{args.sqlite_file}"))
            migrate.upgrade(db)  # a kept database gains this version's indexes
            if not reuse:
                ensure_seed_rows(db)
            pg_name = None
        else:
            db, pg_name = fresh_database(args.postgres, Path(tmp))
        try:
            start = time.perf_counter()
            if reuse:
                print(f"[{backend}] reusing {args.sqlite_file}", flush=True)
            else:
                print(f"[{backend}] generating {args.deployments:,} deployments and "
                      f"{args.incidents:,} incidents over {SPAN_DAYS} days, "
                      f"{TEAMS} teams, {TEAMS * SERVICES_PER_TEAM} services", flush=True)
                load(db, History(args.deployments, args.incidents))
                print(f"[{backend}] generated and loaded in "
                      f"{time.perf_counter() - start:.0f} s", flush=True)
            team = "team-07"
            cases = [("dora_kpis organisation, 28 days", lambda s: dora_kpis(s, days=28,
                                                                             end=END)),
                     (f"dora_kpis team {team}, 28 days",
                      lambda s: dora_kpis(s, team=team, days=28, end=END)),
                     ("itsm_kpis organisation, 90 days", lambda s: itsm_kpis(s, days=90,
                                                                             end=END)),
                     (f"itsm_kpis team {team}, 90 days",
                      lambda s: itsm_kpis(s, team=team, days=90, end=END))]
            missed = []
            for name, query in cases:
                with db.read_session() as session:
                    first, median, worst, answer = timed(args.runs,
                                                         lambda q=query, s=session: q(s))
                figure = (answer.get("deployments") if "dora" in name
                          else answer.get("incidents"))
                ok = worst < 1.0
                if not ok:
                    missed.append(name)
                print(f"[{backend}] {name:<36} first {first * 1000:7.0f} ms, median "
                      f"{median * 1000:7.0f} ms, max {worst * 1000:7.0f} ms over {args.runs} "
                      f"runs ({figure:,} {'deployments' if 'dora' in name else 'incidents'}) "
                      f"{'ok' if ok else 'MISSES the 1 s target'}", flush=True)
            if args.explain:
                for name, query in cases:
                    explain(db, name, query)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"[{backend}] peak memory (ru_maxrss): {peak:,.0f} MB")
            if missed:
                print(f"[{backend}] over target: {', '.join(missed)}")
        finally:
            db.dispose()
            if pg_name and args.postgres:
                drop_database(args.postgres, pg_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
