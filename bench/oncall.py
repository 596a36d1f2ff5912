"""On-call benchmark: timers drained by `steward worker` processes, and "who is on call".

Timers: on a fresh database (PostgreSQL with --postgres, else SQLite; created here and
dropped at the end), ``--timers`` due timers (default 10,000) are drained by 1, 2 and 4
``steward worker`` processes in turn (``--workers 1,2,4``). The timers' handler
(``tests/timer_probe.py``, kind ``probe.insert``) inserts one row per firing in the
firing transaction, so a timer fired twice leaves two rows. For each count it prints
timers/s (from the moment the timers are committed, the workers already polling, to the
last one done), the workers' CPU time per timer (steadier than the wall clock on a
shared machine) and how many timers fired more than once, which must be 0.

Who is on call: p50 and p95 of "who is on call for team T at time t" over 500 teams
(:func:`who_is_on_call`, bench/oncall_who.py), through the query and the API.

    python bench/oncall.py [--postgres URL] [--timers 10000] [--workers 1,2,4]

Workers poll every 0.2 s (STEWARD_WORKER_POLL_SECONDS) and claim STEWARD_WORKER_BATCH
timers per transaction (default 100; ``--batch``).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select, text

from catalog import drop_database, fresh_database
from ingest import cpu_seconds
from steward.db import Database
from steward.jobs.models import Timer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import timer_probe

TESTS = Path(timer_probe.__file__).parent


def start_workers(env: dict[str, str], logs: Path, count: int) -> list[subprocess.Popen[bytes]]:
    processes = []
    for n in range(count):
        with (logs / f"worker-{count}-{n}.log").open("w") as out:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "steward.cli.main", "worker", "--handlers",
                 "timer_probe"], env=env, stdout=out, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 120
    while True:  # each worker says which kinds it fires once it polls
        texts = [(logs / f"worker-{count}-{n}.log").read_text() for n in range(count)]
        if all(timer_probe.KIND in t for t in texts):
            return processes
        for process, log in zip(processes, texts, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"a worker exited:\n{log}")
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start within 120 s")
        time.sleep(0.1)


def stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pending(db: Database) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Timer).where(
            Timer.kind == timer_probe.KIND, Timer.state == "pending")) or 0


def firings(db: Database) -> tuple[int, int, int]:
    """(rows, distinct timers fired, timers fired more than once)."""
    with db.read_session() as session:
        rows, distinct = session.execute(text(
            "SELECT COUNT(*), COUNT(DISTINCT timer_id) FROM timer_probe")).one()
        twice = session.scalar(text(
            "SELECT COUNT(*) FROM (SELECT timer_id FROM timer_probe GROUP BY timer_id "
            "HAVING COUNT(*) > 1) AS repeated"))
    return int(rows), int(distinct), int(twice or 0)


def empty(db: Database) -> None:
    with db.session() as session:
        session.execute(text("DELETE FROM timer_probe"))
        session.execute(Timer.__table__.delete().where(Timer.kind == timer_probe.KIND))


def drain(db: Database, env: dict[str, str], logs: Path, workers: int, timers: int,
          backend: str) -> None:
    empty(db)
    processes = start_workers(env, logs, workers)
    try:
        cpu = sum(cpu_seconds(p.pid) for p in processes)
        timer_probe.schedule_many(db, timers)
        began = time.perf_counter()
        deadline = time.monotonic() + 600
        while pending(db):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{pending(db)} timers still pending after 600 s")
            time.sleep(0.05)
        seconds = time.perf_counter() - began
        cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu
    finally:
        stop_workers(processes)
    rows, distinct, twice = firings(db)
    print(f"[{backend}] {timers:,} timers, {workers} worker(s): {timers / seconds:,.0f} "
          f"timers/s ({seconds:.2f} s; workers' CPU {cpu / timers * 1e6:.0f} us per "
          f"timer); fired {distinct:,} of {timers:,}, fired twice: "
          f"{twice}{'' if rows == timers == distinct else '  <-- WRONG'}", flush=True)


# --- Who is on call ---------------------------------------------------------------------

def who_is_on_call(db: Database, backend: str, teams: int = 500) -> None:
    """p50 / p95 of "who is on call for team T at time t" over ``teams`` teams with
    schedules, overrides and escalation policies (bench/oncall_who.py's measurement)."""
    import oncall_who

    oncall_who.measure(db, backend, teams)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a database is created)")
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--batch", type=int, default=100, help="STEWARD_WORKER_BATCH")
    parser.add_argument("--keep", action="store_true",
                        help="keep the PostgreSQL database (its name is printed)")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        db, pg_name = fresh_database(args.postgres, Path(tmp))
        try:
            timer_probe.create_table(db)
            env = {**os.environ, "STEWARD_DATABASE_URL": db.settings.database_url,
                   "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH",
                                                                             "")]),
                   "STEWARD_WORKER_POLL_SECONDS": "0.2",
                   "STEWARD_WORKER_BATCH": str(args.batch),
                   "STEWARD_SLO_EVALUATE_SECONDS": "0"}
            env.setdefault("STEWARD_SECRET_KEY", "oncall-bench-secret-key-" + "x" * 32)
            for workers in counts:
                drain(db, env, Path(tmp), workers, args.timers, backend)
            who_is_on_call(db, backend)
        finally:
            db.dispose()
            if pg_name and args.postgres:
                if args.keep:
                    print(f"kept database {pg_name}")
                else:
                    drop_database(args.postgres, pg_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
