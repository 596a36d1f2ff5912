"""Alert ingestion benchmark against a running `steward serve`.

Starts a server on a fresh database (SQLite, or PostgreSQL with --postgres),
then sends single-event POSTs to /api/v1/alerts from 16 concurrent clients
(half new alerts, half duplicates), and batches of 1,000 to the same endpoint.
Prints events/s, latency p50 / p99 and the server's peak memory (VmHWM).

    python bench/ingest.py [--postgres URL] [--events 20000] [--workers 2] [--client raw]

The server runs ``--workers`` processes (default 2, one per core of the
two-core machine the targets are set for; ``--workers 1`` shows one process).

Targets: >= 2,000 events/s single, >= 20,000 events/s in batches.

The integration key's request rate (STEWARD_RATE_LIMIT_INGEST) is raised far
above what the run sends unless set: the requests are counted, never refused.

The client runs on the same machine and competes with the server for the
CPU. By default the 16 single-event clients are plain asyncio connections
speaking HTTP/1.1 with keep-alive (a request written as bytes, the answer's
status line, headers and Content-Length body read back): a few tens of
microseconds per request, so the figure is mostly the server's. ``--client
httpx`` uses httpx.AsyncClient instead (what a Python integration would use),
which costs the client several hundred microseconds per request and, on two
cores, lowers the figure. Every request is still a full HTTP exchange, answered
only after its event is committed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson

from catalog import drop_database, fresh_database, percentile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from serving import free_port


def steward(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "steward.cli.main", *args], env=env,
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def server_pids(pid: int) -> list[int]:
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    return pids


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the server and its workers have used so far.

    On a shared two-core machine this is steadier than the wall clock: it says what
    each event costs the server, whatever else competes for the cores."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in server_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def peak_memory_mb(pid: int) -> float:
    total = 0.0
    for p in server_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def wait_until_serving(url: str, log: Path, workers: int) -> None:
    """Until every server process has started (each listens on its own socket: a client
    connecting before one is up would only reach the others) and /healthz answers."""
    for _ in range(300):
        started = log.read_text().count("Application startup complete")
        try:
            if started >= workers and httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")


def single_bodies(events: int, services: list[str]) -> list[dict[str, object]]:
    rng = random.Random(3)
    bodies = []
    for n in range(events):
        # every other event repeats an earlier key: a duplicate of a firing alert
        dedup = f"k-{n}" if n % 2 == 0 or n < 2 else f"k-{rng.randrange(0, n, 2)}"
        bodies.append({"service": rng.choice(services), "dedup_key": dedup,
                       "status": "firing", "severity": "warning",
                       "summary": f"latency high ({dedup})"})
    return bodies


async def single_events(url: str, key: str, bodies: list[dict[str, object]], clients: int,
                        kind: str) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    client = raw_client if kind == "raw" else httpx_client
    started = time.perf_counter()
    await asyncio.gather(*(client(url, key, queue, latencies) for _ in range(clients)))
    return time.perf_counter() - started, latencies


async def httpx_client(url: str, key: str, queue: asyncio.Queue[dict[str, object]],
                       latencies: list[float]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60,
                                 headers={"Authorization": f"Bearer {key}"}) as http:
        while not queue.empty():
            body = queue.get_nowait()
            began = time.perf_counter()
            response = await http.post("/api/v1/alerts", json=body)
            latencies.append((time.perf_counter() - began) * 1000)
            if response.status_code != 202:
                raise RuntimeError(response.text)


async def raw_client(url: str, key: str, queue: asyncio.Queue[dict[str, object]],
                     latencies: list[float]) -> None:
    """One keep-alive HTTP/1.1 connection; POSTs one at a time and reads each answer."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (f"POST /api/v1/alerts HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n").encode()
    try:
        while not queue.empty():
            body = orjson.dumps(queue.get_nowait())
            began = time.perf_counter()
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            answer = await reader.readexactly(length)
            latencies.append((time.perf_counter() - began) * 1000)
            if status.split()[1:2] != [b"202"]:
                raise RuntimeError(f"{status!r} {answer!r}")
    finally:
        writer.close()


def batch_bodies(events: int, size: int, services: list[str]) -> list[bytes]:
    """Every batch's JSON, made before the clock starts (the client is not measured)."""
    rng = random.Random(4)
    return [orjson.dumps([{"service": rng.choice(services), "dedup_key": f"b-{sent + i}",
                           "status": "firing", "severity": "info", "summary": "batch"}
                          for i in range(min(size, events - sent))])
            for sent in range(0, events, size)]


