"""A few weeks of change history for the demo, made through the real use cases.

Changes are opened with ``lifecycle.create_change`` (so their risk and the
approval policy are real), approved by peers through ``lifecycle.decide`` and
closed by the deployments ``record_deployment`` records, commits and all.
Everything is placed relative to today at midnight UTC and drawn from a
seeded random generator, so two seeds on the same day give the same history.

What is there afterwards:

- a weekly platform maintenance window (Sundays 02:00 Europe/Berlin, two
  hours) and a "Quarter-end freeze" a few days ahead;
- one standard change template per team;
- four weeks of changes and production deployments across the teams, most
  successful, some failed or rolled back, one closed with issues, one
  rejected, one canceled, a high-risk Kafka upgrade approved by two peers and
  an emergency fix approved by the owning team;
- production deployments without a change, flagged unauthorised;
- coming up: a scheduled orders-service change, a high-risk core-db change
  that overlaps it (a conflict) and waits for approval now, a standard
  banking-web change, and a notification-service change being implemented.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from steward.auth.actor import Actor
from steward.auth.use_cases import accounts as auth
from steward.changes.commands import CommitInfo, RecordDeployment
from steward.changes.models import Change, Deployment
from steward.changes.schemas import ChangeCreate, TemplateCreate, WindowCreate
from steward.changes.use_cases import lifecycle, records
from steward.changes.use_cases.deployments import record_deployment
from steward.db import Database
from steward.demo import organisation as org
from steward.timeutil import utcnow

SEED = 20250301
HISTORY_DAYS = 28
BERLIN = ZoneInfo("Europe/Berlin")
PENDING_TITLE = "core-db: PostgreSQL 16.4 and autovacuum tuning"
FREEZE_NAME = "Quarter-end freeze"
MAINTENANCE_NAME = "Platform Sunday maintenance"

# name, owner, services, description
TEMPLATES = [
    ("orders-service config", "alice", ["orders-service"],
     "Configuration-only change to orders-service (limits, timeouts, feature toggles)."),
    ("banking-web feature flag", "bob", ["banking-web"],
     "Turn a banking-web feature flag on or off, or change its rollout percentage."),
    ("redis-cache config", "carol", ["redis-cache"],
     "Eviction, memory and TTL settings of the shared cache."),
    ("auth-service config", "dan", ["auth-service"],
     "Token lifetimes and sign-in rate limits of auth-service."),
    ("support-desk content", "dan", ["support-desk"],
     "Macros, canned answers and help-centre links in the support tool."),
]

# Routine work per person: (service, title, template or None).
ROUTINE = {
    "alice": [
        ("orders-service", "Order export to CSV for finance", None),
        ("orders-service", "Raise the order page size limit", "orders-service config"),
        ("invoicing-service", "Invoice PDF layout for EU VAT", None),
        ("billing-api", "Billing API: pagination on /invoices", None),
        ("ledger-service", "Ledger nightly reconciliation job", None),
        ("credit-check", "Credit check: cache scores for 24 h", None),
        ("orders-service", "Shorter checkout timeout", "orders-service config"),
    ],
    "bob": [
        ("banking-web", "Accessible contrast on the accounts page", None),
        ("banking-web", "Roll the new login page out to 50%", "banking-web feature flag"),
        ("accounts-api", "accounts-api: ETag on balance responses", None),
        ("statements-service", "Statements: PDF/A output", None),
        ("transfers-service", "Transfers: clearer error on cut-off times", None),
        ("banking-web", "Enable dark mode for everyone", "banking-web feature flag"),
    ],
    "dan": [
        ("auth-service", "Shorter refresh-token lifetime", "auth-service config"),
        ("identity-api", "identity-api: userinfo claims for locale", None),
        ("sso-portal", "SSO portal: remember the last identity provider", None),
        ("notification-service", "Notification retries with backoff", None),
        ("support-desk", "New macros for card disputes", "support-desk content"),
        ("search-service", "Help-centre search: synonyms for 'IBAN'", None),
    ],
}
# Sunday maintenance work of the platform team.
PLATFORM_SUNDAYS = [
    ("web-node-1", "web-node-1: kernel security patch"),
    ("web-node-2", "web-node-2: kernel security patch"),
    ("smtp-relay", "smtp-relay: TLS certificate renewal"),
    ("object-storage", "object-storage: lifecycle rule for old statements"),
]
COMMIT_MESSAGES = [
    "Fix flaky test", "Bump dependencies", "Add metrics for latency", "Tidy logging",
    "Handle empty responses", "Retry on timeout", "Document the config", "Refactor handler",
    "Tighten input validation", "Add feature flag", "Remove dead code", "Speed up query",
    "Translate error messages", "Guard against nulls", "Update runbook link",
]
REPOS = {"order-to-cash": "example/o2c", "banking-webapp": "example/banking",
         "platform": "example/platform", "identity": "example/identity",
         "customer-experience": "example/cx"}


class _History:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.rng = random.Random(SEED)
        self.now = utcnow()
        self.today = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.actors: dict[str, Actor] = {
            name: auth.actor_for_user(session, auth.get_user(session, name))
            for name, *_ in org.USERS}
        self.members: dict[str, list[str]] = {}
        for username, _display, role, teams in org.USERS:
            if role == "member":
                for team in teams:
                    self.members.setdefault(team, []).append(username)
        self.team_of = {name: owner for name, _kind, _tier, owner, *_ in org.SERVICES}
        self.versions: dict[str, list[int]] = {}
        self.sequence = 0
        self.counts: Counter[str] = Counter()

    # -- building blocks ------------------------------------------------------------------

    def open(self, who: str, title: str, services: list[str], start: datetime,
             minutes: int = 60, *, model: str = "normal", template: str | None = None,
             batch: int | None = None, description: str = "") -> Change:
        team = self.team_of[services[0]]
        self.sequence += 1
        repo = REPOS[team]
        links = {"pipeline": f"https://ci.example.com/{repo}/pipelines/{4100 + self.sequence}",
                 "pr": f"https://git.example.com/{repo}/pull/{800 + self.sequence}"}
        change = lifecycle.create_change(self.s, self.actors[who], ChangeCreate(
            title=title, services=services, model=model,
            template=template, planned_start=start,
            planned_end=start + timedelta(minutes=minutes), batch_size=batch,
            description=description, links=links), source="pipeline")
        self.counts["changes"] += 1
        return change

    def settle(self, change: Change, comment: str = "Looks good to me.") -> None:
        """Peers approve a change waiting for approval; withdrawn if nobody may."""
        if change.state != "authorize":
            return
        teams = list(change.policy.get("approver_teams", []))
        for team in teams:
            for who in self.members.get(team, []):
                if change.state != "authorize":
                    return
                if who == change.author or any(a.username == who for a in
                                               lifecycle.approvals_of(self.s, change.id)):
                    continue
                lifecycle.decide(self.s, self.actors[who], change.id, "approve", comment)
        if change.state == "authorize":
            # Every demo team has one member, so some quorums cannot be met here.
            lifecycle.transition(self.s, self.actors[self.owner_member(change)], change.id,
                                 "canceled", comment="Withdrawn: replanned with a smaller batch.")

    def owner_member(self, change: Change) -> str:
        if change.author in self.actors and self.actors[change.author].role == "member":
            return change.author
        return "admin"

    def version(self, service: str) -> str:
        parts = self.versions.setdefault(
            service, [1, self.rng.randint(2, 30), 0])
        parts[2] += 1
        if parts[2] > 9:
            parts[1], parts[2] = parts[1] + 1, 0
        return ".".join(map(str, parts))

    def commits(self, count: int, before: datetime) -> tuple[CommitInfo, ...]:
        found = []
        for _ in range(count):
            minutes = self.rng.randint(25, 3 * 24 * 60)
            found.append(CommitInfo(sha=f"{self.rng.getrandbits(160):040x}",
                                    committed_at=before - timedelta(minutes=minutes),
                                    message=self.rng.choice(COMMIT_MESSAGES)))
        return tuple(sorted(found, key=lambda c: c.committed_at or before))

    def deploy(self, who: str, service: str, start: datetime, *, status: str = "succeeded",
               environment: str = "production", change: Change | None = None,
               commits: int = 3, minutes: int | None = None, source: str = "github",
               description: str = "", version: str | None = None) -> Deployment:
        team = self.team_of[service]
        self.sequence += 1
        finished = None if status == "in_progress" else \
            start + timedelta(minutes=minutes or self.rng.randint(4, 14))
        recorded = record_deployment(self.s, self.actors[who], RecordDeployment(
            environment=environment, status=status, service=service,
            version=version or self.version(service), started_at=start, finished_at=finished,
            commits=self.commits(commits, start), source=source,
            external_id=f"demo-{source}-{self.sequence}",
            url=f"https://ci.example.com/{REPOS[team]}/deployments/{9000 + self.sequence}",
            description=description, author=who,
            change_id=change.id if change is not None else None))
        self.counts["deployments"] += 1
        if recorded.deployment.unauthorised:
            self.counts["unauthorised"] += 1
        return recorded.deployment

    def ship(self, who: str, service: str, title: str, start: datetime, *,
             status: str = "succeeded", template: str | None = None, commits: int = 3,
             staging: bool = False, source: str = "github") -> Change:
        """A whole routine change: opened, approved if needed, deployed, closed."""
        change = self.open(who, title, [service], start, template=template, batch=commits)
        self.settle(change)
        if change.state != "scheduled":
            return change
        version = self.version(service)
        if staging:
            self.deploy(who, service, start - timedelta(hours=self.rng.randint(2, 20)),
                        environment="staging", commits=commits, version=version,
                        source=source)
        self.deploy(who, service, start + timedelta(minutes=self.rng.randint(2, 20)),
                    status=status, change=change, commits=commits, version=version,
                    source=source)
        return change

    def day(self, days_ago: int, hour: int, minute: int = 0) -> datetime:
        return self.today - timedelta(days=days_ago) + timedelta(hours=hour, minutes=minute)

    def weekday(self, days_ago: int, hour: int, minute: int = 0) -> datetime:
        """That day, or the weekday before it when it falls on a weekend."""
        moment = self.day(days_ago, hour, minute)
        while moment.weekday() >= 5:
            moment -= timedelta(days=1)
        return moment

    # -- the story ------------------------------------------------------------------------

    def windows(self, soon: datetime) -> None:
        admin = self.actors["admin"]
        records.create_window(self.s, admin, WindowCreate(
            name=MAINTENANCE_NAME, kind="maintenance", scope="team",
            scope_values=["platform"], weekdays=[6], start_time="02:00",
            duration_minutes=120, timezone="Europe/Berlin"))
        freeze_start = (soon + timedelta(days=3)).replace(hour=0, minute=0)
        records.create_window(self.s, admin, WindowCreate(
            name=FREEZE_NAME, kind="freeze", scope="all", starts_at=freeze_start,
            ends_at=freeze_start + timedelta(days=3), timezone="UTC"))
        self.counts["windows"] += 2

    def templates(self) -> None:
        for name, owner, services, description in TEMPLATES:
            records.create_template(self.s, self.actors[owner], TemplateCreate(
                name=name, services=services, description=description,
                risk_ceiling="moderate"))
            self.counts["templates"] += 1

    def history(self) -> None:
        designed = self.designed_days()
        for days_ago in range(HISTORY_DAYS, 0, -1):
            moment = self.day(days_ago, 0)
            if moment.weekday() == 6:
                service, title = PLATFORM_SUNDAYS[(days_ago // 7) % len(PLATFORM_SUNDAYS)]
                local = datetime.combine(moment.date(), datetime.min.time(), tzinfo=BERLIN)
                start = (local + timedelta(hours=2, minutes=15)).astimezone(UTC)
                self.ship("carol", service, title, start, commits=self.rng.randint(1, 3),
                          source="gitlab")
            if moment.weekday() >= 5:
                continue
            for when, step in designed:
                if when == days_ago:
                    step()
            for who in ("alice", "bob", "dan"):
                if self.rng.random() < 0.4:
                    service, title, template = self.rng.choice(ROUTINE[who])
                    self.ship(who, service, title,
                              self.day(days_ago, self.rng.randint(9, 15),
                                       self.rng.choice((0, 15, 30, 45))),
                              template=template, commits=self.rng.randint(1, 5),
                              staging=self.rng.random() < 0.5,
                              source="gitlab" if who == "dan" else "github")
            if days_ago % 9 == 0:
                self.ship("carol", "redis-cache", "Raise maxmemory to 6 GB",
                          self.day(days_ago, 11), template="redis-cache config", commits=1)

    def designed_days(self) -> list[tuple[int, Callable[[], object]]]:
        """The story's fixed events, each on the weekday at or before its day."""

        def at(days_ago: int) -> int:
            return (self.today - self.weekday(days_ago, 0)).days

        return [
            (at(25), self.kafka_upgrade),
            (at(20), self.emergency_fix),
            (at(18), self.orders_failure),
            (at(15), lambda: self.rogue("alice", "credit-check", 15,
                                        "Manual hotfix for the score cache, from a laptop",
                                        "cli")),
            (at(12), self.banking_rollback),
            (at(10), lambda: self.rogue("bob", "statements-service", 10,
                                        "Redeployed by hand after the PDF job hung", "api")),
            (at(9), self.rejected_core_db),
            (at(8), self.with_issues),
            (at(6), lambda: self.ship("alice", "invoicing-service",
                                      "Invoice numbering per legal entity",
                                      self.weekday(6, 14), status="rolled_back", commits=7)),
            (at(4), lambda: self.ship("dan", "search-service", "Search index v2",
                                      self.weekday(4, 10), status="failed", commits=4,
                                      source="gitlab")),
            (at(3), self.canceled),
            (at(2), lambda: self.rogue("dan", "search-service", 2,
                                       "Rolled the index back by hand", "gitlab")),
        ]

    def kafka_upgrade(self) -> None:
        change = self.open("carol", "Kafka 3.7 rolling upgrade", ["kafka"],
                           self.weekday(25, 10), 120, batch=58,
                           description="Rolling broker upgrade, one broker at a time.")
        lifecycle.decide(self.s, self.actors["bob"], change.id, "approve",
                         "Fine for banking; we watched the staging run.")
        lifecycle.decide(self.s, self.actors["alice"], change.id, "approve",
                         "OK for order-to-cash, ledger consumers are idempotent.")
        if change.state == "scheduled":
            self.deploy("carol", "kafka", self.weekday(25, 10, 5), change=change, commits=58,
                        minutes=95, source="gitlab")
        else:
            self.settle(change)

    def emergency_fix(self) -> None:
        change = self.open("admin", "Hotfix: card payments declined by 3-D Secure",
                           ["payments-gateway"], self.weekday(20, 16, 40), 30,
                           model="emergency", batch=1,
                           description="Card issuers started rejecting the old 3-D Secure "
                                       "version at 16:00; switch to version 2.2.")
        lifecycle.decide(self.s, self.actors["alice"], change.id, "approve",
                         "Approved for order-to-cash: customers cannot pay.")
        self.settle(change)
        if change.state == "scheduled":
            self.deploy("alice", "payments-gateway", self.weekday(20, 16, 50), change=change,
                        commits=1, minutes=6)

    def orders_failure(self) -> None:
        self.ship("alice", "orders-service", "Orders: move the address check to the API",
                  self.weekday(18, 10), status="failed", commits=9, staging=True)
        self.ship("alice", "orders-service", "Orders: address check, second attempt",
                  self.weekday(18, 15), commits=3)

    def banking_rollback(self) -> None:
        self.ship("bob", "banking-web", "New transfer form", self.weekday(12, 13),
                  status="rolled_back", commits=12, staging=True)

    def rogue(self, who: str, service: str, days_ago: int, description: str,
              source: str) -> None:
        self.deploy(who, service, self.weekday(days_ago, 17, 20), commits=1,
                    source=source, description=description)

    def rejected_core_db(self) -> None:
        change = self.open("carol", "core-db: major upgrade to PostgreSQL 17", ["core-db"],
                           self.weekday(9, 10), 180, batch=80,
                           description="pg_upgrade in place; 20 minutes of read-only time.")
        if change.state == "authorize":
            lifecycle.decide(self.s, self.actors["bob"], change.id, "reject",
                             "Not in statement week, and please split the batch.")
        else:
            self.settle(change)

    def with_issues(self) -> None:
        change = self.open("dan", "Support desk: new ticket routing rules", ["support-desk"],
                           self.weekday(8, 11), batch=2)
        self.settle(change)
        if change.state == "scheduled":
            dan = self.actors["dan"]
            lifecycle.transition(self.s, dan, change.id, "implement")
            lifecycle.transition(self.s, dan, change.id, "closed",
                                 outcome="successful_with_issues",
                                 comment="Two queues were misrouted for an hour.")

    def canceled(self) -> None:
        change = self.open("bob", "Transfers: raise the daily limit", ["transfers-service"],
                           self.weekday(3, 15), batch=2)
        self.settle(change)
        if change.state == "scheduled":
            lifecycle.transition(self.s, self.actors["bob"], change.id, "canceled",
                                 comment="Compliance asked us to wait for the new policy.")

    def upcoming(self, soon: datetime) -> None:
        orders = self.open("alice", "Orders: partial shipments", ["orders-service"],
                           soon, 60, batch=4,
                           description="Orders can ship in several parcels.")
        self.settle(orders)
        self.open("carol", PENDING_TITLE, ["core-db"], soon + timedelta(minutes=30), 90,
                  batch=64, description="Minor version upgrade with a failover, then new "
                                        "autovacuum thresholds for the orders tables.")
        flag = self.open("bob", "Savings dashboard for 10% of customers", ["banking-web"],
                         soon + timedelta(hours=4), 30,
                         template="banking-web feature flag", batch=1)
        self.settle(flag)
        started = self.now - timedelta(minutes=25)
        sms = self.open("dan", "Notifications: switch the SMS provider",
                        ["notification-service"], started.replace(second=0, microsecond=0),
                        60, batch=3)
        self.settle(sms)
        if sms.state == "scheduled":
            self.deploy("dan", "notification-service", self.now - timedelta(minutes=10),
                        status="in_progress", change=sms, commits=3, source="gitlab")


def next_weekday_morning(now: datetime) -> datetime:
    """10:00 UTC on the next weekday after today."""
    moment = now.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    while moment.weekday() >= 5:
        moment += timedelta(days=1)
    return moment


def seed_change_history(db: Database) -> str:
    """Adds the change history to a freshly seeded demo organisation; returns a summary."""
    with db.session() as session:
        story = _History(session)
        soon = next_weekday_morning(story.now)
        story.windows(soon)
        story.templates()
        story.history()
        story.upcoming(soon)
        counts = story.counts
    return (f"{counts['changes']} changes, {counts['deployments']} deployments "
            f"({counts['unauthorised']} unauthorised), {counts['templates']} change templates, "
            f"{counts['windows']} calendar windows")
