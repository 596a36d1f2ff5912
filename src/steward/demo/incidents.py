"""Incidents for the demo: a live cascade and some history, through the real use cases.

- Now: the shared core-db fails under Order-to-Cash and Banking WebApp. The
  orders and accounts services alert first, then the database; correlation
  makes one incident whose probable origin is core-db, and the core-db
  deployment shortly before is the top suspect.
- Six days ago: a payments-gateway release broke card payments; its
  deployment was confirmed as the cause, a fix was deployed, the incident
  resolved and closed.
- Three days ago: a slow help-centre search, declared by hand, resolved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from steward.auth.actor import Actor
from steward.auth.models import Integration
from steward.auth.use_cases import accounts as auth
from steward.auth.use_cases.integrations import create_integration
from steward.changes.commands import RecordDeployment
from steward.changes.use_cases.deployments import record_deployment
from steward.db import Database
from steward.incidents.commands import RecordAlert
from steward.incidents.use_cases import lifecycle
from steward.incidents.use_cases.alerts import record_alert
from steward.timeutil import utcnow

SEED = Actor(kind="system", id="demo", name="demo-seed", role="admin")


def _user(session: Session, name: str) -> Actor:
    return auth.actor_for_user(session, auth.get_user(session, name))


def _alert(session: Session, integration: Integration, service: str, key: str, summary: str,
           severity: str, at: datetime, status: str = "firing",
           ended: datetime | None = None) -> int | None:
    recorded = record_alert(session, integration, RecordAlert(
        dedup_key=key, status=status, severity=severity, service=service, summary=summary,
        occurred_at=at, ended_at=ended, received_at=ended or at, source="alertmanager",
        labels={"alertname": key.split(":")[0], "service": service, "severity": severity}))
    return recorded.incident.id if recorded.incident else None


def seed_incidents(db: Database) -> str:
    now = utcnow().replace(microsecond=0)
    with db.session() as session:
        platform_keys = {}
        for team in ("platform", "order-to-cash", "banking-webapp"):
            integration, _ = create_integration(session, SEED, "alertmanager", team=team,
                                                name=f"alertmanager-{team}")
            platform_keys[team] = integration
        # History first: the payments outage six days ago.
        start = now - timedelta(days=6, hours=2)
        bad = record_deployment(session, _user(session, "alice"), RecordDeployment(
            service="payments-gateway", environment="production", status="succeeded",
            version="8.4.0", finished_at=start - timedelta(minutes=25),
            description="Card tokenisation library upgrade")).deployment
        o2c = platform_keys["order-to-cash"]
        past = _alert(session, o2c, "payments-gateway", "CardAuthFailures:payments-gateway",
                      "Card authorisations failing (38%)", "critical", start)
        assert past is not None
        _alert(session, o2c, "payments-gateway", "HighLatency:payments-gateway",
               "payments-gateway: p99 latency 2.8 s", "warning", start + timedelta(minutes=2))
        alice = _user(session, "alice")
        lifecycle.act(session, alice, past, "acknowledge", at=start + timedelta(minutes=6))
        lifecycle.assign(session, alice, past, assignee="alice", commander="alice",
                         at=start + timedelta(minutes=7))
        lifecycle.add_note(session, alice, past, "Failures started right after 8.4.0; "
                           "rolling back.", at=start + timedelta(minutes=12))
        lifecycle.confirm_cause(session, alice, past, bad.id, at=start + timedelta(minutes=15))
        fix = record_deployment(session, alice, RecordDeployment(
            service="payments-gateway", environment="production", status="succeeded",
            version="8.4.1", finished_at=start + timedelta(minutes=41),
            fixes_incident=past, description="Pin the tokenisation library")).deployment
        lifecycle.mark_fix(session, alice, past, fix.id, at=start + timedelta(minutes=42))
        for key, service in (("CardAuthFailures:payments-gateway", "payments-gateway"),
                             ("HighLatency:payments-gateway", "payments-gateway")):
            _alert(session, o2c, service, key, "", "critical", start + timedelta(minutes=44),
                   status="resolved", ended=start + timedelta(minutes=44))
        lifecycle.act(session, alice, past, "resolve", at=start + timedelta(minutes=52))
        lifecycle.act(session, alice, past, "close", at=start + timedelta(days=1))

        # A manual, low-priority one three days ago.
        dan = _user(session, "dan")
        manual = lifecycle.declare(session, dan, "Help-centre search is slow", "search-service",
                                   impact=3, urgency=2,
                                   started_at=now - timedelta(days=3, hours=4))
        lifecycle.add_note(session, dan, manual.id, "Index rebuild running since 06:00.",
                           at=now - timedelta(days=3, hours=3))
        lifecycle.act(session, dan, manual.id, "resolve",
                      at=now - timedelta(days=3, hours=1))

        # Now: core-db fails under both product teams.
        record_deployment(session, _user(session, "carol"), RecordDeployment(
            service="core-db", environment="production", status="succeeded",
            version="15.8-config-42", finished_at=now - timedelta(minutes=24),
            description="Connection pool and work_mem settings"))
        began = now - timedelta(minutes=11)
        live = _alert(session, o2c, "orders-service", "HighErrorRate:orders-service",
                      "orders-service: 5xx above 20%", "critical", began)
        _alert(session, platform_keys["banking-webapp"], "accounts-service",
               "HighLatency:accounts-service", "accounts-service: p99 latency 4.2 s",
               "error", began + timedelta(seconds=35))
        _alert(session, platform_keys["platform"], "core-db", "PostgresDown:core-db",
               "core-db: too many connections, primary refusing clients", "critical",
               began + timedelta(seconds=80))
        assert live is not None
        carol = _user(session, "carol")
        lifecycle.act(session, carol, live, "acknowledge", at=began + timedelta(minutes=4))
        lifecycle.add_note(session, carol, live, "Connections maxed out since the config "
                           "change; checking pgbouncer.", at=began + timedelta(minutes=5))
    return "3 incidents (one live cascade)"


