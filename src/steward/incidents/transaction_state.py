"""What one transaction keeps while it records alerts and moves incidents: the catalog
graph of its revision, the open incidents correlation places alerts among, and whether it
holds the correlation lock.

Recording an alert (``alerts``, ``record_many``), routing it (``routing``) and recomputing
an incident (``lifecycle``) all read and reset these, so they live here, below all four.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from steward.catalog.graph import load_graph
from steward.catalog.impact import Graph
from steward.db.direct import Driver
from steward.incidents import alert_store, correlate
from steward.incidents.models import Incident
from steward.timeutil import as_utc


def open_incidents(session: Session) -> list[correlate.OpenIncident]:
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
        started_at=as_utc(incident.started_at), group_keys=tuple(incident.group_keys or ()),
        status=incident.status)


def forget_open_incidents(session: Session) -> None:
    session.info.pop(OPEN_CACHE, None)


def _load_open_incidents(session: Session) -> list[correlate.OpenIncident]:
    session.flush()  # read on the session's connection, past the ORM: it must see all
    found, _facts = alert_store.load_open(Driver(session))
    return list(found.values())


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
