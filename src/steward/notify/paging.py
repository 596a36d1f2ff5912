"""Paging a person about an incident: their notification rules, each queued with its
delay; quiet hours hold back low urgency only, never high."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.incidents.models import Incident
from steward.notify import outbox
from steward.notify.facts import incident_facts
from steward.notify.models import ContactMethod, NotificationRule, NotifyPreference
from steward.notify.quiet_hours import quiet_until
from steward.notify.urgency import HIGH, URGENCIES, rule_applies
from steward.timeutil import utcnow

PAGE_EVENT = "incident.page"


def page_subject(facts: dict[str, object], urgency: str) -> str:
    prefix = "PAGE" if urgency == HIGH else "Notice"
    return f"[{prefix} {facts['priority']}] {facts['number']}: {facts['title']}"


def _quiet_delay(preference: NotifyPreference | None, urgency: str, due: datetime
                 ) -> tuple[datetime, bool]:
    """When a notification due at ``due`` goes out, and whether quiet hours held it."""
    if urgency == HIGH or preference is None:
        return due, False
    try:
        until = quiet_until(due, preference.time_zone, preference.quiet_start,
                            preference.quiet_end)
    except ValueError:  # a preference stored before a zone was withdrawn: no quiet hours
        return due, False
    return (until, True) if until is not None and until > due else (due, False)


def page_user(session: Session, *, user_id: int, incident_id: int, urgency: str,
              reason: str, dedup_prefix: str) -> list[int]:
    """Queues the person's notifications for this page and answers their ids.

    Each of the person's rules for ``urgency`` (``high`` or ``low``; rules for ``any``
    too) is queued ``delay_minutes`` from now. A person with no rules gets one email at
    once to their address; one with no address (or an inactive account) gets nothing,
    and the incident's notification log says why. Paged twice with the same
    ``dedup_prefix``, nothing is queued the second time."""
    if urgency not in URGENCIES:
        raise ValueError(f"urgency: one of {', '.join(URGENCIES)}, got {urgency!r}")
    incident = session.get(Incident, incident_id)
    user = session.get(User, user_id)
    if incident is None or user is None:
        return []
    facts = incident_facts(session, incident)
    subject = page_subject(facts, urgency)
    body = {"kind": "page", "reason": reason, "user": user.username,
            "incident": facts, "links": {"incident": facts["url"]}}
    prefix = f"{dedup_prefix}:user:{user.id}"
    if not user.active:
        outbox.log_skipped(session, channel="email", event_type=PAGE_EVENT, urgency=urgency,
                           subject=subject, dedup_key=f"{prefix}:inactive",
                           incident_id=incident.id, user_id=user.id,
                           reason=f"{user.username}'s account is deactivated: not paged")
        return []
    preference = session.get(NotifyPreference, user.id)
    rules = session.execute(
        select(NotificationRule, ContactMethod)
        .join(ContactMethod, ContactMethod.id == NotificationRule.contact_method_id)
        .where(NotificationRule.user_id == user.id)
        .order_by(NotificationRule.delay_minutes, NotificationRule.id)).all()
    now = utcnow()
    planned: list[tuple[str, str, timedelta, str]] = [
        (method.kind, method.target, timedelta(minutes=rule.delay_minutes),
         f"{prefix}:rule:{rule.id}")
        for rule, method in rules if rule_applies(rule.urgency, urgency)]
    if not rules:
        if not user.email.strip():
            outbox.log_skipped(
                session, channel="email", event_type=PAGE_EVENT, urgency=urgency,
                subject=subject, dedup_key=f"{prefix}:no-address", incident_id=incident.id,
                user_id=user.id, reason=f"{user.username} has no email address and no "
                "notification rules: nobody could be told")
            return []
        planned = [("email", user.email.strip(), timedelta(0), f"{prefix}:email")]
    if not planned:
        outbox.log_skipped(
            session, channel="email", event_type=PAGE_EVENT, urgency=urgency,
            subject=subject, dedup_key=f"{prefix}:no-rule", incident_id=incident.id,
            user_id=user.id, reason=f"{user.username} has no notification rule for "
            f"{urgency} urgency: not told")
        return []
    ids: list[int] = []
    for channel, target, delay, key in planned:
        due, held = _quiet_delay(preference, urgency, now + delay)
        message = {**body, "held_by_quiet_hours": held}
        new_id = outbox.enqueue(session, channel=channel, target=target,
                                event_type=PAGE_EVENT, urgency=urgency, subject=subject,
                                body=message, dedup_key=key, incident_id=incident.id,
                                user_id=user.id, delay=due - now)
        if new_id is not None:
            ids.append(new_id)
    return ids
