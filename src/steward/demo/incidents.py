"""Incidents for the demo: what is open now and some history, through the real use cases.

Open now, each alert recorded when it fired and in that order, so correlation
sees them as it would have live (times are minutes before the seed):

- 52: support-desk's ticket queue is stuck (a warning): a low-priority
  incident of Customer Experience, not acknowledged yet.
- 38-35: billing-api fails invoice lookups (order-to-cash); three minutes
  later ledger-db, which the ledger behind billing-api writes to, slows down.
  The incident is not acknowledged yet, so its probable origin is revised to
  ledger-db and the team to Platform (a timeline entry says so); carol then
  acknowledges it. Customer payments are down through the ledger: high impact,
  error alerts only.
- 25: web-node-2 fails its health checks: one of three nodes, so the web pool
  is degraded, not down.
- 17: core-db refuses clients, shortly after a core-db configuration
  deployment; orders-service and accounts-service, which need it, alert three
  minutes later; carol acknowledges; auth-service (Identity) alerts after that
  and its team is added as a responding team. The transfers SLO's burn alerts
  (``demo.slos``) fire when the seed ends, about a quarter of an hour after the
  cascade began, and join the same incident: one outage, one incident, with
  core-db as its probable origin and the deployment as the top suspect.
  carol publishes its first public update on the status page, from the suggested
  draft (the business services it takes down or degrades), in her own words.

History:

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
from steward.incidents.use_cases import causes, lifecycle
from steward.incidents.use_cases.alerts import record_alert
from steward.status.use_cases import updates as public_updates
from steward.timeutil import utcnow

SEED = Actor(kind="system", id="demo", name="demo-seed", role="admin")
TEAMS_WITH_ALERTMANAGER = ("platform", "order-to-cash", "banking-webapp", "identity",
                           "customer-experience")
# How long before the seed the core-db cascade began, and how long transfers have been
# failing under it (the transfers SLO's reports, ``demo.slos``, show the same minutes).
CASCADE_BEGAN = timedelta(minutes=17)
TRANSFERS_FAILING = timedelta(minutes=13)


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


def _opened(incident_id: int | None) -> int:
    assert incident_id is not None
    return incident_id


def seed_incidents(db: Database) -> str:
    now = utcnow().replace(microsecond=0)
    with db.session() as session:
        keys = {team: create_integration(session, SEED, "alertmanager", team=team,
                                         name=f"alertmanager-{team}")[0]
                for team in TEAMS_WITH_ALERTMANAGER}
        _payments_outage(session, keys, now - timedelta(days=6, hours=2))
        _slow_search(session, now)
        _open_now(session, keys, now)
    return "6 incidents (4 open, one of them the core-db cascade)"


def _payments_outage(session: Session, keys: dict[str, Integration], start: datetime) -> None:
    """Six days ago: a release broke card payments; cause confirmed, fixed, closed."""
    alice = _user(session, "alice")
    bad = record_deployment(session, alice, RecordDeployment(
        service="payments-gateway", environment="production", status="succeeded",
        version="8.4.0", finished_at=start - timedelta(minutes=25),
        description="Card tokenisation library upgrade")).deployment
    o2c = keys["order-to-cash"]
    past = _opened(_alert(session, o2c, "payments-gateway", "CardAuthFailures:payments-gateway",
                          "Card authorisations failing (38%)", "critical", start))
    _alert(session, o2c, "payments-gateway", "HighLatency:payments-gateway",
           "payments-gateway: p99 latency 2.8 s", "warning", start + timedelta(minutes=2))
    lifecycle.act(session, alice, past, "acknowledge", at=start + timedelta(minutes=6))
    lifecycle.assign(session, alice, past, assignee="alice", commander="alice",
                     at=start + timedelta(minutes=7))
    lifecycle.add_note(session, alice, past, "Failures started right after 8.4.0; "
                       "rolling back.", at=start + timedelta(minutes=12))
    causes.confirm_cause(session, alice, past, bad.id, at=start + timedelta(minutes=15))
    fix = record_deployment(session, alice, RecordDeployment(
        service="payments-gateway", environment="production", status="succeeded",
        version="8.4.1", finished_at=start + timedelta(minutes=41),
        fixes_incident=past, description="Pin the tokenisation library")).deployment
    causes.mark_fix(session, alice, past, fix.id, at=start + timedelta(minutes=42))
    for key in ("CardAuthFailures:payments-gateway", "HighLatency:payments-gateway"):
        _alert(session, o2c, "payments-gateway", key, "", "critical",
               start + timedelta(minutes=44), status="resolved",
               ended=start + timedelta(minutes=44))
    lifecycle.act(session, alice, past, "resolve", at=start + timedelta(minutes=52))
    lifecycle.act(session, alice, past, "close", at=start + timedelta(days=1))


def _slow_search(session: Session, now: datetime) -> None:
    """Three days ago: a manual, low-priority one, resolved."""
    dan = _user(session, "dan")
    manual = lifecycle.declare(session, dan, "Help-centre search is slow", "search-service",
                               impact=3, urgency=2, started_at=now - timedelta(days=3, hours=4))
    lifecycle.add_note(session, dan, manual.id, "Index rebuild running since 06:00.",
                       at=now - timedelta(days=3, hours=3))
    lifecycle.act(session, dan, manual.id, "resolve", at=now - timedelta(days=3, hours=1))


def _open_now(session: Session, keys: dict[str, Integration], now: datetime) -> None:
    """The open incidents, every alert in the order it fired (see the module's docstring)."""
    def ago(minutes: float) -> datetime:
        return now - timedelta(minutes=minutes)

    carol = _user(session, "carol")
    _alert(session, keys["customer-experience"], "support-desk",
           "TicketQueueStuck:support-desk",
           "support-desk: ticket queue stuck, 140 tickets waiting over 30 min", "warning",
           ago(52))

    ledger = _opened(_alert(session, keys["order-to-cash"], "billing-api",
                            "InvoiceLookupErrors:billing-api",
                            "billing-api: 12% of invoice lookups fail", "error", ago(38)))
    _alert(session, keys["platform"], "ledger-db", "PostgresSlowWrites:ledger-db",
           "ledger-db: write latency above 800 ms, disk 96% full", "error", ago(35))
    lifecycle.act(session, carol, ledger, "acknowledge", at=ago(31))
    lifecycle.add_note(session, carol, ledger, "WAL volume nearly full; extending it.",
                       at=ago(29))

    _alert(session, keys["platform"], "web-node-2", "NodeUnhealthy:web-node-2",
           "web-node-2: health checks failing, taken out of web-pool", "error", ago(25))

    record_deployment(session, carol, RecordDeployment(
        service="core-db", environment="production", status="succeeded",
        version="15.8-config-42", finished_at=ago(24),
        description="Connection pool and work_mem settings"))
    began = CASCADE_BEGAN.total_seconds() / 60
    cascade = _opened(_alert(session, keys["platform"], "core-db", "PostgresDown:core-db",
                             "core-db: too many connections, primary refusing clients",
                             "critical", ago(began)))
    _alert(session, keys["order-to-cash"], "orders-service", "HighErrorRate:orders-service",
           "orders-service: 5xx above 20%", "critical", ago(began - 3))
    _alert(session, keys["banking-webapp"], "accounts-service",
           "HighLatency:accounts-service", "accounts-service: p99 latency 4.2 s", "error",
           ago(TRANSFERS_FAILING.total_seconds() / 60 + 0.5))
    lifecycle.act(session, carol, cascade, "acknowledge", at=ago(began - 5))
    lifecycle.add_note(session, carol, cascade, "Connections maxed out since the config "
                       "change; checking pgbouncer.", at=ago(began - 6))
    _alert(session, keys["identity"], "auth-service", "SignInErrors:auth-service",
           "auth-service: 9% of sign-ins fail with database timeouts", "error",
           ago(began - 8))
    draft = public_updates.suggest_update(session, cascade)
    public_updates.publish_update(session, carol, cascade, {
        **draft, "status": "identified",
        "body": "Payments, sign-in and orders are failing or slow for many customers since "
                f"{ago(began):%H:%M} UTC. We have found the cause, a database configuration "
                "change, and are rolling it back. Next update within 30 minutes.",
        "components": [{"name": c["name"], "status": c["status"]}
                       for c in draft["components"]]})
