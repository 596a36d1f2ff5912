"""An alert that triggers again after it resolved: its incident reopened, or a recurrence.

A trigger for a dedup key whose last alert is resolved opens a new alert, which
follows correlation first (``correlate.place_alert``: it joins an open incident
when the rules say so). Only when it joins none does its key's history count:

- the last alert of the key belonged to an incident resolved (or closed since)
  no more than the reopen window (``STEWARD_REOPEN_WINDOW_MINUTES``) before this
  alert's time: that incident is reopened and the alert joins it;
- resolved longer ago: a new incident opens, a recurrence of that one
  (``recurrence_of_id``), and its timeline says so;
- an incident only mitigated (every alert had resolved) counts the same from when it
  was mitigated: within the window the alert joins it (which triggers it again), after
  it a new incident is its recurrence;
- otherwise (a key never seen, or whose incident is still open): a new incident.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.catalog.models import Service
from steward.incidents import settings
from steward.incidents.models import Alert, Incident
from steward.incidents.timeline import add_entry
from steward.incidents.use_cases.lifecycle import join_incident, open_incident, reopen
from steward.timeutil import as_utc

ENDED = ("resolved", "closed")


def previous_incident(session: Session, alert: Alert) -> Incident | None:
    """The incident the last earlier alert of ``alert``'s integration and key belonged to."""
    integration = (Alert.integration_id.is_(None) if alert.integration_id is None
                   else Alert.integration_id == alert.integration_id)
    incident_id = session.scalar(
        select(Alert.incident_id).where(integration, Alert.dedup_key == alert.dedup_key,
                                        Alert.id != alert.id, Alert.incident_id.is_not(None))
        .order_by(Alert.id.desc()).limit(1))
    return session.get(Incident, incident_id) if incident_id is not None else None


def reopen_or_recur(session: Session, alert: Alert, service: Service,
                    reason: str) -> Incident:
    """The incident an alert that correlated into none goes to (see the module's rules)."""
    before = previous_incident(session, alert)
    if before is None:
        return open_incident(session, alert, service, reason)
    window = settings.reopen_window()
    if before.status == "mitigated" and before.mitigated_at is not None:
        mitigated_at = as_utc(before.mitigated_at)
        if alert.first_seen - mitigated_at <= window:
            join_incident(session, before, alert, service,
                          f"It triggered again within {_minutes(window)} of INC-{before.id}'s "
                          "mitigation.")
            return before
        return _recurrence(session, alert, service, reason, before, "mitigated", mitigated_at)
    if before.status not in ENDED or before.resolved_at is None:
        return open_incident(session, alert, service, reason)
    resolved_at = as_utc(before.resolved_at)
    if alert.first_seen - resolved_at <= window:
        reopen(session, before, max(alert.first_seen, resolved_at),
               f"Alert {alert.dedup_key} triggered again within {_minutes(window)} of "
               "resolution.")
        join_incident(session, before, alert, service,
                      f"It triggered again within {_minutes(window)} of INC-{before.id}'s "
                      "resolution.")
        return before
    return _recurrence(session, alert, service, reason, before, "resolved", resolved_at)


def _recurrence(session: Session, alert: Alert, service: Service, reason: str,
                before: Incident, ended: str, ended_at: datetime) -> Incident:
    incident = open_incident(session, alert, service, reason)
    incident.recurrence_of_id = before.id
    add_entry(session, incident, "recurrence",
              f"Recurrence of INC-{before.id} ({ended} {_when(ended_at)}).",
              at=alert.first_seen, data={"incident_id": before.id,
                                         "alert_id": alert.id})
    session.flush()
    return incident


def _minutes(window: timedelta) -> str:
    return f"{int(window.total_seconds() // 60)} min"


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")
