"""Nothing acknowledged is lost when `steward serve` is SIGKILLed mid-ingestion.

Eight clients post generic alerts with unique dedup keys as fast as they can;
the server is killed with SIGKILL while requests are in flight. Every alert
that got a 2xx must be in the SQLite file afterwards, in an incident, with the
file intact and the audit chain valid; the server then starts again on the
crashed file (WAL recovery) and serves the same alerts.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from serving import admin_token, database_env, served, start_serve, steward, wait_until

pytestmark = pytest.mark.e2e

CLIENTS = 8
RUN_FOR = 1.5  # seconds of ingestion before the kill
MIN_ACKNOWLEDGED = 20

CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: queue-db
  annotations: {steward.dev/tier: "2"}
spec: {type: database, owner: platform}
"""


class Flood:
    """Clients posting alerts until told to stop; remembers what was acknowledged."""

    def __init__(self, url: str, key: str):
        self.url, self.key = url, key
        self.stop = threading.Event()
        self.acknowledged: list[str] = []
        self.refused: list[tuple[str, int, str]] = []  # answered, but not 2xx
        self.failed = 0  # no answer (connection refused or cut): not acknowledged
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True)
                        for n in range(CLIENTS)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=30)
        assert not any(t.is_alive() for t in self.threads)

    def _client(self, client: int) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=10) as http:
            n = 0
            while not self.stop.is_set():
                key = f"k-{client}-{n}"
                n += 1
                try:
                    response = http.post("/api/v1/alerts", json={
                        "dedup_key": key, "status": "firing", "severity": "warning",
                        "summary": f"queue depth {n} on worker {client}"})
                except httpx.TransportError:
                    self.failed += 1
                    time.sleep(0.01)
                    continue
                if 200 <= response.status_code < 300:
                    self.acknowledged.append(key)
                else:
                    self.refused.append((key, response.status_code, response.text[:200]))


def test_sigkill_during_ingestion_loses_nothing_acknowledged(tmp_path: Path):
    db_path = tmp_path / "steward.db"
    # One key floods the server here, far past the default per-key rate; the subject is
    # what a crash keeps, so the rate is raised (every request is still counted).
    env = {**database_env(db_path), "STEWARD_RATE_LIMIT_INGEST": "100000000/minute"}
    assert steward(env, "init").returncode == 0
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    imported = steward(env, "catalog", "import", str(tmp_path / "catalog.yaml"))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    admin = admin_token(env)
    created = steward(env, "integration", "create", "--type", "generic", "--service", "queue-db")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()

    try:
        _scenario(tmp_path, env, admin, key)
    except BaseException:
        for log in sorted(tmp_path.glob("serve*.log")):
            print(f"----- {log.name} -----\n{log.read_text()}")
        raise


def _scenario(tmp_path: Path, env: dict[str, str], admin: str, key: str) -> None:
    db_path = tmp_path / "steward.db"
    process, url = start_serve(env, tmp_path / "serve.log")
    flood = Flood(url, key)
    try:
        flood.start()
        started = time.monotonic()
        wait_until(lambda: len(flood.acknowledged) >= MIN_ACKNOWLEDGED, timeout=30,
                   interval=0.05, what=f"{MIN_ACKNOWLEDGED} acknowledged alerts")
        time.sleep(max(0.0, RUN_FOR - (time.monotonic() - started)))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        killed_after = time.monotonic() - started
    finally:
        flood.stop.set()
        if process.poll() is None:
            process.kill()
            process.wait()
        flood.join()
    assert process.returncode == -signal.SIGKILL
    assert not flood.refused, flood.refused[:5]
    acknowledged = set(flood.acknowledged)
    assert len(acknowledged) == len(flood.acknowledged) >= MIN_ACKNOWLEDGED

    # The crashed file, as the killed server left it (its WAL beside it).
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        stored = dict(conn.execute(
            "SELECT a.dedup_key, i.id FROM alerts a LEFT JOIN incidents i "
            "ON i.id = a.incident_id").fetchall())
        incidents = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
    conn.close()
    lost = acknowledged - stored.keys()
    assert not lost, f"{len(lost)} acknowledged alerts lost, e.g. {sorted(lost)[:5]}"
    orphans = [k for k in acknowledged if stored[k] is None]
    assert not orphans, f"acknowledged alerts in no incident: {orphans[:5]}"
    verified = steward(env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    print(f"\n{len(acknowledged)} acknowledged, {len(stored)} stored "
          f"({len(stored) - len(acknowledged)} stored without an answer), "
          f"{flood.failed} unanswered requests, {incidents} incident(s); "
          f"killed after {killed_after:.2f} s")

    # The server starts again on the crashed file and serves what was stored.
    with served(env, tmp_path / "serve-again.log") as again:
        api = httpx.Client(base_url=again, headers={"Authorization": f"Bearer {admin}"},
                           timeout=10)
        assert api.get("/healthz").json()["status"] == "ok"
        assert api.get("/api/v1/alerts?limit=1").json()["total"] == len(stored)
        after = httpx.post(f"{again}/api/v1/alerts", headers={"Authorization": f"Bearer {key}"},
                           json={"dedup_key": "after-restart", "status": "firing",
                                 "summary": "still ingesting"})
        assert after.status_code == 202, after.text
        assert api.get("/api/v1/alerts?limit=1").json()["total"] == len(stored) + 1
        open_incidents = api.get("/api/v1/incidents?service=queue-db").json()
        assert open_incidents["total"] == incidents
    final = steward(env, "audit", "verify")
    assert final.returncode == 0, final.stdout + final.stderr
