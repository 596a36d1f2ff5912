"""DORA metrics on a hand-computed scenario, identical on SQLite and PostgreSQL.

Window: 14 days ending 2026-03-30 00:00 UTC, so weeks start 03-16 and 03-23.
Team pay owns api and db; team web owns site.

    D1 api  03-17 10:00  commits c1 (03-16 10:00, 24 h) and c2 (03-17 08:00, 2 h)
    D2 api  03-17 15:00  rolled back; c3 (1 h)
    D3 db   03-24 12:00  no commits; caused I1 (13:00 to 15:00: 2 h to recover)
    D4 api  03-25 09:00  c4 after the deployment (ignored), c5 (03-20 09:00, 120 h);
                         the fix of I1 (rework)
    D5 api  failed, D6 api on staging, D8 api before the window, D9 api at the
            window's end: none of them count
    D7 site 03-28 00:00  c6 (24 h)
    I2 (pay) 03-19 00:00 to 06:00, caused by nothing: only in MTTR
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from helpers import make_service, make_team

from steward.catalog.models import Service, Team
from steward.changes.models import Deployment, DeploymentCommit
from steward.errors import NotFound, ValidationError
from steward.incidents.models import Incident, IncidentService
from steward.kpis.dora_queries import dora_kpis, dora_table

END = datetime(2026, 3, 30, tzinfo=UTC)


def t(day: int, hour: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def deploy(session: Any, service: str, finished: datetime, commits: dict[str, datetime],
           status: str = "succeeded", environment: str = "production",
           fixes: int | None = None) -> Deployment:
    service_id = session.query(Service.id).filter_by(name=service).scalar()
    dep = Deployment(service_id=service_id, environment=environment, status=status,
                     started_at=finished, finished_at=finished, fixes_incident_id=fixes)
    session.add(dep)
    session.flush()
    for sha, at in commits.items():
        session.add(DeploymentCommit(deployment_id=dep.id, sha=sha, committed_at=at))
    return dep


def incident(session: Any, team: str, service: str, started: datetime, resolved: datetime,
             caused_by: Deployment | None = None) -> Incident:
    team_id = session.query(Team.id).filter_by(name=team).scalar()
    service_id = session.query(Service.id).filter_by(name=service).scalar()
    inc = Incident(title=f"{service} down", started_at=started, resolved_at=resolved,
                   status="resolved", owner_team_id=team_id, origin_service_id=service_id,
                   caused_by_deployment_id=caused_by.id if caused_by else None)
    session.add(inc)
    session.flush()
    session.add(IncidentService(incident_id=inc.id, service_id=service_id,
                                first_alert_at=started))
    return inc


@pytest.fixture
def scenario(db):
    for team in ("pay", "web", "empty"):
        make_team(db, team)
    make_service(db, "api", owner="pay")
    make_service(db, "db", owner="pay")
    make_service(db, "site", owner="web")
    with db.session() as s:
        deploy(s, "api", t(17, 10), {"c1": t(16, 10), "c2": t(17, 8)})
        deploy(s, "api", t(17, 15), {"c3": t(17, 14)}, status="rolled_back")
        d3 = deploy(s, "db", t(24, 12), {})
        i1 = incident(s, "pay", "db", t(24, 13), t(24, 15), caused_by=d3)
        deploy(s, "api", t(25, 9), {"c4": t(25, 10), "c5": t(20, 9)}, fixes=i1.id)
        deploy(s, "api", t(26), {"c8": t(25)}, status="failed")
        deploy(s, "api", t(26), {"c8": t(25)}, environment="staging")
        deploy(s, "site", t(28), {"c6": t(27)})
        deploy(s, "api", t(10), {"c7": t(9)})
        deploy(s, "api", END, {"c9": t(29)})
        incident(s, "pay", "api", t(19), t(19, 6))
        s.commit()
    return db


def test_team_metrics_follow_the_definitions(scenario) -> None:
    with scenario.session() as s:
        out = dora_kpis(s, team="pay", days=14, end=END)
    assert out["scope"] == {"team": "pay", "service": None}
    assert out["window"] == {"start": "2026-03-16T00:00:00Z", "end": "2026-03-30T00:00:00Z",
                             "days": 14}
    assert out["deployments"] == 4
    freq = out["deployment_frequency"]
    assert freq["per_day"] == pytest.approx(4 / 14, abs=1e-4)
    assert freq["deploy_days_per_week"] == 1.5  # weeks with 1 and 2 deploy days
    assert freq["tier"] == "high"
    lead = out["lead_time_hours"]  # pairs 1, 2, 24, 120 hours
    assert lead["median"] == pytest.approx(13.0)
    assert lead["p90"] == pytest.approx(91.2)
    assert lead["tier"] == "elite"
    assert out["change_failure_rate"] == {"value": 0.5, "failed_deployments": 2, "tier": "low"}
    assert out["recovery_time_hours"]["median"] == pytest.approx(2.0)
    assert out["recovery_time_hours"]["tier"] == "high"
    assert out["rework_rate"]["value"] == 0.25
    assert out["mttr_hours"]["median"] == pytest.approx(4.0)
    assert out["mttr_hours"]["p90"] == pytest.approx(5.6)
    assert out["mttr_hours"]["mean"] == pytest.approx(4.0)
    assert out["tier"] == "low"
    weeks = out["weekly"]
    assert [w["week_start"] for w in weeks] == ["2026-03-16T00:00:00Z", "2026-03-23T00:00:00Z"]
    assert [w["deployments"] for w in weeks] == [2, 2]
    assert [w["deploy_days"] for w in weeks] == [1, 2]
    assert [w["lead_time_hours_median"] for w in weeks] == [pytest.approx(2.0),
                                                           pytest.approx(120.0)]
    assert [w["change_failure_rate"] for w in weeks] == [0.5, 0.5]


def test_organisation_and_service_scopes(scenario) -> None:
    with scenario.session() as s:
        org = dora_kpis(s, days=14, end=END)
        site = dora_kpis(s, service="site", days=14, end=END)
    assert org["deployments"] == 5
    assert org["change_failure_rate"]["value"] == 0.4
    assert org["deployment_frequency"]["deploy_days_per_week"] == 2.0
    assert org["lead_time_hours"]["median"] == pytest.approx(24.0)
    assert org["lead_time_hours"]["tier"] == "high"  # 24 h is not under 24 h
    assert org["lead_time_hours"]["p90"] == pytest.approx(81.6)
    assert site["deployments"] == 1
    assert site["deployment_frequency"]["deploy_days_per_week"] == 0.5
    assert site["deployment_frequency"]["tier"] == "medium"
    assert site["change_failure_rate"]["value"] == 0.0
    assert site["change_failure_rate"]["tier"] == "elite"
    assert site["recovery_time_hours"]["median"] is None


def test_empty_window_gives_nulls_not_zeros(scenario) -> None:
    with scenario.session() as s:
        empty = dora_kpis(s, team="empty", days=14, end=END)
        before = dora_kpis(s, days=3, end=t(1))
    for out in (empty, before):
        assert out["deployments"] == 0
        assert out["lead_time_hours"]["median"] is None
        assert out["change_failure_rate"]["value"] is None
        assert out["recovery_time_hours"]["median"] is None
        assert out["rework_rate"]["value"] is None
        assert out["mttr_hours"]["median"] is None
    assert empty["deployment_frequency"]["tier"] == "low"
    assert before["weekly"] == []  # three days hold no whole week
    assert before["deployment_frequency"]["deploy_days_per_week"] is None


def test_table_per_team_matches_single_scope(scenario) -> None:
    with scenario.session() as s:
        table = {row["team"]: row for row in dora_table(s, group_by="team", days=14, end=END)}
        pay = dora_kpis(s, team="pay", days=14, end=END)
        services = {row["service"]: row for row in dora_table(s, group_by="service", days=14,
                                                               end=END)}
    assert set(table) == {"pay", "web", "empty"}
    pay.pop("weekly"), pay.pop("scope")
    assert table["pay"] == {"team": "pay", **pay}
    assert table["web"]["deployments"] == 1
    assert services["api"]["deployments"] == 3
    assert services["db"]["change_failure_rate"]["value"] == 1.0
    assert services["db"]["mttr_hours"]["median"] == pytest.approx(2.0)


def test_window_across_a_daylight_saving_change(scenario) -> None:
    """Europe moved its clocks on 2026-03-29: a window is whole 24-hour days all the same."""
    from zoneinfo import ZoneInfo

    local_end = datetime(2026, 3, 30, 2, tzinfo=ZoneInfo("Europe/Amsterdam"))  # 00:00 UTC
    with scenario.session() as s:
        local = dora_kpis(s, team="pay", days=14, end=local_end)
        utc = dora_kpis(s, team="pay", days=14, end=END)
    assert local == utc


def test_bad_scope_and_window(scenario) -> None:
    with scenario.session() as s:
        with pytest.raises(NotFound, match="team 'nope'"):
            dora_kpis(s, team="nope")
        with pytest.raises(ValidationError, match="days"):
            dora_kpis(s, days=0)
        with pytest.raises(ValidationError, match="group_by"):
            dora_table(s, group_by="person")  # type: ignore[arg-type]


def test_every_production_name_counts_in_any_case(db) -> None:
    make_team(db, "ops")
    make_service(db, "svc", owner="ops")
    with db.session() as s:
        for env in ("Production", "PROD", "live", "staging", "qa"):
            deploy(s, "svc", t(20), {}, environment=env)
        s.commit()
    with db.session() as s:
        assert dora_kpis(s, days=14, end=END)["deployments"] == 3
