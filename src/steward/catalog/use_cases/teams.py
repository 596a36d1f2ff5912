"""Use cases for teams."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.models import TeamMembership, User
from steward.catalog.models import Service, Team
from steward.catalog.schemas import TeamCreate, TeamUpdate
from steward.db import text_search
from steward.errors import Conflict, NotFound, ValidationError


def team_snapshot(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "display_name": team.display_name,
        "description": team.description,
        "contacts": dict(team.contacts or {}),
        "parent_id": team.parent_id,
    }


def get_team(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise NotFound(f"team {name!r} does not exist", field="team")
    return team


def find_team(session: Session, name: str, *, field: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise ValidationError(f"{field}: team {name!r} does not exist", field=field)
    return team


def create_team(session: Session, actor: Actor, data: TeamCreate,
                *, backstage_ref: str | None = None) -> Team:
    actor.require_admin("create teams")
    if session.scalar(select(Team.id).where(Team.name == data.name)) is not None:
        raise Conflict(f"name: a team named {data.name!r} already exists", field="name")
    parent_id = find_team(session, data.parent, field="parent").id if data.parent else None
    team = Team(
        name=data.name,
        display_name=data.display_name or data.name,
        description=data.description,
        contacts=dict(data.contacts),
        parent_id=parent_id,
        backstage_ref=backstage_ref,
    )
    session.add(team)
    session.flush()
    audit.record(session, actor, "team.create", "team", team.id, after=team_snapshot(team))
    return team


def update_team(session: Session, actor: Actor, name: str, data: TeamUpdate) -> Team:
    team = get_team(session, name)
    actor.require_team_write(team.id, "change this team")
    before = team_snapshot(team)
    changes = data.model_dump(exclude_unset=True)
    if "parent" in changes:
        parent = changes.pop("parent")
        if parent is None:
            team.parent_id = None
        else:
            parent_team = find_team(session, parent, field="parent")
            if _would_loop(session, team.id, parent_team.id):
                raise ValidationError("parent: a team cannot be its own ancestor", field="parent")
            team.parent_id = parent_team.id
    for key, value in changes.items():
        if value is not None:
            setattr(team, key, dict(value) if key == "contacts" else value)
    session.flush()
    after = team_snapshot(team)
    if after != before:
        audit.record(session, actor, "team.update", "team", team.id, before=before, after=after)
    return team


def _would_loop(session: Session, team_id: int, parent_id: int) -> bool:
    seen: set[int] = set()
    current: int | None = parent_id
    while current is not None and current not in seen:
        if current == team_id:
            return True
        seen.add(current)
        current = session.scalar(select(Team.parent_id).where(Team.id == current))
    return False


def delete_team(session: Session, actor: Actor, name: str) -> None:
    team = get_team(session, name)
    actor.require_admin("delete teams")
    owned = session.scalar(select(func.count()).where(Service.owner_team_id == team.id)) or 0
    if owned:
        raise Conflict(
            f"team {name!r} still owns {owned} service(s); give them another owner first",
            field="team",
        )
    before = team_snapshot(team)
    session.delete(team)
    session.flush()
    audit.record(session, actor, "team.delete", "team", before["id"], before=before)


def list_teams(session: Session, *, q: str | None = None, limit: int = 100,
               offset: int = 0) -> tuple[int, list[Team]]:
    query = select(Team)
    if q:
        query = query.where(text_search(q, Team.name, Team.display_name))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    teams = session.scalars(query.order_by(Team.name).limit(limit).offset(offset)).all()
    return total, list(teams)


def team_members(session: Session, team_id: int) -> list[str]:
    return list(
        session.scalars(
            select(User.username)
            .join(TeamMembership, TeamMembership.user_id == User.id)
            .where(TeamMembership.team_id == team_id)
            .order_by(User.username)
        )
    )


def team_service_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Service.owner_team_id, func.count()).group_by(Service.owner_team_id)
    ).all()
    return {team_id: count for team_id, count in rows if team_id is not None}


def team_out(session: Session, team: Team, counts: dict[int, int] | None = None) -> dict[str, Any]:
    counts = team_service_counts(session) if counts is None else counts
    parent = (session.scalar(select(Team.name).where(Team.id == team.parent_id))
              if team.parent_id else None)
    return {
        "id": team.id,
        "name": team.name,
        "display_name": team.display_name,
        "description": team.description,
        "contacts": team.contacts or {},
        "parent": parent,
        "members": team_members(session, team.id),
        "services": counts.get(team.id, 0),
    }
