"""Backstage entity references, name rules, link types, and the records of ``backstage.py``.

Import from :mod:`steward.catalog.backstage`, which re-exports the public names.

``parse_ref`` follows Backstage's ``parseEntityRef``: a string ``[kind:][namespace/]name`` (a ``/``
before the first ``:`` makes the rest the name) or an object ``{kind, namespace, name}``; missing
parts take the defaults given. Unlike Backstage, a missing kind is allowed when no default kind
is given (``kind`` is then ``None``), and every part is lowercased, since Backstage compares
references case-insensitively. Pure code: no database, no web framework.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from steward.weburl import NOT_WEB, web_href

DEFAULT_NAMESPACE = "default"
# The kinds Steward models; any other kind is skipped on import
KIND_NAMES = {"component": "Component", "api": "API", "resource": "Resource", "system": "System",
              "domain": "Domain", "group": "Group", "user": "User"}
SERVICE_ENTITY_KINDS = ("component", "resource", "api", "system", "domain")  # resolution order
DEFAULT_STEWARD_KIND = {"component": "service", "api": "api", "resource": "resource",
                        "system": "system", "domain": "business_service"}
ANN_SOFT = "steward.dev/soft-dependencies"

# Backstage's KubernetesValidatorFunctions.isValidObjectName and .isValidNamespace (a DNS label)
_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_NAMESPACE_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_NAME_LENGTH = 63


class RefError(ValueError):
    """An entity reference that cannot be parsed."""


@dataclass(frozen=True, order=True)
class EntityRef:
    """A parsed reference; every part is lowercase, ``kind`` is ``None`` when it was not given."""

    kind: str | None
    namespace: str
    name: str

    def __str__(self) -> str:
        return format_ref(self)

    def matches(self, other: EntityRef) -> bool:
        """Same namespace and name, and the same kind unless either leaves the kind open."""
        return (self.namespace, self.name) == (other.namespace, other.name) and (
            self.kind is None or other.kind is None or self.kind == other.kind
        )


def is_valid_name(value: Any) -> TypeGuard[str]:
    """Backstage's entity-name rule: 1-63 of ``[A-Za-z0-9-_.]``, alphanumeric at both ends."""
    return isinstance(value, str) and len(value) <= MAX_NAME_LENGTH and bool(
        _NAME_RE.fullmatch(value))


def is_valid_namespace(value: Any) -> TypeGuard[str]:
    """Backstage's namespace rule: a DNS label (lowercase alphanumerics and single dashes, 1-63)."""
    if not isinstance(value, str) or len(value) > MAX_NAME_LENGTH:
        return False
    return bool(_NAMESPACE_RE.fullmatch(value))


def _split(text: str) -> tuple[str | None, str | None, str]:
    colon = text.find(":")
    slash = text.find("/")
    if slash != -1 and slash < colon:  # "ns/na:me": the colon belongs to the name
        colon = -1
    kind = text[:colon] if colon != -1 else None
    namespace = text[colon + 1:slash] if slash != -1 else None
    name = text[max(colon + 1, slash + 1):]
    if kind == "" or namespace == "" or name == "":
        raise RefError(f'"{text}" is not of the form [<kind>:][<namespace>/]<name>')
    return kind, namespace, name


