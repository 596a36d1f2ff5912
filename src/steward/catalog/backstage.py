"""Read Backstage catalog YAML files and plan their import into Steward's catalog.

Pure code (PyYAML only; no database, no web framework). :func:`load_catalog` parses and validates
files and folders into a :class:`ParsedCatalog`, collecting every problem as an
:class:`EntityError`. Entities with problems are still listed (bad fields left empty) so that other
entities' references to them resolve; a caller should import nothing while ``errors`` is non-empty.
:func:`plan_import` translates the entities into team, user, service and dependency records
(:class:`ImportPlan`); references not found in the files are listed in ``ImportPlan.unresolved``
for the caller to look up in the database.

Reference defaults follow Backstage's ``BuiltinKindsEntityProcessor``: every relation field
defaults to the namespace of the entity holding it (not ``default``); the default kinds are Group
for ``spec.owner``, ``spec.parent``, ``spec.children`` and ``spec.memberOf``, User for
``spec.members``, API for ``spec.providesApis``/``spec.consumesApis``, System for ``spec.system``
and Domain for ``spec.domain``. ``spec.dependsOn``/``spec.dependencyOf`` have no default kind
(Backstage rejects such a reference); here the kind is left open (``None``) and resolved by name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from steward.catalog.backstage_refs import (
    DEFAULT_NAMESPACE,
    DependencySpec,
    Entity,
    EntityError,
    EntityRef,
    ImportPlan,
    ParsedCatalog,
    RefError,
    ServiceSpec,
    TeamSpec,
    UnresolvedRef,
    UserSpec,
    format_ref,
    is_valid_name,
    is_valid_namespace,
    make_links,
    parse_ref,
)
from steward.catalog.schemas import MAX_MIN_UP

__all__ = [
    "DependencySpec", "Entity", "EntityError", "EntityRef", "ImportPlan", "ParsedCatalog",
    "ServiceSpec", "TeamSpec", "UnresolvedRef", "UserSpec", "format_ref", "load_catalog",
    "parse_ref", "plan_import",
]

# libyaml's safe loader when PyYAML was built with it: same safety, far faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
KIND_NAMES = {"component": "Component", "api": "API", "resource": "Resource", "system": "System",
              "domain": "Domain", "group": "Group", "user": "User"}
SKIPPED_KINDS = ("location", "template")
SERVICE_ENTITY_KINDS = ("component", "resource", "api", "system", "domain")  # resolution order
STEWARD_KINDS = ("business_service", "system", "service", "api", "resource", "pool")
DEFAULT_STEWARD_KIND = {"component": "service", "api": "api", "resource": "resource",
                        "system": "system", "domain": "business_service"}
LIFECYCLES = ("experimental", "production", "deprecated", "retired")
ANN_KIND, ANN_TIER, ANN_MIN_UP = "steward.dev/kind", "steward.dev/tier", "steward.dev/min-up"
ANN_SOFT, ANN_SOURCE = "steward.dev/soft-dependencies", "backstage.io/source-location"

_REQUIRED = {"component": ("type", "lifecycle", "owner"),
             "api": ("type", "lifecycle", "owner", "definition"), "resource": ("type", "owner"),
             "system": ("owner",), "domain": ("owner",), "group": ("type",), "user": ()}
# spec key -> (Entity attribute, default kind, is a list, kinds allowed as target)
_REF_FIELDS: dict[str, tuple[str, str | None, bool, tuple[str, ...]]] = {
    "owner": ("owner", "group", False, ("group", "user")),
    "system": ("system", "system", False, ("system",)),
    "domain": ("domain", "domain", False, ("domain",)),
    "parent": ("parent", "group", False, ("group",)),
    "children": ("children", "group", True, ("group",)),
    "members": ("members", "user", True, ("user",)),
    "memberOf": ("member_of", "group", True, ("group",)),
    "dependsOn": ("depends_on", None, True, SERVICE_ENTITY_KINDS),
    "dependencyOf": ("dependency_of", None, True, SERVICE_ENTITY_KINDS),
    "providesApis": ("provides_apis", "api", True, SERVICE_ENTITY_KINDS),
    "consumesApis": ("consumes_apis", "api", True, SERVICE_ENTITY_KINDS),
}
_DEPS = ("dependsOn", "dependencyOf")
_KIND_REF_FIELDS = {"component": ("owner", "system", "providesApis", "consumesApis", *_DEPS),
                    "api": ("owner", "system", *_DEPS), "resource": ("owner", "system", *_DEPS),
                    "system": ("owner", "domain", *_DEPS), "domain": ("owner", *_DEPS),
                    "group": ("parent", "children", "members"), "user": ("memberOf",)}


# ---------------------------------------------------------------------------------------------
# Loading and validation


def _catalog_files(paths: Sequence[str | Path], errors: list[EntityError]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [p for p in path.rglob("*") if p.suffix.lower() in (".yaml", ".yml")]
            files += sorted((p for p in found if p.is_file()),
                            key=lambda p: p.relative_to(path).as_posix())
        elif path.is_file():
            files.append(path)
        else:
            errors.append(EntityError(str(path), 0, None, "", "no such file or folder"))
    unique: dict[Path, Path] = {}
    for f in files:
        unique.setdefault(f.resolve(), f)
    return list(unique.values())


def load_catalog(paths: Sequence[str | Path]) -> ParsedCatalog:
    """Parse Backstage catalog files; folders are walked for ``*.yaml``/``*.yml``, sorted."""
    parsed = ParsedCatalog()
    seen: dict[str, Entity] = {}
    for path in _catalog_files(paths, parsed.errors):
        label = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            parsed.errors.append(EntityError(label, 0, None, "", f"cannot read the file: {exc}"))
            continue
        number = 0
        try:
            for number, doc in enumerate(yaml.load_all(text, Loader=SAFE_LOADER), 1):
                if doc is None:
                    continue
                skipped, entity = _Document(label, number, doc, parsed.errors).parse()
                parsed.skipped += skipped
                if entity is not None and entity.ref in seen:
                    first = seen[entity.ref]
                    parsed.errors.append(EntityError(
                        label, number, entity.ref, "metadata.name",
                        f"duplicate entity: already defined in {first.file} doc {first.document}"))
                elif entity is not None:
                    seen[entity.ref] = entity
                    parsed.entities.append(entity)
        except yaml.YAMLError as exc:  # PyYAML cannot go on: the file's later documents are lost
            parsed.errors.append(EntityError(label, number + 1, None, "", _yaml_reason(exc)))
    return parsed


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = getattr(exc, "context", None)
    return f"invalid YAML{where}: {problem}" + (f" ({context})" if context else "")


class _Document:
    """One YAML document: validated field by field, every problem appended to ``errors``."""

    def __init__(self, file: str, number: int, doc: Any, errors: list[EntityError]) -> None:
        self.file, self.number, self.doc, self.errors = file, number, doc, errors
        self.ref: str | None = None

    def error(self, field_name: str, reason: str) -> None:
        self.errors.append(EntityError(self.file, self.number, self.ref, field_name, reason))

    def parse(self) -> tuple[int, Entity | None]:
        """``(1, None)`` for a skipped kind, else ``(0, the entity or None if unidentifiable)``."""
        doc = self.doc
        if not isinstance(doc, dict):
            self.error("", f"a catalog entity must be a mapping, not {type(doc).__name__}")
            return 0, None
        raw_kind = doc.get("kind")
        kind = raw_kind.strip().lower() if isinstance(raw_kind, str) else None
        if kind in SKIPPED_KINDS:
            return 1, None
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        name, namespace = meta.get("name"), meta.get("namespace", DEFAULT_NAMESPACE)
        if kind in KIND_NAMES and isinstance(name, str) and name and isinstance(namespace, str):
            self.ref = f"{kind}:{namespace}/{name}".lower()
        self.envelope(doc, raw_kind, kind, name, namespace)
        title = self.text(meta, "metadata.title")
        description = self.text(meta, "metadata.description")
        annotations = self.annotations(meta.get("annotations"))
        links = make_links(meta.get("links"), annotations.get(ANN_SOURCE), self.error)
        if self.ref is None or not is_valid_name(name) or not is_valid_namespace(namespace):
            return 0, None
        assert kind is not None
        entity = Entity(kind=kind, namespace=namespace, name=name, ref=self.ref, title=title,
                        description=description, annotations=annotations, links=links,
                        file=self.file, document=self.number)
        spec = doc.get("spec", {})
        if not isinstance(spec, dict):
            self.error("spec", "must be a mapping")
            spec = {}
        self.spec(entity, spec)
        if kind in ("group", "user"):
            entity.profile = self.profile(spec.get("profile"))
        else:
            self.steward_annotations(entity)
        return 0, entity

    def envelope(self, doc: dict[str, Any], raw_kind: Any, kind: str | None, name: Any,
                 namespace: Any) -> None:
        if "apiVersion" not in doc:
            self.error("apiVersion", "is required")
        elif doc["apiVersion"] not in API_VERSIONS:
            self.error("apiVersion",
                       f"{doc['apiVersion']!r} is not one of {', '.join(API_VERSIONS)}")
        if raw_kind is None:
            self.error("kind", "is required")
        elif kind not in KIND_NAMES:
            self.error("kind", f"unsupported kind {raw_kind!r}: expected one of "
                               f"{', '.join(KIND_NAMES.values())} (or Location/Template, skipped)")
        if "metadata" not in doc:
            self.error("metadata", "is required")
        elif not isinstance(doc["metadata"], dict):
            self.error("metadata", "must be a mapping")
        elif name is None:
            self.error("metadata.name", "is required")
        elif not is_valid_name(name):
            self.error("metadata.name", f"{name!r} is not a valid entity name: 1-63 characters "
                                        "of [A-Za-z0-9-_.], starting and ending alphanumeric")
        if not is_valid_namespace(namespace):
            self.error("metadata.namespace", f"{namespace!r} is not a valid namespace: lowercase "
                                             "letters, digits and single dashes, 1-63 characters")

    def spec(self, entity: Entity, spec: dict[str, Any]) -> None:
        for key in _REQUIRED[entity.kind]:
            if spec.get(key) in (None, "", [], {}):
                self.error(f"spec.{key}", "is required")
        entity.spec_type = self.text(spec, "spec.type")
        lifecycle = self.text(spec, "spec.lifecycle")
        if lifecycle is not None and lifecycle.lower() in LIFECYCLES:
            entity.lifecycle = lifecycle.lower()
        elif lifecycle:
            self.error("spec.lifecycle", f"{lifecycle!r} is not one of {', '.join(LIFECYCLES)}")
        definition = spec.get("definition")
        placeholder = isinstance(definition, dict) and len(definition) == 1 and \
            str(next(iter(definition))).startswith("$")  # e.g. {$text: ./openapi.yaml}
        if entity.kind == "api" and definition and not isinstance(definition, str) \
                and not placeholder:
            self.error("spec.definition", "must be a string or a placeholder such as $text")
        for key in _KIND_REF_FIELDS[entity.kind]:
            if spec.get(key) is not None:
                value = self.refs(spec[key], key, entity.namespace.lower())
                setattr(entity, _REF_FIELDS[key][0], value)

    def text(self, mapping: dict[str, Any], dotted: str) -> str | None:
        value = mapping.get(dotted.rsplit(".", 1)[-1])
        if value is not None and not isinstance(value, str):
            self.error(dotted, f"must be a string, not {type(value).__name__}")
            return None
        return value

    def annotations(self, raw: Any) -> dict[str, str]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.error("metadata.annotations", "must be a mapping of strings")
            return {}
        out: dict[str, str] = {}
        for key, value in raw.items():
            if value is None or isinstance(value, (dict, list)):
                self.error(f"metadata.annotations.{key}", "must be a string")
            else:  # lenient: a YAML number or boolean is kept as its text
                out[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
        return out

    def refs(self, value: Any, key: str, namespace: str) -> Any:
        _, default_kind, many, allowed = _REF_FIELDS[key]
        if many and not isinstance(value, list):
            self.error(f"spec.{key}", f"must be a list of entity references, "
                                      f"not {type(value).__name__}")
            return []
        out: list[EntityRef] = []
        for i, item in enumerate(value if many else [value]):
            where = f"spec.{key}[{i}]" if many else f"spec.{key}"
            try:
                ref = parse_ref(item, default_kind, namespace)
            except RefError as exc:
                self.error(where, str(exc))
                continue
            if ref.kind is not None and ref.kind not in allowed:
                expected = " or ".join(KIND_NAMES.get(k, k) for k in allowed)
                self.error(where, f"{format_ref(ref)} is not a {expected}")
            elif ref not in out:
                out.append(ref)
        return out if many else (out[0] if out else None)

    def profile(self, raw: Any) -> dict[str, str]:
        if raw is None or not isinstance(raw, dict):
            if raw is not None:
                self.error("spec.profile", "must be a mapping")
            return {}
        fields = {key: self.text(raw, f"spec.profile.{key}") for key in ("displayName", "email")}
        return {key: value for key, value in fields.items() if value}

    def steward_annotations(self, entity: Entity) -> None:
        ann, where = entity.annotations, "metadata.annotations."
        if ANN_KIND in ann:
            if ann[ANN_KIND].strip().lower() in STEWARD_KINDS:
                entity.steward_kind = ann[ANN_KIND].strip().lower()
            else:
                self.error(where + ANN_KIND,
                           f"{ann[ANN_KIND]!r} is not one of {', '.join(STEWARD_KINDS)}")
        if ANN_TIER in ann:
            tier = _integer(ann[ANN_TIER])
            if tier is not None and 1 <= tier <= 4:
                entity.tier = tier
            else:
                self.error(where + ANN_TIER, f"{ann[ANN_TIER]!r} is not an integer from 1 to 4")
        if ANN_MIN_UP in ann:
            min_up = _integer(ann[ANN_MIN_UP])
            if min_up is None or not 1 <= min_up <= MAX_MIN_UP:
                self.error(where + ANN_MIN_UP,
                           f"{ann[ANN_MIN_UP]!r} is not an integer from 1 to {MAX_MIN_UP:,}")
            elif (entity.steward_kind or DEFAULT_STEWARD_KIND[entity.kind]) != "pool":
                self.error(where + ANN_MIN_UP, f"only applies to a pool ({ANN_KIND}: pool)")
            else:
                entity.min_up = min_up
        for text in filter(None, (p.strip() for p in ann.get(ANN_SOFT, "").split(","))):
            try:
                entity.soft_dependencies.append(parse_ref(text, None, entity.namespace.lower()))
            except RefError as exc:
                self.error(where + ANN_SOFT, str(exc))


def _integer(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Import planning


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

    def resolve(self, ref: EntityRef, origin: Entity, field_name: str) -> str:
        """The full ref of a parsed entity, or the ref as given (recorded as unresolved)."""
        if ref.kind is not None and format_ref(ref) in self.by_ref:
            return format_ref(ref)
        if ref.kind is None:
            candidates = self.by_name.get((ref.namespace, ref.name), [])
            if candidates:
                return min(candidates, key=lambda e: SERVICE_ENTITY_KINDS.index(e.kind)).ref
        unresolved = UnresolvedRef(format_ref(ref), origin.file, origin.document, origin.ref,
                                   field_name)
        if unresolved not in self.plan.unresolved:
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
                e.ref, names[e.ref], e.title or e.name, e.description or "", kind,
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
                g.ref, g.name, g.profile.get("displayName") or g.title or g.name,
                g.description or "", {"email": email} if email else {}, parent, members[g.ref],
                g.file, g.document))
        for u in (e for e in self.entities if e.kind == "user"):
            team_refs = [self.resolve(m, u, "spec.memberOf") for m in u.member_of]
            team_refs += [t for t in teams_of.get(u.ref, []) if t not in team_refs]
            display_name = u.profile.get("displayName") or u.title or u.name
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
