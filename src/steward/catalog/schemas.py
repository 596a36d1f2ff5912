"""API shapes of the catalog. Unknown fields are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from steward.weburl import WebUrl

# A pool's "members needed up": far beyond any real pool, within every database's INTEGER.
MAX_MIN_UP = 100_000

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                      pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
]
ServiceKind = Literal["business_service", "system", "service", "api", "resource", "pool"]
Lifecycle = Literal["experimental", "production", "deprecated", "retired"]
DependencyType = Literal["hard", "soft"]
LinkType = Literal["repo", "runbook", "dashboard", "docs", "chat", "other"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LinkIn(Strict):
    url: WebUrl
    title: str = ""
    type: LinkType = "other"


class TeamCreate(Strict):
    name: Name
    display_name: str = ""
    description: str = ""
    contacts: dict[str, str] = Field(default_factory=dict)
    parent: Name | None = None


class TeamUpdate(Strict):
    display_name: str | None = None
    description: str | None = None
    contacts: dict[str, str] | None = None
    parent: Name | None = None


class TeamOut(BaseModel):
    id: int
    name: str
    display_name: str
    description: str
    contacts: dict[str, Any]
    parent: str | None
    members: list[str]
    services: int


class ServiceCreate(Strict):
    name: Name
    display_name: str = ""
    description: str = ""
    kind: ServiceKind = "service"
    tier: int = Field(default=3, ge=1, le=4)
    lifecycle: Lifecycle = "production"
    owner: Name | None = Field(default=None, description="owning team name")
    min_up: int | None = Field(default=None, ge=1, le=MAX_MIN_UP, description="pools only")
    links: list[LinkIn] = Field(default_factory=list)
    annotations: dict[str, str] = Field(default_factory=dict)


class ServiceUpdate(Strict):
    display_name: str | None = None
    description: str | None = None
    kind: ServiceKind | None = None
    tier: int | None = Field(default=None, ge=1, le=4)
    lifecycle: Lifecycle | None = None
    owner: Name | None = None
    min_up: int | None = Field(default=None, ge=1, le=MAX_MIN_UP)
    links: list[LinkIn] | None = None
    annotations: dict[str, str] | None = None


class DependencyRef(BaseModel):
    service: str
    type: str
    kind: str


class ServiceOut(BaseModel):
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


class DependencyCreate(Strict):
    service: Name = Field(description="the dependant")
    depends_on: Name
    type: DependencyType = "hard"
    description: str = ""


class DependencyUpdate(Strict):
    type: DependencyType | None = None
    description: str | None = None


class DependencyOut(BaseModel):
    id: int
    service: str
    depends_on: str
    type: str
    description: str
    source: str


class Page(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[Any]
