"""A person's contact methods, notification rules and quiet hours: each person edits
their own, an admin anyone's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.errors import Conflict, NotFound, PermissionDenied, ValidationError
from steward.notify import queries
from steward.notify.models import ContactMethod, NotificationRule, NotifyPreference
from steward.notify.quiet_hours import parse_clock, zone
from steward.notify.schemas import ContactMethodIn, PreferencesIn, RuleIn
from steward.notify.targets import target_problem


def require_person(session: Session, actor: Actor, username: str,
                   what: str = "see their notification settings") -> int:
    """The person's id, when ``actor`` is that person or an admin."""
    user_id = queries.user_id_of(session, username)
    if not actor.is_admin and actor.user_id != user_id:
        raise PermissionDenied(f"only {username} or an admin may {what}")
    return user_id


def add_contact_method(session: Session, actor: Actor, username: str,
                       data: ContactMethodIn) -> dict[str, Any]:
    user_id = require_person(session, actor, username, "change their contact methods")
    problem = target_problem(data.kind, data.target)
    if problem:
        raise ValidationError(f"target: {data.kind} needs {problem}", field="target")
    if session.scalar(select(ContactMethod.id).where(
            ContactMethod.user_id == user_id, ContactMethod.kind == data.kind,
            ContactMethod.target == data.target)) is not None:
        raise Conflict(f"target: {username} already has this {data.kind} contact method",
                       field="target")
    row = ContactMethod(user_id=user_id, kind=data.kind, target=data.target, label=data.label)
    session.add(row)
    session.flush()
    out = queries.contact_method_out(row)
    audit.record(session, actor, "contact_method.create", "contact_method", row.id,
                 after={**out, "username": username})
    return out


def delete_contact_method(session: Session, actor: Actor, username: str,
                          method_id: int) -> None:
    """Its rules go with it."""
    user_id = require_person(session, actor, username, "change their contact methods")
    row = session.get(ContactMethod, method_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"{username} has no contact method {method_id}", field="method_id")
    before = {**queries.contact_method_out(row), "username": username}
    session.execute(delete(NotificationRule).where(
        NotificationRule.contact_method_id == row.id),
        execution_options={"synchronize_session": False})
    session.delete(row)
    session.flush()
    audit.record(session, actor, "contact_method.delete", "contact_method", method_id,
                 before=before)


def add_rule(session: Session, actor: Actor, username: str, data: RuleIn) -> dict[str, Any]:
    user_id = require_person(session, actor, username, "change their notification rules")
    method = session.get(ContactMethod, data.contact_method_id)
    if method is None or method.user_id != user_id:
        raise ValidationError(f"contact_method_id: {username} has no contact method "
                              f"{data.contact_method_id}", field="contact_method_id")
    rule = NotificationRule(user_id=user_id, urgency=data.urgency,
                            contact_method_id=method.id, delay_minutes=data.delay_minutes)
    session.add(rule)
    session.flush()
    out = queries.rule_out(rule, method)
    audit.record(session, actor, "notification_rule.create", "notification_rule", rule.id,
                 after={**out, "username": username})
    return out


def delete_rule(session: Session, actor: Actor, username: str, rule_id: int) -> None:
    user_id = require_person(session, actor, username, "change their notification rules")
    rule = session.get(NotificationRule, rule_id)
    if rule is None or rule.user_id != user_id:
        raise NotFound(f"{username} has no notification rule {rule_id}", field="rule_id")
    method = session.get(ContactMethod, rule.contact_method_id)
    assert method is not None
    before = {**queries.rule_out(rule, method), "username": username}
    session.delete(rule)
    session.flush()
    audit.record(session, actor, "notification_rule.delete", "notification_rule", rule_id,
                 before=before)


def set_preferences(session: Session, actor: Actor, username: str,
                    data: PreferencesIn) -> dict[str, Any]:
    user_id = require_person(session, actor, username, "change their quiet hours")
    try:
        zone(data.time_zone)
        start = parse_clock(data.quiet_start, "quiet_start") if data.quiet_start else None
        end = parse_clock(data.quiet_end, "quiet_end") if data.quiet_end else None
    except ValueError as exc:
        field = str(exc).split(":", 1)[0]
        raise ValidationError(str(exc), field=field) from None
    if (start is None) != (end is None):
        raise ValidationError("quiet_end: quiet hours need both a start and an end (or "
                              "neither)", field="quiet_end" if end is None else "quiet_start")
    before = queries.preferences(session, username)
    row = session.get(NotifyPreference, user_id)
    if row is None:
        row = NotifyPreference(user_id=user_id)
        session.add(row)
    row.time_zone = data.time_zone
    row.quiet_start = start.strftime("%H:%M") if start else None
    row.quiet_end = end.strftime("%H:%M") if end else None
    session.flush()
    after = queries.preferences(session, username)
    audit.record(session, actor, "notify_preferences.update", "user", user_id,
                 before=before, after=after)
    return after
