"""record_alert: dedup, routing and correlation of every alert, whatever its source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import Integration
from steward.catalog.event_routing import (
    Refused,
    Routed,
    catalog_service,
    route_event,
)
from steward.catalog.models import Service
from steward.incidents import alert_groups, correlate, event_time, rules, settings
from steward.incidents.commands import (
    URL_LENGTH,
    RecordAlert,
    alert_summary,
)
from steward.incidents.models import Alert, Incident
from steward.incidents.routing import apply_route, check
from steward.incidents.timeline import add_entry
from steward.incidents.timeline_summary import signature
from steward.incidents.transaction_state import (
    graph_for,
    lock_correlation,
    open_incidents,
    remember,
)
from steward.incidents.use_cases.lifecycle import (
    alert_acknowledged,
    alerts_resolved,
    join_incident,
)
from steward.incidents.use_cases.recurrence import reopen_or_recur
from steward.timeutil import as_utc, utcnow


@dataclass(frozen=True)
class Outcome:
    """What an ingested alert became, as the API reports it."""

    alert_id: int | None  # None: an acknowledge or resolve for no active alert
    created: bool
    incident_id: int | None


@dataclass
class Recorded:
    alert: Alert | None  # None: an acknowledge or resolve for no active alert
    created: bool
    incident: Incident | None


def route(session: Session, integration: Integration | None, cmd: RecordAlert,
          ) -> Routed | Refused:
    """Where an alert goes (``catalog.event_routing``): the service it names when the
    integration key may send for it, else the key's own service; or why it is refused."""
    cache = session.info.setdefault("steward.routes", {})
    key = (integration.id if integration else None, cmd.service)
    if key not in cache:
        cache[key] = _route(session, integration, cmd.service)
    return cache[key]


def _route(session: Session, integration: Integration | None,
           name: str | None) -> Routed | Refused:
    named = session.scalar(select(Service).where(Service.name == name)) if name else None
    own = (session.get(Service, integration.service_id)
           if integration is not None and integration.service_id is not None else None)
    return route_event(named=name, found=catalog_service(named),
                       key_team_id=integration.team_id if integration is not None else None,
                       key_service=catalog_service(own))


def record_alert(session: Session, integration: Integration | None,
                 cmd: RecordAlert) -> Recorded:
    check(cmd)
    cmd, routed = apply_route(cmd, route(session, integration, cmd))
    integration_id = integration.id if integration is not None else None
    active = session.scalar(select(Alert).where(
        Alert.integration_id.is_(None) if integration_id is None
        else Alert.integration_id == integration_id,
        Alert.dedup_key == cmd.dedup_key, Alert.status != "resolved"))
    now = as_utc(cmd.received_at) if cmd.received_at else utcnow()
    bound = settings.event_time_bound()
    seen, time_note = event_time.plausible(cmd.occurred_at, now, bound)
    if cmd.status != "firing":
        if active is None:
            return Recorded(None, False, None)
        return Recorded(active, False, _settle(session, active, cmd, now))
    if active is not None:
        repeat = rules.Repeat(active.count, as_utc(active.last_seen), active.summary,
                              active.severity, active.labels)
        repeat.add(cmd, seen)
        active.count, active.last_seen = repeat.count, repeat.last_seen or seen
        active.summary, active.severity = repeat.summary or "", cmd.severity
        active.labels = repeat.labels or {}
        session.flush()
        alert_groups.alert_repeated(session, active, active.last_seen)
        incident = session.get(Incident, active.incident_id) if active.incident_id else None
        return Recorded(active, False, incident)
    assert routed is not None  # a firing alert has a service, or was refused
    service = session.get(Service, routed.id)
    assert service is not None
    details = dict(cmd.details)
    if time_note is not None:
        details[event_time.TIME_NOTE] = time_note
    summary = alert_summary(cmd.summary)
    alert = Alert(integration_id=integration_id, service_id=service.id,
                  dedup_key=cmd.dedup_key, status="firing", severity=cmd.severity,
                  summary=summary, signature=signature(summary), source=cmd.source,
                  labels=dict(cmd.labels), details=details,
                  url=(cmd.url or "")[:URL_LENGTH],
                  group_key=cmd.group_key, first_seen=seen, last_seen=seen,
                  reported_at=as_utc(cmd.occurred_at) if cmd.occurred_at else None,
                  created_at=now)
    session.add(alert)
    session.flush()
    incident = _correlate(session, alert, service)
    return Recorded(alert, True, incident)


def _settle(session: Session, alert: Alert, cmd: RecordAlert, now: datetime) -> Incident | None:
    """An acknowledge or resolve event for an active alert."""
    incident = session.get(Incident, alert.incident_id) if alert.incident_id else None
    if cmd.status == "acknowledged":
        alert.status = "acknowledged"
        session.flush()
        if incident is not None:
            alert_acknowledged(session, incident, alert, now)
        return incident
    alert.status = "resolved"
    alert.resolved_at = event_time.clamp(cmd.ended_at, now, settings.event_time_bound())
    session.flush()
    alert_groups.alert_resolved(session, alert)
    if incident is not None:
        add_entry(session, incident, "alert", f"Alert resolved: {alert.summary}",
                  at=alert.resolved_at, data={"alert_id": alert.id})
        alerts_resolved(session, incident, alert.resolved_at)
    return incident


def _correlate(session: Session, alert: Alert, service: Service) -> Incident:
    lock_correlation(session)
    graph = graph_for(session)
    placement = correlate.place_alert(graph, service.id, alert.first_seen,
                                      open_incidents(session), settings.correlation(),
                                      group_key=alert.group_key)
    if placement.incident_id is None:
        # Not correlated: the incident its key's last alert belonged to is reopened, or
        # a recurrence of it opens (``recurrence``); else a new incident.
        incident = reopen_or_recur(session, alert, service, placement.reason)
    else:
        found = session.get(Incident, placement.incident_id)
        assert found is not None
        incident = found
        join_incident(session, incident, alert, service, placement.reason)
    remember(session, incident, service.id)
    return incident