def parse_ref(
    text: str | Mapping[str, Any],
    default_kind: str | None = None,
    default_namespace: str | None = DEFAULT_NAMESPACE,
) -> EntityRef:
    """Parse ``[kind:][namespace/]name`` or ``{kind, namespace, name}``; raise :class:`RefError`."""
    namespace_fallback = default_namespace or DEFAULT_NAMESPACE
    name: str | None
    if isinstance(text, str):
        text = text.strip()
        if not text:
            raise RefError("an entity reference must not be empty")
        kind, namespace, name = _split(text)
    elif isinstance(text, Mapping):
        extra = sorted(str(k) for k in text if k not in ("kind", "namespace", "name"))
        if extra:
            raise RefError(f"unexpected key(s) {', '.join(extra)} in an entity reference object")
        kind, namespace, name = text.get("kind"), text.get("namespace"), text.get("name")
        for part, value in (("kind", kind), ("namespace", namespace), ("name", name)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise RefError(f"the {part} of an entity reference must be a non-empty string")
        if name is None:
            raise RefError("an entity reference object needs a name")
    else:
        raise RefError(f"an entity reference must be a string or a mapping, "
                       f"not {type(text).__name__}")
    kind = kind if kind is not None else default_kind
    namespace = namespace if namespace is not None else namespace_fallback
    return EntityRef(
        kind.strip().lower() if kind else None, namespace.strip().lower(), name.strip().lower()
    )


def format_ref(ref: EntityRef | tuple[str | None, str, str]) -> str:
    """``kind:namespace/name`` (``namespace/name`` when the kind is unknown), lowercase."""
    if isinstance(ref, EntityRef):
        kind, namespace, name = ref.kind, ref.namespace, ref.name
    else:
        kind, namespace, name = ref
    body = f"{namespace.lower()}/{name.lower()}"
    return f"{kind.lower()}:{body}" if kind else body


# Link types for Steward's service links, derived from Backstage's ``metadata.links``
LINK_TYPES = ("repo", "runbook", "dashboard", "docs", "other")
_LINK_WORDS = {"repo": "repo", "repos": "repo", "repository": "repo", "runbook": "runbook",
               "runbooks": "runbook", "playbook": "runbook", "dashboard": "dashboard",
               "dashboards": "dashboard", "docs": "docs", "doc": "docs", "documentation": "docs",
               "readme": "docs", "wiki": "docs", "techdocs": "docs"}
_ICONS = {"github": "repo", "gitlab": "repo", "dashboard": "dashboard", "docs": "docs"}


def link_type(url: str, title: str | None = None, type_: str | None = None,
              icon: str | None = None) -> str:
    """``repo``/``runbook``/``dashboard``/``docs`` when the link's type or title says so, else from
    its icon, else ``repo`` for the root of a GitHub/GitLab repository, else ``other``."""
    for text in (type_, title):
        for word in re.findall(r"[a-z]+", (text or "").lower()):
            if word in _LINK_WORDS:
                return _LINK_WORDS[word]
    if isinstance(icon, str) and icon.lower() in _ICONS:
        return _ICONS[icon.lower()]
    parsed = urlsplit(url)
    host = (parsed.hostname or "").lower()
    if (host.startswith(("github.", "gitlab.")) or ".github." in host or ".gitlab." in host) and \
            len([p for p in parsed.path.split("/") if p]) == 2:
        return "repo"
    return "other"


def make_links(raw: Any, source_location: str | None,
               error: Callable[[str, str], None]) -> list[dict[str, str]]:
    """Steward links ``{"title", "url", "type"}`` from ``metadata.links`` plus the
    ``backstage.io/source-location`` annotation (``url:<repository URL>``) as a repo link."""
    links: list[dict[str, str]] = []
    if raw is not None and not isinstance(raw, list):
        error("metadata.links", "must be a list")
        raw = None
    for i, item in enumerate(raw or []):
        if not isinstance(item, Mapping):
            error(f"metadata.links[{i}]", "must be a mapping with a url")
            continue
        keys = ("url", "title", "type", "icon")
        bad = [k for k in keys if item.get(k) is not None and not isinstance(item[k], str)]
        for key in bad:
            error(f"metadata.links[{i}].{key}", "must be a string")
        url = item.get("url")
        if not url or not isinstance(url, str):
            if "url" not in bad:
                error(f"metadata.links[{i}].url", "is required")
            continue
        href = web_href(url)
        if href is None:
            error(f"metadata.links[{i}].url", NOT_WEB)
            continue
        url = href
        title, type_, icon = (None if k in bad else item.get(k) for k in ("title", "type", "icon"))
        links.append({"title": title or url, "url": url,
                      "type": link_type(url, title, type_, icon)})
    if isinstance(source_location, str) and source_location.startswith("url:"):
        url = web_href(source_location[len("url:"):]) or ""
        if url and all(link["url"] != url for link in links):
            links.append({"title": "Source", "url": url, "type": "repo"})
    return links


# ---------------------------------------------------------------------------------------------
# Records produced by backstage.load_catalog and backstage.plan_import


@dataclass(frozen=True)
class EntityError:
    file: str
    document: int  # 1-based; 0 when the problem concerns the whole file
    entity: str | None
    field: str
    reason: str

    def __str__(self) -> str:
        doc = f"doc {self.document}" if self.document else ""
        where = " ".join(p for p in (self.file, doc, self.entity or "") if p)
        return f"{where} {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


@dataclass
class Entity:
    kind: str
    namespace: str
    name: str
    ref: str
    title: str | None = None
    description: str | None = None
    spec_type: str | None = None
    lifecycle: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    owner: EntityRef | None = None
    depends_on: list[EntityRef] = field(default_factory=list)
    dependency_of: list[EntityRef] = field(default_factory=list)
    provides_apis: list[EntityRef] = field(default_factory=list)
    consumes_apis: list[EntityRef] = field(default_factory=list)
    system: EntityRef | None = None
    domain: EntityRef | None = None
    member_of: list[EntityRef] = field(default_factory=list)
    parent: EntityRef | None = None
    children: list[EntityRef] = field(default_factory=list)
    members: list[EntityRef] = field(default_factory=list)
    profile: dict[str, str] = field(default_factory=dict)
    file: str = ""
    document: int = 0
    # Steward annotations, validated: steward.dev/kind, /tier, /min-up, /soft-dependencies
    steward_kind: str | None = None
    tier: int | None = None
    min_up: int | None = None
    soft_dependencies: list[EntityRef] = field(default_factory=list)

    @property
    def entity_ref(self) -> EntityRef:
        return EntityRef(self.kind, self.namespace.lower(), self.name.lower())


@dataclass
class ParsedCatalog:
    entities: list[Entity] = field(default_factory=list)
    errors: list[EntityError] = field(default_factory=list)
    skips: list[SkippedEntry] = field(default_factory=list)


@dataclass
class TeamSpec:
    ref: str
    name: str
    display_name: str
    description: str
    contacts: dict[str, str]
    parent_ref: str | None
    member_refs: list[str]  # spec.members (users; the users' own memberOf is in UserSpec.team_refs)
    file: str
    document: int


@dataclass
class UserSpec:
    ref: str
    username: str
    display_name: str
    email: str | None
    team_refs: list[str]
    file: str
    document: int


@dataclass
class ServiceSpec:
    ref: str
    name: str
    display_name: str
    description: str
    kind: str
    tier: int
    lifecycle: str
    owner_ref: str | None  # a group, or a user (the caller maps it to that user's first team)
    min_up: int | None
    links: list[dict[str, str]]
    annotations: dict[str, str]
    file: str
    document: int


@dataclass(frozen=True)
class DependencySpec:
    from_ref: str  # the dependant; for a pool, the pool
    to_ref: str  # ``namespace/name`` when its kind is unknown
    type: str  # "hard" | "soft"
    source_file: str
    document: int
    field: str


@dataclass(frozen=True)
class UnresolvedRef:
    """A reference to something not in the parsed files: the caller looks it up in the catalog,
    unless ``modelled`` is false (a kind Steward does not model: nothing to look up)."""

    ref: str  # ``namespace/name`` when its kind is unknown
    file: str
    document: int
    entity: str
    field: str
    modelled: bool = True

    @property
    def reason(self) -> str:
        if not self.modelled:
            return f"refers to {self.ref}, of a kind Steward does not model"
        return f"refers to {self.ref}, which is neither in these files nor in the catalog"

    def error(self) -> EntityError:
        return EntityError(self.file, self.document, self.entity, self.field, self.reason)

    def __str__(self) -> str:
        return str(self.error())


# Why a file or document is left out (SkippedEntry.reason)
SKIP_KIND = "kind not modelled"
SKIP_SKELETON = "scaffolder skeleton"
SKIP_NOT_CATALOG = "not a catalog file"


@dataclass(frozen=True)
class SkippedEntry:
    """A file (``document`` 0) or document left out: Backstage would not read it as an entity
    (a scaffolder skeleton, a YAML file that is no catalog file) or Steward does not model its
    kind (Template, Location, Environment, ...)."""

    file: str
    document: int
    entity: str | None
    reason: str  # SKIP_KIND, SKIP_SKELETON or SKIP_NOT_CATALOG
    kind: str | None = None  # as written in the file, for SKIP_KIND
    detail: str = ""

    def __str__(self) -> str:
        doc = f"doc {self.document}" if self.document else ""
        where = " ".join(p for p in (self.file, doc, self.entity or "") if p)
        return f"{where}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class ImportPlan:
    teams: list[TeamSpec] = field(default_factory=list)
    users: list[UserSpec] = field(default_factory=list)
    services: list[ServiceSpec] = field(default_factory=list)
    dependencies: list[DependencySpec] = field(default_factory=list)
    unresolved: list[UnresolvedRef] = field(default_factory=list)
    errors: list[EntityError] = field(default_factory=list)
