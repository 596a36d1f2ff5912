"""Burn alerts: SLO burn rules raised and cleared as alerts on the service.

Each rule of each SLO has one alert, dedup key ``slo:{id}:{rule}``, source
``slo`` and no integration. It goes through ``record_alert`` like any other
alert, so it is routed, correlated and opens or joins an incident; when the
rule stops firing the alert is resolved, which mitigates an incident left
with no firing alert.

Evaluations are serialised: on PostgreSQL by a transaction advisory lock, on
SQLite by the write transaction itself (``BEGIN IMMEDIATE``). Alerts without
an integration are not covered by the unique active-key index (NULLs never
collide), so this lock is what keeps one active alert per key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.catalog.models import Service
from steward.db import Database
from steward.errors import ValidationError
from steward.incidents.commands import RecordAlert
from steward.incidents.models import Alert
from steward.incidents.use_cases.alerts import record_alert
from steward.slos import burn
from steward.slos.models import Slo
from steward.slos.status import ALERT_SOURCE, SloStatus, status_of
from steward.timeutil import utcnow

EVALUATOR = Actor(kind="system", id="slo-evaluator", name="slo-evaluator", role="admin")
LOCK_KEY = 7343102  # PostgreSQL advisory lock of SLO evaluation


def dedup_key(slo_id: int, rule: burn.BurnRule) -> str:
    return f"slo:{slo_id}:{rule.name}"


def lock_evaluation(session: Session, *, wait: bool) -> bool:
    """Take the evaluation lock for this transaction; False when busy and not waiting."""
    if session.get_bind().dialect.name != "postgresql":
        return True  # the SQLite write transaction already excludes other writers
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                               {"key": LOCK_KEY}))


def _active(session: Session, key: str) -> Alert | None:
    return session.scalar(select(Alert).where(
        Alert.integration_id.is_(None), Alert.dedup_key == key, Alert.status != "resolved"))


@dataclass
class Evaluation:
    slos: int = 0
    raised: list[str] = field(default_factory=list)  # dedup keys
    cleared: list[str] = field(default_factory=list)
    incidents: list[int] = field(default_factory=list)  # incidents the raised alerts are in


def _active_keys(session: Session) -> set[str]:
    """Dedup keys of every active SLO alert, in one query."""
    return set(session.scalars(select(Alert.dedup_key).where(
        Alert.integration_id.is_(None), Alert.source == ALERT_SOURCE,
        Alert.status != "resolved")))


def evaluate_slo(session: Session, slo: Slo, *, at: datetime | None = None,
                 status: SloStatus | None = None, result: Evaluation | None = None,
                 active_keys: set[str] | None = None) -> Evaluation:
    """Raise the alerts of this SLO's firing rules and resolve the others'.

    The caller holds the evaluation lock (:func:`lock_evaluation`).
    ``active_keys`` (from :func:`_active_keys`) saves a query per rule.
    """
    result = result or Evaluation()
    result.slos += 1
    service = session.get(Service, slo.service_id)
    if service is None:
        return result
    status = status or status_of(session, slo, at)
    firing = {rule.name for rule in status.firing}
    for rule in burn.RULES:
        key = dedup_key(slo.id, rule)
        if active_keys is not None and key not in active_keys and rule.name not in firing:
            continue  # quiet and nothing to resolve
        active = _active(session, key)
        if rule.name in firing and active is None:
            recorded = record_alert(session, None, RecordAlert(
                dedup_key=key, status="firing", severity=rule.severity, service=service.name,
                summary=burn.summary(slo.name, service.name, rule, status.burn_rates),
                source=ALERT_SOURCE,
                labels={"slo": slo.name, "slo_id": str(slo.id), "rule": rule.name,
                        "action": rule.action, "service": service.name},
                details={"burn_rates": status.burn_rates, "objective": slo.objective,
                         "budget_left": status.budget.left}))
            result.raised.append(key)
            if recorded.incident is not None:
                result.incidents.append(recorded.incident.id)
            _audit(session, slo, rule, "firing", recorded.alert)
        elif rule.name not in firing and active is not None:
            record_alert(session, None, RecordAlert(
                dedup_key=key, status="resolved", service=service.name, source=ALERT_SOURCE,
                ended_at=status.at))
            result.cleared.append(key)
            _audit(session, slo, rule, "resolved", active)
    return result


def clear_alerts(session: Session, slo: Slo) -> list[str]:
    """Resolve every active burn alert of an SLO (before it is deleted)."""
    service = session.get(Service, slo.service_id)
    cleared = []
    for rule in burn.RULES:
        key = dedup_key(slo.id, rule)
        active = _active(session, key)
        if active is not None and service is not None:
            record_alert(session, None, RecordAlert(dedup_key=key, status="resolved",
                                                    service=service.name, source=ALERT_SOURCE))
            cleared.append(key)
            _audit(session, slo, rule, "resolved", active)
    return cleared


def evaluate_all(session: Session, *, at: datetime | None = None) -> Evaluation:
    """Evaluate every SLO; the caller holds the evaluation lock."""
    result = Evaluation()
    active = _active_keys(session)
    for slo in session.scalars(select(Slo).order_by(Slo.id)).all():
        evaluate_slo(session, slo, at=at, result=result, active_keys=active)
    return result


def _audit(session: Session, slo: Slo, rule: burn.BurnRule, status: str,
           alert: Alert | None) -> None:
    audit.record(session, EVALUATOR, f"slo.alert.{status}", "slo", slo.id, after={
        "rule": rule.name, "severity": rule.severity, "status": status,
        "alert_id": alert.id if alert is not None else None})


def run_evaluation(db: Database, *, wait: bool = False,
                   at: datetime | None = None) -> Evaluation | None:
    """One evaluation round in its own transaction; None when another process holds it.

    ``at`` may lie in the past (alerts then resolve at that time), never in the future.
    """
    if at is not None and at > utcnow():
        raise ValidationError("at: cannot evaluate in the future", field="at")
    with db.session() as session:
        if not lock_evaluation(session, wait=wait):
            return None
        return evaluate_all(session, at=at)
