"""Public status data for tests on the demo organisation: public updates of the
core-db cascade and of a resolved incident, and maintenance from changes, written
straight into the tables (the use cases that publish updates are tested elsewhere). They
take the place of the demo's own public update of the cascade, so the tests know every
update there is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from steward.catalog.models import Service
from steward.changes.models import Change, ChangeService
from steward.incidents.models import Incident
from steward.status.models import StatusComponent, StatusUpdate
from steward.timeutil import utcnow

CASCADE = "core-db: too many connections, primary refusing clients"
PUBLIC_TITLE = "Online banking unavailable"
PUBLIC_BODY = "Customers cannot sign in to online banking. We are working on it."


def service_id(session: Any, name: str) -> int:
    return session.scalar(select(Service.id).where(Service.name == name))


def cascade_id(session: Any) -> int:
    return session.scalar(select(Incident.id).where(Incident.title == CASCADE))


def add_public_data(db: Any) -> dict[str, int]:
    now = utcnow()
    with db.session() as session:
        banking = service_id(session, "online-banking")
        payments = service_id(session, "customer-payments")
        cascade = cascade_id(session)
        session.execute(delete(StatusUpdate))
        # Two services that are not business services, published by an admin: the web
        # pool (degraded in the demo: one node of three is down) and search (fine).
        search = service_id(session, "search-service")
        session.add_all([
            StatusComponent(service_id=service_id(session, "web-pool"), published=True,
                            name="Website", group_name="Platform", position=1),
            StatusComponent(service_id=search, published=True, name="Search",
                            group_name="Platform", position=2)])
        session.add(StatusUpdate(
            incident_id=cascade, status="investigating", title="Online banking problems",
            body="We are looking into reports of errors.", impact="major",
            components=[{"service_id": banking, "status": "partial_outage"}],
            created_at=now - timedelta(minutes=10)))
        session.add(StatusUpdate(
            incident_id=cascade, status="identified", title=PUBLIC_TITLE, body=PUBLIC_BODY,
            impact="critical",
            components=[{"service_id": banking, "status": "major_outage"},
                        {"service_id": 999_999, "status": "major_outage"}],  # removed since
            created_at=now - timedelta(minutes=5)))
        old = session.scalar(select(Incident.id).where(Incident.status.in_(
            ("resolved", "closed"))).order_by(Incident.started_at.desc()).limit(1))
        session.add(StatusUpdate(
            incident_id=old, status="resolved", title="Card payments failed",
            body="Card payments work again.", impact="minor",
            components=[{"service_id": payments, "status": "operational"}],
            created_at=now - timedelta(days=2)))
        upcoming = Change(title="core-db minor version upgrade (internal)", state="scheduled",
                          planned_start=now + timedelta(days=1),
                          planned_end=now + timedelta(days=1, hours=2))
        active = Change(title="web pool kernel patching (internal)", state="implement",
                        planned_start=now - timedelta(minutes=30),
                        planned_end=now + timedelta(minutes=30))
        session.add_all([upcoming, active])
        session.flush()
        session.add_all([ChangeService(change_id=upcoming.id, service_id=payments),
                         ChangeService(change_id=active.id,
                                       service_id=search)])
        ids = {"cascade": cascade, "resolved": old, "upcoming": upcoming.id,
               "active": active.id, "banking": banking, "search": search}
    return ids
