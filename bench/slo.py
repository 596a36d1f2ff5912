"""SLO benchmark: one evaluation round over many SLOs, and one status read.

Creates SERVICES services, each with an impact SLO and a counts SLO; the
counts SLOs get 28 days of hourly reports (672 each), and a tenth of the
services have an incident in the window. Then measures a full evaluation
round (what `steward slo evaluate` and the server's periodic task do), the
status of one SLO (what `GET /api/v1/slos/{id}` and change assessment
compute) and one burn-down.

    python bench/slo.py                 # SQLite, 200 services (400 SLOs)
    python bench/slo.py --services 1000

Target: an evaluation round of 400 SLOs well under the default 60 s
interval (aim: < 5 s on SQLite); one status < 20 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from steward.auth.actor import SYSTEM
from steward.catalog.schemas import ServiceCreate
from steward.catalog.use_cases import services as catalog
from steward.config import Settings
from steward.db import Database, migrate
from steward.incidents.use_cases import lifecycle
from steward.models import ensure_seed_rows
from steward.slos import service as slos
from steward.slos.burn_alerts import run_evaluation
from steward.slos.models import SliReport
from steward.slos.schemas import SloCreate
from steward.slos.status import burndown, status_of
from steward.timeutil import utcnow


def seed(db: Database, services: int) -> list[int]:
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    counts_ids = []
    with db.session() as session:
        for i in range(services):
            name = f"svc-{i:05d}"
            catalog.create_service(session, SYSTEM, ServiceCreate(name=name))
            slos.create_slo(session, SYSTEM, name, SloCreate(name="up", objective=0.999))
            counts = slos.create_slo(session, SYSTEM, name, SloCreate(
                name="requests", objective=0.99, sli="counts"))
            counts_ids.append(counts.id)
            if i % 10 == 0:
                incident = lifecycle.declare(session, SYSTEM, f"{name} slow", name,
                                             started_at=now - timedelta(days=i % 20 + 1))
                lifecycle.act(session, SYSTEM, incident.id, "mitigate",
                              now - timedelta(days=i % 20 + 1) + timedelta(minutes=30))
        rows = [{"slo_id": slo_id, "start": now - timedelta(hours=h + 1),
                 "end": now - timedelta(hours=h), "good": 9_990 - (h % 7), "total": 10_000}
                for slo_id in counts_ids for h in range(28 * 24)]
        for chunk in range(0, len(rows), 20_000):
            session.execute(insert(SliReport), rows[chunk:chunk + 20_000])
    return counts_ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    db = Database(Settings(database_url=f"sqlite:///{folder / 'bench.db'}"))
    migrate.upgrade(db)
    ensure_seed_rows(db)
    started = time.perf_counter()
    counts_ids = seed(db, args.services)
    print(f"seeded {args.services} services, {2 * args.services} SLOs, "
          f"{len(counts_ids) * 28 * 24:,} reports in {time.perf_counter() - started:.1f} s")

    rounds = []
    for _ in range(3):
        started = time.perf_counter()
        result = run_evaluation(db, wait=True)
        rounds.append(time.perf_counter() - started)
        assert result is not None
    print(f"evaluation round of {result.slos} SLOs: median {statistics.median(rounds):.2f} s "
          f"(runs: {', '.join(f'{r:.2f}' for r in rounds)}), "
          f"{len(result.raised)} alerts raised in the last run")

    with db.read_session() as session:
        slo = slos.get_slo(session, counts_ids[len(counts_ids) // 2])
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            status_of(session, slo)
            timings.append((time.perf_counter() - started) * 1000)
        print(f"status of one counts SLO (672 reports): median {statistics.median(timings):.1f} ms,"
              f" p95 {sorted(timings)[int(len(timings) * 0.95)]:.1f} ms")
        started = time.perf_counter()
        points = burndown(session, slo)
        print(f"28-day burn-down: {len(points)} points in "
              f"{(time.perf_counter() - started) * 1000:.1f} ms")
    db.dispose()


if __name__ == "__main__":
    main()
