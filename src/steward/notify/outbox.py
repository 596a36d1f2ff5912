"""The outbox: a notification is a row written in the transaction of the event that
causes it, with a ``notify.deliver`` timer that sends it once that transaction commits.

Nothing here touches the network: the event's transaction only writes rows, so an SMTP
server that is down or a webhook that hangs never slows incident handling. Delivery,
retries and dead letters are ``steward.notify.delivery``'s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from steward.jobs import timers
from steward.notify.models import TARGET_LENGTH, Notification
from steward.timeutil import utcnow

DELIVER = "notify.deliver"
CHANNELS = ("email", "webhook", "chat", "cdevents")


def timer_key(notification_id: int) -> str:
    return f"{DELIVER}:{notification_id}"


def schedule_attempt(session: Session, notification_id: int, due_at: datetime) -> None:
    """The notification's timer, due at ``due_at``: armed again after a failed attempt
    (while its timer fires) and when a dead letter is retried by hand."""
    timers.schedule(session, DELIVER, timer_key(notification_id), due_at,
                    {"notification_id": notification_id}, replace=True)


def enqueue(session: Session, *, channel: str, target: str, event_type: str, urgency: str,
            subject: str, body: dict[str, Any], dedup_key: str,
            incident_id: int | None = None, change_id: int | None = None,
            user_id: int | None = None, subscription_id: int | None = None,
            delay: timedelta = timedelta(0)) -> int | None:
    """A pending notification and its delivery timer, due ``delay`` from now, in the
    caller's transaction. ``dedup_key`` is unique: the same key again writes nothing and
    answers None (a page is sent once however often its cause is told)."""
    if channel not in CHANNELS:
        raise ValueError(f"channel: one of {', '.join(CHANNELS)}, got {channel!r}")
    now = utcnow()
    due = now + max(delay, timedelta(0))
    values = {"channel": channel, "target": target[:TARGET_LENGTH], "event_type": event_type,
              "urgency": urgency, "subject": subject[:500], "body": body,
              "dedup_key": dedup_key[:300], "incident_id": incident_id,
              "change_id": change_id, "user_id": user_id,
              "subscription_id": subscription_id, "state": "pending", "attempts": 0,
              "last_error": "", "due_at": due, "created_at": now, "updated_at": now}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # A concurrent transaction enqueueing the same key: PostgreSQL waits for it and then
    # writes nothing; SQLite has one writer at a time.
    new_id = session.execute(insert(Notification).values(**values)
                             .on_conflict_do_nothing(index_elements=["dedup_key"])
                             .returning(Notification.id)).scalar()
    if new_id is None:
        return None
    schedule_attempt(session, int(new_id), due)
    return int(new_id)


def log_skipped(session: Session, *, channel: str, event_type: str, urgency: str,
                subject: str, reason: str, dedup_key: str, incident_id: int | None = None,
                user_id: int | None = None) -> int | None:
    """A notification that could not be sent at all (nobody to send it to), kept in the
    log with the reason; nothing is delivered."""
    now = utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    found = session.execute(insert(Notification).values(
        channel=channel, target="", event_type=event_type, urgency=urgency,
        subject=subject[:500], body={}, dedup_key=dedup_key[:300], incident_id=incident_id,
        user_id=user_id, state="skipped", attempts=0, last_error=reason, due_at=now,
        created_at=now, updated_at=now).on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(Notification.id)).scalar()
    return None if found is None else int(found)

