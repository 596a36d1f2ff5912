"""Real ``steward worker`` processes on one database: every timer fires exactly once,
however many workers share the work, and when one is killed in the middle of a round
another finishes what it had claimed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from serving import steward, wait_until
from sqlalchemy import func, select, text

import timer_probe
from steward.config import Settings
from steward.db import Database, migrate
from steward.jobs.models import Timer
from steward.models import ensure_seed_rows

TESTS = Path(__file__).resolve().parents[1]


def prepared(url: str) -> Database:
    db = Database(Settings(database_url=url))
    migrate.upgrade(db)
    ensure_seed_rows(db)
    timer_probe.create_table(db)
    return db


def worker_env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "STEWARD_DATABASE_URL": url, "PYTHONPATH": path,
            "PYTHONUNBUFFERED": "1", "STEWARD_WORKER_POLL_SECONDS": "0.2",
            "TIMER_PROBE_LOG": str(tmp_path / "probe.log"), **extra}


def start_workers(env: dict[str, str], tmp_path: Path, count: int) -> list[subprocess.Popen]:
    """``count`` workers, each ready (it has said which kinds it fires)."""
    processes = []
    for n in range(count):
        with (tmp_path / f"worker-{n}.log").open("w") as out:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "steward.cli.main", "worker", "--handlers",
                 "timer_probe"], env=env, stdout=out, stderr=subprocess.STDOUT))
        (tmp_path / f"worker-{n}.log").rename(tmp_path / f"worker-{processes[-1].pid}.log")

    def ready() -> bool:
        for n, process in enumerate(processes):
            log = (tmp_path / f"worker-{process.pid}.log").read_text()
            if process.poll() is not None:
                raise AssertionError(f"worker {n} exited:\n{log}")
            if "probe.insert" not in log:
                return False
        return True

    wait_until(ready, timeout=90, interval=0.2, what="the workers to start")
    return processes


def stop(processes: list[subprocess.Popen], tmp_path: Path) -> None:
    """SIGTERM each: the round under way finishes, the worker says so and exits 0."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        log = (tmp_path / f"worker-{process.pid}.log")
        assert process.wait(timeout=60) == 0, log.read_text()
        assert "Stopped:" in log.read_text()


def kill_all(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def fired_rows(db: Database) -> list[tuple[int, int]]:
    with db.read_session() as session:
        return [(r.timer_id, r.pid) for r in
                session.execute(text("SELECT timer_id, pid FROM timer_probe"))]


def states(db: Database) -> dict[str, int]:
    with db.read_session() as session:
        return dict(session.execute(select(Timer.state, func.count())
                                    .where(Timer.kind == timer_probe.KIND)
                                    .group_by(Timer.state)).all())


def all_done(db: Database, count: int) -> bool:
    return states(db) == {"done": count}


def exactly_once(db: Database, count: int) -> list[tuple[int, int]]:
    rows = fired_rows(db)
    ids = [timer_id for timer_id, _pid in rows]
    assert len(ids) == count, f"{len(ids)} firings of {count} timers"
    assert len(set(ids)) == count, f"{len(ids) - len(set(ids))} timers fired twice"
    with db.read_session() as session:
        assert set(ids) == set(session.scalars(select(Timer.id).where(
            Timer.kind == timer_probe.KIND)))
    return rows


@pytest.mark.postgres
def test_workers_on_postgresql_share_thousands_of_timers_each_fired_once(
        postgres_url: str, tmp_path: Path) -> None:
    count = 3000
    db = prepared(postgres_url)
    env = worker_env(postgres_url, tmp_path, STEWARD_WORKER_BATCH="50")
    processes = start_workers(env, tmp_path, 3)
    try:
        timer_probe.schedule_many(db, count, sleep=0.002)
        wait_until(lambda: all_done(db, count), timeout=120, interval=0.5,
                   what="every timer to be fired")
        stop(processes, tmp_path)
    finally:
        kill_all(processes)
    rows = exactly_once(db, count)
    assert len({pid for _id, pid in rows}) >= 2, "the work was not shared"
    status = steward(env, "worker", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert {"kind": "probe.insert", "state": "done", "count": count} in json.loads(
        status.stdout)["counts"]
    db.dispose()


def kill_one_mid_round(db: Database, env: dict[str, str], tmp_path: Path, count: int) -> None:
    """Two workers; one is SIGKILLed while its round holds claims; the other finishes."""
    processes = start_workers(env, tmp_path, 2)
    victim, survivor = processes
    log = tmp_path / "probe.log"

    def started_by(pid: int) -> set[int]:
        if not log.exists():
            return set()
        return {int(i) for p, i in (line.split() for line in log.read_text().splitlines())
                if int(p) == pid}

    try:
        timer_probe.schedule_many(db, count, sleep=0.05)
        wait_until(lambda: len(started_by(victim.pid)) >= 3, timeout=60, interval=0.02,
                   what="the first worker to be in the middle of a round")
        victim.kill()
        victim.wait()
        claimed = started_by(victim.pid)
        wait_until(lambda: all_done(db, count), timeout=120, interval=0.5,
                   what="the remaining worker to fire every timer")
        stop([survivor], tmp_path)
    finally:
        kill_all(processes)
    rows = exactly_once(db, count)
    fired_by = dict(rows)
    retaken = {i for i in claimed if fired_by[i] == survivor.pid}
    assert retaken, "the killed worker's claims were not retaken by the other"
    assert all(fired_by[i] in (victim.pid, survivor.pid) for i in claimed)


@pytest.mark.postgres
def test_a_killed_workers_claims_on_postgresql_are_fired_by_another_once(
        postgres_url: str, tmp_path: Path) -> None:
    db = prepared(postgres_url)
    kill_one_mid_round(db, worker_env(postgres_url, tmp_path, STEWARD_WORKER_BATCH="20"),
                       tmp_path, 120)
    db.dispose()


def test_a_killed_workers_round_on_sqlite_is_fired_by_another_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    db = prepared(url)
    kill_one_mid_round(db, worker_env(url, tmp_path, STEWARD_WORKER_BATCH="20"), tmp_path,
                       120)
    db.dispose()
