"""Reading the catalog for pages, routers and the CLI: plain data, never ORM rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.catalog.models import Service, Team

# -- service names, for the pickers of the incident and change forms -----------------


def service_names(session: Session) -> list[str]:
    """Every service's name, sorted here (not by the database's collation)."""
    return sorted(session.scalars(select(Service.name)))


def service_names_by_team(session: Session) -> list[tuple[str, list[str]]]:
    """Service names grouped by owning team ("no team" for the unowned), teams in order."""
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    groups: dict[str, list[str]] = {}
    for name, owner_id in session.execute(select(Service.name, Service.owner_team_id)
                                          .order_by(Service.name)):
        groups.setdefault(teams.get(owner_id, "no team") if owner_id else "no team",
                          []).append(name)
    return sorted(groups.items())
