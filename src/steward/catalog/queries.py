"""Reads of the catalog for pages: service lists, one service with its dependencies and
impact, teams. Plain data only, so a page can render after its session is closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.catalog import models
from steward.catalog.graph import impact_of, load_graph
from steward.catalog.impact import Graph, ImpactResult
from steward.catalog.models import Dependency, Service, Team
from steward.catalog.use_cases import services as service_cases
from steward.catalog.use_cases import teams as team_cases

# The choices the catalog's filters and forms offer.
SERVICE_KINDS = models.SERVICE_KINDS
LIFECYCLES = models.LIFECYCLES


@dataclass(frozen=True)
class ServiceRow:
    """A service in a list, with how many services it depends on and how many need it."""

    name: str
    display_name: str
    description: str
    kind: str
    tier: int
    lifecycle: str
    owner: str | None
    depends_on: int
    dependants: int


@dataclass(frozen=True)
class ServiceDetail:
    id: int
    name: str
    display_name: str
    description: str
    kind: str
    tier: int
    lifecycle: str
    owner_team_id: int | None
    owner: str | None
    min_up: int | None
    links: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceView:
    """Everything the service page shows of the catalog."""

    service: ServiceDetail
    depends_on: list[dict[str, Any]]
    dependants: list[dict[str, Any]]
    teams: list[str]
    graph: Graph
    impact: ImpactResult


def _dependency_counts(session: Session,
                       ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    if not ids:
        return {}, {}
    down = dict(session.execute(
        select(Dependency.service_id, func.count()).where(Dependency.service_id.in_(ids))
        .group_by(Dependency.service_id)).all())
    up = dict(session.execute(
        select(Dependency.depends_on_id, func.count()).where(Dependency.depends_on_id.in_(ids))
        .group_by(Dependency.depends_on_id)).all())
    return down, up


def service_rows(session: Session, *, kind: str | None = None, tier: int | None = None,
                 team: str | None = None, lifecycle: str | None = None, q: str | None = None,
                 limit: int = 100, offset: int = 0) -> tuple[int, list[ServiceRow]]:
    """(how many match, one page of them by name)."""
    total, services = service_cases.list_services(
        session, kind=kind, tier=tier, team=team, lifecycle=lifecycle, q=q, limit=limit,
        offset=offset)
    teams = service_cases.team_names(session)
    down, up = _dependency_counts(session, [s.id for s in services])
    return total, [ServiceRow(
        name=s.name, display_name=s.display_name, description=s.description, kind=s.kind,
        tier=s.tier, lifecycle=s.lifecycle,
        owner=teams.get(s.owner_team_id) if s.owner_team_id else None,
        depends_on=down.get(s.id, 0), dependants=up.get(s.id, 0)) for s in services]


def team_names(session: Session) -> list[str]:
    """Every team's name, sorted."""
    return sorted(service_cases.team_names(session).values())


def _detail(service: Service, owner: str | None) -> ServiceDetail:
    return ServiceDetail(
        id=service.id, name=service.name, display_name=service.display_name,
        description=service.description, kind=service.kind, tier=service.tier,
        lifecycle=service.lifecycle, owner_team_id=service.owner_team_id, owner=owner,
        min_up=service.min_up, links=list(service.links or []))


def service_detail(session: Session, name: str) -> ServiceDetail:
    """One service; NotFound (field ``service``) when there is none by that name."""
    service = service_cases.get_service(session, name)
    owner = (service_cases.team_names(session).get(service.owner_team_id)
             if service.owner_team_id else None)
    return _detail(service, owner)


def service_view(session: Session, name: str) -> ServiceView:
    """The service, what it depends on and what depends on it (a thousand of each at
    most), and what fails with it."""
    service = service_cases.get_service(session, name)
    teams = service_cases.team_names(session)
    owner = teams.get(service.owner_team_id) if service.owner_team_id else None
    _, depends_on = service_cases.list_dependencies(session, service=name, limit=1000)
    _, dependants = service_cases.list_dependencies(session, depends_on=name, limit=1000)
    return ServiceView(service=_detail(service, owner), depends_on=depends_on,
                       dependants=dependants, teams=sorted(teams.values()),
                       graph=load_graph(session),
                       impact=impact_of(session, [name], field="service"))


def team_rows(session: Session, *, limit: int = 100,
              offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """(how many teams, one page of them by name with members and service counts)."""
    total, teams = team_cases.list_teams(session, limit=limit, offset=offset)
    counts = team_cases.team_service_counts(session)
    return total, [team_cases.team_out(session, team, counts) for team in teams]


def team_detail(session: Session, name: str) -> dict[str, Any]:
    """One team; NotFound (field ``team``) when there is none by that name."""
    return team_cases.team_out(session, team_cases.get_team(session, name))


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
