"""Alerts to incidents in the service layer: dedup, cascade correlation, origin, suspects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import make_dependency, make_service, make_team, make_user
from sqlalchemy import select

from steward.auth.actor import SYSTEM
from steward.auth.use_cases import accounts as auth
from steward.catalog.models import Service
from steward.changes.assessment import change_failure_stats
from steward.changes.commands import RecordDeployment
from steward.changes.use_cases.deployments import record_deployment
from steward.errors import Conflict, PermissionDenied, ValidationError
from steward.incidents import queries
from steward.incidents.commands import RecordAlert
from steward.incidents.models import Alert, Incident
from steward.incidents.use_cases import causes, lifecycle
from steward.incidents.use_cases.alerts import record_alert
from steward.timeutil import utcnow


@pytest.fixture
def org(db):
    """A shared database under two product teams' services (the demo's shape)."""
    for team in ("platform", "order-to-cash", "banking-webapp"):
        make_team(db, team)
    make_service(db, "core-db", owner="platform", kind="resource", tier=1)
    make_service(db, "orders-service", owner="order-to-cash", tier=1)
    make_service(db, "accounts-service", owner="banking-webapp", tier=1)
    make_service(db, "order-to-cash-process", owner="order-to-cash",
                 kind="business_service", tier=1)
    make_service(db, "online-banking", owner="banking-webapp", kind="business_service", tier=1)
    make_service(db, "search", owner="banking-webapp", tier=3)
    make_dependency(db, "orders-service", "core-db")
    make_dependency(db, "accounts-service", "core-db")
    make_dependency(db, "order-to-cash-process", "orders-service")
    make_dependency(db, "online-banking", "accounts-service")
    make_user(db, "carol", teams=["platform"])
    return db


def alert(db, service, key, status="firing", severity="critical", at=None, summary=None):
    with db.session() as session:
        recorded = record_alert(session, None, RecordAlert(
            dedup_key=key, status=status, severity=severity, service=service,
            summary=summary or f"{service} is failing", occurred_at=at,
            received_at=at))  # history, replayed as it was received
        return (recorded.alert.id if recorded.alert else None,
                recorded.incident.id if recorded.incident else None)


def actor(db, name):
    with db.read_session() as session:
        return auth.actor_for_user(session, auth.get_user(session, name))


def detail(db, incident_id):
    with db.read_session() as session:
        return queries.incident_out(session, lifecycle.get_incident(session, incident_id),
                                  detail=True)


def test_cascade_becomes_one_incident_with_the_database_as_origin(org):
    start = utcnow() - timedelta(minutes=10)
    _, first = alert(org, "orders-service", "orders-5xx", at=start)
    _, second = alert(org, "core-db", "db-down", at=start + timedelta(seconds=40))
    _, third = alert(org, "accounts-service", "accounts-5xx", at=start + timedelta(seconds=70))
    assert first == second == third
    incident = detail(org, first)
    assert incident["origin_service"] == "core-db"
    assert "core-db" in incident["origin_reasoning"]
    assert set(incident["business_services_down"]) == {"order-to-cash-process",
                                                       "online-banking"}
    assert incident["team"] == "platform"
    assert incident["priority"] == "P1"
    assert incident["started_at"] == incident["alerts"][0]["first_seen"]
    kinds = [e["kind"] for e in incident["timeline"]]
    assert kinds.count("alert") == 3


def test_burn_alerts_downstream_of_an_open_cascade_join_it_later(org):
    """The cascade is still triggered twelve minutes on: SLO burn alerts on services that
    need core-db join it rather than opening a second P1; its origin and team stay."""
    start = utcnow() - timedelta(minutes=20)
    _, cascade = alert(org, "core-db", "db-down", at=start)
    _, burn = alert(org, "online-banking", "slo-burn", severity="error",
                    at=start + timedelta(minutes=12))
    assert burn == cascade
    incident = detail(org, cascade)
    assert (incident["origin_service"], incident["team"]) == ("core-db", "platform")
    assert [t["team"] for t in incident["responding_teams"]] == ["banking-webapp"]
    assert [e["kind"] for e in incident["timeline"]] == ["alert", "alert", "team"]
    with org.session() as session:  # once mitigated, only within the window
        lifecycle.act(session, actor(org, "carol"), cascade, "mitigate")
    _, late = alert(org, "orders-service", "orders-5xx", at=utcnow())
    assert late != cascade


def test_unrelated_service_opens_its_own_incident(org):
    _, db_incident = alert(org, "core-db", "db-down")
    make_service(org, "mail-relay", owner="platform", kind="resource", tier=3)
    _, other = alert(org, "mail-relay", "mail-queue")
    assert other != db_incident


def test_dedup_counts_repeats_and_resolve_then_trigger_starts_anew(org):
    first, incident = alert(org, "core-db", "db-down")
    again, same = alert(org, "core-db", "db-down")
    assert (again, same) == (first, incident)
    with org.read_session() as session:
        assert session.get(Alert, first).count == 2
    alert(org, "core-db", "db-down", status="resolved")
    assert detail(org, incident)["status"] == "mitigated"
    fresh, joined = alert(org, "core-db", "db-down")
    assert fresh != first and joined == incident
    assert detail(org, incident)["status"] == "triggered"
    # A resolve for a key with no active alert changes nothing.
    assert alert(org, "core-db", "never-fired", status="resolved") == (None, None)


def test_deployment_before_the_failure_is_the_top_suspect_and_counts_as_failed(org):
    now = utcnow()
    with org.session() as session:
        early = record_deployment(session, SYSTEM, RecordDeployment(
            service="core-db", environment="production", status="succeeded", version="15.1",
            finished_at=now - timedelta(hours=20))).deployment.id
        culprit = record_deployment(session, SYSTEM, RecordDeployment(
            service="core-db", environment="production", status="succeeded", version="15.2",
            finished_at=now - timedelta(minutes=12))).deployment.id
        record_deployment(session, SYSTEM, RecordDeployment(
            service="orders-service", environment="production", status="succeeded",
            version="3.0", finished_at=now - timedelta(hours=2)))
    _, incident_id = alert(org, "core-db", "db-down", at=now - timedelta(minutes=5))
    incident = detail(org, incident_id)
    suspects = incident["suspects"]
    assert suspects[0]["deployment_id"] == culprit
    assert any("7 minutes" in r for r in suspects[0]["reasons"]), suspects[0]["reasons"]
    assert {s["deployment_id"] for s in suspects} == {culprit, early}  # orders is downstream
    with org.session() as session:
        causes.confirm_cause(session, actor(org, "carol"), incident_id, culprit)
    assert detail(org, incident_id)["caused_by_deployment"] == culprit
    with org.read_session() as session:
        core_db = session.scalar(select(Service.id).where(Service.name == "core-db"))
        total, failed = change_failure_stats(session, [core_db], "production")
    assert (total, failed) == (2, 1)


def test_lifecycle_actions_with_recorded_times(org):
    start = utcnow() - timedelta(hours=1)
    _, incident_id = alert(org, "core-db", "db-down", at=start)
    carol = actor(org, "carol")
    with org.session() as session:
        lifecycle.act(session, carol, incident_id, "acknowledge",
                      at=start + timedelta(minutes=3))
    with pytest.raises(Conflict, match="acknowledged"), org.session() as session:
        lifecycle.act(session, carol, incident_id, "close")
    with pytest.raises(ValidationError, match="future"), org.session() as session:
        lifecycle.act(session, carol, incident_id, "resolve", at=utcnow() + timedelta(hours=1))
    with org.session() as session:
        lifecycle.act(session, carol, incident_id, "resolve", at=start + timedelta(minutes=40))
        lifecycle.act(session, carol, incident_id, "reopen")
    incident = detail(org, incident_id)
    assert incident["status"] == "triggered" and incident["reopen_count"] == 1
    assert incident["acknowledged_at"] is not None and incident["resolved_at"] is None


def test_manual_incident_notes_assignment_and_priority_override(org):
    carol = actor(org, "carol")
    with org.session() as session:
        incident = lifecycle.declare(session, carol, "Slow searches", "search", impact=3,
                                     urgency=3)
        incident_id = incident.id
    assert detail(org, incident_id)["priority"] == "P5"
    with org.session() as session:
        lifecycle.add_note(session, carol, incident_id, "Looking at the index.")
        lifecycle.assign(session, carol, incident_id, assignee="carol", commander="carol")
        lifecycle.set_priority(session, carol, incident_id, impact=1)
    incident = detail(org, incident_id)
    assert incident["priority"] == "P3" and incident["assignee"] == "carol"
    assert [e["kind"] for e in incident["timeline"]][-3:] == ["note", "assignment", "priority"]
    with pytest.raises(ValidationError, match="nobody-here"), org.session() as session:
        lifecycle.assign(session, carol, incident_id, assignee="nobody-here")


def test_forms_change_only_what_differs_and_refuse_a_viewer_first(org):
    """reassign and reprioritise take every field a form sends: an unchanged form records
    nothing, a changed field only itself; a viewer is refused even when nothing differs."""
    carol = actor(org, "carol")
    make_user(org, "vera", role="viewer")
    vera = actor(org, "vera")
    with org.session() as session:
        incident_id = lifecycle.declare(session, carol, "Slow searches", "search", impact=3,
                                        urgency=3).id
        lifecycle.assign(session, carol, incident_id, assignee="carol")
    entries = len(detail(org, incident_id)["timeline"])
    with org.session() as session:
        assert not lifecycle.reassign(session, carol, incident_id, assignee="carol",
                                      commander="", team="")
        assert not lifecycle.reprioritise(session, carol, incident_id, impact=3, urgency=None)
    assert len(detail(org, incident_id)["timeline"]) == entries
    with org.session() as session:
        assert lifecycle.reassign(session, carol, incident_id, assignee="carol",
                                  commander="carol")
        assert lifecycle.reprioritise(session, carol, incident_id, impact=3, urgency=1)
    incident = detail(org, incident_id)
    assert incident["commander"] == "carol" and incident["urgency"] == 1
    assert [e["text"] for e in incident["timeline"]][-2:-1] == [
        "Now incident commander carol."]
    for use_case in (lifecycle.reassign, lifecycle.reprioritise):
        with pytest.raises(PermissionDenied), org.session() as session:
            use_case(session, vera, incident_id)


def test_sla_breach_flags(org):
    _, incident_id = alert(org, "core-db", "db-down", at=utcnow() - timedelta(hours=2))
    incident = detail(org, incident_id)
    assert incident["priority"] == "P1"
    assert incident["sla"]["respond_breached"] is True


def test_unknown_service_is_named(org):
    with pytest.raises(ValidationError, match="ghost"), org.session() as session:
        record_alert(session, None, RecordAlert(dedup_key="x", status="firing",
                                                service="ghost"))
    with org.read_session() as session:
        assert session.query(Incident).count() == 0


def test_notes_assignment_and_cause_can_be_recorded_in_the_past(org):
    start = utcnow() - timedelta(hours=3)
    _, incident_id = alert(org, "core-db", "db-down", at=start)
    carol = actor(org, "carol")
    with org.session() as session:
        lifecycle.add_note(session, carol, incident_id, "First look.",
                           at=start + timedelta(minutes=10))
        lifecycle.assign(session, carol, incident_id, assignee="carol",
                         at=start + timedelta(minutes=5))
    with pytest.raises(ValidationError, match="future"), org.session() as session:
        lifecycle.add_note(session, carol, incident_id, "x", at=utcnow() + timedelta(days=1))
    timeline = detail(org, incident_id)["timeline"]
    assert [e["kind"] for e in timeline] == ["alert", "assignment", "note"]
