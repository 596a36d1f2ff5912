"""API shapes for SLOs and SLI reports."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator

from steward.inputs import BigCount, LongText, RequiredLabel
from steward.shapes import Number, Out, Timestamp
from steward.timeutil import parse_timestamp

SliKind = Literal["impact", "counts"]
Name: TypeAlias = RequiredLabel
MAX_REPORTS = 10_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SloCreate(Strict):
    name: Name
    description: LongText = ""
    objective: float = Field(gt=0, lt=1, description="share of good events or time, e.g. 0.999")
    window_days: int = Field(default=28, ge=1, le=365, description="rolling window in days")
    sli: SliKind = Field(default="impact", description="impact: time in incidents is bad; "
                                                       "counts: reported good/total events")


class SloUpdate(Strict):
    name: Name | None = None
    description: LongText | None = None
    objective: float | None = Field(default=None, gt=0, lt=1)
    window_days: int | None = Field(default=None, ge=1, le=365)
    sli: SliKind | None = None


class SliReportIn(Strict):
    """Good and total events of the indicator over [start, end)."""

    start: datetime
    end: datetime
    good: BigCount
    total: BigCount

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time(cls, value: object, info: object) -> datetime:
        return parse_timestamp(value, field=getattr(info, "field_name", "start") or "start")


# -- answers ----------------------------------------------------------------------------

class BurnAlertOut(Out):
    """One burn-rate alert rule and whether it fires now."""

    rule: str
    action: str
    severity: str
    long_window: str
    short_window: str
    threshold: Number
    firing: bool


class SloStatusOut(Out):
    at: Timestamp
    window_start: Timestamp
    sli: Number | None = Field(description="none when nothing was reported in the window")
    good: Number | None
    total: Number | None
    bad_seconds: Number | None
    error_budget: Number
    budget_consumed: Number
    budget_left: Number
    exhausted: bool
    burn_rates: dict[str, Number | None]
    alerts: list[BurnAlertOut]
    firing: list[str]


class SloOut(Out):
    id: int
    service: str
    team: str | None
    name: str
    description: str
    objective: Number
    window_days: int
    sli: str
    created_at: Timestamp
    updated_at: Timestamp
    status: SloStatusOut


class BurndownPoint(Out):
    at: Timestamp
    budget_left: Number


class BurndownOut(Out):
    id: int
    name: str
    objective: Number
    window_days: int
    points: list[BurndownPoint]


class SliReportOut(Out):
    id: int
    start: Timestamp
    end: Timestamp
    good: int
    total: int


class SliReportsStored(Out):
    stored: int
    reports: list[SliReportOut]
    slo: SloOut


class EvaluationOut(Out):
    slos: int
    raised: list[str] = Field(description="dedup keys of the burn alerts raised")
    cleared: list[str]
    incidents: list[int]
