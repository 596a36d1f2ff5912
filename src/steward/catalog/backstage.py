"""Read Backstage catalog YAML files into entities, ready to plan their import into Steward.

Pure code (PyYAML only; no database, no web framework). :func:`load_catalog` parses and validates
files and folders into a :class:`ParsedCatalog`, collecting every problem as an
:class:`EntityError`. Entities with problems are still listed (bad fields left empty) so that other
entities' references to them resolve; a caller should import nothing while ``errors`` is non-empty.
What Backstage would not read as an entity (scaffolder skeletons, YAML files that are no catalog
files, see :mod:`steward.catalog.backstage_files`) and documents of kinds Steward does not model
(Template, Location, Environment, ...) are listed in ``ParsedCatalog.skips``, not as errors.
:func:`plan_import` (:mod:`steward.catalog.backstage_plan`) translates the entities into team,
user, service and dependency records.

Reference defaults follow Backstage's ``BuiltinKindsEntityProcessor``: every relation field
defaults to the namespace of the entity holding it (not ``default``); the default kinds are Group
for ``spec.owner``, ``spec.parent``, ``spec.children`` and ``spec.memberOf``, User for
``spec.members``, API for ``spec.providesApis``/``spec.consumesApis``, System for ``spec.system``
and Domain for ``spec.domain``. ``spec.dependsOn``/``spec.dependencyOf`` have no default kind
(Backstage rejects such a reference); here the kind is left open (``None``) and resolved by name.
Backstage lets ``dependsOn`` name any kind: a kind Steward does not model is kept, and the planner
reports it as unresolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from steward.catalog.backstage_files import (
    TEMPLATE_EXPRESSION,
    CatalogFile,
    find_files,
    has_template_expression,
    read_file,
    skeleton_paths,
    whole_file_skip,
)
from steward.catalog.backstage_plan import plan_import
from steward.catalog.backstage_refs import (
    ANN_SOFT,
    DEFAULT_NAMESPACE,
    DEFAULT_STEWARD_KIND,
    KIND_NAMES,
    SERVICE_ENTITY_KINDS,
    SKIP_KIND,
    SKIP_SKELETON,
    DependencySpec,
    Entity,
    EntityError,
    EntityRef,
    ImportPlan,
    ParsedCatalog,
    RefError,
    ServiceSpec,
    SkippedEntry,
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
from steward.inputs import InputProblem, normalise_json

__all__ = [
    "DependencySpec", "Entity", "EntityError", "EntityRef", "ImportPlan", "ParsedCatalog",
    "ServiceSpec", "SkippedEntry", "TeamSpec", "UnresolvedRef", "UserSpec", "format_ref",
    "load_catalog", "parse_ref", "plan_import",
]

API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
STEWARD_KINDS = ("business_service", "system", "service", "api", "resource", "pool")
LIFECYCLES = ("experimental", "production", "deprecated", "retired")
ANN_KIND, ANN_TIER, ANN_MIN_UP = "steward.dev/kind", "steward.dev/tier", "steward.dev/min-up"
ANN_SOURCE = "backstage.io/source-location"

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


def load_catalog(paths: Sequence[str | Path], *, relative_to: Path | None = None
                 ) -> ParsedCatalog:
    """Parse Backstage catalog files; folders are walked for ``*.yaml``/``*.yml``, sorted.

    Files are named by their path as given, or relative to ``relative_to`` when under it.
    """
    parsed = ParsedCatalog()
    files = [f for f in find_files(paths, parsed.errors, relative_to)
             if read_file(f, parsed.errors)]
    skeletons = skeleton_paths(files)
    seen: dict[str, Entity] = {}
    for file in files:
        skip = whole_file_skip(file, skeletons)
        if skip is not None:
            parsed.skips.append(skip)
            continue
        expressions = TEMPLATE_EXPRESSION.search(file.text) is not None
        for number, doc in enumerate(file.documents, 1):
            if doc is not None:
                _read_document(parsed, seen, file, number, doc, expressions)
        if file.yaml_error is not None:
            parsed.errors.append(file.yaml_error)
    return parsed


def _read_document(parsed: ParsedCatalog, seen: dict[str, Entity], file: CatalogFile,
                   number: int, doc: Any, expressions: bool) -> None:
    skip, entity = _Document(file.label, number, doc, parsed.errors).parse(
        expressions=expressions)
    if skip is not None:
        parsed.skips.append(skip)
    elif entity is not None and entity.ref in seen:
        first = seen[entity.ref]
        parsed.errors.append(EntityError(
            file.label, number, entity.ref, "metadata.name",
            f"duplicate entity: already defined in {first.file} doc {first.document}"))
    elif entity is not None:
        seen[entity.ref] = entity
        parsed.entities.append(entity)


class _Document:
    """One YAML document: validated field by field, every problem appended to ``errors``."""

    def __init__(self, file: str, number: int, doc: Any, errors: list[EntityError]) -> None:
        self.file, self.number, self.doc, self.errors = file, number, doc, errors
        self.ref: str | None = None

    def error(self, field_name: str, reason: str) -> None:
        self.errors.append(EntityError(self.file, self.number, self.ref, field_name, reason))

    def parse(self, *, expressions: bool = False) -> tuple[SkippedEntry | None, Entity | None]:
        """``(why it is skipped, None)``, or ``(None, the entity or None if unidentifiable)``.

        ``expressions``: the file holds template expressions somewhere, so each document is
        searched for them (a search saved for the files that hold none).
        """
        doc = self.doc
        if not isinstance(doc, dict):
            self.error("", f"a catalog entity must be a mapping, not {type(doc).__name__}")
            return None, None
        try:  # NUL or a lone surrogate (a YAML escape) no column stores; aliases too deep
            normalise_json(doc)
        except InputProblem as problem:
            self.error(".".join(str(part) for part in problem.path), problem.message)
            return None, None
        raw_kind = doc.get("kind")
        kind = raw_kind.strip().lower() if isinstance(raw_kind, str) else None
        if isinstance(raw_kind, str) and kind and kind not in KIND_NAMES:
            return self.skipped(SKIP_KIND, raw_kind.strip(),
                                f"Steward does not model the kind {raw_kind.strip()}"), None
        if expressions and has_template_expression(doc):
            return self.skipped(SKIP_SKELETON, None, "template expressions: a file to render, "
                                                     "not an entity"), None
        if isinstance(raw_kind, str) and not kind:
            raw_kind = None  # an empty kind is a missing one
        meta = doc.get("metadata")
        if not isinstance(meta, dict):
            meta = {}
        name, namespace = meta.get("name"), meta.get("namespace", DEFAULT_NAMESPACE)
        if kind in KIND_NAMES and isinstance(name, str) and name and isinstance(namespace, str):
            self.ref = f"{kind}:{namespace}/{name}".lower()
        self.envelope(doc, raw_kind, kind, name, namespace)
        title = self.text(meta, "metadata.title")
        description = self.text(meta, "metadata.description")
        annotations = self.annotations(meta.get("annotations"))
        links = make_links(meta.get("links"), annotations.get(ANN_SOURCE), self.error)
        if self.ref is None or not is_valid_name(name) or not is_valid_namespace(namespace):
            return None, None
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
        return None, entity

    def skipped(self, reason: str, kind: str | None, detail: str) -> SkippedEntry:
        meta = self.doc.get("metadata") if isinstance(self.doc.get("metadata"), dict) else {}
        name, namespace = meta.get("name"), meta.get("namespace") or DEFAULT_NAMESPACE
        entity = None
        if kind and isinstance(name, str) and name and isinstance(namespace, str):
            entity = f"{kind}:{namespace}/{name}".lower()
        return SkippedEntry(self.file, self.number, entity, reason, kind, detail)

    def envelope(self, doc: dict[str, Any], raw_kind: Any, kind: str | None, name: Any,
                 namespace: Any) -> None:
        if "apiVersion" not in doc:
            self.error("apiVersion", "is required")
        elif doc["apiVersion"] not in API_VERSIONS:
            self.error("apiVersion",
                       f"{doc['apiVersion']!r} is not one of {', '.join(API_VERSIONS)}")
        if raw_kind is None:
            self.error("kind", "is required")
        elif not isinstance(raw_kind, str):
            self.error("kind", f"must be a string, not {type(raw_kind).__name__}")
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
            if key in _DEPS and ref.kind is not None and ref.kind not in KIND_NAMES:
                out.append(ref)  # Backstage allows any kind here: the planner reports it
            elif ref.kind is not None and ref.kind not in allowed:
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
