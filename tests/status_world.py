"""A small world for public updates: team payments with a business service checkout that
depends on an internal database, an incident taking both down, and people."""

from __future__ import annotations

from helpers import make_dependency, make_service, make_team, make_user
from sqlalchemy import select

from steward.auth.actor import SYSTEM
from steward.db import Database
from steward.incidents.models import Incident
from steward.incidents.use_cases import lifecycle


def world(db: Database) -> dict[str, str]:
    """Tokens by username: alice (member of payments), vic (viewer), root (admin)."""
    make_team(db, "payments")
    make_team(db, "search")
    make_service(db, "checkout", owner="payments", kind="business_service",
                 display_name="Checkout")
    make_service(db, "help-centre", owner="search", kind="business_service")
    make_service(db, "payments-db", owner="payments", kind="resource")
    make_dependency(db, "checkout", "payments-db")
    return {"alice": make_user(db, "alice", teams=["payments"]),
            "vic": make_user(db, "vic", role="viewer"),
            "root": make_user(db, "root", role="admin")}


def declare_on(db: Database, service: str = "payments-db", impact: int = 1,
               urgency: int = 1, title: str = "payments-db primary refuses connections"
               ) -> int:
    with db.session() as session:
        return lifecycle.declare(session, SYSTEM, title, service, impact=impact,
                                 urgency=urgency).id


def incident_status(db: Database, incident_id: int) -> str:
    with db.read_session() as session:
        return session.scalars(select(Incident.status).where(
            Incident.id == incident_id)).one()
