"""ServiceNow import benchmark: the real incident event log into a fresh database.

Imports ../shared/data/servicenow/incident_event_log.csv.gz (141,712 event rows,
24,918 incidents) into a fresh SQLite database, and into a fresh PostgreSQL
database when a server is named, then imports it again (nothing changes).
Each backend runs in its own process, so its peak memory is its own.

    python bench/servicenow.py
    python bench/servicenow.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    python bench/servicenow.py --file other-export.csv --timezone Europe/Amsterdam

Targets: the whole file in under 30 s, peak memory under 500 MB. The CPU time
of the importing process is printed beside the wall-clock time, since on a
shared machine the latter also counts waiting for other work.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from catalog import drop_database, fresh_database
from steward.auth.actor import SYSTEM
from steward.servicenow.service import Source, import_servicenow

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "servicenow" \
    / "incident_event_log.csv.gz"


def _run(postgres: str | None, file: str, timezone: str, queue: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db, pg_name = fresh_database(postgres, Path(tmp))
        try:
            start, cpu = time.perf_counter(), time.process_time()
            first = import_servicenow(db, SYSTEM, [Source.from_path(file)], timezone=timezone)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            start = time.perf_counter()
            again = import_servicenow(db, SYSTEM, [Source.from_path(file)], timezone=timezone)
            repeat = time.perf_counter() - start
            queue.put({"rows": first.rows, "created": first.created, "events": first.events,
                       "skipped": sum(first.skipped.values()), "seconds": elapsed, "cpu": cpu,
                       "peak_mb": peak_mb, "repeat_seconds": repeat,
                       "repeat_unchanged": again.unchanged, "repeat_changed": again.changed})
        finally:
            db.dispose()
            if pg_name and postgres:
                drop_database(postgres, pg_name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a database is created)")
    parser.add_argument("--file", default=str(DATA), help="the export to import")
    parser.add_argument("--timezone", default="UTC")
    args = parser.parse_args()
    if not Path(args.file).is_file():
        print(f"no export at {args.file}")
        return 1
    backends: list[tuple[str, str | None]] = [("SQLite", None)]
    if args.postgres:
        backends.append(("PostgreSQL", args.postgres))
    context = multiprocessing.get_context("spawn")
    for label, url in backends:
        queue = context.Queue()
        process = context.Process(target=_run, args=(url, args.file, args.timezone, queue))
        process.start()
        result = queue.get()
        process.join()
        print(f"[{label}] {result['rows']:,} rows ({result['created']:,} incidents, "
              f"{result['events']:,} timeline entries, {result['skipped']} skipped) in "
              f"{result['seconds']:.1f} s ({result['cpu']:.1f} s CPU in this process): "
              f"{result['rows'] / result['seconds']:,.0f} rows/s; "
              f"peak memory {result['peak_mb']:.0f} MB (targets: < 30 s, < 500 MB)")
        print(f"[{label}] again, nothing changed ({result['repeat_unchanged']:,} unchanged, "
              f"changed={result['repeat_changed']}): {result['repeat_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
