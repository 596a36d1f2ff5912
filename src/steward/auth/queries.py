"""Reads for pages: who is signed in, a team's members, a service's integrations.

Plain data only, so a page can render after its session is closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from steward.auth.actor import Actor
from steward.auth.models import Integration, TeamMembership, User
from steward.auth.use_cases.accounts import actor_for_user, session_user
from steward.catalog.models import Service, Team
from steward.db import Database


@dataclass(frozen=True)
class SignedIn:
    """The person behind a web session cookie."""

    username: str
    display_name: str
    role: str
    csrf_token: str
    actor: Actor


@dataclass(frozen=True)
class Member:
    username: str
    display_name: str
    role: str
    active: bool


@dataclass(frozen=True)
class ServiceIntegration:
    id: int
    type: str
    name: str
    prefix: str
    revoked: bool


def signed_in(session: Session, cookie: str) -> SignedIn | None:
    """The session's user, or None for an unknown or expired cookie or a disabled user."""
    if not cookie:
        return None
    found = session_user(session, cookie)
    if found is None:
        return None
    user, web_session = found
    return SignedIn(username=user.username, display_name=user.display_name or user.username,
                    role=user.role, csrf_token=web_session.csrf_token,
                    actor=actor_for_user(session, user))


def signed_in_if_reachable(db: Database, cookie: str) -> SignedIn | None:
    """:func:`signed_in`, or None when the database does not answer (an error page must
    still render then)."""
    try:
        with db.read_session() as session:
            return signed_in(session, cookie)
    except SQLAlchemyError:
        return None


def team_members(session: Session, team: str, *, limit: int = 1000) -> list[Member]:
    """The team's members, by username."""
    rows = session.execute(
        select(User.username, User.display_name, User.role, User.active)
        .join(TeamMembership, TeamMembership.user_id == User.id)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(Team.name == team)
        .order_by(User.username).limit(limit))
    return [Member(username=username, display_name=display_name, role=role, active=active)
            for username, display_name, role, active in rows]


def service_integrations(session: Session, service: str) -> list[ServiceIntegration]:
    """The integrations bound to one service, oldest first."""
    rows = session.execute(
        select(Integration.id, Integration.type, Integration.name, Integration.prefix,
               Integration.revoked_at)
        .join(Service, Service.id == Integration.service_id)
        .where(Service.name == service)
        .order_by(Integration.id))
    return [ServiceIntegration(id=row_id, type=kind, name=name, prefix=prefix,
                               revoked=revoked_at is not None)
            for row_id, kind, name, prefix, revoked_at in rows]
