"""/metrics: Prometheus text that parses, carries the API's own numbers, per team, per
service and for the organisation, never per person, and leaves out what has no data.

Scenario (days before now): team pay owns api; team web owns site; team idle owns
nothing. api: four deployments with commits, one rolled back, one causing a P2
incident that took 3 h to resolve, one fixing it; site: one deployment.
A P1 on site is open now, acknowledged after 30 minutes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from helpers import api_client, bearer, make_service, make_team, make_user
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from steward.catalog.models import Service, Team
from steward.changes.models import Deployment, DeploymentCommit
from steward.incidents.models import Incident, IncidentService
from steward.kpis.metrics import KpiCollector
from steward.timeutil import utcnow


def ship(session: Any, service: str, days_ago: float, commit_hours: list[float],
         status: str = "succeeded", fixes: int | None = None) -> Deployment:
    now = utcnow()
    service_id = session.scalar(select(Service.id).where(Service.name == service))
    at = now - timedelta(days=days_ago)
    dep = Deployment(service_id=service_id, environment="production", status=status,
                     started_at=at, finished_at=at, fixes_incident_id=fixes)
    session.add(dep)
    session.flush()
    for i, hours in enumerate(commit_hours):
        session.add(DeploymentCommit(deployment_id=dep.id, sha=f"{dep.id}-{i}",
                                     committed_at=at - timedelta(hours=hours)))
    return dep


def incident(session: Any, team: str, service: str, days_ago: float, priority: str, *,
             resolve_hours: float | None, ack_hours: float,
             caused_by: Deployment | None = None) -> Incident:
    start = utcnow() - timedelta(days=days_ago)
    team_id = session.scalar(select(Team.id).where(Team.name == team))
    service_id = session.scalar(select(Service.id).where(Service.name == service))
    resolved = start + timedelta(hours=resolve_hours) if resolve_hours is not None else None
    inc = Incident(title=f"{service} trouble", priority=priority, started_at=start,
                   acknowledged_at=start + timedelta(hours=ack_hours), resolved_at=resolved,
                   status="resolved" if resolved else "acknowledged", owner_team_id=team_id,
                   origin_service_id=service_id,
                   caused_by_deployment_id=caused_by.id if caused_by else None)
    session.add(inc)
    session.flush()
    session.add(IncidentService(incident_id=inc.id, service_id=service_id,
                                first_alert_at=start))
    if caused_by is not None:
        caused_by.caused_incident_id = inc.id
    return inc


@pytest.fixture
def client(db):  # type: ignore[no-untyped-def]
    for team in ("pay", "web", "idle"):
        make_team(db, team)
    make_service(db, "api", owner="pay")
    make_service(db, "site", owner="web")
    with db.session() as s:
        ship(s, "api", 20, [30, 6])
        ship(s, "api", 15, [2], status="rolled_back")
        bad = ship(s, "api", 10, [50])
        hurt = incident(s, "pay", "api", 9.9, "P2", resolve_hours=3, ack_hours=0.25,
                        caused_by=bad)
        ship(s, "api", 9.8, [1], fixes=hurt.id)
        ship(s, "site", 5, [12])
        incident(s, "web", "site", 0.1, "P1", resolve_hours=None, ack_hours=0.5)
    client = api_client(db)
    client.headers.update(bearer(make_user(db, "alice", role="viewer")))
    client.db = db  # type: ignore[attr-defined]
    return client


def scrape(client: Any) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = client.get("/metrics", headers={"Authorization": ""})  # public: no token
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = \
                sample.value
    return found


def value(metrics: dict[str, Any], name: str, **labels: str) -> float | None:
    return metrics.get(name, {}).get(tuple(sorted(labels.items())))


def test_metrics_equal_the_api_per_team_service_and_organisation(client):  # type: ignore[no-untyped-def]
    metrics = scrape(client)
    for labels, params in (({"team": "pay"}, {"team": "pay"}),
                           ({"service": "api"}, {"service": "api"}),
                           ({"team": "web"}, {"team": "web"}), ({}, {})):
        dora = client.get("/api/v1/kpis/dora", params=params).json()
        itsm = client.get("/api/v1/kpis/itsm", params=params).json()
        expect = {
            "steward_deployments": dora["deployments"],
            "steward_deployment_frequency_per_day": dora["deployment_frequency"]["per_day"],
            "steward_change_failure_rate": dora["change_failure_rate"]["value"],
            "steward_rework_rate": dora["rework_rate"]["value"],
            "steward_incidents": itsm["incidents"],
        }
        for name, wanted in expect.items():
            assert value(metrics, name, **labels) == wanted, (name, labels)
        for quantile, key in (("0.5", "median"), ("0.9", "p90")):
            assert value(metrics, "steward_lead_time_hours", **labels, quantile=quantile) == \
                dora["lead_time_hours"][key]
            assert value(metrics, "steward_mtta_hours", **labels, quantile=quantile) == \
                itsm["mtta_hours"][key]
        tier = dora["change_failure_rate"]["tier"]
        assert value(metrics, "steward_dora_tier", **labels, metric="change_failure_rate",
                     tier=tier) == 1
    pay = client.get("/api/v1/kpis/dora", params={"team": "pay"}).json()
    assert pay["deployments"] == 4 and pay["change_failure_rate"]["value"] == 0.5
    assert value(metrics, "steward_recovery_time_hours", team="pay", quantile="0.5") == \
        pay["recovery_time_hours"]["median"] == 3.0
    itsm_pay = client.get("/api/v1/kpis/itsm", params={"team": "pay"}).json()
    assert value(metrics, "steward_mttr_hours", team="pay", quantile="0.5") == \
        itsm_pay["mttr_hours"]["median"] == 3.0
    assert value(metrics, "steward_kpi_window_days", kpi="dora") == 28
    assert value(metrics, "steward_kpi_window_days", kpi="itsm") == 90


def test_open_incidents_and_what_is_left_out(client):  # type: ignore[no-untyped-def]
    metrics = scrape(client)
    assert value(metrics, "steward_open_incidents", team="web", priority="P1") == 1
    assert value(metrics, "steward_open_incidents", team="pay", priority="P2") == 0
    assert value(metrics, "steward_open_incidents", team="idle", priority="P5") == 0
    # idle has deployed nothing: its counts are there, medians and rates are not (not 0)
    assert value(metrics, "steward_deployments", team="idle") == 0
    assert value(metrics, "steward_change_failure_rate", team="idle") is None
    assert value(metrics, "steward_lead_time_hours", team="idle", quantile="0.5") is None
    assert value(metrics, "steward_recovery_time_hours", team="web", quantile="0.5") is None
    labels = {key for series in metrics.values() for labelset in series
              for key, _ in labelset}
    assert labels <= {"team", "service", "quantile", "metric", "tier", "priority", "kpi"}
    text = client.get("/metrics").text
    assert "alice" not in text and "user" not in text


def test_scrapes_reuse_the_answer_for_the_ttl(db):  # type: ignore[no-untyped-def]
    """The first scrape computes; within the ttl scrapes get that answer; the first scrape
    after it still gets it (at once) and starts a newer one, which later scrapes get."""
    make_team(db, "pay")
    make_service(db, "api", owner="pay")
    clock = [100.0]
    collector = KpiCollector(db, ttl=30, clock=lambda: clock[0])

    def scrape() -> tuple[float, float]:
        families = {f.name: f for f in collector.collect()}
        deployments = next(s.value for s in families["steward_deployments"].samples
                           if s.labels == {"team": "pay"})
        return deployments, families["steward_kpi_age_seconds"].samples[0].value

    assert scrape() == (0, 0)
    with db.session() as s:
        ship(s, "api", 1, [3])
    clock[0] += 29
    assert scrape() == (0, 29)  # still the cached answer
    clock[0] += 2
    assert scrape() == (0, 31)  # at hand, while a newer one is computed
    assert collector.refresher is not None
    collector.refresher.join(timeout=30)
    assert scrape() == (1, 0)


def test_without_a_cache_every_scrape_computes(db):  # type: ignore[no-untyped-def]
    make_team(db, "pay")
    make_service(db, "api", owner="pay")
    collector = KpiCollector(db, ttl=0)

    def deployments() -> float:
        family = next(f for f in collector.collect() if f.name == "steward_deployments")
        return next(s.value for s in family.samples if s.labels == {"team": "pay"})

    assert deployments() == 0
    with db.session() as s:
        ship(s, "api", 1, [3])
    assert deployments() == 1
    assert collector.refresher is None


def test_a_failed_refresh_keeps_the_answer_at_hand(db, caplog):  # type: ignore[no-untyped-def]
    make_team(db, "pay")
    make_service(db, "api", owner="pay")
    clock = [100.0]
    collector = KpiCollector(db, ttl=30, clock=lambda: clock[0])
    first = [f.name for f in collector.collect()]
    clock[0] += 31

    def broken() -> list[Any]:
        raise RuntimeError("database away")

    collector._compute = broken  # type: ignore[method-assign]
    assert [f.name for f in collector.collect()] == first
    assert collector.refresher is not None
    collector.refresher.join(timeout=30)
    families = {f.name: f for f in collector.collect()}
    assert families["steward_kpi_age_seconds"].samples[0].value == 31
    assert "computing the KPI metrics failed" in caplog.text


def test_only_counters_end_in_total(db):  # type: ignore[no-untyped-def]
    """Prometheus reserves ``_total`` for counters; windowed counts are gauges."""
    make_team(db, "pay")
    make_service(db, "api", owner="pay")
    families = list(KpiCollector(db, ttl=0).collect())
    assert families
    misnamed = [f.name for f in families if f.type != "counter" and f.name.endswith("_total")]
    assert misnamed == []
