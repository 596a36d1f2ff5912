"""Alert storm benchmark: one incident with 100,000 alerts, then how fast and how big its
views are.

Starts a server on a fresh database (SQLite, or PostgreSQL with --postgres), imports a
catalog where every service depends on ``core-db``, opens an incident with an alert on
core-db, then sends ``--alerts`` alerts on ``--services`` services (a handful of alert
kinds each, numbers in their summaries) in batches of 1,000 to /api/v1/alerts: all of them
join that one incident. Prints the ingestion rate, then p50 / p99 and the size in bytes of

- GET /api/v1/incidents/{id}            (the detail: bounded)
- GET /api/v1/incidents/{id}/timeline   (the summarised timeline's first page)
- GET /api/v1/incidents/{id}/alerts?group=signature (the alert groups' first page)
- GET /incidents/{id}                   (the incident's page, signed in)

    python bench/storm.py [--postgres URL] [--alerts 100000] [--services 200]

Target: every one under 100 ms p99 on PostgreSQL; ingestion as fast as bench/ingest.py's
batches.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson

from catalog import drop_database, fresh_database, percentile
from ingest import (
    analyze_while_autovacuum_is_off,
    batches,
    cpu_seconds,
    steward,
    wait_until_serving,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from serving import free_port

PASSWORD = "storm-bench-password-1"
KINDS = ("latency high on pod-{n} ({ms} ms)", "error rate {pct}% on /api/v{v}/orders",
         "connection refused to core-db:{port}", "queue depth {n} over limit",
         "disk {pct}% full on node-{n}")


def catalog_yaml(services: list[str]) -> str:
    docs = ["apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: ops}\n"
            "spec: {type: team, children: []}",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: core-db}\n"
            "spec: {type: service, lifecycle: production, owner: ops}"]
    docs += [f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: {s}}}\n"
             f"spec: {{type: service, lifecycle: production, owner: ops, "
             f"dependsOn: ['component:core-db']}}" for s in services]
    return "\n---\n".join(docs)


def storm_bodies(alerts: int, services: list[str]) -> list[bytes]:
    """Batches of 1,000 alerts: each service has its few kinds of alert, their summaries
    differing only in numbers (one signature per kind and service)."""
    rng = random.Random(5)
    kinds = {s: rng.sample(KINDS, 2) for s in services}
    out = []
    for sent in range(0, alerts, 1000):
        batch = []
        for i in range(sent, min(alerts, sent + 1000)):
            service = rng.choice(services)
            summary = rng.choice(kinds[service]).format(
                n=rng.randrange(1000), ms=rng.randrange(300, 9000), pct=rng.randrange(50, 100),
                v=rng.randrange(1, 3), port=rng.choice((5432, 5433)))
            batch.append({"service": service, "dedup_key": f"s-{i}", "status": "firing",
                          "severity": rng.choice(("critical", "error", "warning")),
                          "summary": summary})
        out.append(orjson.dumps(batch))
    return out


def measure(http: httpx.Client, path: str, samples: int) -> tuple[float, float, int]:
    """p50 and p99 in ms of ``samples`` GETs of ``path`` (after one warm-up), and the
    answer's size in bytes."""
    response = http.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:500]}")
    timings = []
    for _ in range(samples):
        began = time.perf_counter()
        answer = http.get(path)
        timings.append((time.perf_counter() - began) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code}")
    return percentile(timings, 0.5), percentile(timings, 0.99), len(response.content)


