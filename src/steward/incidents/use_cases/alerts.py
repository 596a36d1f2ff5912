"""record_alert: dedup, routing and correlation of every alert, whatever its source."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

import steward.models  # noqa: F401 - every table registered, so foreign keys resolve in a server
from steward.auth.models import Integration
from steward.catalog.event_routing import (
    INVALID,
    CatalogService,
    Refused,
    Routed,
    catalog_service,
    route_event,
)
from steward.catalog.graph import load_graph
from steward.catalog.impact import Graph
from steward.catalog.models import Service
from steward.db.direct import Driver
from steward.errors import ValidationError
from steward.incidents import alert_store, correlate, settings
from steward.incidents.commands import (
    ALERT_STATUSES,
    SEVERITIES,
    URL_LENGTH,
    RecordAlert,
    alert_summary,
)
from steward.incidents.models import OPEN_STATES, Alert, Incident, IncidentService
from steward.incidents.timeline import add_entry
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


def record_alerts(session: Session, integration: Integration | None,
                  commands: list[RecordAlert]) -> list[Outcome]:
    """Several alerts in one transaction, with few statements (see ``incidents.batch``)."""
    from steward.incidents import routing
    from steward.incidents.use_cases import record_many

    prepared = routing.prepare(session, integration, commands)
    return record_many.record_prepared(session, [prepared])[0]


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


UNKNOWN_SERVICE = "service_not_in_catalog"


def apply_route(cmd: RecordAlert, route: Routed | Refused,
                ) -> tuple[RecordAlert, CatalogService | None]:
    """The command as it is recorded, and its service; raises the refusal.

    A name the catalog does not know is kept in the alert's ``details``
    (``service_not_in_catalog``). An acknowledge or resolve that routes to no
    service is not refused: it settles its alert by dedup key alone (PagerDuty's
    carry no payload at all)."""
    if isinstance(route, Refused):
        if route.kind == INVALID and cmd.status != "firing":
            return cmd, None
        raise route.error(cmd.service_field)
    if route.unknown:
        cmd = replace(cmd, details={**cmd.details, UNKNOWN_SERVICE: route.unknown})
    return cmd, route.service


def check(cmd: RecordAlert) -> None:
    """The command's own values (status, severity, key, time), before anything is read."""
    if cmd.status not in ALERT_STATUSES:
        raise ValidationError(f"status: must be one of {', '.join(ALERT_STATUSES)}",
                              field="status")
    if cmd.severity not in SEVERITIES:
        raise ValidationError(f"severity: must be one of {', '.join(SEVERITIES)}",
                              field="severity")
    if not cmd.dedup_key or len(cmd.dedup_key) > 255:
        raise ValidationError("dedup_key: 1 to 255 characters", field="dedup_key")
    if cmd.occurred_at and cmd.occurred_at > utcnow() + timedelta(minutes=5):
        raise ValidationError("occurred_at: is in the future", field="occurred_at")


def record_alert(session: Session, integration: Integration | None,
                 cmd: RecordAlert) -> Recorded:
    check(cmd)
    cmd, routed = apply_route(cmd, route(session, integration, cmd))
    integration_id = integration.id if integration is not None else None
    active = session.scalar(select(Alert).where(
        Alert.integration_id.is_(None) if integration_id is None
        else Alert.integration_id == integration_id,
        Alert.dedup_key == cmd.dedup_key, Alert.status != "resolved"))
    now = utcnow()
    seen = as_utc(cmd.occurred_at) if cmd.occurred_at else now
    if cmd.status != "firing":
        if active is None:
            return Recorded(None, False, None)
        return Recorded(active, False, _settle(session, active, cmd, now))
    if active is not None:
        active.last_seen = max(active.last_seen, seen)
        active.count += 1
        active.summary = alert_summary(cmd.summary) or active.summary
        active.severity = cmd.severity
        active.labels = dict(cmd.labels) or active.labels
        session.flush()
        incident = session.get(Incident, active.incident_id) if active.incident_id else None
        return Recorded(active, False, incident)
    assert routed is not None  # a firing alert has a service, or was refused
    service = session.get(Service, routed.id)
    assert service is not None
    alert = Alert(integration_id=integration_id, service_id=service.id,
                  dedup_key=cmd.dedup_key, status="firing", severity=cmd.severity,
                  summary=alert_summary(cmd.summary), source=cmd.source,
                  labels=dict(cmd.labels), details=dict(cmd.details),
                  url=(cmd.url or "")[:URL_LENGTH],
                  group_key=cmd.group_key, first_seen=seen, last_seen=seen)
    session.add(alert)
    session.flush()
    incident = _correlate(session, alert, service)
    return Recorded(alert, True, incident)


