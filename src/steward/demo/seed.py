"""Seeding the demo organisation through the same use cases as everyone else."""

from __future__ import annotations

from sqlalchemy import select

from steward.auth.actor import Actor
from steward.auth.schemas import UserCreate
from steward.auth.use_cases import accounts as auth
from steward.catalog.models import Team
from steward.catalog.schemas import DependencyCreate, ServiceCreate, TeamCreate
from steward.catalog.use_cases import services as catalog
from steward.catalog.use_cases import teams
from steward.config import settings
from steward.db import Database
from steward.demo import organisation as org
from steward.demo.changes import seed_change_history
from steward.demo.incidents import seed_incidents
from steward.demo.kpi_history import seed_goals, seed_kpi_history
from steward.demo.oncall import seed_oncall
from steward.demo.slos import seed_slos
from steward.notify.links import public_base
from steward.status.use_cases.policy import set_policy

DEMO_PASSWORD = "steward-demo"
DEMO_ACTOR = Actor(kind="system", id="demo", name="demo-seed", role="admin")


def seed_demo(db: Database, *, kpi_history: bool = False,
              base_url: str | None = None) -> str:
    """Creates the demo organisation once; returns what was created, or '' when present.

    ``kpi_history`` adds twelve weeks of deployments and incidents for the KPI
    dashboard (``steward demo`` does; tests of the story's own pages need not).
    ``base_url``: where the demo is served, for its people's pager (default
    ``STEWARD_PUBLIC_URL``, else http://localhost:8000).
    """
    with db.session() as session:
        if session.scalar(select(Team.id).where(Team.name == "order-to-cash")) is not None:
            return ""
        for name, display, description, contacts in org.TEAMS:
            teams.create_team(session, DEMO_ACTOR, TeamCreate(
                name=name, display_name=display, description=description, contacts=contacts))
        for username, display, role, member_of in org.USERS:
            auth.create_user(session, DEMO_ACTOR, UserCreate(
                username=username, display_name=display, role=role, teams=member_of,
                email=f"{username}@example.com", password=DEMO_PASSWORD))
        for name, kind, tier, owner, description, extra in org.SERVICES:
            catalog.create_service(session, DEMO_ACTOR, ServiceCreate.model_validate({
                "name": name, "kind": kind, "tier": tier, "owner": owner,
                "description": description, **extra}))
        for dependant, dependency, dep_type in org.DEPENDENCIES:
            catalog.create_dependency(session, DEMO_ACTOR, DependencyCreate(
                service=dependant, depends_on=dependency, type=dep_type), source="demo")
        oncall = seed_oncall(session, DEMO_ACTOR,
                             base_url or public_base(settings().public_url))
    history = seed_change_history(db)
    incidents = seed_incidents(db)
    incidents += f", {seed_slos(db)}"
    more = f", {seed_kpi_history(db)}" if kpi_history else ""
    goals = seed_goals(db, DEMO_ACTOR)
    with db.session() as session:
        # After the incidents, so only P1 incidents opened from now on publish by themselves.
        set_policy(session, DEMO_ACTOR, "platform", auto_publish_p1=True)
    return (f"{len(org.TEAMS)} teams, {len(org.USERS)} users, {len(org.SERVICES)} services, "
            f"{len(org.DEPENDENCIES)} dependencies, {oncall}, {history}, {incidents}{more}, "
            f"{goals}")
