"""API shapes for users and tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from steward.auth.password_policy import MAX_LENGTH, MIN_LENGTH

Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                      pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"),
]
Role = Literal["admin", "member", "viewer"]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    display_name: str = ""
    email: str = ""
    role: Role = "member"
    teams: list[str] = Field(default_factory=list)
    password: str | None = Field(default=None, min_length=MIN_LENGTH, max_length=MAX_LENGTH,
                                 description="at least 12 characters, not the username, not "
                                             "a common password")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = None
    email: str | None = None
    role: Role | None = None
    teams: list[str] | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=MIN_LENGTH, max_length=MAX_LENGTH,
                                 description="at least 12 characters, not the username, not "
                                             "a common password")


class UserOut(BaseModel):
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
