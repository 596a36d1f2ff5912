"""Reads for pages, routers and the command line: plain dicts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.catalog.models import Team
from steward.errors import NotFound
from steward.notify.models import (
    ContactMethod,
    Notification,
    NotificationRule,
    NotifyPreference,
    Subscription,
)
from steward.timeutil import isoformat_z


def user_id_of(session: Session, username: str) -> int:
    found = session.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise NotFound(f"user {username!r} does not exist", field="username")
    return found


def team_id_of(session: Session, team: str) -> int:
    found = session.scalar(select(Team.id).where(Team.name == team))
    if found is None:
        raise NotFound(f"team {team!r} does not exist", field="team")
    return found


def contact_method_out(row: ContactMethod) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "target": row.target, "label": row.label,
            "created_at": isoformat_z(row.created_at)}


def contact_methods(session: Session, username: str) -> list[dict[str, Any]]:
    user_id = user_id_of(session, username)
    return [contact_method_out(row) for row in session.scalars(
        select(ContactMethod).where(ContactMethod.user_id == user_id)
        .order_by(ContactMethod.id))]


def rules(session: Session, username: str) -> list[dict[str, Any]]:
    user_id = user_id_of(session, username)
    rows = session.execute(
        select(NotificationRule, ContactMethod)
        .join(ContactMethod, ContactMethod.id == NotificationRule.contact_method_id)
        .where(NotificationRule.user_id == user_id)
        .order_by(NotificationRule.delay_minutes, NotificationRule.id)).all()
    return [rule_out(rule, method) for rule, method in rows]


def rule_out(rule: NotificationRule, method: ContactMethod) -> dict[str, Any]:
    return {"id": rule.id, "contact_method_id": method.id, "contact_kind": method.kind,
            "contact_target": method.target, "urgency": rule.urgency,
            "delay_minutes": rule.delay_minutes}


def preferences(session: Session, username: str) -> dict[str, Any]:
    row = session.get(NotifyPreference, user_id_of(session, username))
    if row is None:
        return {"time_zone": "UTC", "quiet_start": None, "quiet_end": None}
    return {"time_zone": row.time_zone, "quiet_start": row.quiet_start,
            "quiet_end": row.quiet_end}


def subscription_out(row: Subscription, team: str) -> dict[str, Any]:
    return {"id": row.id, "team": team, "name": row.name, "kind": row.kind, "url": row.url,
            "event_types": list(row.event_types or []), "active": row.active,
            "signed": bool(row.secret_sealed), "created_by": row.created_by,
            "created_at": isoformat_z(row.created_at)}


def subscriptions(session: Session, team: str) -> list[dict[str, Any]]:
    team_id = team_id_of(session, team)
    return [subscription_out(row, team) for row in session.scalars(
        select(Subscription).where(Subscription.team_id == team_id).order_by(Subscription.id))]


def _notification_rows(session: Session, statement: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        statement.add_columns(User.username, Subscription.name)
        .outerjoin(User, User.id == Notification.user_id)
        .outerjoin(Subscription, Subscription.id == Notification.subscription_id)).all()
    return [notification_out(row[0], row[1], row[2]) for row in rows]


def notification_out(row: Notification, username: str | None,
                     subscription: str | None) -> dict[str, Any]:
    return {"id": row.id, "channel": row.channel, "target": row.target,
            "event_type": row.event_type, "urgency": row.urgency, "subject": row.subject,
            "state": row.state, "attempts": row.attempts, "last_error": row.last_error,
            "incident_id": row.incident_id, "change_id": row.change_id, "user": username,
            "subscription": subscription, "due_at": isoformat_z(row.due_at),
            "last_attempt_at": isoformat_z(row.last_attempt_at),
            "delivered_at": isoformat_z(row.delivered_at),
            "created_at": isoformat_z(row.created_at)}


def notifications(session: Session, *, state: str | None = None,
                  incident_id: int | None = None, limit: int = 100,
                  offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """The delivery log, newest first."""
    where = []
    if state:
        where.append(Notification.state == state)
    if incident_id is not None:
        where.append(Notification.incident_id == incident_id)
    total = session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
    items = _notification_rows(session, select(Notification).where(*where)
                               .order_by(Notification.id.desc()).limit(limit).offset(offset))
    return int(total), items


def notifications_for_incident(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """An incident's notification log, oldest first (at most 500)."""
    return _notification_rows(session, select(Notification)
                              .where(Notification.incident_id == incident_id)
                              .order_by(Notification.id).limit(500))


def state_counts(session: Session) -> dict[str, int]:
    return {state: int(count) for state, count in session.execute(
        select(Notification.state, func.count()).group_by(Notification.state)).all()}


def notification(session: Session, notification_id: int) -> dict[str, Any]:
    found = _notification_rows(session, select(Notification)
                               .where(Notification.id == notification_id))
    if not found:
        raise NotFound(f"notification {notification_id} does not exist", field="id")
    return found[0]
