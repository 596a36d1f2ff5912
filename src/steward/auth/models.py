"""Users, team memberships, API tokens and web sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, column, table
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, UTCDateTime
from steward.timeutil import utcnow

ROLES = ("admin", "member", "viewer")

# The catalog's teams and services, named as the foreign keys below name them. Users belong
# to teams and integrations to services, yet the catalog sits above auth (its Backstage
# import writes users), so auth reads these columns through plain table clauses instead of
# importing the catalog's models. They define nothing: ``steward.catalog.models`` owns both,
# and whatever writes memberships or integrations loads it first (the app and the command
# line load every table: ``steward.models``).
TEAMS = table("teams", column("id", Integer), column("name", String))
SERVICES = table("services", column("id", Integer), column("name", String),
                 column("owner_team_id", Integer))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(300), default="")
    role: Mapped[str] = mapped_column(String(20), default="member")
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    backstage_ref: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TeamMembership(Base):
    __tablename__ = "team_memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    """Failed sign-ins in a row for one account name or one client address.

    Kept for names that belong to no user too, so a lockout says nothing about
    whether an account exists."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # account:NAME, address:IP
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Integration(Base):
    """A source of events (webhooks, alerts) and its credential.

    Keys are random. A key the sender presents (a bearer key, a routing key, a
    GitLab token) is kept as its SHA-256 only. A secret Steward itself must use
    (the GitHub webhook secret, to check signatures) is also kept sealed with
    the server's secret key, which is never stored in the database
    (``steward.auth.secret_key``).
    """

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(20), default="")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Set only on integrations made before keys were random: their key was derived from
    # a server secret then kept in the database (see docs/security.md).
    salt: Mapped[str] = mapped_column(String(64), default="")
    secret_sealed: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
