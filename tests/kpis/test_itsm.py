"""ITSM KPIs on a hand-computed scenario (30 days ending 2026-03-30 00:00 UTC).

Team pay, service api (default SLA: P1 respond 15 min / resolve 4 h, P2 30 min /
8 h, P3 4 h / 3 d):
    A P1 03-01 00:00, acknowledged 00:10, resolved 02:00         met
    B P1 03-02 00:00, acknowledged 00:30, resolved 01:00, reopened   missed (response)
    C P3 03-03 00:00, never acknowledged, resolved 06:00         missed (first response 6 h)
    D P2 03-29 20:00, still open, 4 h old at the end             not yet known
    E P2 03-10 00:00, acknowledged 00:20, still open             missed (overdue)
    F P4 imported, 03-05 to 03-20, made_sla true                 met (as recorded)
    G P1 02-20: before the window
Team web: H P3 03-15 00:00, acknowledged 00:05, resolved 01:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from helpers import make_service, make_team

from steward.catalog.models import Service, Team
from steward.changes.models import Change, Deployment
from steward.incidents.models import Incident, IncidentService
from steward.kpis.itsm import itsm_kpis, itsm_table
from steward.problems.models import Problem

END = datetime(2026, 3, 30, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def t(day: int, hour: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def ids(s: Any, team: str, service: str) -> tuple[int, int]:
    return (s.query(Team.id).filter_by(name=team).scalar(),
            s.query(Service.id).filter_by(name=service).scalar())


def incident(s: Any, team: str, service: str, priority: str, started: datetime, *,
             ack: datetime | None = None, resolved: datetime | None = None,
             status: str | None = None, **fields: Any) -> None:
    team_id, service_id = ids(s, team, service)
    inc = Incident(title="x", priority=priority, started_at=started, acknowledged_at=ack,
                   resolved_at=resolved, owner_team_id=team_id, origin_service_id=service_id,
                   status=status or ("resolved" if resolved else "triggered"), **fields)
    s.add(inc)
    s.flush()
    s.add(IncidentService(incident_id=inc.id, service_id=service_id, first_alert_at=started))


def change(s: Any, team: str, created: datetime, *, model: str = "normal",
           state: str = "new", outcome: str | None = None, auto: bool = False,
           authorized: datetime | None = None) -> None:
    team_id, _ = ids(s, team, "api")
    s.add(Change(title="c", owner_team_id=team_id, model=model, state=state, outcome=outcome,
                 auto_approved=auto, authorized_at=authorized, created_at=created))


@pytest.fixture
def scenario(db):
    make_team(db, "pay")
    make_team(db, "web")
    make_service(db, "api", owner="pay")
    make_service(db, "site", owner="web")
    with db.session() as s:
        incident(s, "pay", "api", "P1", t(1), ack=t(1) + 10 * M, resolved=t(1, 2))
        incident(s, "pay", "api", "P1", t(2), ack=t(2) + 30 * M, resolved=t(2, 1),
                 reopen_count=1)
        incident(s, "pay", "api", "P3", t(3), resolved=t(3, 6))
        incident(s, "pay", "api", "P2", t(29, 20))
        incident(s, "pay", "api", "P2", t(10), ack=t(10) + 20 * M, status="acknowledged")
        incident(s, "pay", "api", "P4", t(5), resolved=t(20), made_sla=True,
                 source="servicenow")
        incident(s, "pay", "api", "P1", t(20, month=2), resolved=t(20, 1, month=2))
        incident(s, "web", "site", "P3", t(15), ack=t(15) + 5 * M, resolved=t(15, 1))
        change(s, "pay", t(4), state="closed", outcome="successful", authorized=t(4, 2))
        change(s, "pay", t(5), model="standard", state="closed", outcome="failed", auto=True,
               authorized=t(5))
        change(s, "pay", t(6), model="emergency", state="implementing",
               authorized=t(6) + 30 * M)
        change(s, "pay", t(7))
        change(s, "pay", t(1, month=1), state="closed", outcome="failed")  # before the window
        _, api = ids(s, "pay", "api")
        s.add(Deployment(service_id=api, environment="production", status="succeeded",
                         finished_at=t(8), unauthorised=True))
        s.add(Deployment(service_id=api, environment="staging", status="succeeded",
                         finished_at=t(8), unauthorised=True))
        team_id, _ = ids(s, "pay", "api")
        s.add(Problem(title="p1", status="open", owner_team_id=team_id, created_at=t(20)))
        s.add(Problem(title="p2", status="resolved", owner_team_id=team_id, created_at=t(1),
                      resolved_at=t(25)))
        s.add(Problem(title="p3", status="known_error", owner_team_id=team_id,
                      created_at=t(10)))
        s.commit()
    return db


def test_incident_kpis_follow_the_definitions(scenario) -> None:
    with scenario.session() as s:
        out = itsm_kpis(s, team="pay", days=30, end=END)
    assert out["window"]["start"] == "2026-02-28T00:00:00Z"
    assert out["incidents"] == 6
    assert out["mtta_hours"]["median"] == pytest.approx(1 / 3, abs=1e-4)
    assert out["mtta_hours"]["mean"] == pytest.approx(1 / 3, abs=1e-4)
    assert out["mtta_hours"]["p90"] == pytest.approx(0.4667, abs=1e-4)
    assert out["mttr_hours"]["median"] == pytest.approx(4.0)
    assert out["mttr_hours"]["p90"] == pytest.approx(253.8)
    assert out["mttr_hours"]["mean"] == pytest.approx(92.25)
    assert out["sla_compliance"] == 0.4  # A and F met; B, C, E missed; D not yet known
    assert out["reopen_rate"] == pytest.approx(1 / 6, abs=1e-4)
    assert out["by_status"] == {"acknowledged": 1, "resolved": 4, "triggered": 1}
    p1, p2 = out["by_priority"]["P1"], out["by_priority"]["P2"]
    assert p1["incidents"] == 2
    assert p1["mttr_hours"]["median"] == pytest.approx(1.5)
    assert p1["mtta_hours"]["median"] == pytest.approx(1 / 3, abs=1e-4)
    assert p1["sla_compliance"] == 0.5
    assert p2["incidents"] == 2 and p2["sla_compliance"] == 0.0
    assert p2["mttr_hours"] == {"median": None, "p90": None, "mean": None}
    assert out["by_priority"]["P4"]["sla_compliance"] == 1.0
    assert set(out["by_priority"]) == {"P1", "P2", "P3", "P4"}


def test_change_and_problem_kpis(scenario) -> None:
    with scenario.session() as s:
        out = itsm_kpis(s, team="pay", days=30, end=END)
    changes = out["changes"]
    assert changes["total"] == 4 and changes["closed"] == 2
    assert changes["success_rate"] == 0.5
    assert changes["score"] == -2  # successful +3, failed -5
    assert changes["auto_approval_rate"] == 0.25
    assert changes["emergency_share"] == 0.25
    assert changes["approval_wait_hours"]["median"] == pytest.approx(1.25)
    assert changes["unauthorised"] == 1  # the staging one does not count
    assert out["problems"] == {"backlog": 2, "median_age_days": 15.0}


def test_scopes_and_table(scenario) -> None:
    with scenario.session() as s:
        org = itsm_kpis(s, days=30, end=END)
        site = itsm_kpis(s, service="site", days=30, end=END)
        table = {row["team"]: row for row in itsm_table(s, group_by="team", days=30, end=END)}
        services = {r["service"]: r for r in itsm_table(s, group_by="service", days=30,
                                                         end=END)}
        empty = itsm_kpis(s, days=30, end=t(1, month=1))
    assert org["incidents"] == 7
    assert site["incidents"] == 1 and site["sla_compliance"] == 1.0
    assert site["mttr_hours"]["median"] == pytest.approx(1.0)
    assert table["pay"]["incidents"] == 6 and table["web"]["incidents"] == 1
    assert table["pay"]["changes"]["total"] == 4
    assert services["api"]["incidents"] == 6
    assert empty["incidents"] == 0
    assert empty["mttr_hours"]["median"] is None and empty["sla_compliance"] is None
    assert empty["changes"]["success_rate"] is None


def test_percentiles_match_percentile_cont_on_random_durations(db) -> None:
    """Interpolated like PERCENTILE_CONT, on either backend, for any count of values."""
    import random
    import statistics

    make_team(db, "ops")
    make_service(db, "svc", owner="ops")
    rnd = random.Random(7)
    minutes = [rnd.randint(1, 5000) for _ in range(137)]
    with db.session() as s:
        for i, m in enumerate(minutes):
            start = t(1) + timedelta(minutes=i)
            incident(s, "ops", "svc", "P3", start, resolved=start + m * M)
        s.commit()
    with db.session() as s:
        out = itsm_kpis(s, team="ops", days=30, end=END)["mttr_hours"]
    hours = sorted(m / 60 for m in minutes)
    position = 0.9 * (len(hours) - 1)
    low = int(position)
    p90 = hours[low] + (position - low) * (hours[low + 1] - hours[low])
    assert out["median"] == pytest.approx(statistics.median(hours), abs=1e-4)
    assert out["p90"] == pytest.approx(p90, abs=1e-4)
    assert out["mean"] == pytest.approx(statistics.fmean(hours), abs=1e-4)
