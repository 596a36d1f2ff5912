"""Status page benchmark: how many anonymous requests a second /status answers on the
demo during its core-db cascade (everyone opens it during an outage).

Seeds the demo organisation in a fresh SQLite database, starts ``steward serve`` with
``--workers`` processes, then ``--clients`` concurrent keep-alive clients (asyncio,
HTTP/1.1) request each path for ``--seconds`` and the rate of 200 answers is printed:

- GET /status                  (the HTML page)
- GET /api/v2/summary.json     (Statuspage's summary, what widgets poll)

    python bench/status.py [--seconds 10] [--workers 2] [--clients 64]

Each process makes each answer at most once every 2 s (``steward.status.cache``) and
serves its bytes to everyone else, so the rate is the server's per-request cost, not
the database's. The load generator (plain keep-alive HTTP/1.1 connections in
one asyncio loop) runs on the same machine and takes CPU from the server: on a machine
with few cores the figure understates what a server would do.
Target: 1,000 requests/s for /status.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ingest import wait_until_serving

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from serving import free_port

PATHS = ("/status", "/api/v2/summary.json")


async def one_connection(host: str, port: int, path: str, deadline: float,
                         counts: list[int]) -> None:
    """One keep-alive HTTP/1.1 connection: GET, read the whole answer, again until the
    deadline. A few tens of microseconds of client per request (an HTTP library's would
    be several hundred, and on a small machine the client's CPU is the server's)."""
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            status = await reader.readline()
            length, chunked = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if chunked:
                while (size := int((await reader.readline()).strip() or b"0", 16)):
                    await reader.readexactly(size + 2)
                await reader.readline()
            else:
                await reader.readexactly(length)
            counts[0 if status.split()[1:2] == [b"200"] else 1] += 1
    finally:
        writer.close()


async def hammer(url: str, path: str, seconds: float, clients: int) -> tuple[int, int, float]:
    """(answers 200, other answers, elapsed seconds)."""
    host, port = url.removeprefix("http://").split(":")
    counts = [0, 0]
    start = time.perf_counter()
    await asyncio.gather(*(one_connection(host, int(port), path, start + seconds, counts)
                           for _ in range(clients)))
    return counts[0], counts[1], time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients")
    parser.add_argument("--path", action="append", dest="paths",
                        help="a path to measure instead (repeatable; /healthz to compare)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "STEWARD_DATABASE_URL": f"sqlite:///{Path(tmp) / 'steward.db'}"}
        env.setdefault("STEWARD_SECRET_KEY", "status-bench-secret-key-" + "x" * 32)
        subprocess.run([sys.executable, "-m", "steward.cli.main", "demo", "--no-serve"],
                       env=env, check=True, capture_output=True)
        port = free_port()
        log_path = Path(tmp) / "serve.log"
        with open(log_path, "w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "steward.cli.main", "serve", "--host", "127.0.0.1",
                 "--port", str(port), "--workers", str(args.workers)],
                env=env, stdout=log, stderr=subprocess.STDOUT)
            url = f"http://127.0.0.1:{port}"
            try:
                wait_until_serving(url, log_path, args.workers)
                for path in args.paths or PATHS:
                    httpx.get(url + path, timeout=60).raise_for_status()  # warm
                    ok, bad, elapsed = asyncio.run(
                        hammer(url, path, args.seconds, args.clients))
                    print(f"GET {path:24} {ok / elapsed:8,.0f} requests/s  ({ok:,} answered "
                          f"200, {bad:,} other, {args.workers} workers, {args.clients} "
                          f"clients, {elapsed:.1f} s)", flush=True)
            finally:
                server.terminate()
                server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
