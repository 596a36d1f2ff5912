"""API shapes for users and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from steward.auth.password_policy import MAX_LENGTH, MIN_LENGTH
from steward.inputs import (
    CLEAN,
    Email,
    Label,
    Password,
    ServiceName,
    TeamName,
    UserDisplayName,
)
from steward.shapes import Out

Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                      pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"), CLEAN,
]
Role = Literal["admin", "member", "viewer"]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    display_name: UserDisplayName = ""
    email: Email = ""
    role: Role = "member"
    teams: list[TeamName] = Field(default_factory=list)
    password: Password | None = Field(default=None, min_length=MIN_LENGTH, max_length=MAX_LENGTH,
                                      description="at least 12 characters, not the username, "
                                                  "not a common password")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: UserDisplayName | None = None
    email: Email | None = None
    role: Role | None = None
    teams: list[TeamName] | None = None
    active: bool | None = None
    password: Password | None = Field(default=None, min_length=MIN_LENGTH, max_length=MAX_LENGTH,
                                      description="at least 12 characters, not the username, "
                                                  "not a common password")


class UserOut(Out):
    id: int
    username: str
    display_name: str
    email: str
    role: str
    active: bool
    teams: list[str]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=200)
    expires_in: str | None = Field(
        default=None, max_length=20,
        description="lifetime such as 90d, 12h, 2w or 30m; none: the token never expires",
        examples=["90d"])


class TokenOut(Out):
    """An API token as listed: its prefix, never the token."""

    id: int
    user: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None = Field(description="none: the token never expires")
    last_used_at: datetime | None = Field(
        description="when it was last used (updated at most once a minute)")
    revoked: bool
    expired: bool


class TokenCreated(TokenOut):
    token: str = Field(description="the token itself, shown only in this answer")


class IntegrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Annotated[str, StringConstraints(max_length=40), CLEAN]
    service: ServiceName | None = None
    team: TeamName | None = None
    name: Label = ""


class IntegrationOut(Out):
    id: int
    type: str
    name: str
    service: str | None
    team: str | None
    prefix: str
    created_at: datetime
    revoked: bool


class IntegrationCreated(IntegrationOut):
    key: str = Field(description="the key (or webhook secret), shown only in this answer")