def sign_in(url: str) -> httpx.Client:
    web = httpx.Client(base_url=url, timeout=60)
    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    found = token.search(web.get("/login").text)
    if found is None:
        raise RuntimeError("no sign-in form")
    answer = web.post("/login", data={"csrf_token": found.group(1), "username": "bench",
                                      "password": PASSWORD})
    if answer.status_code not in (200, 303):
        raise RuntimeError(f"sign-in: {answer.status_code}")
    return web


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a database is created)")
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--ingest-only", action="store_true",
                        help="only the ingestion rate (to compare two versions)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the PostgreSQL database (its name is printed)")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        db, pg_name = fresh_database(args.postgres, Path(tmp))
        env = {**os.environ, "STEWARD_DATABASE_URL": db.settings.database_url}
        env.setdefault("STEWARD_RATE_LIMIT_INGEST", "100000000/minute")
        # What is measured is each answer's time, not the requests' rate.
        env.setdefault("STEWARD_RATE_LIMIT_API", "100000000/minute")
        env.setdefault("STEWARD_SECRET_KEY", "storm-bench-secret-key-" + "x" * 32)
        db.dispose()
        services = [f"svc-{i:03d}" for i in range(args.services)]
        catalog = Path(tmp) / "catalog.yaml"
        catalog.write_text(catalog_yaml(services))
        steward(env, "catalog", "import", str(catalog))
        key = steward(env, "integration", "create", "--type", "generic", "--team", "ops")
        subprocess.run([sys.executable, "-m", "steward.cli.main", "user", "create", "bench",
                        "--role", "admin", "--password-stdin"], env=env, input=PASSWORD,
                       text=True, check=True, capture_output=True)
        token = steward(env, "token", "create", "bench", "--name", "storm")
        port = free_port()
        log = open(Path(tmp) / "serve.log", "w")
        server = subprocess.Popen(
            [sys.executable, "-m", "steward.cli.main", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(args.workers)],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        stop_analyzing = threading.Event()
        if args.postgres:
            threading.Thread(target=analyze_while_autovacuum_is_off, daemon=True,
                             args=(db.settings.database_url, stop_analyzing)).start()
        try:
            wait_until_serving(url, Path(tmp) / "serve.log", args.workers)
            first = httpx.post(url + "/api/v1/alerts", headers={
                "Authorization": f"Bearer {key}"}, json={
                "service": "core-db", "dedup_key": "core-db-down", "status": "firing",
                "severity": "critical", "summary": "core-db down"})
            incident_id = first.json()["results"][0]["incident_id"]
            bodies = storm_bodies(args.alerts, services)
            cpu = cpu_seconds(server.pid)
            seconds = batches(url, key, bodies, args.senders)
            cpu = cpu_seconds(server.pid) - cpu
            print(f"[{backend}] {args.alerts:,} alerts on {args.services} services in "
                  f"batches of 1,000 from {args.senders} senders: "
                  f"{args.alerts / seconds:,.0f} events/s; server CPU "
                  f"{cpu / args.alerts * 1e6:.0f} us per event", flush=True)
            if args.ingest_only:
                return 0
            api = httpx.Client(base_url=url, timeout=120,
                               headers={"Authorization": f"Bearer {token}"})
            detail = api.get(f"/api/v1/incidents/{incident_id}").json()
            print(f"[{backend}] incident {incident_id}: {detail.get('alert_count')} alerts, "
                  f"{len(detail['services'])} services", flush=True)
            web = sign_in(url)
            for name, client, path in (
                    ("API detail", api, f"/api/v1/incidents/{incident_id}"),
                    ("timeline, first page", api, f"/api/v1/incidents/{incident_id}/timeline"),
                    ("alert groups, first page", api,
                     f"/api/v1/incidents/{incident_id}/alerts?group=signature"),
                    ("alerts, first page", api, f"/api/v1/incidents/{incident_id}/alerts"),
                    ("incident page (HTML)", web, f"/incidents/{incident_id}")):
                p50, p99, size = measure(client, path, args.samples)
                print(f"[{backend}] {name:26} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                      f"{size:>9,} bytes   GET {path}", flush=True)
        finally:
            stop_analyzing.set()
            server.terminate()
            server.wait(timeout=20)
            log.close()
            if pg_name and args.postgres:
                if args.keep:
                    print(f"kept database {pg_name}")
                else:
                    drop_database(args.postgres, pg_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
