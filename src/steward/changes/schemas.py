"""API shapes for changes, templates, windows and deployments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from steward.inputs import (
    CLEAN,
    ChangeTitle,
    Count,
    Environment,
    ExternalKey,
    Id,
    LongText,
    MapKey,
    NameRef,
    RequiredLabel,
)
from steward.shapes import Number, Out, Timestamp
from steward.timeutil import parse_timestamp
from steward.weburl import WebUrl

ChangeModel = Literal["standard", "normal", "emergency"]
RiskLevel = Literal["low", "moderate", "high", "very high"]
# Named links of a change ({"pipeline": url, "pr": url}): http(s) only.
Links = dict[MapKey, Annotated[WebUrl, CLEAN]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _time(value: object, info: object) -> datetime | None:
    if value is None:
        return None
    return parse_timestamp(value, field=getattr(info, "field_name", "time") or "time")


class ChangeCreate(Strict):
    title: ChangeTitle
    services: list[NameRef] = Field(min_length=1, description="affected service names")
    model: ChangeModel = "normal"
    template: NameRef | None = Field(default=None, description="standard change template name")
    environment: Environment = "production"
    description: LongText = ""
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    batch_size: Count | None = Field(default=None, description="commits in the change")
    links: Links = Field(default_factory=dict)
    external_key: ExternalKey | None = None

    _times = field_validator("planned_start", "planned_end", mode="before")(_time)


class ChangeUpdate(Strict):
    title: ChangeTitle | None = None
    description: LongText | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    links: Links | None = None

    _times = field_validator("planned_start", "planned_end", mode="before")(_time)


class Decision(Strict):
    comment: LongText = ""


class Transition(Strict):
    outcome: Literal["successful", "successful_with_issues", "failed", "rolled_back"] | None = None
    comment: LongText = ""


class TemplateCreate(Strict):
    name: RequiredLabel
    description: LongText = ""
    services: list[NameRef] = Field(min_length=1)
    risk_ceiling: RiskLevel = "low"
    owner: NameRef | None = None


class WindowCreate(Strict):
    name: RequiredLabel
    kind: Literal["freeze", "maintenance"]
    scope: Literal["all", "team", "tier", "services"] = "all"
    scope_values: list[NameRef] = Field(default_factory=list)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: list[int] = Field(default_factory=list, description="Monday=0 to Sunday=6")
    start_time: Annotated[str, StringConstraints(max_length=5), CLEAN] | None = None
    duration_minutes: int | None = None
    timezone: Annotated[str, StringConstraints(max_length=64), CLEAN] = "UTC"

    _times = field_validator("starts_at", "ends_at", mode="before")(_time)


class GateRequest(Strict):
    service: NameRef
    environment: Environment = "production"
    change_id: Id | None = None
    pipeline_run: Annotated[str, StringConstraints(max_length=250), CLEAN] | None = Field(
        default=None, description="the pipeline run's id: the same run finds the same change")
    template: NameRef | None = None
    model: ChangeModel = "normal"
    title: Annotated[str, StringConstraints(max_length=300), CLEAN] = ""
    batch_size: Count | None = None
    links: Links = Field(default_factory=dict)


# -- answers ----------------------------------------------------------------------------

class RiskFactorOut(Out):
    key: str
    points: int
    sentence: str


class RiskOut(Out):
    score: int = Field(description="0 to 100")
    level: str
    factors: list[RiskFactorOut] = Field(description="what added points, largest first")


class ChangeOut(Out):
    id: int
    number: str = Field(description="CHG-<id>")
    title: str
    model: str
    state: str
    outcome: str | None
    environment: str
    team: str | None
    services: list[str]
    template: str | None
    author: str
    risk: RiskOut
    auto_approved: bool
    unauthorised: bool = Field(description="a production deployment of this change ran "
                                           "without its approval")
    planned_start: Timestamp | None
    planned_end: Timestamp | None
    actual_start: Timestamp | None
    actual_end: Timestamp | None
    links: dict[str, Any]
    source: str
    created_at: Timestamp
    closed_at: Timestamp | None


class ApprovalOut(Out):
    user: str
    team: str | None
    decision: str
    comment: str
    at: Timestamp


class ChangeDeploymentOut(Out):
    id: int
    version: str
    status: str
    environment: str
    unauthorised: bool
    finished_at: Timestamp | None


class ChangeDetailOut(ChangeOut):
    description: str
    policy: dict[str, Any] = Field(
        description="the policy's decision: action, rule, approver_teams, quorum, reasons")
    approvals: list[ApprovalOut]
    deployments: list[ChangeDeploymentOut]


class SuccessScoreOut(Out):
    team: str
    days: int
    closed: int
    outcomes: dict[str, int]
    success_rate: Number | None
    score: int


class SuccessScoresOut(Out):
    days: int
    items: list[SuccessScoreOut]


class PolicyRuleOut(Out):
    name: str
    action: str
    when: str
    conditions: dict[str, list[Any]]
    approvers: list[str]
    quorum: int


class RiskLevelOut(Out):
    level: str
    below: Number | None = Field(description="scores below this have the level")


class RiskPolicyOut(Out):
    source: str
    weights: dict[str, Number]
    levels: list[RiskLevelOut]


class ChangePolicyOut(Out):
    source: str = Field(description="default, or the setting that replaced the rules")
    rules: list[PolicyRuleOut]
    no_rule: str
    guards: list[str]
    risk: RiskPolicyOut


class GateRiskOut(Out):
    score: int
    level: str


class GateOut(Out):
    change_id: int
    decision: Literal["allowed", "denied", "pending"]
    state: str
    model: str
    risk: GateRiskOut
    reasons: list[str]


class TemplateOut(Out):
    id: int
    name: str
    description: str
    risk_ceiling: str
    services: list[str]
    owner: str | None
    active: bool


class WindowOut(Out):
    id: int
    name: str
    kind: str
    scope: str
    scope_values: list[str]
    starts_at: Timestamp | None
    ends_at: Timestamp | None
    weekdays: list[int]
    start_time: str | None
    duration_minutes: int | None
    timezone: str


class OccurrenceOut(Out):
    window: WindowOut
    start: Timestamp
    end: Timestamp


class CalendarOut(Out):
    start: datetime
    end: datetime
    windows: list[OccurrenceOut]
    changes: list[ChangeOut]


class CommitOut(Out):
    sha: str
    committed_at: Timestamp | None
    message: str


class DeploymentOut(Out):
    id: int
    service: str
    environment: str
    version: str
    status: str
    started_at: Timestamp | None
    finished_at: Timestamp | None
    source: str
    external_id: str | None
    url: str
    description: str
    change_id: int | None
    unauthorised: bool
    batch_size: int
    rollback_of: int | None
    fixes_incident: int | None


class DeploymentDetailOut(DeploymentOut):
    commits: list[CommitOut]


class DeploymentRecordedOut(DeploymentOut):
    created: bool = Field(description="false when the deployment was already recorded")


class DeploymentBatchOut(Out):
    items: list[DeploymentRecordedOut]
    total: int
