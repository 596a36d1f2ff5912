"""`steward slo evaluate` on the local database, as cron runs it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from helpers import make_service, make_team
from serving import database_env, steward

from steward.auth.actor import SYSTEM
from steward.config import Settings
from steward.db import Database, migrate
from steward.incidents.use_cases import lifecycle
from steward.models import ensure_seed_rows
from steward.slos import service as slos
from steward.slos.schemas import SloCreate
from steward.timeutil import utcnow


def test_evaluate_raises_then_clears_the_fast_burn_page(tmp_path: Path):
    path = tmp_path / "steward.db"
    db = Database(Settings(database_url=f"sqlite:///{path}"))
    migrate.upgrade(db)
    ensure_seed_rows(db)
    make_team(db, "payments")
    make_service(db, "ledger", "payments")
    now = utcnow()
    with db.session() as session:
        slo = slos.create_slo(session, SYSTEM, "ledger", SloCreate(
            name="availability", objective=0.999, window_days=28, sli="impact"))
        incident = lifecycle.declare(session, SYSTEM, "Ledger down", "ledger",
                                     started_at=now - timedelta(hours=2))
    env = database_env(path)
    first = steward(env, "slo", "evaluate", "--json")
    assert first.returncode == 0, first.stderr
    raised = json.loads(first.stdout)
    assert sorted(raised["raised"]) == [f"slo:{slo.id}:fast-burn", f"slo:{slo.id}:slow-burn",
                                        f"slo:{slo.id}:ticket-burn"]
    # Mitigated ten minutes ago: the last 5 minutes are clean, the last 30 are not.
    with db.session() as session:
        lifecycle.act(session, SYSTEM, incident.id, "mitigate", now - timedelta(minutes=10))
    second = steward(env, "slo", "evaluate")
    assert second.returncode == 0, second.stderr
    assert f"cleared slo:{slo.id}:fast-burn" in second.stdout
    assert "slow-burn" not in second.stdout  # still firing, nothing new to say
    db.dispose()
