"""Every ``steward serve`` process fires timers, and stops its loop cleanly on SIGTERM."""

from __future__ import annotations

import signal
from pathlib import Path

from serving import database_env, start_serve, steward, wait_until
from sqlalchemy import select

from steward.config import Settings
from steward.db import Database
from steward.jobs.models import Timer


def test_a_server_fires_timers_and_stops_its_loop_on_sigterm(tmp_path: Path) -> None:
    env = {**database_env(tmp_path / "steward.db"), "STEWARD_SLO_EVALUATE_SECONDS": "0.3",
           "STEWARD_WORKER_POLL_SECONDS": "0.1"}
    assert steward(env, "init").returncode == 0
    db = Database(Settings(database_url=env["STEWARD_DATABASE_URL"]))
    log = tmp_path / "serve.log"
    process, _url = start_serve(env, log)
    try:
        def fired_by_the_server() -> str | None:
            with db.read_session() as session:
                return session.scalar(select(Timer.fired_by).where(
                    Timer.key == "slo.evaluate"))

        fired_by = wait_until(fired_by_the_server, timeout=30, what="the server's loop")
        assert fired_by.startswith("serve@") and fired_by.endswith(f":{process.pid}")
        process.send_signal(signal.SIGTERM)
        # uvicorn ends by raising the signal it handled again, once shut down.
        assert process.wait(timeout=20) in (0, -signal.SIGTERM), log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        db.dispose()
    text = log.read_text()
    assert "Application shutdown complete" in text and "Traceback" not in text, text
