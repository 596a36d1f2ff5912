"""Loading the dependency graph for impact analysis, cached per catalog revision."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.catalog.impact import CI, Graph, ImpactResult, Link, analyse
from steward.catalog.models import Dependency, Service, Team
from steward.catalog.use_cases.services import catalog_revision
from steward.errors import NotFound, ValidationError

_cache: dict[str, tuple[int, Graph]] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached graph (a database whose catalog revision went back to 0)."""
    with _lock:
        _cache.clear()


def load_graph(session: Session, *, revision: int | None = None) -> Graph:
    """The whole graph; rebuilt only when the catalog revision (read here unless given,
    in the caller's transaction) moved."""
    key = str(session.get_bind().engine.url)
    if revision is None:
        revision = catalog_revision(session)
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == revision:
            return cached[1]
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    cis = [
        CI(id=row.id, name=row.name, kind=row.kind, team=teams.get(row.owner_team_id),
           min_up=row.min_up, tier=row.tier)
        for row in session.execute(
            select(Service.id, Service.name, Service.kind, Service.owner_team_id,
                   Service.min_up, Service.tier)
        )
    ]
    links = [
        Link(dependant=row.service_id, dependency=row.depends_on_id, type=row.type)
        for row in session.execute(
            select(Dependency.service_id, Dependency.depends_on_id, Dependency.type)
        )
    ]
    graph = Graph(cis, links)
    with _lock:
        _cache[key] = (revision, graph)
    return graph


def impact_of(session: Session, names: Sequence[str], *, field: str = "failing") -> ImpactResult:
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise ValidationError(f"{field}: name at least one failing service", field=field)
    graph = load_graph(session)
    unknown = [n for n in names if n not in graph.by_name]
    if unknown:
        error = NotFound if field == "service" else ValidationError
        raise error(f"{field}: unknown service(s): {', '.join(unknown)}", field=field)
    return analyse(graph, [graph.by_name[n] for n in names])
