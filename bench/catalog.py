"""Catalog benchmark: Backstage import rate and impact analysis latency.

Generates 10,000 services and 30,000 dependencies as Backstage catalog YAML,
imports them into a fresh database and then measures impact analysis for a
single failing service, both in the use case and through the HTTP API.

    python bench/catalog.py                     # SQLite
    python bench/catalog.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

Targets: import >= 2,000 entities/s on SQLite; impact p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from steward.auth.actor import SYSTEM
from steward.catalog.graph import impact_of, load_graph
from steward.catalog.use_cases.backstage_import import import_catalog
from steward.config import Settings, normalise_database_url
from steward.db import Database, migrate
from steward.models import ensure_seed_rows

LAYERS = [("Domain", 200), ("System", 800), ("Component", 5000), ("API", 1000),
          ("Resource", 3000)]
CLUSTERS = 50


def generate(folder: Path, services: int = 10_000, dependencies: int = 30_000,
             seed: int = 7) -> int:
    """Writes the catalog; returns the number of entities."""
    rng = random.Random(seed)
    scale = services / sum(n for _, n in LAYERS)
    layers = [(kind, max(1, round(n * scale))) for kind, n in LAYERS]
    names: list[list[tuple[str, str, int]]] = []  # per layer: (kind, name, cluster)
    for depth, (kind, n) in enumerate(layers):
        names.append([(kind, f"{kind.lower()}-{depth}-{i}", i % CLUSTERS) for i in range(n)])
    per_node = dependencies / sum(len(layer) for layer in names[:-1])
    docs: list[dict[str, object]] = [
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
         "metadata": {"name": f"team-{c}"}, "spec": {"type": "team", "children": []}}
        for c in range(CLUSTERS)]
    budget = dependencies
    for depth, layer in enumerate(names):
        lower = [n for deeper in names[depth + 1:] for n in deeper]
        by_cluster: dict[int, list[tuple[str, str, int]]] = {}
        for node in lower:
            by_cluster.setdefault(node[2], []).append(node)
        for kind, name, cluster in layer:
            spec: dict[str, object] = {"owner": f"team-{cluster}"}
            if kind in ("Component", "API"):
                spec.update(type="service" if kind == "Component" else "openapi",
                            lifecycle="production")
            if kind == "API":
                spec["definition"] = "openapi: 3.0.0"
            if kind == "Resource":
                spec["type"] = "database"
            wanted = int(per_node) + (rng.random() < per_node % 1)
            wanted = min(wanted, budget)
            targets: set[str] = set()
            if lower and wanted:
                pool = by_cluster.get(cluster) or lower
                while len(targets) < min(wanted, len(pool)):
                    source = pool if rng.random() < 0.9 else lower
                    target_kind, target, _ = rng.choice(source)
                    targets.add(f"{target_kind.lower()}:{target}")
            budget -= len(targets)
            soft = [t for t in sorted(targets) if rng.random() < 0.3]
            if targets:
                spec["dependsOn"] = sorted(targets)
            metadata: dict[str, object] = {"name": name}
            if soft:
                metadata["annotations"] = {"steward.dev/soft-dependencies": ",".join(soft)}
            if kind == "Domain":
                spec.pop("type", None)
            docs.append({"apiVersion": "backstage.io/v1alpha1", "kind": kind,
                         "metadata": metadata, "spec": spec})
    chunk = 1000
    for i in range(0, len(docs), chunk):
        with (folder / f"catalog-{i // chunk:03d}.yaml").open("w") as handle:
            yaml.safe_dump_all(docs[i:i + chunk], handle, sort_keys=False)
    return len(docs)


def fresh_database(postgres: str | None, workdir: Path) -> tuple[Database, str | None]:
    if postgres is None:
        db = Database(Settings(database_url=f"sqlite:///{workdir / 'bench.db'}"))
        migrate.upgrade(db)
        ensure_seed_rows(db)
        return db, None
    admin_url = make_url(normalise_database_url(postgres))
    name = f"steward_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    db = Database(Settings(database_url=admin_url.set(database=name)
                           .render_as_string(hide_password=False)))
    migrate.upgrade(db)
    ensure_seed_rows(db)
    return db, name


def drop_database(postgres: str, name: str) -> None:
    admin = create_engine(make_url(normalise_database_url(postgres)), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a database is created)")
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--dependencies", type=int, default=30_000)
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        folder = workdir / "catalog"
        folder.mkdir()
        entities = generate(folder, args.services, args.dependencies)
        db, pg_name = fresh_database(args.postgres, workdir)
        try:
            start = time.perf_counter()
            report = import_catalog(db, SYSTEM, [folder])
            elapsed = time.perf_counter() - start
            if report.errors:
                print("import errors:", *report.errors[:5], sep="\n  ")
                return 1
            print(f"[{backend}] imported {entities} entities "
                  f"({report.services.created} services, {report.dependencies.created} "
                  f"dependencies, {report.teams.created} teams) in {elapsed:.2f} s: "
                  f"{entities / elapsed:,.0f} entities/s (target >= 2,000 on SQLite)")
            start = time.perf_counter()
            again = import_catalog(db, SYSTEM, [folder])
            print(f"[{backend}] re-import (no changes: {again.services.unchanged} unchanged) "
                  f"in {time.perf_counter() - start:.2f} s")

            with db.read_session() as session:
                start = time.perf_counter()
                graph = load_graph(session)
                cold_ms = (time.perf_counter() - start) * 1000
                print(f"[{backend}] graph load (cold): {cold_ms:.0f} ms")
            names = sorted(graph.by_name)
            rng = random.Random(11)
            sample = [rng.choice(names) for _ in range(args.samples)]
            timings, affected = [], []
            for name in sample:
                start = time.perf_counter()
                with db.read_session() as session:
                    result = impact_of(session, [name])
                timings.append((time.perf_counter() - start) * 1000)
                affected.append(len(result.affected))
            print(f"[{backend}] impact (use case) for one failing service over {len(sample)} "
                  f"samples: p50 {percentile(timings, 0.5):.2f} ms, p95 "
                  f"{percentile(timings, 0.95):.2f} ms, max {max(timings):.2f} ms; affected "
                  f"CIs mean {statistics.mean(affected):.0f}, max {max(affected)}")

            from fastapi.testclient import TestClient

            from steward.app import create_app
            from steward.auth.schemas import UserCreate
            from steward.auth.use_cases import accounts as auth

            with db.session() as session:
                auth.create_user(session, SYSTEM, UserCreate(username="bench", role="viewer"))
                token = auth.create_token(session, SYSTEM, "bench")
            client = TestClient(create_app(db.settings, database=db))
            headers = {"Authorization": f"Bearer {token}"}
            timings = []
            for name in sample:
                start = time.perf_counter()
                response = client.get(f"/api/v1/services/{name}/impact", headers=headers)
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
            print(f"[{backend}] impact (GET /api/v1/services/{{name}}/impact): p50 "
                  f"{percentile(timings, 0.5):.2f} ms, p95 {percentile(timings, 0.95):.2f} ms "
                  f"(target p95 < 50 ms)")
        finally:
            db.dispose()
            if pg_name and args.postgres:
                drop_database(args.postgres, pg_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
