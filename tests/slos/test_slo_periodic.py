"""SLO burn alerts evaluated by a recurring timer (kind ``slo.evaluate``) on SQLite and
PostgreSQL: armed from the setting, fired once per period by whichever loop claims it,
re-armed by itself, turned off by 0."""

from __future__ import annotations

from datetime import timedelta

from helpers import make_service, make_team, run_timers_of
from sqlalchemy import select

from steward.auth.actor import SYSTEM
from steward.config import Settings
from steward.incidents.models import Alert
from steward.incidents.use_cases import lifecycle
from steward.jobs import queries as timer_queries
from steward.jobs import timers
from steward.slos import periodic
from steward.slos import service as slos
from steward.slos.schemas import SloCreate
from steward.startup import arm_recurring
from steward.timeutil import utcnow


def slo_alert_keys(db) -> set[str]:
    with db.read_session() as session:
        return set(session.scalars(select(Alert.dedup_key).where(Alert.source == "slo")))


def the_timer(db) -> timer_queries.TimerRecord:
    with db.read_session() as session:
        _total, found = timer_queries.list_timers(session, kind=periodic.KIND)
    assert len(found) == 1
    return found[0]


def test_the_timer_evaluates_every_slo_and_schedules_its_next_round(db) -> None:
    make_team(db, "payments")
    make_service(db, "ledger", "payments")
    with db.session() as session:
        slo = slos.create_slo(session, SYSTEM, "ledger", SloCreate(
            name="availability", objective=0.999, window_days=28, sli="impact"))
        lifecycle.declare(session, SYSTEM, "Ledger writes failing", "ledger",
                          started_at=utcnow() - timedelta(hours=2))
    assert slo_alert_keys(db) == set()  # nothing evaluated the SLO since the incident

    arm_recurring(Settings(database_url=db.url, slo_evaluate_seconds="60"), db)
    armed = the_timer(db)
    assert armed.state == "pending" and armed.payload == {"every": 60.0}
    assert timedelta(seconds=55) < armed.due_at - utcnow() <= timedelta(seconds=60)
    assert run_timers_of(db, periodic.KIND) == 0  # not yet

    assert run_timers_of(db, periodic.KIND, now=utcnow() + timedelta(seconds=61)) == 1
    assert slo_alert_keys(db) == {f"slo:{slo.id}:{rule}"
                                  for rule in ("fast-burn", "slow-burn", "ticket-burn")}
    again = the_timer(db)
    assert again.state == "pending" and again.fired_by == "test"
    assert again.due_at > armed.due_at

    # Another server starting with the same setting leaves the round where it is.
    arm_recurring(Settings(database_url=db.url, slo_evaluate_seconds="60"), db)
    assert the_timer(db).due_at == again.due_at
    # A new period moves it; 0 turns the evaluation off.
    arm_recurring(Settings(database_url=db.url, slo_evaluate_seconds="5"), db)
    assert the_timer(db).due_at < again.due_at
    arm_recurring(Settings(database_url=db.url, slo_evaluate_seconds="0"), db)
    assert the_timer(db).state == "canceled"
    assert run_timers_of(db, periodic.KIND, now=utcnow() + timedelta(hours=1)) == 0


def test_a_failed_evaluation_still_schedules_the_next_round(db, monkeypatch) -> None:
    def broken(session, **_kwargs):
        raise RuntimeError("the SLO tables are locked")

    monkeypatch.setattr(periodic, "evaluate_all", broken)
    arm_recurring(Settings(database_url=db.url, slo_evaluate_seconds="30"), db)
    before = the_timer(db)
    assert timers.run_round(db, worker="w", now=utcnow() + timedelta(seconds=31)).fired == 1
    after = the_timer(db)
    assert after.state == "pending" and after.attempts == 0
    assert after.due_at > before.due_at
