"""Reads of integrations that return plain data, for the API, the pages and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from steward.auth.models import Integration
from steward.catalog.models import Service, Team


def integration_out(session: Session, integration: Integration) -> dict[str, Any]:
    """An integration as the API shows it (never its key)."""
    service = session.get(Service, integration.service_id) if integration.service_id else None
    team = session.get(Team, integration.team_id) if integration.team_id else None
    return {"id": integration.id, "type": integration.type, "name": integration.name,
            "service": service.name if service else None, "team": team.name if team else None,
            "prefix": integration.prefix, "created_at": integration.created_at,
            "revoked": integration.revoked_at is not None}


def list_integrations(session: Session) -> list[dict[str, Any]]:
    """Every integration, revoked ones too, oldest first."""
    rows = session.scalars(select(Integration).order_by(Integration.id)).all()
    return [integration_out(session, row) for row in rows]


def integration_rows(session: Session, *, service: str = "", team: str = "", type: str = "",
                     limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """The integrations page's rows, newest first, filtered by service, team and type
    names (empty: any), and how many match. ``team_id`` says who may revoke each."""
    svc, owner = aliased(Service), aliased(Team)
    query = (select(Integration, svc.name, owner.name)
             .outerjoin(svc, svc.id == Integration.service_id)
             .outerjoin(owner, owner.id == Integration.team_id))
    if service:
        query = query.where(svc.name == service)
    if team:
        query = query.where(owner.name == team)
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
        select(Team.id, Team.name).order_by(Team.name))}
    services = [(name, owner) for name, owner in session.execute(
        select(Service.name, Service.owner_team_id).order_by(Service.name))]
    return RoutingTargets(teams=teams, services=services)


def integrations_of_service(session: Session, service: str) -> list[dict[str, Any]]:
    """The integrations that route to one service (by name), oldest first, for its page."""
    found = session.scalars(
        select(Integration).join(Service, Service.id == Integration.service_id)
        .where(Service.name == service).order_by(Integration.id)).all()
    return [{"id": r.id, "type": r.type, "name": r.name, "prefix": r.prefix,
             "revoked": r.revoked_at is not None} for r in found]