def _settle(session: Session, alert: Alert, cmd: RecordAlert, now: datetime) -> Incident | None:
    """An acknowledge or resolve event for an active alert."""
    from steward.incidents.use_cases.lifecycle import alert_acknowledged, alerts_resolved

    incident = session.get(Incident, alert.incident_id) if alert.incident_id else None
    if cmd.status == "acknowledged":
        alert.status = "acknowledged"
        session.flush()
        if incident is not None:
            alert_acknowledged(session, incident, alert, now)
        return incident
    alert.status = "resolved"
    alert.resolved_at = as_utc(cmd.ended_at) if cmd.ended_at else now
    session.flush()
    if incident is not None:
        add_entry(session, incident, "alert", f"Alert resolved: {alert.summary}",
                  at=alert.resolved_at, data={"alert_id": alert.id})
        alerts_resolved(session, incident, alert.resolved_at)
    return incident


def _open_incidents(session: Session) -> list[correlate.OpenIncident]:
    """Open incidents for correlation, loaded once per transaction (see ``remember``)."""
    cached = session.info.get(OPEN_CACHE)
    if cached is None:
        cached = session.info[OPEN_CACHE] = {i.id: i for i in _load_open_incidents(session)}
    return list(cached.values())


OPEN_CACHE = "steward.open_incidents"
LOCKED = "steward.correlation_locked"


def remember(session: Session, incident: Incident, service_id: int) -> None:
    """Keep the transaction's cache of open incidents current after an alert lands."""
    cached = session.info.get(OPEN_CACHE)
    if cached is None:
        return
    known = cached.get(incident.id)
    services = tuple(sorted(set(known.services if known else ()) | {service_id}))
    cached[incident.id] = correlate.OpenIncident(
        id=incident.id, services=services,
        last_alert_at=as_utc(incident.last_alert_at or incident.started_at),
        started_at=as_utc(incident.started_at), group_keys=tuple(incident.group_keys or ()))


def forget_open_incidents(session: Session) -> None:
    session.info.pop(OPEN_CACHE, None)



def _load_open_incidents(session: Session) -> list[correlate.OpenIncident]:
    rows = session.execute(
        select(Incident.id, Incident.last_alert_at, Incident.started_at, Incident.group_keys,
               IncidentService.service_id)
        .join(IncidentService, IncidentService.incident_id == Incident.id, isouter=True)
        .where(Incident.status.in_(OPEN_STATES))).all()
    # incident id -> (its services, last alert, start, group keys)
    found: dict[int, tuple[list[int], datetime, datetime, tuple[str, ...]]] = {}
    for incident_id, last_alert_at, started_at, group_keys, service_id in rows:
        entry = found.setdefault(incident_id, (
            [], last_alert_at or started_at, started_at, tuple(group_keys or ())))
        if service_id is not None:
            entry[0].append(service_id)
    return [correlate.OpenIncident(id=i, services=tuple(services), last_alert_at=last,
                                   started_at=started, group_keys=groups)
            for i, (services, last, started, groups) in found.items()]


def _correlate(session: Session, alert: Alert, service: Service) -> Incident:
    from steward.incidents.use_cases.lifecycle import join_incident, open_incident

    lock_correlation(session)
    graph = graph_for(session)
    placement = correlate.place_alert(graph, service.id, alert.first_seen,
                                      _open_incidents(session), settings.correlation(),
                                      group_key=alert.group_key)
    if placement.incident_id is None:
        incident = open_incident(session, alert, service, placement.reason)
    else:
        found = session.get(Incident, placement.incident_id)
        assert found is not None
        incident = found
        join_incident(session, incident, alert, service, placement.reason)
    remember(session, incident, service.id)
    return incident


def lock_correlation(session: Session, driver: Driver | None = None) -> None:
    """On PostgreSQL, one correlator at a time (held to the end of the transaction), so
    two receivers' first alerts of one group (webhook and PagerDuty at once) cannot each
    open an incident. With ``driver``, taken on its connection (in its pipeline)."""
    if session.get_bind().dialect.name == "postgresql" and not session.info.get(LOCKED):
        if driver is None:
            session.execute(text(_CORRELATION_LOCK))
        else:
            driver.run(_CORRELATION_LOCK)
        session.info[LOCKED] = True
        forget_open_incidents(session)


_CORRELATION_LOCK = "SELECT pg_advisory_xact_lock(7343001)"


GRAPH = "steward.graph"


def graph_for(session: Session) -> Graph:
    """The dependency graph of this transaction's catalog revision, looked up once per
    transaction (the revision read on the driver's connection: the alert writer asks
    for it in every group)."""
    graph: Graph | None = session.info.get(GRAPH)
    if graph is None:
        graph = session.info[GRAPH] = load_graph(
            session, revision=alert_store.catalog_revision(Driver(session)))
    return graph
