"""Steward's own deployment JSON (``POST /api/v1/deployments``) -> ``RecordDeployment``.

The shape is the one PRODUCT.md promises ("Shapes others rely on"): service,
environment, version, status, started_at, finished_at, commits
[{sha, committed_at, message}], rollback_of, fixes_incident, change_id. A few
optional fields that the other sources also carry (repository, url,
description, author, external_id, links, rollback_of_version) are accepted so
that a pipeline or ``steward deploy record`` can send them; anything else is
refused, so a typo is an error rather than silently lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic import ValidationError as PydanticValidationError

from steward.changes.commands import CommitInfo, RecordDeployment
from steward.errors import ValidationError
from steward.inputs import Environment, Id, StringMap
from steward.timeutil import parse_timestamp

DeploymentStatus = Literal["in_progress", "succeeded", "failed", "rolled_back"]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sha = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True,
                                       pattern=r"^[0-9a-fA-F]{4,64}$")]
RecordId = Id


def _time(value: object, info: ValidationInfo) -> datetime | None:
    if value is None:
        return None
    field = info.field_name or "time"
    try:
        return parse_timestamp(value, field=field)
    except ValidationError as exc:
        # A ValueError lets pydantic report the full location (commits.3.committed_at).
        raise ValueError(exc.message.removeprefix(f"{field}: ")) from None


class CommitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha: Sha = Field(description="commit id, abbreviated (4+ hex digits) or full")
    committed_at: datetime | None = Field(default=None, description="committer time")
    message: Annotated[str, StringConstraints(max_length=10_000)] = ""

    _times = field_validator("committed_at", mode="before")(_time)


class DeploymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: Short
    environment: Environment
    version: Short | None = None
    status: DeploymentStatus = "succeeded"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    commits: list[CommitIn] = Field(default_factory=list, max_length=10_000)
    rollback_of: RecordId | None = Field(default=None, description="a Steward deployment id")
    fixes_incident: RecordId | None = None
    change_id: RecordId | None = None
    repository: Short | None = Field(default=None, description="'owner/name' slug")
    rollback_of_version: Short | None = None
    url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    description: Annotated[str, StringConstraints(max_length=10_000)] = ""
    author: Short | None = None
    external_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                  max_length=300)] | None = None
    links: StringMap = Field(default_factory=dict)

    _times = field_validator("started_at", "finished_at", mode="before")(_time)

    @field_validator("finished_at")
    @classmethod
    def _not_before_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        started = info.data.get("started_at")
        if value is not None and started is not None and value < started:
            raise ValueError("is before started_at")
        return value


def parse_deployment(data: Any) -> DeploymentIn:
    """Validate one deployment outside FastAPI (CLI, batches), naming the bad field."""
    try:
        return DeploymentIn.model_validate(data)
    except PydanticValidationError as exc:
        details = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err.get("loc", ())) or "body"
            kind = err.get("type", "")
            if kind == "value_error" and (err.get("ctx") or {}).get("error"):
                message = str(err["ctx"]["error"])
            else:
                message = {"extra_forbidden": "unknown field",
                           "missing": "is required"}.get(kind, err.get("msg", "is invalid"))
            details.append({"field": field, "message": message})
        first = details[0]
        raise ValidationError(f"{first['field']}: {first['message']}", field=first["field"],
                              details=details) from None


def to_command(deployment: DeploymentIn, *, source: str = "api") -> RecordDeployment:
    return RecordDeployment(
        environment=deployment.environment,
        status=deployment.status,
        service=deployment.service,
        repository=deployment.repository,
        version=deployment.version,
        started_at=deployment.started_at,
        finished_at=deployment.finished_at,
        commits=tuple(CommitInfo(sha=c.sha, committed_at=c.committed_at, message=c.message)
                      for c in deployment.commits),
        source=source,
        external_id=deployment.external_id,
        url=deployment.url or None,
        description=deployment.description,
        author=deployment.author,
        rollback_of=deployment.rollback_of,
        rollback_of_version=deployment.rollback_of_version,
        fixes_incident=deployment.fixes_incident,
        change_id=deployment.change_id,
        links=dict(deployment.links),
    )
