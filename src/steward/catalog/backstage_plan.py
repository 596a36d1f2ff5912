"""Plan the import of parsed Backstage entities into Steward's catalog (pure).

:func:`plan_import` translates the entities of a :class:`ParsedCatalog` into team, user, service
and dependency records (:class:`ImportPlan`). References not found in the files are listed in
``ImportPlan.unresolved`` for the caller to look up in the database; a reference to a kind Steward
does not model (Backstage lets ``dependsOn`` name any kind) is listed with ``modelled`` false.
"""

from __future__ import annotations

from collections import defaultdict

from steward.catalog.backstage_refs import (
    ANN_SOFT,
    DEFAULT_NAMESPACE,
    DEFAULT_STEWARD_KIND,
    KIND_NAMES,
    SERVICE_ENTITY_KINDS,
    DependencySpec,
    Entity,
    EntityError,
    EntityRef,
    ImportPlan,
    ParsedCatalog,
    ServiceSpec,
    TeamSpec,
    UnresolvedRef,
    UserSpec,
    format_ref,
    parse_ref,
)
from steward.inputs import (
    SERVICE_DISPLAY_NAME,
    TEAM_DISPLAY_NAME,
    USER_DISPLAY_NAME,
    shorten,
)


class _Planner:
    def __init__(self, parsed: ParsedCatalog) -> None:
        self.entities = parsed.entities
        self.by_ref = {e.ref: e for e in parsed.entities}
        self.by_name: dict[tuple[str, str], list[Entity]] = defaultdict(list)
        for e in parsed.entities:
            if e.kind in SERVICE_ENTITY_KINDS:
                self.by_name[(e.namespace.lower(), e.name.lower())].append(e)
        self.plan = ImportPlan()
        self.edges: dict[tuple[str, str], DependencySpec] = {}
        self.soft_used: set[tuple[str, EntityRef]] = set()
        self.unresolved_seen: set[UnresolvedRef] = set()

    def resolve(self, ref: EntityRef, origin: Entity, field_name: str) -> str:
        """The full ref of a parsed entity, or the ref as given (recorded as unresolved)."""
        if ref.kind is not None and format_ref(ref) in self.by_ref:
            return format_ref(ref)
        if ref.kind is None:
            candidates = self.by_name.get((ref.namespace, ref.name), [])
            if candidates:
                return min(candidates, key=lambda e: SERVICE_ENTITY_KINDS.index(e.kind)).ref
        modelled = ref.kind is None or ref.kind in KIND_NAMES
        unresolved = UnresolvedRef(format_ref(ref), origin.file, origin.document, origin.ref,
                                   field_name, modelled)
        if unresolved not in self.unresolved_seen:
            self.unresolved_seen.add(unresolved)
            self.plan.unresolved.append(unresolved)
        return format_ref(ref)

    def edge(self, dependant: str, target: str, type_: str, origin: Entity, field_name: str,
             via: EntityRef | None = None) -> None:
        if dependant == target:
            return
        source = self.by_ref.get(dependant)
        if source is not None:
            for soft in source.soft_dependencies:
                if soft.matches(parse_ref(target)) or (via is not None and soft.matches(via)):
                    self.soft_used.add((source.ref, soft))
                    type_ = "soft"
        key = (dependant, target)
        if key not in self.edges or (type_ == "hard" and self.edges[key].type == "soft"):
            self.edges[key] = DependencySpec(dependant, target, type_, origin.file,
                                             origin.document, field_name)

    def run(self) -> ImportPlan:
        self.teams_and_users()
        services = [e for e in self.entities if e.kind in SERVICE_ENTITY_KINDS]
        names = _service_names(services)
        providers: dict[str, list[str]] = defaultdict(list)
        for e in services:
            for api in e.provides_apis:
                providers[format_ref(api)].append(e.ref)
        for e in services:
            kind = e.steward_kind or DEFAULT_STEWARD_KIND[e.kind]
            owner = self.resolve(e.owner, e, "spec.owner") if e.owner else None
            self.plan.services.append(ServiceSpec(
                e.ref, names[e.ref], shorten(e.title or e.name, SERVICE_DISPLAY_NAME),
                e.description or "", kind,
                e.tier or (2 if kind == "business_service" else 3), e.lifecycle or "production",
                owner, e.min_up, list(e.links), dict(e.annotations), e.file, e.document))
            self.dependencies_of(e, providers)
        self.plan.dependencies = list(self.edges.values())
        for e in services:
            for soft in e.soft_dependencies:
                if (e.ref, soft) not in self.soft_used:
                    self.plan.errors.append(EntityError(
                        e.file, e.document, e.ref, f"metadata.annotations.{ANN_SOFT}",
                        f"{format_ref(soft)} is not one of this entity's dependencies"))
        return self.plan

    def teams_and_users(self) -> None:
        groups = [e for e in self.entities if e.kind == "group"]
        parent_of: dict[str, str] = {}
        members: dict[str, list[str]] = {}
        teams_of: dict[str, list[str]] = defaultdict(list)
        for g in groups:
            for child in g.children:
                parent_of.setdefault(self.resolve(child, g, "spec.children"), g.ref)
            members[g.ref] = [self.resolve(m, g, "spec.members") for m in g.members]
            for member in members[g.ref]:
                teams_of[member].append(g.ref)
        for g in groups:
            parent = self.resolve(g.parent, g, "spec.parent") if g.parent else parent_of.get(g.ref)
            email = g.profile.get("email")
            self.plan.teams.append(TeamSpec(
                g.ref, g.name,
                shorten(g.profile.get("displayName") or g.title or g.name, TEAM_DISPLAY_NAME),
                g.description or "", {"email": email} if email else {}, parent, members[g.ref],
                g.file, g.document))
        for u in (e for e in self.entities if e.kind == "user"):
            team_refs = [self.resolve(m, u, "spec.memberOf") for m in u.member_of]
            team_refs += [t for t in teams_of.get(u.ref, []) if t not in team_refs]
            display_name = shorten(u.profile.get("displayName") or u.title or u.name,
                                   USER_DISPLAY_NAME)
            self.plan.users.append(UserSpec(u.ref, u.name, display_name, u.profile.get("email"),
                                            team_refs, u.file, u.document))

    def dependencies_of(self, e: Entity, providers: dict[str, list[str]]) -> None:
        for target in e.depends_on:
            self.edge(e.ref, self.resolve(target, e, "spec.dependsOn"), "hard", e, "spec.dependsOn")
        for dependant in e.dependency_of:
            source = self.resolve(dependant, e, "spec.dependencyOf")
            self.edge(source, e.ref, "hard", e, "spec.dependencyOf")
        for api in e.consumes_apis:
            found = [p for p in providers.get(format_ref(api), []) if p != e.ref]
            for provider in found or [self.resolve(api, e, "spec.consumesApis")]:
                self.edge(e.ref, provider, "hard", e, "spec.consumesApis", via=api)
        for api in e.provides_apis:
            source = self.resolve(api, e, "spec.providesApis")
            self.edge(source, e.ref, "hard", e, "spec.providesApis")
        if e.system is not None:
            self.edge(self.resolve(e.system, e, "spec.system"), e.ref, "soft", e, "spec.system")
        if e.domain is not None:
            self.edge(self.resolve(e.domain, e, "spec.domain"), e.ref, "soft", e, "spec.domain")


