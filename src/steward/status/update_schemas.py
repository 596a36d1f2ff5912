"""API shapes of public incident updates and teams' publishing policies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from steward.status.drafts import BODY_LENGTH, TITLE_LENGTH

UpdateState = Literal["investigating", "identified", "monitoring", "resolved"]
ComponentStatus = Literal["operational", "degraded_performance", "partial_outage",
                          "major_outage", "under_maintenance"]
Impact = Literal["none", "minor", "major", "critical"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PublicUpdateComponentIn(Strict):
    name: str = Field(max_length=200, description="a published component's public or "
                                                  "catalog name")
    status: ComponentStatus | None = Field(
        default=None, description="its status in this update; default: the suggestion's "
                                  "(operational once resolved)")


class PublicUpdateIn(Strict):
    status: str = Field(max_length=20, description="investigating, identified, monitoring "
                                                   "or resolved")
    body: str = Field(max_length=BODY_LENGTH, description="the text the public reads")
    title: str | None = Field(default=None, max_length=TITLE_LENGTH, description=(
        "the public incident's name; required for its first update"))
    impact: Impact | None = None
    components: list[PublicUpdateComponentIn | str] = Field(default_factory=list, max_length=200)


class PublicUpdateComponentOut(BaseModel):
    service_id: int | None
    name: str
    status: str
    published: bool = True


class PublicUpdateOut(BaseModel):
    id: int
    incident_id: int
    status: str
    title: str
    body: str
    impact: str
    components: list[PublicUpdateComponentOut]
    author: str | None = Field(description="who published it; null when a policy did")
    automatic: bool
    created_at: str


class PublicUpdateSuggestedComponent(BaseModel):
    service_id: int
    name: str
    status: str


class PublicUpdateSuggestion(BaseModel):
    status: str
    title: str
    body: str
    impact: str
    components: list[PublicUpdateSuggestedComponent]


class PublicUpdateList(BaseModel):
    total: int
    items: list[PublicUpdateOut]


class StatusPolicyIn(Strict):
    auto_publish_p1: bool = Field(description="publish the suggested first update of the "
                                              "team's P1 incidents by itself")


class StatusPolicyOut(BaseModel):
    team: str
    auto_publish_p1: bool
