"""Reads for pages, routers and the CLI: who is signed in, a team's members, integrations.

Plain data only, so a page can render after its session is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from steward.auth.actor import Actor
from steward.auth.models import SERVICES, TEAMS, Integration, TeamMembership, User
from steward.auth.use_cases.accounts import actor_for_user, session_user
from steward.auth.use_cases.integrations import integration_out
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
        .join(TEAMS, TEAMS.c.id == TeamMembership.team_id)
        .where(TEAMS.c.name == team)
        .order_by(User.username).limit(limit))
    return [Member(username=username, display_name=display_name, role=role, active=active)
            for username, display_name, role, active in rows]


def service_integrations(session: Session, service: str) -> list[ServiceIntegration]:
    """The integrations bound to one service, oldest first."""
    rows = session.execute(
        select(Integration.id, Integration.type, Integration.name, Integration.prefix,
               Integration.revoked_at)
        .join(SERVICES, SERVICES.c.id == Integration.service_id)
        .where(SERVICES.c.name == service)
        .order_by(Integration.id))
    return [ServiceIntegration(id=row_id, type=kind, name=name, prefix=prefix,
                               revoked=revoked_at is not None)
            for row_id, kind, name, prefix, revoked_at in rows]


def list_integrations(session: Session) -> list[dict[str, Any]]:
    """Every integration as the API shows it (never its key), revoked ones too, oldest
    first."""
    rows = session.scalars(select(Integration).order_by(Integration.id)).all()
    return [integration_out(session, row) for row in rows]


def integration_rows(session: Session, *, service: str = "", team: str = "", type: str = "",
                     limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """The integrations page's rows, newest first, filtered by service, team and type
    names (empty: any), and how many match. ``team_id`` says who may revoke each."""
    svc, owner = aliased(SERVICES), aliased(TEAMS)
    query = (select(Integration, svc.c.name, owner.c.name)
             .outerjoin(svc, svc.c.id == Integration.service_id)
             .outerjoin(owner, owner.c.id == Integration.team_id))
    if service:
        query = query.where(svc.c.name == service)
    if team:
        query = query.where(owner.c.name == team)
    if type:
        query = query.where(Integration.type == type)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    found = session.execute(query.order_by(Integration.id.desc()).limit(limit).offset(offset))
    return total, [{
        "id": row.id, "type": row.type, "name": row.name, "service": service_name,
        "team": team_name, "team_id": row.team_id, "prefix": row.prefix,
        "created_at": row.created_at, "revoked_at": row.revoked_at,
    } for row, service_name, team_name in found]


@dataclass(frozen=True)
class RoutingTargets:
    """What an integration may route to: every team (id to name) and every service with
    its owning team's id, both by name."""

    teams: dict[int, str]
    services: list[tuple[str, int | None]]


def routing_targets(session: Session) -> RoutingTargets:
    teams = {team_id: name for team_id, name in session.execute(
        select(TEAMS.c.id, TEAMS.c.name).order_by(TEAMS.c.name))}
    services = [(name, owner) for name, owner in session.execute(
        select(SERVICES.c.name, SERVICES.c.owner_team_id).order_by(SERVICES.c.name))]
    return RoutingTargets(teams=teams, services=services)
