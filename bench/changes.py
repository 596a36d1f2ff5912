"""Change benchmark: deployments recorded per second, and risk evaluation latency.

    python bench/changes.py                 # SQLite
    python bench/changes.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

Targets: >= 1,000 deployments/s through the batch API on SQLite; risk
evaluation p95 < 20 ms on a 10,000-service graph.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from catalog import drop_database, fresh_database, generate, percentile
from steward.api.app import create_app
from steward.auth.actor import SYSTEM
from steward.auth.schemas import UserCreate
from steward.auth.use_cases import accounts as auth
from steward.catalog.graph import load_graph
from steward.catalog.use_cases.backstage_import import import_catalog
from steward.changes import assessment, risk
from steward.changes.models import Change
from steward.timeutil import isoformat_z, utcnow


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a database is created)")
    parser.add_argument("--deployments", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        folder = workdir / "catalog"
        folder.mkdir()
        generate(folder)
        db, pg_name = fresh_database(args.postgres, workdir)
        try:
            import_catalog(db, SYSTEM, [folder])
            with db.session() as session:
                auth.create_user(session, SYSTEM, UserCreate(username="ci", role="admin"))
                token = auth.create_token(session, SYSTEM, "ci")
                graph = load_graph(session)
            names = sorted(graph.by_name)
            rng = random.Random(5)
            client = TestClient(create_app(db.settings, database=db))
            headers = {"Authorization": f"Bearer {token}"}
            now = utcnow()
            sent = 0
            start = time.perf_counter()
            while sent < args.deployments:
                batch = []
                for i in range(min(args.batch, args.deployments - sent)):
                    finished = now - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
                    batch.append({
                        "service": rng.choice(names), "environment": "production",
                        "version": f"1.{sent + i}", "status": rng.choice(
                            ["succeeded"] * 9 + ["failed"]),
                        "finished_at": isoformat_z(finished),
                        "commits": [{"sha": f"{sent + i:08x}{c}", "committed_at":
                                     isoformat_z(finished - timedelta(hours=c + 1))}
                                    for c in range(3)]})
                response = client.post("/api/v1/deployments", json=batch, headers=headers)
                assert response.status_code == 201, response.text
                sent += len(batch)
            elapsed = time.perf_counter() - start
            print(f"[{backend}] {sent} deployments (3 commits each) through POST "
                  f"/api/v1/deployments in batches of {args.batch}: {elapsed:.2f} s, "
                  f"{sent / elapsed:,.0f} deployments/s (target >= 1,000 on SQLite)")

            timings = []
            levels: dict[str, int] = {}
            for name in (rng.choice(names) for _ in range(args.samples)):
                with db.session() as session:
                    change = Change(title="bench", model="normal", environment="production",
                                    planned_start=now, planned_end=now + timedelta(hours=1),
                                    created_at=now)
                    session.add(change)
                    session.flush()
                    from steward.changes.models import ChangeService

                    session.add(ChangeService(change_id=change.id,
                                              service_id=graph.cis[graph.by_name[name]].id))
                    session.flush()
                    began = time.perf_counter()
                    services = assessment.affected_services(session, change)
                    result = risk.assess(assessment.risk_input(session, change, services, 12),
                                         assessment.risk_weights())
                    timings.append((time.perf_counter() - began) * 1000)
                    levels[result.level] = levels.get(result.level, 0) + 1
                    session.rollback()
            print(f"[{backend}] risk evaluation on {len(names)} services over {len(timings)} "
                  f"samples: p50 {percentile(timings, 0.5):.2f} ms, p95 "
                  f"{percentile(timings, 0.95):.2f} ms (target p95 < 20 ms); levels {levels}")
        finally:
            db.dispose()
            if pg_name and args.postgres:
                drop_database(args.postgres, pg_name)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
