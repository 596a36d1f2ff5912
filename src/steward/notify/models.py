"""Who is told what, and how: contact methods, notification rules, quiet hours, team
subscriptions, and the outbox of notifications with their delivery state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# The models of the tables these foreign keys name (see steward/incidents/models.py).
from steward.auth import models as _auth  # noqa: F401
from steward.catalog import models as _catalog  # noqa: F401
from steward.changes import models as _changes  # noqa: F401
from steward.db import Base, UTCDateTime
from steward.incidents import models as _incidents  # noqa: F401
from steward.timeutil import utcnow

CONTACT_KINDS = ("email", "webhook", "chat")
SUBSCRIPTION_KINDS = ("webhook", "chat", "cdevents")
RULE_URGENCIES = ("high", "low", "any")
# pending: waiting for its (next) attempt; delivered; dead: gave up after the last attempt;
# skipped: nothing could be sent (no address), kept so the log says why.
NOTIFICATION_STATES = ("pending", "delivered", "dead", "skipped")
TARGET_LENGTH = 2000


class ContactMethod(Base):
    """Where a person can be reached: an email address, a webhook or a chat webhook."""

    __tablename__ = "contact_methods"
    __table_args__ = (UniqueConstraint("user_id", "kind", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(100), default="")
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationRule(Base):
    """Page this person through this contact method, so long after the page starts, for
    pages of this urgency (``any``: both)."""

    __tablename__ = "notification_rules"
    __table_args__ = (CheckConstraint("delay_minutes >= 0", name="delay_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    urgency: Mapped[str] = mapped_column(String(10), default="any")
    contact_method_id: Mapped[int] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="CASCADE"), index=True)
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotifyPreference(Base):
    """A person's time zone and quiet hours (local wall-clock ``HH:MM``, the end may be
    past midnight); quiet hours hold back low-urgency notifications only."""

    __tablename__ = "notify_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Subscription(Base):
    """A team's outbound target: a webhook (signed JSON), a chat webhook or a CDEvents
    receiver, told of the event types it names. Its signing secret is sealed with the
    server's secret key (``steward.auth.secret_key``) and shown once, at creation."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_sealed: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """One message to one target: the outbox row written in the transaction of the event
    that caused it, then delivered (and retried) by the ``notify.deliver`` timer."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    event_type: Mapped[str] = mapped_column(String(60))
    urgency: Mapped[str] = mapped_column(String(10), default="low")
    subject: Mapped[str] = mapped_column(String(500), default="")
    # What the message says, as facts; each channel renders it when it is sent.
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    change_id: Mapped[int | None] = mapped_column(
        ForeignKey("changes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A one-click acknowledge link in it was used (each link works once).
    ack_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
