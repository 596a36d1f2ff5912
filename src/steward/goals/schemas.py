"""API shapes of shared goals and their progress."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from steward.kpis.schemas import KpiWindow
from steward.shapes import Number, Out, Timestamp


class GoalMetricOut(Out):
    key: str
    label: str
    unit: str
    better: Literal["higher", "lower"]
    source: str


class GoalOut(Out):
    id: int
    name: str
    description: str
    metric: str
    metric_label: str
    unit: str | None
    comparator: str
    target: Number
    period_start: Timestamp
    period_end: Timestamp
    created_at: Timestamp
    updated_at: Timestamp


class GoalJudgement(Out):
    value: Number | None
    display: str
    meets: bool | None
    progress: Number | None


class TeamGoalProgress(Out):
    team: str
    value: Number | None
    display: str
    meets: bool | None
    progress: Number | None
    weeks: list[Number | None] = Field(description="the team's value per week")
    trend: str | None


class GoalWeek(Out):
    week_start: Timestamp
    value: Number | None
    meets: bool | None


class GoalProgressOut(GoalOut):
    """A goal with the organisation's and every team's value over its period so far."""

    metric_info: GoalMetricOut
    status: Literal["upcoming", "running", "finished"]
    window: KpiWindow | None
    organisation: GoalJudgement
    weeks: list[GoalWeek]
    trend: str | None
    teams: list[TeamGoalProgress]
    teams_meeting: int | None = Field(default=None, description="absent before the period")
    teams_with_data: int | None = Field(default=None, description="absent before the period")
