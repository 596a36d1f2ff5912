"""Small builders shared by tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from steward.app import create_app
from steward.auth.actor import SYSTEM
from steward.auth.schemas import UserCreate
from steward.auth.use_cases import accounts as auth
from steward.catalog.schemas import DependencyCreate, ServiceCreate, TeamCreate
from steward.catalog.use_cases import services as catalog
from steward.catalog.use_cases import teams
from steward.db import Database
from steward.jobs import timers


def make_team(db: Database, name: str, **fields: Any) -> None:
    with db.session() as session:
        teams.create_team(session, SYSTEM, TeamCreate(name=name, **fields))


def make_service(db: Database, name: str, owner: str | None = None, **fields: Any) -> None:
    with db.session() as session:
        catalog.create_service(session, SYSTEM, ServiceCreate(name=name, owner=owner, **fields))


def make_dependency(db: Database, service: str, depends_on: str, type: str = "hard") -> None:
    with db.session() as session:
        catalog.create_dependency(session, SYSTEM, DependencyCreate(
            service=service, depends_on=depends_on, type=type))


def make_user(db: Database, username: str, role: str = "member", teams: list[str] | None = None,
              password: str | None = None) -> str:
    """Creates the user and returns an API token for them."""
    with db.session() as session:
        auth.create_user(session, SYSTEM, UserCreate(username=username, role=role,
                                                     teams=teams or [], password=password))
        return auth.create_token(session, SYSTEM, username)


def api_client(db: Database) -> TestClient:
    return TestClient(create_app(db.settings, database=db))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def only_timers(*kinds: str) -> Iterator[None]:
    """Rounds fire timers of these kinds only; the others (a declared incident's
    escalation step and service-level deadlines, notifications) wait."""
    saved = dict(timers._handlers)
    timers._handlers.clear()
    timers._handlers.update({kind: saved[kind] for kind in kinds})
    try:
        yield
    finally:
        timers._handlers.clear()
        timers._handlers.update(saved)


def run_timers_of(db: Database, *kinds: str, now: datetime | None = None) -> int:
    """One round of the timers of ``kinds`` due by ``now``; how many ran."""
    with only_timers(*kinds):
        return timers.run_due(db, worker="test", now=now)


def alert_groups_as_counted(session: Any, incident_id: int) -> dict[tuple[int, str], tuple]:
    """The incident's alert groups as the writers keep them (``alert_groups``) ..."""
    from sqlalchemy import select

    from steward.incidents.models import IncidentAlertGroup as G
    return {(service_id, signature): rest for service_id, signature, *rest in session.execute(
        select(G.service_id, G.signature, G.alerts, G.active, G.events, G.first_seen,
               G.last_seen, G.first_alert_id).where(G.incident_id == incident_id))}


def alert_groups_from_alerts(session: Any, incident_id: int) -> dict[tuple[int, str], tuple]:
    """... and as its alerts give them: the two must agree."""
    from sqlalchemy import case, func, select

    from steward.incidents.models import Alert as A
    return {(service_id, signature): rest for service_id, signature, *rest in session.execute(
        select(A.service_id, A.signature, func.count(),
               func.sum(case((A.status != "resolved", 1), else_=0)), func.sum(A.count),
               func.min(A.first_seen), func.max(A.last_seen), func.min(A.id))
        .where(A.incident_id == incident_id).group_by(A.service_id, A.signature))}
