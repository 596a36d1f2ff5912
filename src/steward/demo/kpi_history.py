"""Twelve weeks of delivery and incident history for the KPI dashboard, and two goals.

Made through the real use cases, like the rest of the demo: every team ships a
weekly release train (one change, approved by policy or by peers, then its
production deployments with their commits, committed hours to days before),
some deployments are rolled back, some are confirmed as the cause of an
incident and followed by a fix deployment (rework), and incidents of every
priority are acknowledged and resolved over the weeks. Deployments fill the
weeks before the change history's last four; incidents cover all twelve.
Drawn from a seeded random generator and placed relative to today at
midnight UTC, so two seeds on the same day give the same history.

The teams differ on purpose: Order-to-Cash ships often in small batches,
Banking WebApp less often with larger ones, Platform weekly, and Customer
Experience gets better week by week, so the tiers and trends have something
to show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from steward.auth.actor import Actor
from steward.auth.use_cases import accounts as auth
from steward.changes.commands import CommitInfo, RecordDeployment
from steward.changes.models import Change, Deployment
from steward.changes.schemas import ChangeCreate
from steward.changes.use_cases import lifecycle as changes
from steward.changes.use_cases.deployments import record_batch, record_deployment
from steward.db import Database
from steward.demo import organisation as org
from steward.incidents.use_cases import causes
from steward.incidents.use_cases import lifecycle as incidents
from steward.slos.schemas import SloCreate
from steward.slos.service import create_slo
from steward.timeutil import utcnow

SEED = 20250512
WEEKS = 12
RECENT_DAYS = 28  # the change history's own weeks: only incidents are added there


@dataclass(frozen=True)
class TeamPlan:
    team: str
    member: str
    services: tuple[str, ...]
    per_week: tuple[int, int]  # deployments per week, low and high
    commits: tuple[int, int]  # commits per deployment
    commit_hours: tuple[int, int]  # how long before the deployment commits were made
    failure: float  # chance a deployment is rolled back or causes an incident
    improving: bool = False  # failures fall and deployments rise over the weeks


PLANS = (
    TeamPlan("order-to-cash", "alice",
             ("orders-service", "invoicing-service", "billing-api", "payments-gateway",
              "ledger-service", "credit-check"), (4, 7), (1, 3), (2, 30), 0.08),
    TeamPlan("banking-webapp", "bob",
             ("banking-web", "accounts-api", "accounts-service", "transfers-service",
              "statements-service"), (2, 4), (3, 8), (20, 140), 0.14),
    TeamPlan("platform", "carol",
             ("kafka", "redis-cache", "ledger-db", "smtp-relay", "object-storage"),
             (1, 2), (1, 4), (24, 200), 0.1),
    TeamPlan("identity", "dan", ("auth-service", "identity-api", "sso-portal"),
             (2, 3), (1, 4), (6, 72), 0.07),
    TeamPlan("customer-experience", "dan",
             ("notification-service", "support-desk", "search-service"), (1, 5), (1, 5),
             (12, 160), 0.3, improving=True),
)
# title, service, impact, urgency, minutes to acknowledge, hours to resolve
INCIDENTS = (
    ("Checkout latency above 2 s", "orders-service", 2, 1, 6, 1.5),
    ("Statement PDFs missing for some customers", "statements-service", 3, 2, 45, 20),
    ("Sign-in failing for SSO customers", "sso-portal", 1, 1, 4, 0.8),
    ("Password reset mails delayed", "notification-service", 2, 3, 60, 9),
    ("Kafka consumer lag on ledger events", "kafka", 2, 2, 12, 4),
    ("Help-centre search returns nothing for umlauts", "search-service", 3, 3, 180, 10),
    ("Transfers rejected after cut-off", "transfers-service", 2, 2, 15, 3),
    ("Invoice numbering gap", "invoicing-service", 3, 2, 90, 26),
    ("Redis evictions spike", "redis-cache", 2, 2, 8, 2.5),
    ("Support desk slow to load tickets", "support-desk", 3, 1, 20, 6),
)
MEMBERS = {team: tuple(u for u, _d, role, teams in org.USERS if role == "member" and team in teams)
           for team, *_ in org.TEAMS}
CAUSED = ("{service}: errors after {version}", "{service}: timeouts since {version}",
          "{service}: wrong results after {version}")
# service, owner member, name, objective, window days
SLOS = (
    ("orders-service", "alice", "Orders API available", 0.995, 28),
    ("payments-gateway", "alice", "Card payments succeed", 0.995, 28),
    ("accounts-service", "bob", "Balances available", 0.999, 28),
    ("auth-service", "dan", "Sign-in available", 0.999, 28),
    ("search-service", "dan", "Help-centre search answers", 0.97, 28),
    ("kafka", "carol", "Event streaming available", 0.99, 28),
)
GOALS = (
    ("Change failure rate at most 10 %", "change_failure_rate", "<=", 0.10,
     "Our shared objective this quarter: fewer changes that fail or need a rollback, "
     "with every team's progress visible to everyone."),
    ("Deploy on at least 3 days a week", "deploy_days_per_week", ">=", 3.0,
     "Smaller, more frequent releases: a deployment on three days or more in a typical week."),
)


class _Story:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.rng = random.Random(SEED)
        self.now = utcnow()
        self.today = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.actors: dict[str, Actor] = {}
        self.versions: dict[str, int] = {}
        self.counts = {"deployments": 0, "incidents": 0, "changes": 0}

    def actor(self, username: str) -> Actor:
        if username not in self.actors:
            self.actors[username] = auth.actor_for_user(self.s, auth.get_user(self.s, username))
        return self.actors[username]

    def version(self, service: str) -> str:
        self.versions[service] = self.versions.get(service, 0) + 1
        return f"2.{self.versions[service] // 10}.{self.versions[service] % 10}"

    def commits(self, plan: TeamPlan, before: datetime) -> tuple[CommitInfo, ...]:
        found = []
        for _ in range(self.rng.randint(*plan.commits)):
            hours = self.rng.uniform(*plan.commit_hours)
            found.append(CommitInfo(sha=f"{self.rng.getrandbits(160):040x}",
                                    committed_at=before - timedelta(hours=hours),
                                    message="Release train change"))
        return tuple(sorted(found, key=lambda c: c.committed_at or before))

    def train(self, plan: TeamPlan, start: datetime, end: datetime,
              services: list[str]) -> Change | None:
        """A release train: opened by the release manager, approved by policy or by the
        members of the teams the policy names (never by its author)."""
        change = changes.create_change(self.s, self.actor("admin"), ChangeCreate(
            title=f"{plan.team} release train from {start:%Y-%m-%d}",
            services=sorted(set(services)), planned_start=start, planned_end=end,
            batch_size=2, description="Routine releases, shipped through the pipeline."),
            source="pipeline")
        self.counts["changes"] += 1
        for team in change.policy.get("approver_teams", []):
            for username in MEMBERS.get(team, ()):
                if change.state == "authorize":
                    changes.decide(self.s, self.actor(username), change.id, "approve",
                                   "Routine release train: fine.")
        return change if change.state == "scheduled" else None

    def train_weeks(self, plan: TeamPlan, first: int, last: int) -> None:
        """One team's deployments in weeks ``first`` to ``last`` (0 is the oldest), shipped
        under one release train; some roll back, some cause an incident."""
        planned: list[tuple[str, datetime, str, bool]] = []
        for index in range(first, last + 1):
            week_start = self.today - timedelta(days=7 * (WEEKS - index))
            low, high = plan.per_week
            if plan.improving:
                high = max(low, min(high, low + index // 2))
            count = self.rng.randint(low, high)
            days = sorted(self.rng.sample(range(5), min(count, 5)) +
                          [self.rng.randrange(5) for _ in range(max(0, count - 5))])
            failure = plan.failure * (1.6 - index / WEEKS) if plan.improving else plan.failure
            for day in days:
                at = week_start + timedelta(days=day, hours=self.rng.randint(9, 16),
                                            minutes=self.rng.choice((0, 10, 25, 40)))
                roll = self.rng.random()
                planned.append((self.rng.choice(plan.services), at,
                                "rolled_back" if roll < failure / 2 else "succeeded",
                                failure / 2 <= roll < failure))
        if not planned:
            return
        begin = self.today - timedelta(days=7 * (WEEKS - first))
        change = self.train(plan, begin, begin + timedelta(days=7 * (last - first + 1)),
                            [service for service, *_ in planned])
        if change is None:
            return  # not approved: nothing ships
        # One batch: every deployment links to the train, the open authorised change of
        # its services when the batch starts.
        recorded = record_batch(self.s, self.actor(plan.member), [
            self.command(plan, service, at, status) for service, at, status, _ in planned])
        self.counts["deployments"] += len(recorded)
        for (service, at, _status, hurts), done in zip(planned, recorded, strict=True):
            if hurts:
                self.caused_incident(plan, service, done.deployment, at, change)

    def command(self, plan: TeamPlan, service: str, at: datetime, status: str,
                **extra: Any) -> RecordDeployment:
        return RecordDeployment(
            service=service, environment="production", status=status,
            version=self.version(service), started_at=at,
            finished_at=at + timedelta(minutes=self.rng.randint(4, 15)),
            commits=self.commits(plan, at), source="github", author=plan.member,
            **extra)

    def caused_incident(self, plan: TeamPlan, service: str, dep: Deployment, at: datetime,
                        change: Change) -> None:
        """An incident the deployment caused: confirmed, then fixed by a new deployment."""
        actor = self.actor(plan.member)
        start = (dep.finished_at or at) + timedelta(minutes=self.rng.randint(10, 90))
        title = self.rng.choice(CAUSED).format(service=service, version=dep.version)
        incident = incidents.declare(self.s, actor, title, service,
                                     impact=self.rng.choice((1, 2, 2, 3)), urgency=2,
                                     started_at=start)
        self.counts["incidents"] += 1
        ack = start + timedelta(minutes=self.rng.randint(3, 40))
        incidents.act(self.s, actor, incident.id, "acknowledge", at=ack)
        causes.confirm_cause(self.s, actor, incident.id, dep.id,
                             at=ack + timedelta(minutes=5))
        fix = record_deployment(self.s, actor, self.command(
            plan, service, ack + timedelta(minutes=self.rng.randint(20, 300)), "succeeded",
            fixes_incident=incident.id, change_id=change.id,
            description="Fix for the incident")).deployment
        self.counts["deployments"] += 1
        fixed = fix.finished_at or ack
        causes.mark_fix(self.s, actor, incident.id, fix.id, at=fixed + timedelta(minutes=1))
        incidents.act(self.s, actor, incident.id, "resolve", at=fixed + timedelta(minutes=12))

    def operational_incidents(self) -> None:
        """Incidents not caused by a change, spread over the twelve weeks."""
        owners = {s: p for p in PLANS for s in p.services}
        for index in range(WEEKS + 4):
            title, service, impact, urgency, ack_minutes, fix_hours = \
                INCIDENTS[index % len(INCIDENTS)]
            start = self.today - timedelta(days=5.25 * (WEEKS + 4 - index) - 1,
                                           hours=self.rng.randint(0, 20))
            plan = owners.get(service)
            actor = self.actor(plan.member if plan else "admin")
            incident = incidents.declare(self.s, actor, title, service, impact=impact,
                                         urgency=urgency, started_at=start)
            self.counts["incidents"] += 1
            spread = self.rng.uniform(0.5, 1.6)
            incidents.act(self.s, actor, incident.id, "acknowledge",
                          at=start + timedelta(minutes=ack_minutes * spread))
            resolved = min(start + timedelta(hours=fix_hours * spread),
                           self.now - timedelta(minutes=5))
            incidents.act(self.s, actor, incident.id, "resolve", at=resolved)
            if index % 3 == 0 and resolved + timedelta(days=1) < self.now:
                incidents.act(self.s, actor, incident.id, "close",
                              at=resolved + timedelta(days=1))


def seed_kpi_history(db: Database) -> str:
    """Adds twelve weeks of deployments and incidents to the seeded demo organisation."""
    with db.session() as session:
        story = _Story(session)
        oldest_recent = WEEKS - RECENT_DAYS // 7  # the change history has these weeks
        for first in range(0, oldest_recent, 4):
            for plan in PLANS:
                story.train_weeks(plan, first, min(first + 3, oldest_recent - 1))
        story.operational_incidents()
        for service, member, name, objective, window in SLOS:
            create_slo(session, story.actor(member), service, SloCreate(
                name=name, objective=objective, window_days=window,
                description="Time in incidents counts against the budget."))
        counts = story.counts
    return (f"{counts['deployments']} more deployments in {counts['changes']} release trains "
            f"and {counts['incidents']} resolved incidents over {WEEKS} weeks, "
            f"{len(SLOS)} SLOs")


def seed_goals(db: Database, actor: Actor) -> str:
    """The two shared goals, over the last twelve weeks and the four ahead."""
    from steward.goals.service import GoalCreate, create_goal

    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    with db.session() as session:
        for name, metric, comparator, target, description in GOALS:
            create_goal(session, actor, GoalCreate(
                name=name, metric=metric, comparator=comparator,
                target=target, description=description,
                period_start=today - timedelta(days=7 * WEEKS),
                period_end=today + timedelta(days=28)))
    return f"{len(GOALS)} shared goals"
