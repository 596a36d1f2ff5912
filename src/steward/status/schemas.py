"""API shapes of the status page's administration. Unknown fields are refused."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from steward.inputs import CLEAN, Label
from steward.shapes import Out

MAX_POSITION = 100_000
PublicDescription = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000),
                              CLEAN]


class ComponentSettings(BaseModel):
    """How the status page shows a service; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")
    published: bool | None = None
    name: Label | None = Field(default=None, description='public name; "": the catalog\'s')
    description: PublicDescription | None = None
    group: Label | None = Field(default=None, description='group heading; "": none')
    position: Annotated[int, Field(ge=0, le=MAX_POSITION)] | None = None


class ComponentSettingsOut(Out):
    service: str
    kind: str
    published: bool
    public_id: str
    public_name: str
    name: str
    description: str
    group: str
    position: int