def batches(url: str, key: str, bodies: list[bytes], senders: int) -> float:
    """Post the batches from ``senders`` threads, each waiting for its answer (202)."""
    pending = list(reversed(bodies))
    lock = threading.Lock()
    failures: list[str] = []

    def send() -> None:
        with httpx.Client(base_url=url, timeout=300, headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json"}) as http:
            while True:
                with lock:
                    if not pending or failures:
                        return
                    body = pending.pop()
                response = http.post("/api/v1/alerts", content=body)
                if response.status_code != 202:
                    failures.append(response.text)

    threads = [threading.Thread(target=send) for _ in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(failures[0])
    return time.perf_counter() - started


def analyze_while_autovacuum_is_off(database_url: str, stop: threading.Event) -> None:
    """Keep the planner's statistics current when the server's autovacuum is off.

    A fresh database grows from empty to a hundred thousand alerts in a minute; without
    statistics PostgreSQL plans the lookup of a group's active alerts as a scan of all of
    an integration's alerts. Autovacuum (on by default) analyzes such tables; where it is
    off, this does what it would, every few seconds, and says so."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.execute(text("SHOW autovacuum")).scalar() != "off":
                return
            print("[PostgreSQL] autovacuum is off on this server: the benchmark runs ANALYZE "
                  "on the alert tables every 5 s, as autovacuum would", flush=True)
            while not stop.wait(5):
                conn.execute(text("ANALYZE alerts, incidents, incident_services, "
                                  "incident_timeline"))
    finally:
        engine.dispose()


def run(coroutine):  # type: ignore[no-untyped-def]
    """uvloop when installed (it comes with uvicorn[standard]), else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch-events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--senders", type=int, default=None,
                        help="concurrent batch senders, each waiting for its answer "
                             "(default: two per server process)")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="single-event client: raw asyncio HTTP/1.1 (light) or httpx")
    args = parser.parse_args()
    if args.senders is None:
        args.senders = 2 * args.workers
    backend = "PostgreSQL" if args.postgres else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        db, pg_name = fresh_database(args.postgres, Path(tmp))
        env = {**os.environ, "STEWARD_DATABASE_URL": db.settings.database_url}
        # One key sends everything here, far past the default per-key rate: the limit is
        # raised, not turned off, so every request still pays for its count.
        env.setdefault("STEWARD_RATE_LIMIT_INGEST", "100000000/minute")
        # PostgreSQL servers share one secret key, which must be given; a throwaway one here.
        if not env.get("STEWARD_SECRET_KEY") and not env.get("STEWARD_SECRET_KEY_FILE"):
            env["STEWARD_SECRET_KEY"] = secrets.token_hex(32)
        db.dispose()
        services = [f"svc-{i}" for i in range(50)]
        yaml = ["apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: ops}\n"
                "spec: {type: team, children: []}"]
        yaml += [f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: {s}}}\n"
                 f"spec: {{type: service, lifecycle: production, owner: ops}}" for s in services]
        catalog = Path(tmp) / "catalog.yaml"
        catalog.write_text("\n---\n".join(yaml))
        steward(env, "catalog", "import", str(catalog))
        key = steward(env, "integration", "create", "--type", "generic", "--team", "ops")
        port = free_port()
        log = open(Path(tmp) / "serve.log", "w")
        server = subprocess.Popen(
            [sys.executable, "-m", "steward.cli.main", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(args.workers)],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        stop_analyzing = threading.Event()
        if args.postgres:
            analyzer = threading.Thread(target=analyze_while_autovacuum_is_off, daemon=True,
                                        args=(db.settings.database_url, stop_analyzing))
            analyzer.start()
        try:
            wait_until_serving(url, Path(tmp) / "serve.log", args.workers)
            bodies = single_bodies(args.events, services)
            cpu = cpu_seconds(server.pid)
            elapsed, latencies = run(single_events(url, key, bodies, args.clients,
                                                   args.client))
            cpu = cpu_seconds(server.pid) - cpu
            print(f"[{backend}] {args.workers} server process(es); {args.events} single POSTs "
                  f"/api/v1/alerts from {args.clients} "
                  f"{args.client} clients (half duplicates): {args.events / elapsed:,.0f} "
                  "events/s, "
                  f"p50 {percentile(latencies, 0.5):.1f} ms, p99 "
                  f"{percentile(latencies, 0.99):.1f} ms (target >= 2,000 events/s); "
                  f"server CPU {cpu / args.events * 1e6:.0f} us per event")
            bodies_of_1000 = batch_bodies(args.batch_events, 1000, services)
            cpu = cpu_seconds(server.pid)
            seconds = batches(url, key, bodies_of_1000, args.senders)
            cpu = cpu_seconds(server.pid) - cpu
            print(f"[{backend}] {args.batch_events} events in batches of 1,000 from "
                  f"{args.senders} senders: "
                  f"{args.batch_events / seconds:,.0f} events/s (target >= 20,000); "
                  f"server CPU {cpu / args.batch_events * 1e6:.0f} us per event")
            print(f"[{backend}] server peak memory (VmHWM, all workers): "
                  f"{peak_memory_mb(server.pid):.0f} MB")
        finally:
            stop_analyzing.set()
            server.terminate()
            server.wait(timeout=20)
            log.close()
            if pg_name and args.postgres:
                drop_database(args.postgres, pg_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
