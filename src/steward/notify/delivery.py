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
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from steward.auth.keyring import current_key
from steward.auth.secret_key import SecretKeyProblem
from steward.config import Settings, settings
from steward.jobs.backoff import retry_delay
from steward.jobs.timers import Fired
from steward.notify import ack_token, links
from steward.notify.channels import cdevents, chat, mail, webhook
from steward.notify.channels.http_post import post
from steward.notify.channels.smtp import DeliveryFailed, SmtpServer, send_email
from steward.notify.models import Notification, Subscription
from steward.notify.outbox import schedule_attempt
from steward.notify.signing_secrets import subscription_secret
from steward.timeutil import utcnow

log = logging.getLogger("steward.notify")
LONGEST_WAIT = timedelta(minutes=15)
ERROR_LENGTH = 2000


def deliver(session: Session, fired: Fired) -> None:
    """The ``notify.deliver`` handler."""
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


def _send(session: Session, config: Settings, notification: Notification) -> None:
    timeout = float(config.notify_timeout_seconds)
    body = notification.body or {}
    if notification.channel == "email":
        link, expires = _ack_link(session, config, notification)
        server = SmtpServer.from_settings(config)
        message = mail.render_email(
            sender=server.sender, to=notification.target, subject=notification.subject,
            body=body, ack_link=link, ack_expires_at=expires,
            message_id_domain=urlsplit(links.public_base(config.public_url)).hostname)
        send_email(server, message, timeout=timeout)
        return
    if notification.channel == "chat":
        raw = webhook.webhook_body(chat.render_chat(notification.event_type, body))
        post(notification.target, raw, {"Content-Type": "application/json",
                                        "User-Agent": "Steward-Chat/1"}, timeout=timeout)
        return
    if notification.channel == "cdevents":
        event = cdevents.render_cdevent(
            notification.event_type, body, source=links.public_base(config.public_url),
            notification_id=notification.id)
        post(notification.target, cdevents.cdevent_body(event),
             cdevents.cloudevent_headers(event), timeout=timeout)
        return
    secret = None
    if notification.subscription_id is not None:
        subscription = session.get(Subscription, notification.subscription_id)
        if subscription is not None:
            secret = subscription_secret(session, subscription)
    raw = webhook.webhook_body(body)
    post(notification.target, raw,
         webhook.headers(notification.event_type, raw, secret, int(time.time())),
         timeout=timeout)


def attempt(session: Session, notification_id: int) -> str:
    """One delivery attempt of a pending notification; answers its state afterwards."""
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is None:
        return "gone"
    if notification.state != "pending":
        return notification.state
    config = settings()
    now = utcnow()
    notification.last_attempt_at = now
    notification.attempts += 1
    try:
        _send(session, config, notification)
    except (DeliveryFailed, SecretKeyProblem, ValueError) as exc:
        error = str(exc.message if isinstance(exc, SecretKeyProblem) else exc)
        notification.last_error = error[:ERROR_LENGTH]
        if notification.attempts >= config.notify_max_attempts:
            notification.state = "dead"
            log.error("notification %d (%s to %s) is dead after %d attempts: %s",
                      notification.id, notification.channel, notification.target,
                      notification.attempts, error)
        else:
            wait = retry_delay(notification.attempts, float(config.notify_retry_seconds),
                               LONGEST_WAIT)
            notification.due_at = now + wait
            schedule_attempt(session, notification.id, notification.due_at)
            log.warning("notification %d (%s) failed (attempt %d), next in %s: %s",
                        notification.id, notification.channel, notification.attempts,
                        wait, error)
        session.flush()
        return notification.state
    notification.state = "delivered"
    notification.delivered_at = utcnow()
    notification.last_error = ""
    session.flush()
    return "delivered"
