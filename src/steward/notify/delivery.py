"""Delivering a notification: the ``notify.deliver`` timer's handler.

One attempt sends the notification through its channel with a timeout
(``STEWARD_NOTIFY_TIMEOUT_SECONDS``). Delivered, it is marked so; failed, its attempts
and error are counted and its timer is armed again after an exponential backoff
(``STEWARD_NOTIFY_RETRY_SECONDS``, doubled each time, at most 15 minutes), until
``STEWARD_NOTIFY_MAX_ATTEMPTS`` attempts have failed: then it is ``dead``, listed with
its last error, and waits for someone to retry it. A failed attempt is an outcome the
handler records, not an error of the timer, so the timer itself always completes.

The network is touched only here, never in the transaction of the event that caused
the notification.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from steward.auth.keyring import current_key
from steward.auth.secret_key import SecretKeyProblem
from steward.config import Settings, settings
from steward.db import Database
from steward.jobs import timers
from steward.jobs.backoff import retry_delay
from steward.jobs.timers import Fired
from steward.notify import ack_token, links
from steward.notify.channels import cdevents, chat, mail, webhook
from steward.notify.channels.http_post import post
from steward.notify.channels.smtp import DeliveryFailed, SmtpServer, send_email
from steward.notify.models import Notification, Subscription
from steward.notify.outbox import schedule_attempt, timer_key
from steward.notify.signing_secrets import subscription_secret
from steward.timeutil import utcnow

log = logging.getLogger("steward.notify")
LONGEST_WAIT = timedelta(minutes=15)
ERROR_LENGTH = 2000


def deliver(session: Session, fired: Fired) -> None:
    """The ``notify.deliver`` handler: the attempt is prepared in the timer's transaction
    and sent after it commits (:func:`attempt`)."""
    notification_id = fired.payload.get("notification_id")
    if isinstance(notification_id, int):
        attempt(session, notification_id)


def _ack_link(session: Session, config: Settings, notification: Notification
              ) -> tuple[str | None, datetime | None]:
    if (notification.event_type != "incident.page" or notification.incident_id is None
            or notification.user_id is None):
        return None, None
    expires = utcnow() + timedelta(hours=config.ack_link_hours)
    key = ack_token.signing_key(current_key(session).secret)
    token = ack_token.make_token(key, notification_id=notification.id,
                                 incident_id=notification.incident_id,
                                 user_id=notification.user_id, expires_at=expires)
    return links.ack_url(links.public_base(config.public_url), token), expires


Send = Callable[[], object]


def _prepare(session: Session, config: Settings, notification: Notification) -> Send:
    """What sends the notification, made from the database now and run later, with no
    transaction open while it waits for the remote server."""
    timeout = float(config.notify_timeout_seconds)
    body = notification.body or {}
    target = notification.target
    if notification.channel == "email":
        link, expires = _ack_link(session, config, notification)
        server = SmtpServer.from_settings(config)
        message = mail.render_email(
            sender=server.sender, to=target, subject=notification.subject,
            body=body, ack_link=link, ack_expires_at=expires,
            message_id_domain=urlsplit(links.public_base(config.public_url)).hostname,
            message_key=f"steward-notification-{notification.id}")
        return lambda: send_email(server, message, timeout=timeout)
    if notification.channel == "chat":
        raw = webhook.webhook_body(chat.render_chat(notification.event_type, body))
        return lambda: post(target, raw, {"Content-Type": "application/json",
                                          "User-Agent": "Steward-Chat/1"}, timeout=timeout)
    if notification.channel == "cdevents":
        event = cdevents.render_cdevent(
            notification.event_type, body, source=links.public_base(config.public_url),
            notification_id=notification.id)
        raw = cdevents.cdevent_body(event)
        return lambda: post(target, raw, cdevents.cloudevent_headers(event), timeout=timeout)
    secret = None
    if notification.subscription_id is not None:
        subscription = session.get(Subscription, notification.subscription_id)
        if subscription is not None:
            secret = subscription_secret(session, subscription)
    raw = webhook.webhook_body(body)
    event_type, delivery = notification.event_type, notification.id
    # Signed when sent, so the timestamp a receiver checks is the sending time.
    return lambda: post(target, raw, webhook.headers(event_type, raw, secret,
                                                     int(time.time()), delivery),
                        timeout=timeout)


def attempt(session: Session, notification_id: int) -> str:
    """Start one delivery attempt of a pending notification: counted now, sent once the
    transaction has committed (``timers.after_commit``), its outcome recorded in a
    transaction of its own (:func:`_record`). Meanwhile its timer is armed for when the
    attempt has surely ended, so an attempt whose process died is made again. Answers
    the notification's state ("sending" for an attempt under way)."""
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is None:
        return "gone"
    if notification.state != "pending":
        return notification.state
    config = settings()
    now = utcnow()
    notification.last_attempt_at = now
    notification.attempts += 1
    number = notification.attempts
    try:
        send = _prepare(session, config, notification)
    except (SecretKeyProblem, ValueError) as exc:
        _failed(notification, config, exc, now)
        session.flush()
        return notification.state
    schedule_attempt(session, notification.id,
                     now + timedelta(seconds=2 * float(config.notify_timeout_seconds) + 60))
    session.flush()
    timers.after_commit(session, lambda db: _send_and_record(db, notification_id, number,
                                                             send))
    return "sending"


def _send_and_record(db: Database, notification_id: int, number: int, send: Send) -> None:
    error: Exception | None = None
    try:
        send()
    except (DeliveryFailed, ValueError) as exc:
        error = exc
    with db.session() as session:
        _record(session, notification_id, number, error)


def _record(session: Session, notification_id: int, number: int,
            error: Exception | None) -> None:
    """The outcome of attempt ``number``, unless the notification has moved on since
    (retried by hand, or attempted again after this process was thought dead)."""
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is None or notification.state != "pending" or \
            notification.attempts != number:
        return
    if error is not None:
        _failed(notification, settings(), error, utcnow())
        if notification.state == "pending":
            schedule_attempt(session, notification.id, notification.due_at)
        else:
            timers.cancel(session, key=timer_key(notification.id))
        return
    notification.state = "delivered"
    notification.delivered_at = utcnow()
    notification.last_error = ""
    timers.cancel(session, key=timer_key(notification.id))


def _failed(notification: Notification, config: Settings, exc: Exception,
            now: datetime) -> None:
    error = str(exc.message if isinstance(exc, SecretKeyProblem) else exc)
    notification.last_error = error[:ERROR_LENGTH]
    if notification.attempts >= config.notify_max_attempts:
        notification.state = "dead"
        log.error("notification %d (%s to %s) is dead after %d attempts: %s",
                  notification.id, notification.channel, notification.target,
                  notification.attempts, error)
        return
    wait = retry_delay(notification.attempts, float(config.notify_retry_seconds), LONGEST_WAIT)
    notification.due_at = now + wait
    log.warning("notification %d (%s) failed (attempt %d), next in %s: %s",
                notification.id, notification.channel, notification.attempts, wait, error)