def _service_names(services: list[Entity]) -> dict[str, str]:
    """Steward names: ``metadata.name``; when names collide (case-insensitively), a Component in
    the default namespace keeps it, others get ``{namespace}-{name}`` outside the default namespace
    and/or a ``-{kind}`` suffix (``petstore-api``), then a number if still taken."""
    def rank(e: Entity) -> tuple[bool, int, str, str]:
        outside = e.namespace.lower() != DEFAULT_NAMESPACE
        return (outside, SERVICE_ENTITY_KINDS.index(e.kind), e.namespace, e.ref)

    by_name: dict[str, list[Entity]] = defaultdict(list)
    for e in services:
        by_name[e.name.lower()].append(e)
    taken = set(by_name)
    names: dict[str, str] = {}
    for _, group in sorted(by_name.items()):
        first, *others = sorted(group, key=rank)
        names[first.ref] = first.name
        for e in others:
            base = e.name if e.namespace.lower() == DEFAULT_NAMESPACE else f"{e.namespace}-{e.name}"
            candidate = base if base.lower() not in taken else f"{base}-{e.kind}"
            n = 2
            while candidate.lower() in taken:
                candidate, n = f"{base}-{e.kind}-{n}", n + 1
            taken.add(candidate.lower())
            names[e.ref] = candidate
    return names


def plan_import(parsed: ParsedCatalog) -> ImportPlan:
    """Translate parsed entities into Steward teams, users, services and dependencies (pure)."""
    return _Planner(parsed).run()
