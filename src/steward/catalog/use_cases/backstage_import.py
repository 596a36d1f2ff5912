"""Importing Backstage catalog files into the catalog: idempotent, all or nothing.

The pure parser and planner (:mod:`steward.catalog.backstage`) say what the
files describe; this use case resolves references the files leave open
against what is already stored, refuses the whole import when anything is
invalid (unless asked to skip invalid entities), and then creates, updates or
leaves alone each team, user, service and dependency, writing the audit
entries in the same transaction. Entities are matched by their Backstage ref;
a record created by hand with the same name is adopted.

A reference found neither in the files nor in the catalog (a Group's parent in
another repository, an owner not imported yet) does not make the entity
invalid: the entity is stored without that relation and the reference is
listed in the report; importing again once the target exists adds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from steward.audit.service import Change, record_many
from steward.auth.actor import Actor
from steward.auth.models import TeamMembership, User
from steward.auth.use_cases.accounts import user_snapshot
from steward.catalog.backstage import (
    EntityError,
    ImportPlan,
    ServiceSpec,
    UnresolvedRef,
    load_catalog,
    parse_ref,
    plan_import,
)
from steward.catalog.backstage_report import Counts, ImportReport
from steward.catalog.models import Dependency, Service, Team
from steward.catalog.use_cases.services import bump_revision
from steward.db import Database

SOURCE = "backstage"
# Core tables for the bulk inserts: much faster than ORM objects for thousands of rows.
SERVICES = Service.__table__
DEPENDENCIES = Dependency.__table__
__all__ = ["Counts", "ImportReport", "import_catalog"]


def import_catalog(db: Database, actor: Actor, paths: Sequence[str | Path],
                   *, skip_invalid: bool = False, relative_to: Path | None = None
                   ) -> ImportReport:
    """Import catalog files and folders; ``relative_to`` names files relative to that folder."""
    actor.require_admin("import catalog files")
    parsed = load_catalog(paths, relative_to=relative_to)
    plan = plan_import(parsed)
    report = ImportReport(errors=list(parsed.errors) + list(plan.errors), skips=parsed.skips)
    with db.session() as session:
        importer = _Importer(session, actor, plan, report)
        report.errors.extend(importer.resolve_open_refs())
        if report.errors and not skip_invalid:
            return report
        importer.leave_out({e.entity for e in report.errors if e.entity})
        importer.apply()
        report.stored = True
    return report


def _service_fields(spec: ServiceSpec, owner_id: int | None) -> dict[str, Any]:
    return {
        "name": spec.name,
        "display_name": spec.display_name or spec.name,
        "description": spec.description,
        "kind": spec.kind,
        "tier": spec.tier,
        "lifecycle": spec.lifecycle,
        "owner_team_id": owner_id,
        "min_up": (spec.min_up or 1) if spec.kind == "pool" else None,
        "links": list(spec.links),
        "annotations": dict(spec.annotations),
    }


def _local_name(ref: str, name: str) -> str:
    """Teams and users outside the default namespace get it as a prefix."""
    namespace = parse_ref(ref).namespace
    return name if namespace == "default" else f"{namespace}-{name}"


class _Importer:
    def __init__(self, session: Session, actor: Actor, plan: ImportPlan, report: ImportReport):
        self.session = session
        self.actor = actor
        self.plan = plan
        self.report = report
        self.changes: list[Change] = []
        self.teams_by_ref = {t.backstage_ref: t for t in session.scalars(
            select(Team).where(Team.backstage_ref.is_not(None)))}
        self.teams_by_name = {t.name: t for t in session.scalars(select(Team))}
        self.users_by_name = {u.username: u for u in session.scalars(select(User))}
        self.users_by_ref = {u.backstage_ref: u for u in self.users_by_name.values()
                             if u.backstage_ref}
        self.services = list(session.scalars(select(Service)))
        self.services_by_ref = {s.backstage_ref: s for s in self.services if s.backstage_ref}
        self.services_by_name = {s.name: s for s in self.services}
        self.resolved_services: dict[str, int] = {}

    # -- references -------------------------------------------------------------

    def _stored_service(self, ref: str) -> Service | None:
        found = self.services_by_ref.get(ref)
        if found is not None:
            return found
        parsed = parse_ref(ref)
        if parsed.kind is None:
            suffix = f":{parsed.namespace}/{parsed.name}"
            for stored_ref, service in self.services_by_ref.items():
                if stored_ref.endswith(suffix):
                    return service
        if parsed.namespace == "default":
            by_name = self.services_by_name.get(parsed.name)
            if by_name is not None and by_name.backstage_ref is None:
                return by_name
        return None

    def _stored_team(self, ref: str) -> Team | None:
        parsed = parse_ref(ref, "group")
        team = self.teams_by_ref.get(ref)
        if team is None and parsed.namespace == "default":
            team = self.teams_by_name.get(parsed.name)
        return team

    def _stored_user(self, ref: str) -> User | None:
        parsed = parse_ref(ref, "user")
        return self.users_by_ref.get(ref) or self.users_by_name.get(
            _local_name(ref, parsed.name))

    def _is_stored(self, open_ref: UnresolvedRef) -> bool:
        if not open_ref.modelled:
            return False
        kind = parse_ref(open_ref.ref).kind
        if kind == "group":
            return self._stored_team(open_ref.ref) is not None
        if kind == "user":
            return self._stored_user(open_ref.ref) is not None
        service = self._stored_service(open_ref.ref)
        if service is not None:
            self.resolved_services[open_ref.ref] = service.id
        return service is not None

    def resolve_open_refs(self) -> list[EntityError]:
        """Look up what the files leave open; the names that clash with stored records."""
        self.report.unresolved = [r for r in self.plan.unresolved if not self._is_stored(r)]
        errors = []
        for team_spec in self.plan.teams:
            team = self.teams_by_name.get(_local_name(team_spec.ref, team_spec.name))
            if team is not None and team.backstage_ref not in (None, team_spec.ref):
                errors.append(EntityError(team_spec.file, team_spec.document, team_spec.ref,
                                          "metadata.name", f"the team name {team.name!r} is "
                                          f"already used by {team.backstage_ref}"))
        for user_spec in self.plan.users:
            user = self.users_by_name.get(_local_name(user_spec.ref, user_spec.username))
            if user is not None and user.backstage_ref not in (None, user_spec.ref):
                errors.append(EntityError(user_spec.file, user_spec.document, user_spec.ref,
                                          "metadata.name", f"the username {user.username!r} is "
                                          f"already used by {user.backstage_ref}"))
        for spec in self.plan.services:
            holder = self.services_by_name.get(spec.name)
            if holder is not None and holder.backstage_ref not in (None, spec.ref):
                errors.append(EntityError(spec.file, spec.document, spec.ref, "metadata.name",
                                          f"the name {spec.name!r} is already used by "
                                          f"{holder.backstage_ref}"))
        return errors

    def leave_out(self, refs: set[str]) -> None:
        if not refs:
            return
        before = len(self.plan.teams) + len(self.plan.users) + len(self.plan.services)
        self.plan.teams = [t for t in self.plan.teams if t.ref not in refs]
        self.plan.users = [u for u in self.plan.users if u.ref not in refs]
        self.plan.services = [s for s in self.plan.services if s.ref not in refs]
        self.report.left_out = before - (len(self.plan.teams) + len(self.plan.users)
                                         + len(self.plan.services))

    # -- writing ------------------------------------------------------------------

    def apply(self) -> None:
        team_ids = self._apply_teams()
        user_ids = self._apply_users(team_ids)
        service_ids = self._apply_services(team_ids, user_ids)
        self._apply_dependencies(service_ids)
        if self.report.services.created + self.report.services.updated \
                + self.report.dependencies.created + self.report.dependencies.updated \
                + self.report.dependencies.deleted:
            bump_revision(self.session)
        record_many(self.session, self.actor, self.changes)

    def _apply_teams(self) -> dict[str, int]:
        from steward.catalog.use_cases.teams import team_snapshot

        ids: dict[str, int] = {}
        counts = self.report.teams
        for spec in self.plan.teams:
            name = _local_name(spec.ref, spec.name)
            team = self.teams_by_ref.get(spec.ref) or self._adoptable_team(name)
            wanted = {"name": name, "display_name": spec.display_name,
                      "description": spec.description, "contacts": dict(spec.contacts)}
            if team is None:
                team = Team(backstage_ref=spec.ref, **wanted)
                self.session.add(team)
                self.session.flush()
                self.teams_by_name[name] = team
                counts.created += 1
                self.changes.append(Change("team.create", "team", team.id,
                                           after=team_snapshot(team)))
            else:
                before = team_snapshot(team)
                team.backstage_ref = spec.ref
                for key, value in wanted.items():
                    setattr(team, key, value)
                self._count(counts, "team", team.id, before, team_snapshot(team))
            ids[spec.ref] = team.id
        for spec in self.plan.teams:
            parent_id = self._team_id(spec.parent_ref, ids) if spec.parent_ref else None
            team = self.session.get(Team, ids[spec.ref])
            if team is not None and parent_id != team.id and team.parent_id != parent_id:
                team.parent_id = parent_id
        self.session.flush()
        return ids

    def _adoptable_team(self, name: str) -> Team | None:
        team = self.teams_by_name.get(name)
        return team if team is not None and team.backstage_ref is None else None

    def _team_id(self, ref: str, planned: dict[str, int]) -> int | None:
        if ref in planned:
            return planned[ref]
        team = self._stored_team(ref)
        return team.id if team else None

    def _apply_users(self, team_ids: dict[str, int]) -> dict[str, int]:
        ids: dict[str, int] = {}
        counts = self.report.users
        for spec in self.plan.users:
            username = _local_name(spec.ref, spec.username)
            user = self.users_by_ref.get(spec.ref)
            if user is None:
                holder = self.users_by_name.get(username)
                user = holder if holder is not None and holder.backstage_ref is None else None
            wanted_teams = sorted({tid for ref in spec.team_refs
                                   if (tid := self._team_id(ref, team_ids)) is not None})
            if user is None:
                user = User(username=username, display_name=spec.display_name,
                            email=spec.email or "", role="member", backstage_ref=spec.ref)
                self.session.add(user)
                self.session.flush()
                self.users_by_name[username] = user
                self._set_teams(user.id, wanted_teams)
                counts.created += 1
                self.changes.append(Change("user.create", "user", user.id,
                                           after=user_snapshot(self.session, user)))
            else:
                before = user_snapshot(self.session, user)
                user.display_name = spec.display_name
                user.email = spec.email or user.email
                user.backstage_ref = spec.ref
                self._set_teams(user.id, wanted_teams)
                self.session.flush()
                self._count(counts, "user", user.id, before, user_snapshot(self.session, user))
            ids[spec.ref] = user.id
        return ids

    def _set_teams(self, user_id: int, team_ids: list[int]) -> None:
        current = set(self.session.scalars(
            select(TeamMembership.team_id).where(TeamMembership.user_id == user_id)))
        if current == set(team_ids):
            return
        self.session.execute(delete(TeamMembership).where(TeamMembership.user_id == user_id))
        for team_id in team_ids:
            self.session.add(TeamMembership(user_id=user_id, team_id=team_id))
        self.session.flush()

    def _owner_id(self, ref: str | None, team_ids: dict[str, int],
                  user_ids: dict[str, int]) -> int | None:
        if ref is None:
            return None
        if parse_ref(ref).kind == "user":
            user_id = user_ids.get(ref)
            if user_id is None:
                user = self._stored_user(ref)
                user_id = user.id if user else None
            if user_id is None:
                return None
            return self.session.scalar(select(TeamMembership.team_id)
                                       .where(TeamMembership.user_id == user_id)
                                       .order_by(TeamMembership.team_id).limit(1))
        return self._team_id(ref, team_ids)

    def _apply_services(self, team_ids: dict[str, int],
                        user_ids: dict[str, int]) -> dict[str, int]:
        from steward.catalog.use_cases.services import service_snapshot

        ids = dict(self.resolved_services)
        counts = self.report.services
        new_rows: list[dict[str, Any]] = []
        for spec in self.plan.services:
            wanted = _service_fields(spec, self._owner_id(spec.owner_ref, team_ids, user_ids))
            service = self.services_by_ref.get(spec.ref)
            if service is None:
                holder = self.services_by_name.get(spec.name)
                service = holder if holder is not None and holder.backstage_ref is None else None
            if service is None:
                new_rows.append({**wanted, "backstage_ref": spec.ref})
                continue
            before = service_snapshot(service)
            service.backstage_ref = spec.ref
            for key, value in wanted.items():
                setattr(service, key, value)
            self._count(counts, "service", service.id, before, service_snapshot(service))
            ids[spec.ref] = service.id
        if new_rows:
            created = self.session.execute(
                insert(SERVICES).returning(SERVICES.c.id, SERVICES.c.backstage_ref,
                                           sort_by_parameter_order=True), new_rows)
            for (service_id, ref), row in zip(created, new_rows, strict=True):
                ids[ref] = service_id
                snapshot = {"id": service_id, **{k: row[k] for k in (
                    "name", "display_name", "description", "kind", "tier", "lifecycle",
                    "owner_team_id", "min_up", "links", "annotations")}}
                self.changes.append(Change("service.create", "service", service_id,
                                           after=snapshot))
            counts.created += len(new_rows)
        self.session.flush()
        return ids

    def _apply_dependencies(self, service_ids: dict[str, int]) -> None:
        counts = self.report.dependencies
        imported = {service_ids[s.ref] for s in self.plan.services}
        wanted: dict[tuple[int, int], str] = {}
        for spec in self.plan.dependencies:
            source, target = service_ids.get(spec.from_ref), service_ids.get(spec.to_ref)
            if source is None or target is None or source == target:
                continue  # an end was left out as invalid
            if wanted.get((source, target)) != "hard":
                wanted[(source, target)] = spec.type
        existing = {(d.service_id, d.depends_on_id): d for d in self.session.scalars(
            select(Dependency).where(Dependency.service_id.in_(imported)))} if imported else {}
        new_rows = []
        for pair, dep_type in wanted.items():
            dep = existing.get(pair)
            if dep is None:
                new_rows.append({"service_id": pair[0], "depends_on_id": pair[1],
                                 "type": dep_type, "description": "", "source": SOURCE})
            elif dep.type != dep_type and dep.source == SOURCE:
                before = {"id": dep.id, "type": dep.type}
                dep.type = dep_type
                counts.updated += 1
                self.changes.append(Change("dependency.update", "dependency", dep.id,
                                           before=before, after={"id": dep.id, "type": dep_type}))
            else:
                counts.unchanged += 1
        for pair, dep in existing.items():
            if dep.source == SOURCE and pair not in wanted:
                self.changes.append(Change("dependency.delete", "dependency", dep.id, before={
                    "id": dep.id, "service_id": dep.service_id,
                    "depends_on_id": dep.depends_on_id, "type": dep.type}))
                self.session.delete(dep)
                counts.deleted += 1
        if new_rows:
            created = self.session.execute(
                insert(DEPENDENCIES).returning(DEPENDENCIES.c.id, sort_by_parameter_order=True),
                new_rows)
            for (dep_id,), row in zip(created, new_rows, strict=True):
                self.changes.append(Change("dependency.create", "dependency", dep_id,
                                           after={"id": dep_id, **row}))
            counts.created += len(new_rows)
        self.session.flush()

    def _count(self, counts: Counts, entity: str, entity_id: int, before: dict[str, Any],
               after: dict[str, Any]) -> None:
        if before == after:
            counts.unchanged += 1
            return
        counts.updated += 1
        self.changes.append(Change(f"{entity}.update", entity, entity_id, before=before,
                                   after=after))
