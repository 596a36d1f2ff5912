"""Every domain's tables, so the metadata is complete (migrations, backups, tests), and
the rows every database has."""

from steward.audit.models import AuditEntry, AuditHead
from steward.audit.service import GENESIS
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
from steward.db import Base, Database
from steward.goals.models import Goal
from steward.incidents.models import (
    Alert,
    Incident,
    IncidentAlertGroup,
    IncidentService,
    TimelineEntry,
)
from steward.jobs.models import Timer
from steward.notify import listeners as _notify_listeners  # noqa: F401 (registers them)
from steward.notify.models import (
    ContactMethod,
    Notification,
    NotificationRule,
    NotifyPreference,
    Subscription,
)
from steward.oncall.escalation_models import EscalationPage, IncidentEscalation
from steward.oncall.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    LayerMember,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
)
from steward.oncall.use_cases import escalation as _escalation  # noqa: F401
from steward.oncall.use_cases import escalation_events as _escalation_events  # noqa: F401
from steward.oncall.use_cases import sla_timers as _sla_timers  # noqa: F401
from steward.problems.models import Problem
from steward.slos.models import SliReport, Slo
from steward.status import listeners as _status_listeners  # noqa: F401 (registers them)
from steward.status.models import (
    StatusComponent,
    StatusPolicy,
    StatusSubscriber,
    StatusUpdate,
)

metadata = Base.metadata


def ensure_seed_rows(database: Database) -> None:
    """Rows every database has: the audit chain head and the catalog revision."""
    with database.session() as session:
        if session.get(AuditHead, 1) is None:
            session.add(AuditHead(id=1, seq=0, hash=GENESIS))
        if session.get(CatalogState, 1) is None:
            session.add(CatalogState(id=1, revision=0))


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
    "ContactMethod",
    "Dependency",
    "Deployment",
    "DeploymentCommit",
    "EscalationLevel",
    "EscalationPage",
    "EscalationPolicy",
    "EscalationTarget",
    "Goal",
    "Incident",
    "IncidentAlertGroup",
    "IncidentEscalation",
    "IncidentService",
    "Integration",
    "LayerMember",
    "Notification",
    "NotificationRule",
    "NotifyPreference",
    "Problem",
    "Schedule",
    "ScheduleLayer",
    "ScheduleOverride",
    "Service",
    "SliReport",
    "Slo",
    "StatusComponent",
    "StatusPolicy",
    "StatusSubscriber",
    "StatusUpdate",
    "Subscription",
    "Team",
    "TeamMembership",
    "TemplateService",
    "TimelineEntry",
    "Timer",
    "User",
    "WebSession",
    "WebhookDelivery",
    "ensure_seed_rows",
    "metadata",
]
