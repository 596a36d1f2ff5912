"""Subscribers of the status page: subscribing by email (double opt-in), confirming and
unsubscribing through signed links, and mailing each published update to whoever
follows it, through the notification outbox.

Subscribers are the public, not users: they act through the signed links in their
emails, with no session. An address is one row for good: subscribing twice never makes a
second one (a pending one gets its confirmation again, a confirmed one is told it is
already subscribed, an unsubscribed one starts over with a new token, which retires every
earlier link). The audit log names the subscriber's row, never the address.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.keyring import current_key
from steward.config import settings
from steward.errors import ValidationError
from steward.notify import outbox
from steward.notify.links import public_base
from steward.status import emails, links
from steward.status.models import StatusSubscriber, StatusUpdate
from steward.status.published import Published, names_of, published_components
from steward.timeutil import utcnow

PAGE_NAME = "Service status"
PUBLIC = Actor(kind="system", id="status-page", name="status page (public)", role="viewer")
# At most one confirmation email per address in this time, however often it subscribes.
RESEND_AFTER = timedelta(minutes=10)
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")
EMAIL_LENGTH = 320


@dataclass(frozen=True)
class Outcome:
    """What a subscriber's request did, for the page that answers it. ``state``:
    confirmation_sent, confirmation_sent_again, confirmation_pending, already_subscribed,
    confirmed, already_confirmed, unsubscribed, already_unsubscribed, ok (a link that
    can be used), expired, invalid."""

    state: str
    email: str = ""
    components: tuple[str, ...] = ()
    expires_at: datetime | None = None


def _key(session: Session) -> bytes:
    return links.signing_key(current_key(session).secret)


def _base() -> str:
    return public_base(settings().public_url)


def clean_email(raw: str) -> str:
    email = (raw or "").strip().lower()
    if not email:
        raise ValidationError("email: an email address is needed", field="email")
    if len(email) > EMAIL_LENGTH or not EMAIL.match(email):
        raise ValidationError(f"email: {raw.strip()[:80]!r} is not an email address",
                              field="email")
    return email


def _component_ids(names: list[str], published: list[Published]) -> list[int]:
    by_name = names_of(published)
    ids: list[int] = []
    for name in names:
        if not name.strip():
            continue
        found = by_name.get(name.strip().lower())
        if found is None:
            raise ValidationError(f"components: {name.strip()!r} is not a component of the "
                                  "status page", field="components")
        if found not in ids:
            ids.append(found)
    return ids


def _component_names(ids: list[int], published: list[Published]) -> tuple[str, ...]:
    names = {p.service_id: p.name for p in published}
    return tuple(names[i] for i in ids if i in names)


def _send_confirmation(session: Session, subscriber: StatusSubscriber,
                       published: list[Published], now: datetime) -> bool:
    """Queues the confirmation email; False when one went out in the last
    :data:`RESEND_AFTER` (the outbox's dedup key says so)."""
    token = links.make_link_token(_key(session), purpose="confirm",
                                  subscriber_id=subscriber.id,
                                  subscriber_token=subscriber.token,
                                  expires_at=now + links.CONFIRM_LIFETIME)
    subject, body = emails.confirmation(
        page_name=PAGE_NAME, confirm_url=links.confirm_url(_base(), token),
        components=_component_names(list(subscriber.components or []), published))
    window = int(now.timestamp() // RESEND_AFTER.total_seconds())
    return outbox.enqueue(
        session, channel="email", target=subscriber.email, event_type="status.confirm",
        urgency="low", subject=subject, body=body,
        dedup_key=f"status.confirm:{subscriber.id}:{subscriber.token[:12]}:{window}",
    ) is not None


def subscribe(session: Session, email: str, components: list[str] | None = None) -> Outcome:
    """Subscribes ``email`` to the whole page (no components) or to the components named
    (public or catalog names); the confirmation email goes out through the outbox."""
    address = clean_email(email)
    published = published_components(session)
    ids = _component_ids(components or [], published)
    now = utcnow()
    subscriber = session.scalar(select(StatusSubscriber).where(
        StatusSubscriber.email == address).with_for_update())
    if subscriber is not None and subscriber.confirmed_at is not None \
            and subscriber.unsubscribed_at is None:
        return Outcome("already_subscribed", address,
                       _component_names(list(subscriber.components or []), published))
    state = "confirmation_sent"
    if subscriber is None:
        subscriber = StatusSubscriber(email=address, components=ids,
                                      token=secrets.token_urlsafe(32), created_at=now)
        session.add(subscriber)
        session.flush()
    elif subscriber.unsubscribed_at is not None:
        subscriber.token = secrets.token_urlsafe(32)
        subscriber.components = ids
        subscriber.created_at = now
        subscriber.confirmed_at = subscriber.unsubscribed_at = None
    else:  # waiting for confirmation: the same row, its choice updated, the email again
        subscriber.components = ids
        state = "confirmation_sent_again"
    session.flush()
    sent = _send_confirmation(session, subscriber, published, now)
    if not sent:
        state = "confirmation_pending"
    audit.record(session, PUBLIC, "status.subscribe", "status_subscriber", subscriber.id,
                 after={"components": ids, "state": state})
    return Outcome(state, address, _component_names(ids, published))


def _subscriber_for(session: Session, token: str, purpose: str, *, lock: bool = False
                    ) -> tuple[StatusSubscriber | None, links.LinkClaim | None]:
    try:
        claim = links.read_link_token(token[:200], purpose)
    except links.BadLink:
        return None, None
    query = select(StatusSubscriber).where(StatusSubscriber.id == claim.subscriber_id)
    subscriber = session.scalar(query.with_for_update() if lock else query)
    if subscriber is None:
        return None, None
    try:
        links.verify(_key(session), claim, subscriber.token)
    except links.BadLink:
        return None, None
    return subscriber, claim


def _outcome(subscriber: StatusSubscriber, state: str, session: Session,
             claim: links.LinkClaim | None = None) -> Outcome:
    return Outcome(state, subscriber.email, _component_names(
        list(subscriber.components or []), published_components(session)),
        claim.expires_at if claim else None)


def confirm(session: Session, token: str) -> Outcome:
    """The confirmation link: the subscription starts (once; again is harmless)."""
    subscriber, claim = _subscriber_for(session, token, "confirm", lock=True)
    if subscriber is None or claim is None:
        return Outcome("invalid")
    if subscriber.unsubscribed_at is not None:
        return _outcome(subscriber, "unsubscribed", session, claim)
    if subscriber.confirmed_at is not None:
        return _outcome(subscriber, "already_confirmed", session, claim)
    if claim.expired(utcnow()):
        return _outcome(subscriber, "expired", session, claim)
    subscriber.confirmed_at = utcnow()
    session.flush()
    audit.record(session, PUBLIC, "status.confirm", "status_subscriber", subscriber.id,
                 after={"confirmed_at": subscriber.confirmed_at})
    return _outcome(subscriber, "confirmed", session, claim)


def read_unsubscribe(session: Session, token: str) -> Outcome:
    """What the unsubscribe link's page shows before its button is pressed."""
    subscriber, _ = _subscriber_for(session, token, "unsubscribe")
    if subscriber is None:
        return Outcome("invalid")
    return _outcome(subscriber, "already_unsubscribed"
                    if subscriber.unsubscribed_at is not None else "ok", session)


def unsubscribe(session: Session, token: str) -> Outcome:
    """The unsubscribe button (or a mail client's one-click POST): no more emails."""
    subscriber, _ = _subscriber_for(session, token, "unsubscribe", lock=True)
    if subscriber is None:
        return Outcome("invalid")
    if subscriber.unsubscribed_at is not None:
        return _outcome(subscriber, "already_unsubscribed", session)
    subscriber.unsubscribed_at = utcnow()
    session.flush()
    audit.record(session, PUBLIC, "status.unsubscribe", "status_subscriber", subscriber.id,
                 after={"unsubscribed_at": subscriber.unsubscribed_at})
    return _outcome(subscriber, "unsubscribed", session)


def unsubscribe_link(session: Session, subscriber: StatusSubscriber) -> str:
    token = links.make_link_token(_key(session), purpose="unsubscribe",
                                  subscriber_id=subscriber.id,
                                  subscriber_token=subscriber.token)
    return links.unsubscribe_url(_base(), token)


def followers(session: Session, component_ids: list[int]) -> list[StatusSubscriber]:
    """Confirmed subscribers, not unsubscribed, of the whole page or of one of
    ``component_ids``."""
    rows = session.scalars(select(StatusSubscriber).where(
        StatusSubscriber.confirmed_at.is_not(None),
        StatusSubscriber.unsubscribed_at.is_(None)).order_by(StatusSubscriber.id)).all()
    named = set(component_ids)
    return [s for s in rows if not s.components or named & set(s.components)]


def mail_update(session: Session, update: StatusUpdate,
                published: list[Published]) -> int:
    """Queues ``update`` for every follower, once each (the dedup key names the update
    and the subscriber, so telling it twice sends once). Answers how many were queued."""
    names = {p.service_id: p.name for p in published}
    components = [(names[c["service_id"]], str(c.get("status", "")))
                  for c in update.components or [] if c.get("service_id") in names]
    base = _base()
    queued = 0
    for subscriber in followers(session, [c["service_id"] for c in update.components or []]):
        subject, body = emails.update(
            page_name=PAGE_NAME, title=update.title, status=update.status, body=update.body,
            components=components, incident_url=links.incident_url(base, update.incident_id),
            unsubscribe_url=unsubscribe_link(session, subscriber))
        if outbox.enqueue(session, channel="email", target=subscriber.email,
                          event_type="status.update", urgency="low", subject=subject,
                          body=body, dedup_key=f"status.update:{update.id}:{subscriber.id}"
                          ) is not None:
            queued += 1
    return queued
