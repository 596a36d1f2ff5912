"""Use cases for services (configuration items) and their dependencies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.catalog.models import CatalogState, Dependency, Service, Team
from steward.catalog.schemas import (
    DependencyCreate,
    DependencyUpdate,
    ServiceCreate,
    ServiceUpdate,
)
from steward.catalog.use_cases.teams import find_team
from steward.db import text_search
from steward.errors import Conflict, NotFound, ValidationError


def bump_revision(session: Session) -> None:
    """Mark the catalog changed, so cached dependency graphs are rebuilt."""
    updated = session.execute(
        update(CatalogState).where(CatalogState.id == 1).values(revision=CatalogState.revision + 1)
    )
    # An UPDATE answers a CursorResult (with rowcount); Session.execute is typed as Result.
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(CatalogState(id=1, revision=1))
        session.flush()


def catalog_revision(session: Session) -> int:
    return int(session.scalar(select(CatalogState.revision).where(CatalogState.id == 1)) or 0)


def service_snapshot(service: Service) -> dict[str, Any]:
    return {
        "id": service.id,
        "name": service.name,
        "display_name": service.display_name,
        "description": service.description,
        "kind": service.kind,
        "tier": service.tier,
        "lifecycle": service.lifecycle,
        "owner_team_id": service.owner_team_id,
        "min_up": service.min_up,
        "links": list(service.links or []),
        "annotations": dict(service.annotations or {}),
    }


def dependency_snapshot(dep: Dependency, names: dict[int, str] | None = None) -> dict[str, Any]:
    snap: dict[str, Any] = {
        "id": dep.id,
        "service_id": dep.service_id,
        "depends_on_id": dep.depends_on_id,
        "type": dep.type,
        "description": dep.description,
        "source": dep.source,
    }
    if names:
        snap["service"] = names.get(dep.service_id)
        snap["depends_on"] = names.get(dep.depends_on_id)
    return snap


def get_service(session: Session, name: str) -> Service:
    service = session.scalar(select(Service).where(Service.name == name))
    if service is None:
        raise NotFound(f"service {name!r} does not exist", field="service")
    return service


def find_service(session: Session, name: str, *, field: str) -> Service:
    service = session.scalar(select(Service).where(Service.name == name))
    if service is None:
        raise ValidationError(f"{field}: service {name!r} does not exist", field=field)
    return service


def _check_pool_fields(kind: str, min_up: int | None) -> None:
    if min_up is not None and kind != "pool":
        raise ValidationError("min_up: only a pool has min_up", field="min_up")


def create_service(session: Session, actor: Actor, data: ServiceCreate,
                   *, backstage_ref: str | None = None) -> Service:
    owner = find_team(session, data.owner, field="owner") if data.owner else None
    actor.require_team_write(owner.id if owner else None, "create services for this team")
    if session.scalar(select(Service.id).where(Service.name == data.name)) is not None:
        raise Conflict(f"name: a service named {data.name!r} already exists", field="name")
    _check_pool_fields(data.kind, data.min_up)
    service = Service(
        name=data.name,
        display_name=data.display_name or data.name,
        description=data.description,
        kind=data.kind,
        tier=data.tier,
        lifecycle=data.lifecycle,
        owner_team_id=owner.id if owner else None,
        min_up=data.min_up if data.kind == "pool" else None,
        links=[link.model_dump() for link in data.links],
        annotations=dict(data.annotations),
        backstage_ref=backstage_ref,
    )
    if service.kind == "pool" and service.min_up is None:
        service.min_up = 1
    session.add(service)
    session.flush()
    bump_revision(session)
    audit.record(session, actor, "service.create", "service", service.id,
                 after=service_snapshot(service))
    return service


def update_service(session: Session, actor: Actor, name: str, data: ServiceUpdate) -> Service:
    service = get_service(session, name)
    actor.require_team_write(service.owner_team_id, "change this service")
    before = service_snapshot(service)
    changes = data.model_dump(exclude_unset=True)
    if "owner" in changes:
        owner_name = changes.pop("owner")
        owner = find_team(session, owner_name, field="owner") if owner_name else None
        actor.require_team_write(owner.id if owner else None, "give a service to that team")
        service.owner_team_id = owner.id if owner else None
    if "links" in changes:
        changes["links"] = [link.model_dump() for link in data.links or []]
    for key, value in changes.items():
        if value is None and key not in {"min_up"}:
            continue
        setattr(service, key, value)
    if service.kind == "pool":
        if service.min_up is None:
            service.min_up = 1
        _check_pool_cycles_from(session, service.id)
    else:
        _check_pool_fields(service.kind, service.min_up)
    session.flush()
    after = service_snapshot(service)
    if after != before:
        bump_revision(session)
        audit.record(session, actor, "service.update", "service", service.id,
                     before=before, after=after)
    return service


def delete_service(session: Session, actor: Actor, name: str) -> None:
    service = get_service(session, name)
    actor.require_team_write(service.owner_team_id, "delete this service")
    before = service_snapshot(service)
    deps = session.scalars(
        select(Dependency).where(
            or_(Dependency.service_id == service.id, Dependency.depends_on_id == service.id)
        )
    ).all()
    names = names_by_id(session, {d.service_id for d in deps} | {d.depends_on_id for d in deps})
    # Lock order everywhere: catalog revision, then the audit chain head.
    bump_revision(session)
    for dep in deps:
        audit.record(session, actor, "dependency.delete", "dependency", dep.id,
                     before=dependency_snapshot(dep, names))
        session.delete(dep)
    session.delete(service)
    session.flush()
    audit.record(session, actor, "service.delete", "service", before["id"], before=before)


def names_by_id(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Service.id, Service.name).where(Service.id.in_(ids))).all()
    return {row.id: row.name for row in rows}


def list_services(
    session: Session,
    *,
    kind: str | None = None,
    tier: int | None = None,
    team: str | None = None,
    lifecycle: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[Service]]:
    query = select(Service)
    if kind:
        query = query.where(Service.kind == kind)
    if tier:
        query = query.where(Service.tier == tier)
    if lifecycle:
        query = query.where(Service.lifecycle == lifecycle)
    if team:
        query = query.join(Team, Team.id == Service.owner_team_id).where(Team.name == team)
    if q:
        query = query.where(text_search(q, Service.name, Service.display_name,
                                        Service.description))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Service.name).limit(limit).offset(offset)).all()
    return total, list(rows)


def team_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Team.id, Team.name)).all())


def service_out(session: Session, service: Service,
                teams: dict[int, str] | None = None) -> dict[str, Any]:
    teams = team_names(session) if teams is None else teams
    return {
        "id": service.id,
        "name": service.name,
        "display_name": service.display_name,
        "description": service.description,
        "kind": service.kind,
        "tier": service.tier,
        "lifecycle": service.lifecycle,
        "owner": teams.get(service.owner_team_id) if service.owner_team_id else None,
        "min_up": service.min_up,
        "links": service.links or [],
        "annotations": service.annotations or {},
        "depends_on": dependencies_of(session, service.id),
        "dependants": dependants_of(session, service.id),
        "created_at": service.created_at,
        "updated_at": service.updated_at,
    }


def dependencies_of(session: Session, service_id: int) -> list[dict[str, str]]:
    rows = session.execute(
        select(Service.name, Dependency.type, Service.kind)
        .join(Dependency, Dependency.depends_on_id == Service.id)
        .where(Dependency.service_id == service_id)
        .order_by(Service.name)
    ).all()
    return [{"service": name, "type": dep_type, "kind": kind} for name, dep_type, kind in rows]


def dependants_of(session: Session, service_id: int) -> list[dict[str, str]]:
    rows = session.execute(
        select(Service.name, Dependency.type, Service.kind)
        .join(Dependency, Dependency.service_id == Service.id)
        .where(Dependency.depends_on_id == service_id)
        .order_by(Service.name)
    ).all()
    return [{"service": name, "type": dep_type, "kind": kind} for name, dep_type, kind in rows]


# -- dependencies -------------------------------------------------------------

def get_dependency(session: Session, dependency_id: int) -> Dependency:
    dep = session.get(Dependency, dependency_id)
    if dep is None:
        raise NotFound(f"dependency {dependency_id} does not exist", field="id")
    return dep


def create_dependency(session: Session, actor: Actor, data: DependencyCreate,
                      *, source: str = "manual") -> Dependency:
    dependant = find_service(session, data.service, field="service")
    target = find_service(session, data.depends_on, field="depends_on")
    actor.require_team_write(dependant.owner_team_id, f"add dependencies to {dependant.name}")
    if dependant.id == target.id:
        raise ValidationError("depends_on: a service cannot depend on itself", field="depends_on")
    existing = session.scalar(
        select(Dependency.id).where(
            Dependency.service_id == dependant.id, Dependency.depends_on_id == target.id
        )
    )
    if existing is not None:
        raise Conflict(
            f"depends_on: {dependant.name} already depends on {target.name}", field="depends_on"
        )
    dep = Dependency(service_id=dependant.id, depends_on_id=target.id, type=data.type,
                     description=data.description, source=source)
    session.add(dep)
    session.flush()
    _check_pool_cycles_from(session, dependant.id)
    bump_revision(session)
    audit.record(session, actor, "dependency.create", "dependency", dep.id,
                 after=dependency_snapshot(dep, {dependant.id: dependant.name,
                                                 target.id: target.name}))
    return dep


def update_dependency(session: Session, actor: Actor, dependency_id: int,
                      data: DependencyUpdate) -> Dependency:
    dep = get_dependency(session, dependency_id)
    dependant = session.get(Service, dep.service_id)
    assert dependant is not None
    actor.require_team_write(dependant.owner_team_id, f"change dependencies of {dependant.name}")
    before = dependency_snapshot(dep)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(dep, key, value)
    session.flush()
    after = dependency_snapshot(dep)
    if after != before:
        bump_revision(session)
        audit.record(session, actor, "dependency.update", "dependency", dep.id,
                     before=before, after=after)
    return dep


def delete_dependency(session: Session, actor: Actor, dependency_id: int, *,
                      service: str | None = None) -> None:
    """``service``: remove the dependency only if it is one of this service's (either end);
    NotFound naming the service otherwise."""
    named = get_service(session, service) if service is not None else None
    dep = get_dependency(session, dependency_id)
    if named is not None and named.id not in (dep.service_id, dep.depends_on_id):
        raise NotFound(f"dependency {dependency_id} does not belong to {service}",
                       field="service")
    dependant = session.get(Service, dep.service_id)
    assert dependant is not None
    actor.require_team_write(dependant.owner_team_id, f"remove dependencies of {dependant.name}")
    before = dependency_snapshot(dep, names_by_id(session, {dep.service_id, dep.depends_on_id}))
    session.delete(dep)
    session.flush()
    bump_revision(session)
    audit.record(session, actor, "dependency.delete", "dependency", before["id"], before=before)


def list_dependencies(
    session: Session, *, service: str | None = None, depends_on: str | None = None,
    type: str | None = None, limit: int = 100, offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    dependant = aliased(Service)
    target = aliased(Service)
    query = (
        select(Dependency, dependant.name, target.name)
        .join(dependant, dependant.id == Dependency.service_id)
        .join(target, target.id == Dependency.depends_on_id)
    )
    if service:
        query = query.where(dependant.name == service)
    if depends_on:
        query = query.where(target.name == depends_on)
    if type:
        query = query.where(Dependency.type == type)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(dependant.name, target.name).limit(limit).offset(offset)
    ).all()
    return total, [dependency_out(dep, dname, tname) for dep, dname, tname in rows]


def dependency_out(dep: Dependency, service_name: str, target_name: str) -> dict[str, Any]:
    return {"id": dep.id, "service": service_name, "depends_on": target_name, "type": dep.type,
            "description": dep.description, "source": dep.source}


def _check_pool_cycles_from(session: Session, start_id: int) -> None:
    """Refuse membership loops between pools: a pool inside itself has no meaning."""
    pools = set(session.scalars(select(Service.id).where(Service.kind == "pool")))
    if start_id not in pools:
        return
    edges: dict[int, list[int]] = {}
    for src, dst in session.execute(
        select(Dependency.service_id, Dependency.depends_on_id).where(
            Dependency.service_id.in_(pools), Dependency.depends_on_id.in_(pools)
        )
    ):
        edges.setdefault(src, []).append(dst)
    stack = [(start_id, [start_id])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        for nxt in edges.get(node, ()):
            if nxt == start_id:
                names = names_by_id(session, set(path))
                cycle = " -> ".join(names[p] for p in [*path, start_id])
                raise ValidationError(f"depends_on: dependency cycle between pools: {cycle}",
                                      field="depends_on")
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
