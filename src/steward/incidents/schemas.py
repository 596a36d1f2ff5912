"""API shapes for incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from steward.timeutil import parse_timestamp


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _time(value: object, info: object) -> datetime | None:
    if value is None:
        return None
    return parse_timestamp(value, field=getattr(info, "field_name", "at") or "at")


class IncidentCreate(Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    service: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    impact: int | None = Field(default=None, ge=1, le=3)
    urgency: int | None = Field(default=None, ge=1, le=3)
    started_at: datetime | None = None
    description: str = ""

    _times = field_validator("started_at", mode="before")(_time)


class ActionBody(Strict):
    at: datetime | None = Field(default=None, description="a past time to record (never future)")
    note: str = ""

    _times = field_validator("at", mode="before")(_time)


class NoteBody(Strict):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
    at: datetime | None = Field(default=None, description="a past time to record")

    _times = field_validator("at", mode="before")(_time)


class AssignBody(Strict):
    assignee: str | None = None
    commander: str | None = None
    team: str | None = None
    at: datetime | None = None

    _times = field_validator("at", mode="before")(_time)


class PriorityBody(Strict):
    impact: int | None = Field(default=None, ge=1, le=3)
    urgency: int | None = Field(default=None, ge=1, le=3)


class DeploymentRef(Strict):
    deployment_id: int = Field(ge=1, le=2**62)
    at: datetime | None = None

    _times = field_validator("at", mode="before")(_time)
