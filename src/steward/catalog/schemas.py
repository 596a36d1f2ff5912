"""API shapes of the catalog. Unknown fields are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from steward.inputs import (
    CLEAN,
    Label,
    LongText,
    ServiceDisplayName,
    ServiceName,
    StringMap,
    TeamDisplayName,
    TeamName,
)
from steward.shapes import Out
from steward.weburl import WebUrl

# A pool's "members needed up": far beyond any real pool, within every database's INTEGER.
MAX_MIN_UP = 100_000
ServiceKind = Literal["business_service", "system", "service", "api", "resource", "pool"]
Lifecycle = Literal["experimental", "production", "deprecated", "retired"]
DependencyType = Literal["hard", "soft"]
LinkType = Literal["repo", "runbook", "dashboard", "docs", "chat", "other"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LinkIn(Strict):
    url: Annotated[WebUrl, CLEAN]
    title: Label = ""
    type: LinkType = "other"


class TeamCreate(Strict):
    name: TeamName
    display_name: TeamDisplayName = ""
    description: LongText = ""
    contacts: StringMap = Field(default_factory=dict)
    parent: TeamName | None = None


class TeamUpdate(Strict):
    display_name: TeamDisplayName | None = None
    description: LongText | None = None
    contacts: StringMap | None = None
    parent: TeamName | None = None


class TeamOut(Out):
    id: int
    name: str
    display_name: str
    description: str
    contacts: dict[str, Any]
    parent: str | None
    members: list[str]
    services: int


class ServiceCreate(Strict):
    name: ServiceName
    display_name: ServiceDisplayName = ""
    description: LongText = ""
    kind: ServiceKind = "service"
    tier: int = Field(default=3, ge=1, le=4)
    lifecycle: Lifecycle = "production"
    owner: TeamName | None = Field(default=None, description="owning team name")
    min_up: int | None = Field(default=None, ge=1, le=MAX_MIN_UP, description="pools only")
    links: list[LinkIn] = Field(default_factory=list)
    annotations: StringMap = Field(default_factory=dict)


class ServiceUpdate(Strict):
    display_name: ServiceDisplayName | None = None
    description: LongText | None = None
    kind: ServiceKind | None = None
    tier: int | None = Field(default=None, ge=1, le=4)
    lifecycle: Lifecycle | None = None
    owner: TeamName | None = None
    min_up: int | None = Field(default=None, ge=1, le=MAX_MIN_UP)
    links: list[LinkIn] | None = None
    annotations: StringMap | None = None


class DependencyRef(Out):
    service: str
    type: str
    kind: str


class ServiceOut(Out):
    id: int
    name: str
    display_name: str
    description: str
    kind: str
    tier: int
    lifecycle: str
    owner: str | None
    min_up: int | None
    links: list[dict[str, Any]]
    annotations: dict[str, Any]
    depends_on: list[DependencyRef]
    dependants: list[DependencyRef]
    created_at: datetime
    updated_at: datetime


HealthState = Literal["down", "degraded", "up", "unknown"]


class HealthIncidentOut(Out):
    id: int
    title: str
    priority: str
    status: str


class ServiceHealthOut(Out):
    """A service's live state from the open incidents, why, and the incidents behind it."""

    state: HealthState
    reason: str
    incidents: list[HealthIncidentOut]


class ServiceDetailOut(ServiceOut):
    health: ServiceHealthOut


class ServiceHealthItemOut(ServiceHealthOut):
    service: str


class HealthCounts(Out):
    down: int
    degraded: int
    up: int
    unknown: int


class HealthListOut(Out):
    """Every service's live health (those in the states asked for), by name."""

    total: int
    counts: HealthCounts
    items: list[ServiceHealthItemOut]


class DependencyCreate(Strict):
    service: ServiceName = Field(description="the dependant")
    depends_on: ServiceName
    type: DependencyType = "hard"
    description: LongText = ""


class DependencyUpdate(Strict):
    type: DependencyType | None = None
    description: LongText | None = None


class DependencyOut(Out):
    id: int
    service: str
    depends_on: str
    type: str
    description: str
    source: str


class AffectedOut(Out):
    service: str
    kind: str
    team: str | None
    state: Literal["down", "degraded"]
    path: list[str] = Field(description="from a failing service to this one")
    reason: str


class ImpactOut(Out):
    """What goes down or degrades when the failing services fail."""

    failing: list[str]
    down: list[AffectedOut]
    degraded: list[AffectedOut]
    business_services: list[AffectedOut]
    teams: list[str]


class ImportCounts(Out):
    created: int
    updated: int
    unchanged: int
    deleted: int


class ImportProblem(Out):
    file: str
    document: int = Field(description="1-based; 0 when the problem concerns the whole file")
    entity: str | None
    field: str
    reason: str
    message: str


class SkippedOut(Out):
    """A file (``document`` 0) or document left out without being an error."""

    file: str
    document: int
    entity: str | None
    reason: str = Field(description="kind not modelled, scaffolder skeleton or not a catalog file")
    kind: str | None = Field(description="the kind as written, for a kind Steward does not model")
    detail: str
    message: str


class SkippedSummary(Out):
    total: int
    by_reason: dict[str, int]
    by_kind: dict[str, int]
    items: list[SkippedOut]


class UnresolvedOut(Out):
    """A relation to an entity neither in the files nor in the catalog: imported without it."""

    ref: str
    file: str
    document: int
    entity: str
    field: str
    modelled: bool = Field(description="false for a kind Steward does not model")
    reason: str
    message: str


class CatalogImportOut(Out):
    """A Backstage import's report; ``stored`` is false when nothing was written."""

    stored: bool
    teams: ImportCounts
    users: ImportCounts
    services: ImportCounts
    dependencies: ImportCounts
    skipped_kinds: int
    skipped: SkippedSummary
    unresolved: list[UnresolvedOut]
    left_out: int
    errors: list[ImportProblem]
