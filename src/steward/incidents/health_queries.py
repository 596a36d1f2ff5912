"""Reading every service's live health: the open incidents with the state each of their
services is in, which services something monitors, and the rule (``incidents.health``)
applied to them. A handful of statements, whatever the number of services or alerts.

Plain data only, so a page can render after its session is closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from steward.auth.models import Integration
from steward.catalog.graph import load_graph
from steward.catalog.impact import Graph
from steward.catalog.models import Service
from steward.errors import NotFound
from steward.incidents.health import (
    HEALTH_STATES,
    Health,
    OpenIncident,
    live_health,
    service_impacts,
)
from steward.incidents.models import OPEN_STATES, Alert, Incident, IncidentService

# Other domains say which services they watch (SLOs register theirs), without this
# module importing them.
Monitors = Callable[[Session], set[int]]
_monitors: list[Monitors] = []


def register_monitor(func: Monitors) -> None:
    """``func(session)`` gives the ids of services it monitors; registered once."""
    if func not in _monitors:
        _monitors.append(func)


def open_incidents(session: Session) -> list[OpenIncident]:
    """Every open incident with the state of each of its services, in three statements."""
    heads = session.execute(select(Incident.id, Incident.title, Incident.priority,
                                   Incident.status)
                            .where(Incident.status.in_(OPEN_STATES))).all()
    if not heads:
        return []
    is_open = select(Incident.id).where(Incident.status.in_(OPEN_STATES))
    services: dict[int, list[int]] = {}
    for incident_id, service_id in session.execute(
            select(IncidentService.incident_id, IncidentService.service_id)
            .where(IncidentService.incident_id.in_(is_open))):
        services.setdefault(incident_id, []).append(service_id)
    alerts: dict[int, list[tuple[int, str, bool]]] = {}
    for of_incident, service_id, severity, status in session.execute(
            select(Alert.incident_id, Alert.service_id, Alert.severity, Alert.status)
            .where(Alert.incident_id.in_(is_open))
            .group_by(Alert.incident_id, Alert.service_id, Alert.severity, Alert.status)):
        if of_incident is not None:
            alerts.setdefault(of_incident, []).append(
                (service_id, severity, status != "resolved"))
    return [OpenIncident(id=i, title=title, priority=prio, status=status,
                         impacts=service_impacts(services.get(i, ()), alerts.get(i, ())))
            for i, title, prio, status in heads]


def incident_impacts(session: Session, incident_id: int) -> dict[int, str]:
    """The state each service of one incident is in ("down", "degraded", "none"), as its
    priority counts them (every alert it has had), for drawing what it takes down or
    degrades. Kept on the incident by each recompute, so this reads no alert; an incident
    stored before it was kept has its alerts read instead."""
    kept = session.scalar(select(Incident.service_impacts).where(Incident.id == incident_id))
    if kept is not None:
        return {int(sid): impact for sid, impact in kept.items()}
    services = session.scalars(select(IncidentService.service_id)
                               .where(IncidentService.incident_id == incident_id)).all()
    alerts = session.execute(select(Alert.service_id, Alert.severity)
                             .where(Alert.incident_id == incident_id)
                             .group_by(Alert.service_id, Alert.severity)).all()
    return {sid: state.impact for sid, state in service_impacts(
        services, [(sid, sev, True) for sid, sev in alerts]).items()}


def monitored_services(session: Session) -> set[int]:
    """Services something watches: an alert was recorded on it, an integration is bound to
    it, or a registered monitor (an SLO) says so."""
    found = set(session.scalars(select(Service.id).where(
        exists().where(Alert.service_id == Service.id)
        | exists().where(Integration.service_id == Service.id))))
    for monitor in _monitors:
        found |= monitor(session)
    return found


def health_by_id(session: Session, graph: Graph | None = None) -> dict[int, Health]:
    """Every service's live health, by service id."""
    graph = graph or load_graph(session)
    return live_health(graph, open_incidents(session), monitored_services(session))


def service_health(session: Session, name: str) -> dict[str, Any]:
    """One service's health as the API shows it; NotFound (field ``service``) if none."""
    graph = load_graph(session)
    service_id = graph.by_name.get(name)
    if service_id is None:
        raise NotFound(f"service {name!r} does not exist", field="service")
    return health_by_id(session, graph)[service_id].as_dict()


def health_listing(session: Session, *, state: str | None = None) -> dict[str, Any]:
    """Every service's health by name (``state``: only those in these states, comma
    separated), with how many services are in each state."""
    graph = load_graph(session)
    health = health_by_id(session, graph)
    counts = dict.fromkeys(HEALTH_STATES, 0)
    for found in health.values():
        counts[found.state] += 1
    wanted = set(state.split(",")) if state else None
    items = [{"service": graph.cis[sid].name, **found.as_dict()}
             for sid, found in health.items() if wanted is None or found.state in wanted]
    items.sort(key=lambda item: item["service"])
    return {"total": len(items), "counts": counts, "items": items}


def health_states(session: Session, names: list[str] | None = None) -> dict[str, Health]:
    """Health by service name (only ``names`` when given), for pages."""
    graph = load_graph(session)
    health = health_by_id(session, graph)
    if names is None:
        return {graph.cis[sid].name: found for sid, found in health.items()}
    return {n: health[graph.by_name[n]] for n in names if n in graph.by_name}
