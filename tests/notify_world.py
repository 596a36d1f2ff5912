"""A small organisation for notification tests: a team, a service, people with addresses,
and incidents declared on the service."""

from __future__ import annotations

from helpers import make_service, make_team
from sqlalchemy import select

from steward.auth.actor import SYSTEM
from steward.auth.models import User
from steward.auth.schemas import UserCreate
from steward.auth.use_cases import accounts
from steward.db import Database
from steward.incidents.use_cases import lifecycle
from steward.jobs import timers


def organisation(db: Database) -> dict[str, int]:
    """Team ``payments`` owning service ``checkout``; alice (member, with an address),
    bob (member, no address), admin ``root``; answers the users' ids by name."""
    make_team(db, "payments")
    make_service(db, "checkout", owner="payments")
    ids = {}
    with db.session() as session:
        for name, email, role in (("alice", "alice@example.test", "member"),
                                  ("bob", "", "member"), ("root", "root@example.test",
                                                          "admin")):
            accounts.create_user(session, SYSTEM, UserCreate(
                username=name, email=email, role=role, teams=["payments"]))
        for user in session.scalars(select(User)):
            ids[user.username] = user.id
    return ids


def declare(db: Database, title: str = "Checkout down", impact: int = 1,
            urgency: int = 1) -> int:
    """An incident on checkout (impact 1 and urgency 1: P1)."""
    with db.session() as session:
        return lifecycle.declare(session, SYSTEM, title, "checkout", impact=impact,
                                 urgency=urgency).id


def run_timers(db: Database, rounds: int = 1) -> int:
    ran = 0
    for _ in range(rounds):
        ran += timers.run_due(db, worker="test")
    return ran
