"""A small organisation for the authorisation matrix, copied fresh for each call.

Two teams (``payments`` owns ``api`` and ``db``; ``shop`` owns ``checkout``),
one user per role, and one record of each kind a path can name: a change
waiting for the payments team's approval, a deployment, an incident, an
integration, an SLO, a goal, a calendar window, a dependency, a token, an on-call
schedule with an override, and the payments team's escalation policy.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import snapshots
from steward.auth.actor import SYSTEM
from steward.auth.models import ApiToken, User
from steward.auth.schemas import UserCreate
from steward.auth.use_cases import accounts as auth
from steward.auth.use_cases.integrations import create_integration
from steward.catalog import graph
from steward.catalog.models import Dependency
from steward.catalog.schemas import DependencyCreate, ServiceCreate, TeamCreate
from steward.catalog.use_cases import services as catalog
from steward.catalog.use_cases import teams
from steward.changes.commands import RecordDeployment
from steward.changes.schemas import ChangeCreate, WindowCreate
from steward.changes.use_cases import records
from steward.changes.use_cases.deployments import record_deployment
from steward.changes.use_cases.lifecycle import create_change
from steward.config import Settings
from steward.db import Database
from steward.goals import service as goals
from steward.incidents.use_cases import lifecycle as incidents
from steward.notify import outbox
from steward.notify.models import Notification
from steward.notify.schemas import ContactMethodIn, RuleIn, SubscriptionIn
from steward.notify.use_cases import contacts, subscriptions
from steward.oncall.schemas import LayerIn, OverrideCreate, PolicyIn, ScheduleCreate
from steward.oncall.use_cases import overrides, policies, schedules
from steward.slos import service as slo
from steward.slos.schemas import SloCreate
from steward.timeutil import utcnow

# The matrix's callers, in the order each operation is called: those expected to be
# refused first, so a write that succeeds comes after every refusal was checked.
ROLES = ("anonymous", "viewer", "viewer_in_team", "other_team", "owning_team", "admin")
OWNER = "payments"
USERS = {  # role -> (username, role, teams)
    "viewer": ("vera", "viewer", []),
    "viewer_in_team": ("vic", "viewer", [OWNER]),
    "other_team": ("olga", "member", ["shop"]),
    "owning_team": ("owen", "member", [OWNER]),
    "admin": ("ada", "admin", []),
}


@dataclass(frozen=True)
class Org:
    tokens: dict[str, str]  # role -> API token
    ids: dict[str, object]  # path parameter -> value


def build(db: Database) -> Org:
    now = utcnow()
    with db.session() as session:
        for name in (OWNER, "shop", "spare"):
            teams.create_team(session, SYSTEM, TeamCreate(name=name))
        catalog.create_service(session, SYSTEM, ServiceCreate(
            name="api", owner=OWNER, tier=1,
            annotations={"github.com/project-slug": "acme/api"}))
        catalog.create_service(session, SYSTEM, ServiceCreate(name="db", owner=OWNER,
                                                              kind="resource"))
        catalog.create_service(session, SYSTEM, ServiceCreate(name="checkout", owner="shop"))
        catalog.create_dependency(session, SYSTEM, DependencyCreate(service="api",
                                                                    depends_on="db"))
        tokens = {}
        for role, (username, user_role, member_of) in USERS.items():
            auth.create_user(session, SYSTEM, UserCreate(username=username, role=user_role,
                                                         teams=member_of))
            tokens[role] = auth.create_token(session, SYSTEM, username)
    with db.session() as session:
        recorded = record_deployment(session, SYSTEM, RecordDeployment(
            environment="production", status="succeeded", service="api", version="1.0",
            started_at=now - timedelta(hours=3), finished_at=now - timedelta(hours=2)))
        deployment_id = recorded.deployment.id
        # An emergency change needs its owning team's approval: it waits in authorize.
        change = create_change(session, SYSTEM, ChangeCreate(
            title="Rotate the payments keys", services=["api"], model="emergency"))
        assert change.state == "authorize", change.state
        incident = incidents.declare(session, SYSTEM, "Payments failing", "api",
                                     started_at=now - timedelta(hours=1))
        integration, _key = create_integration(session, SYSTEM, "generic", service="api")
        objective = slo.create_slo(session, SYSTEM, "api", SloCreate(
            name="availability", objective=0.99, sli="counts"))
        goal = goals.create_goal(session, SYSTEM, goals.GoalCreate(
            name="fewer-failures", metric="change_failure_rate", target=0.1,
            period_start=now - timedelta(days=30), period_end=now + timedelta(days=60)))
        window = records.create_window(session, SYSTEM, WindowCreate(
            name="payments-freeze", kind="freeze", scope="team", scope_values=[OWNER],
            starts_at=now + timedelta(days=10), ends_at=now + timedelta(days=11)))
        schedule = schedules.create_schedule(session, SYSTEM, ScheduleCreate(
            team=OWNER, name="primary", time_zone="Europe/Amsterdam", layers=[LayerIn(
                name="weekly", starts=now.replace(tzinfo=None) - timedelta(days=3),
                handoff_interval_hours=168, members=["owen"])]))
        cover = overrides.create_override(session, SYSTEM, schedule.id, OverrideCreate(
            user="owen", starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=3)))
        policies.put_policy(session, SYSTEM, OWNER, PolicyIn(name="payments", levels=[
            {"timeout_minutes": 5, "targets": [{"kind": "user", "user": "owen"}]}]))
        ids: dict[str, object] = {
            "schedule_id": schedule.id, "override_id": cover.id,
            "change_id": change.id, "deployment_id": deployment_id, "incident_id": incident.id,
            "integration_id": integration.id, "slo_id": objective.id,
            "goal_id": goal.id, "window_id": window.id,
        }
        ids["dependency_id"] = session.scalar(select(Dependency.id))
        owner = USERS["owning_team"][0]
        ids.update(_notifications(session, owner, incident.id))
        ids["token_id"] = session.scalar(select(ApiToken.id).join(
            User, User.id == ApiToken.user_id).where(User.username == owner))
    return Org(tokens=tokens, ids=ids)


def _notifications(session: Session, owner: str, incident_id: int) -> dict[str, object]:
    """The owner's contact method and rule, a subscription of the owning team, and a dead
    letter about the incident (to retry)."""
    actor = auth.actor_for_user(session, auth.get_user(session, owner))
    method = contacts.add_contact_method(session, actor, owner, ContactMethodIn(
        kind="email", target=f"{owner}@example.test"))
    rule = contacts.add_rule(session, actor, owner, RuleIn(contact_method_id=method["id"]))
    subscription = subscriptions.create_subscription(session, SYSTEM, OWNER, SubscriptionIn(
        name="ops", kind="webhook", url="https://hooks.example.test/ops",
        event_types=["incident.resolved"]))
    notification_id = outbox.enqueue(
        session, channel="webhook", target="https://hooks.example.test/ops",
        event_type="incident.resolved", urgency="high", subject="resolved", body={},
        dedup_key="authz-dead", incident_id=incident_id, subscription_id=subscription["id"])
    session.execute(update(Notification).where(Notification.id == notification_id)
                    .values(state="dead", attempts=10, last_error="HTTP 500"))
    return {"method_id": method["id"], "rule_id": rule["id"],
            "subscription_id": subscription["id"], "notification_id": notification_id}


class Copies:
    """Fresh copies of one built organisation: a copy of an SQLite file, or on PostgreSQL
    the organisation's rows written back into the session's test database."""

    def __init__(self, backend: str, folder: Path, sqlite_template: Path | None,
                 postgres_url: str | None) -> None:
        self.backend, self.folder = backend, folder
        self.count = 0
        if backend == "sqlite":
            assert sqlite_template is not None
            self.template_path = folder / "org.db"
            shutil.copy(sqlite_template, self.template_path)
            db = Database(Settings(database_url=f"sqlite:///{self.template_path}"))
        else:
            assert postgres_url is not None
            self.postgres_url = postgres_url
            db = Database(Settings(database_url=postgres_url))
            snapshots.reset(db)  # earlier tests leave their rows until the next one starts
        try:
            self.org = build(db)
            if backend == "postgres":
                self.snapshot = snapshots.take(db)
        finally:
            db.dispose()

    @contextmanager
    def fresh(self) -> Iterator[Database]:
        self.count += 1
        graph.clear_cache()
        if self.backend == "sqlite":
            path = self.folder / f"copy-{self.count}.db"
            shutil.copy(self.template_path, path)
            db = Database(Settings(database_url=f"sqlite:///{path}"))
            try:
                yield db
            finally:
                db.dispose()
                path.unlink()
            return
        db = Database(Settings(database_url=self.postgres_url))
        snapshots.restore(db, self.snapshot)
        try:
            yield db
        finally:
            db.dispose()

    def close(self) -> None:
        """Nothing to remove: the next test's fixture empties the PostgreSQL database."""
