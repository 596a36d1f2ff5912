"""`steward worker`: fire due timers (escalations, notifications, SLO evaluation) on the
local database, beside or instead of the servers' own loops; `steward worker status`."""

from __future__ import annotations

import importlib
import logging
import signal
from typing import Annotated, Any

import typer
from rich.table import Table

from steward.cli.common import console, domain_errors, fail, open_database, print_json
from steward.timeutil import isoformat_z, utcnow

worker_app = typer.Typer(
    help="Background work: fire due timers until stopped (SIGTERM or Ctrl-C); "
         "`status` counts them.", invoke_without_command=True)


@worker_app.callback()
def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option(
        "--once", help="run one round (one batch of due timers), print how many fired, "
                       "and exit")] = False,
    handlers: Annotated[list[str] | None, typer.Option(
        "--handlers", help="also import this Python module, which registers handlers of "
                           "more timer kinds (repeatable)", metavar="MODULE")] = None,
) -> None:
    """Fire due timers every STEWARD_WORKER_POLL_SECONDS, STEWARD_WORKER_BATCH at a time,
    until SIGTERM or Ctrl-C (the round under way finishes first)."""
    if ctx.invoked_subcommand is not None:
        return
    import steward.app  # noqa: F401 - every domain, so every timer handler and listener
    from steward.cli.secrets import require_secret_key
    from steward.jobs.loop import TimerLoop, worker_name
    from steward.jobs.timers import registered_kinds
    from steward.startup import arm_recurring

    for module in handlers or []:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            fail(f"--handlers {module}: {exc}")
    db = open_database()
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("steward").setLevel(logging.INFO)
    require_secret_key(db)
    with domain_errors():
        arm_recurring(db.settings, db)
    loop = TimerLoop(db, worker=worker_name("worker"))
    if once:
        result = loop.run_once()
        console.print(f"{result.fired} timer(s) fired, {result.failed} failed.",
                      highlight=False)
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: loop.stop_soon())
    console.print(f"Steward worker {loop.worker} on {db.describe()}: timers of "
                  f"{', '.join(registered_kinds())}; every {loop.poll:g} s, "
                  f"{loop.batch} at a time.", highlight=False)
    loop.run()
    console.print(f"Stopped: {loop.fired} timer(s) fired, {loop.failed} failed.",
                  highlight=False)


@worker_app.command("status")
def worker_status(
    kind: Annotated[str | None, typer.Option(help="only timers of this kind")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Timers by kind and state, how many are overdue, and the oldest waiting."""
    from steward.jobs.queries import summary

    db = open_database()
    with db.read_session() as session:
        found = summary(session, kind=kind)
    now = utcnow()
    answer: dict[str, Any] = {
        "counts": [{"kind": c.kind, "state": c.state, "count": c.count}
                   for c in found.counts],
        "overdue": found.overdue, "oldest_due": isoformat_z(found.oldest_due)}
    if json_out:
        print_json(answer)
        return
    if not found.counts:
        console.print("No timers.")
        return
    states = ("pending", "done", "failed", "canceled")
    by_kind: dict[str, dict[str, int]] = {}
    for count in found.counts:
        by_kind.setdefault(count.kind, {})[count.state] = count.count
    table = Table(title="Timers")
    for column in ("kind", *states):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for name, counts in by_kind.items():
        table.add_row(name, *(str(counts.get(s, 0)) for s in states))
    console.print(table)
    if found.oldest_due is None:
        console.print("Nothing is waiting.")
    else:
        late = (now - found.oldest_due).total_seconds()
        when = (f"{late:.0f} s overdue" if late > 0 else f"in {-late:.0f} s")
        console.print(f"{found.overdue} overdue; the oldest waiting was due "
                      f"{isoformat_z(found.oldest_due)} ({when}).", highlight=False)
