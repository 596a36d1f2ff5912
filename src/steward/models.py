"""Imports every domain's tables so the metadata is complete (migrations, tests)."""

from steward.audit.models import AuditEntry, AuditHead
from steward.auth.models import (
    ApiToken,
    Integration,
    TeamMembership,
    User,
    WebSession,
)
from steward.catalog.models import CatalogState, Dependency, Service, Team
from steward.changes.models import (
    Approval,
    CalendarWindow,
    Change,
    ChangeService,
    ChangeTemplate,
    Deployment,
    DeploymentCommit,
    TemplateService,
    WebhookDelivery,
)
from steward.db import Base
from steward.goals.models import Goal
from steward.incidents.models import Alert, Incident, IncidentService, TimelineEntry
from steward.problems.models import Problem
from steward.slos.models import SliReport, Slo

metadata = Base.metadata

__all__ = [
    "Alert",
    "ApiToken",
    "Approval",
    "AuditEntry",
    "AuditHead",
    "CalendarWindow",
    "CatalogState",
    "Change",
    "ChangeService",
    "ChangeTemplate",
    "Dependency",
    "Deployment",
    "DeploymentCommit",
    "Goal",
    "Incident",
    "IncidentService",
    "Integration",
    "Problem",
    "Service",
    "SliReport",
    "Slo",
    "Team",
    "TeamMembership",
    "TemplateService",
    "TimelineEntry",
    "User",
    "WebSession",
    "WebhookDelivery",
    "metadata",
]
