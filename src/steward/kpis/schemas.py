"""API shapes of the KPIs: DORA and ITSM figures, shared goals, exports.

Figures are ``None`` when the window holds nothing to compute them from.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from steward.shapes import Number, Out, Timestamp


class KpiScope(Out):
    team: str | None
    service: str | None


class KpiWindow(Out):
    start: Timestamp
    end: Timestamp
    days: int


class HoursSummary(Out):
    median: Number | None
    p90: Number | None
    mean: Number | None


# -- DORA ---------------------------------------------------------------------------

class DeploymentFrequency(Out):
    per_day: Number
    deploy_days_per_week: Number | None = Field(description="median over the window's weeks")
    deploy_days: int
    tier: str | None


class LeadTime(Out):
    median: Number | None
    p90: Number | None
    commits: int
    tier: str | None


class ChangeFailureRate(Out):
    value: Number | None
    failed_deployments: int
    tier: str | None


class RecoveryTime(Out):
    median: Number | None
    incidents: int
    tier: str | None


class ReworkRate(Out):
    value: Number | None
    rework_deployments: int


class Mttr(HoursSummary):
    incidents: int


class DoraWeek(Out):
    week_start: Timestamp
    deployments: int
    deploy_days: int
    lead_time_hours_median: Number | None
    change_failure_rate: Number | None
    failed_deployments: int


class DoraOut(Out):
    """Deployment frequency, lead time, change failure rate, recovery time, rework, tiers."""

    scope: KpiScope
    window: KpiWindow
    deployments: int
    deployment_frequency: DeploymentFrequency
    lead_time_hours: LeadTime
    change_failure_rate: ChangeFailureRate
    recovery_time_hours: RecoveryTime
    rework_rate: ReworkRate
    mttr_hours: Mttr
    tier: str | None
    weekly: list[DoraWeek]


# -- ITSM ---------------------------------------------------------------------------

class PriorityFigures(Out):
    incidents: int
    mtta_hours: HoursSummary
    mttr_hours: HoursSummary
    sla_compliance: Number | None


class ChangeFigures(Out):
    total: int
    closed: int
    success_rate: Number | None
    score: int
    auto_approval_rate: Number | None
    approval_wait_hours: HoursSummary
    emergency_share: Number | None
    unauthorised: int


class ProblemFigures(Out):
    backlog: int
    median_age_days: Number | None


class ItsmOut(Out):
    """MTTA, MTTR and SLA compliance by priority, reopen rate, change and problem figures."""

    scope: KpiScope
    window: KpiWindow
    incidents: int
    mtta_hours: HoursSummary
    mttr_hours: HoursSummary
    sla_compliance: Number | None
    reopen_rate: Number | None
    by_priority: dict[str, PriorityFigures]
    by_status: dict[str, int]
    changes: ChangeFigures
    problems: ProblemFigures


class KpiExportOut(Out):
    table: Literal["dora", "itsm", "goals"]
    group_by: Literal["team", "service"]
    items: list[dict[str, Any]] = Field(
        description="one row per team, service or goal; the columns of GET /kpis/dora, "
                    "/kpis/itsm or /goals/{id}")


# -- on-call ------------------------------------------------------------------------

class LevelAcknowledgement(Out):
    level: int = Field(description="the escalation level reached when acknowledged")
    acknowledged: int = Field(description="escalations acknowledged at that level")
    median: Number = Field(description="minutes from the first page to the acknowledgement")
    p90: Number


class TeamOncallFigures(Out):
    team: str
    pages: int = Field(description="people paged by escalation steps (one per person and "
                                   "step)")
    high_urgency_pages: int
    out_of_hours_pages: int = Field(description="pages outside 08:00-18:00 Monday to "
                                                "Friday in the schedule's time zone")
    out_of_hours_share: Number | None
    shifts: Number | None = Field(description="on-call shifts of the team's schedules in "
                                              "the window")
    pages_per_shift: Number | None
    time_to_acknowledge_minutes: list[LevelAcknowledgement]
    escalations_ran_out: int


class BusinessHours(Out):
    start: str
    end: str
    weekdays: str


class OncallKpisOut(Out):
    """The load on each team's on-call: pages per shift, out of hours, time to
    acknowledge by escalation level. Per team only."""

    scope: KpiScope
    window: KpiWindow
    business_hours: BusinessHours
    teams: list[TeamOncallFigures]
