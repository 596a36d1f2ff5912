"""The overview's answer (``GET /api/v1/overview``)."""

from __future__ import annotations

from pydantic import Field

from steward.catalog.schemas import HealthCounts, ServiceHealthOut
from steward.changes.schemas import DeploymentOut
from steward.shapes import Out, Timestamp


class PriorityCounts(Out):
    P1: int
    P2: int
    P3: int
    P4: int
    P5: int


class IncidentBriefOut(Out):
    id: int
    number: str
    title: str
    priority: str
    status: str
    started_at: Timestamp
    acknowledged_at: Timestamp | None
    team: str | None
    assignee: str | None
    services: list[str]


class OverviewIncidentsOut(Out):
    open: int = Field(description="open incidents (triggered, acknowledged, mitigated)")
    by_priority: PriorityCounts
    listed_priorities: list[str] = Field(description="the priorities listed in `urgent`")
    urgent: list[IncidentBriefOut] = Field(
        description="the open incidents of the listed priorities, by priority, then oldest "
                    "first")


class BusinessServiceOut(ServiceHealthOut):
    service: str
    team: str | None
    tier: int


class BusinessServicesOut(Out):
    counts: HealthCounts
    items: list[BusinessServiceOut] = Field(description="worst state first, then by name")


class ChangeBriefOut(Out):
    id: int
    number: str
    title: str
    model: str
    state: str
    risk_level: str
    author: str | None
    team: str | None
    services: list[str]
    planned_start: Timestamp | None
    planned_end: Timestamp | None
    actual_start: Timestamp | None


class ApprovalWaitingOut(ChangeBriefOut):
    reason: str = Field(description="why the caller may approve it")
    approvals: int = Field(description="votes recorded so far")


class UnauthorisedDeploymentOut(DeploymentOut):
    author: str
    team: str | None


class UnauthorisedOut(Out):
    days: int = Field(description="how far back `recent` looks")
    total: int = Field(description="every production deployment ever flagged unauthorised")
    recent: list[UnauthorisedDeploymentOut] = Field(description="newest first")
    more: bool = Field(description="more recent ones than listed")


class OnCallTeamOut(Out):
    team: str
    oncall: list[str] = Field(description="usernames on call at the first level")
    gap: bool = Field(description="nobody is on call")


class OverviewOut(Out):
    """What is on fire now, as the home page shows it to the caller."""

    at: Timestamp
    incidents: OverviewIncidentsOut
    business_services: BusinessServicesOut
    changes_today: list[ChangeBriefOut] = Field(
        description="changes being implemented and open ones planned to start today (UTC)")
    my_approvals: list[ApprovalWaitingOut] = Field(
        description="changes waiting for an approval the caller may give")
    unauthorised_deployments: UnauthorisedOut
    oncall: list[OnCallTeamOut] = Field(description="each team with a schedule or an "
                                                    "escalation policy")
