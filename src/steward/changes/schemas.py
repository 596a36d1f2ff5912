"""API shapes for changes, templates, windows and deployments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from steward.timeutil import parse_timestamp
from steward.weburl import WebUrl

ChangeModel = Literal["standard", "normal", "emergency"]
RiskLevel = Literal["low", "moderate", "high", "very high"]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Named links of a change ({"pipeline": url, "pr": url}): http(s) only.
Links = dict[str, WebUrl]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _time(value: object, info: object) -> datetime | None:
    if value is None:
        return None
    return parse_timestamp(value, field=getattr(info, "field_name", "time") or "time")


class ChangeCreate(Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    services: list[Text200] = Field(min_length=1, description="affected service names")
    model: ChangeModel = "normal"
    template: Text200 | None = Field(default=None, description="standard change template name")
    environment: Text200 = "production"
    description: str = ""
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    batch_size: int | None = Field(default=None, ge=0, description="commits in the change")
    links: Links = Field(default_factory=dict)
    external_key: Annotated[str, StringConstraints(max_length=300)] | None = None

    _times = field_validator("planned_start", "planned_end", mode="before")(_time)


class ChangeUpdate(Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=300)] | None = None
    description: str | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    links: Links | None = None

    _times = field_validator("planned_start", "planned_end", mode="before")(_time)


class Decision(Strict):
    comment: str = ""


class Transition(Strict):
    outcome: Literal["successful", "successful_with_issues", "failed", "rolled_back"] | None = None
    comment: str = ""


class TemplateCreate(Strict):
    name: Text200
    description: str = ""
    services: list[Text200] = Field(min_length=1)
    risk_ceiling: RiskLevel = "low"
    owner: Text200 | None = None


class WindowCreate(Strict):
    name: Text200
    kind: Literal["freeze", "maintenance"]
    scope: Literal["all", "team", "tier", "services"] = "all"
    scope_values: list[str] = Field(default_factory=list)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: list[int] = Field(default_factory=list)
    start_time: str | None = None
    duration_minutes: int | None = None
    timezone: str = "UTC"

    _times = field_validator("starts_at", "ends_at", mode="before")(_time)


class GateRequest(Strict):
    service: Text200
    environment: Text200 = "production"
    change_id: int | None = Field(default=None, ge=1, le=2**62)
    pipeline_run: Annotated[str, StringConstraints(max_length=250)] | None = Field(
        default=None, description="the pipeline run's id: the same run finds the same change")
    template: Text200 | None = None
    model: ChangeModel = "normal"
    title: str = ""
    batch_size: int | None = Field(default=None, ge=0)
    links: Links = Field(default_factory=dict)
