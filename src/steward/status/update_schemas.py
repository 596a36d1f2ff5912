"""API shapes of public incident updates, teams' publishing policies and subscribers."""

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


class ComponentIn(Strict):
    name: str = Field(max_length=200, description="a published component's public or "
                                                  "catalog name")
    status: ComponentStatus | None = Field(
        default=None, description="its status in this update; default: the suggestion's "
                                  "(operational once resolved)")


class UpdateIn(Strict):
    status: str = Field(max_length=20, description="investigating, identified, monitoring "
                                                   "or resolved")
    body: str = Field(max_length=BODY_LENGTH, description="the text the public reads")
    title: str | None = Field(default=None, max_length=TITLE_LENGTH, description=(
        "the public incident's name; required for its first update"))
    impact: Impact | None = None
    components: list[ComponentIn | str] = Field(default_factory=list, max_length=200)


class ComponentOut(BaseModel):
    service_id: int | None
    name: str
    status: str
    published: bool = True


class UpdateOut(BaseModel):
    id: int
    incident_id: int
    status: str
    title: str
    body: str
    impact: str
    components: list[ComponentOut]
    author: str | None = Field(description="who published it; null when a policy did")
    automatic: bool
    created_at: str


class SuggestedComponent(BaseModel):
    service_id: int
    name: str
    status: str


class SuggestionOut(BaseModel):
    status: str
    title: str
    body: str
    impact: str
    components: list[SuggestedComponent]


class UpdateList(BaseModel):
    total: int
    items: list[UpdateOut]


class PolicyIn(Strict):
    auto_publish_p1: bool = Field(description="publish the suggested first update of the "
                                              "team's P1 incidents by itself")


class PolicyOut(BaseModel):
    team: str
    auto_publish_p1: bool


class SubscriberIn(Strict):
    email: str = Field(max_length=320)
    components: list[str] = Field(default_factory=list, max_length=200, description=(
        "component names; none: the whole page"))


class SubscriberOut(BaseModel):
    state: str = Field(description="confirmation_sent, confirmation_sent_again, "
                                   "confirmation_pending or already_subscribed")
    email: str
    components: list[str]
