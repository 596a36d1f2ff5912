"""Subscriptions' signing secrets, sealed with the server's secret key like integrations'
webhook secrets: a copy of the database alone cannot sign as Steward."""

from __future__ import annotations

import secrets as random

from sqlalchemy.orm import Session

from steward.auth.keyring import current_key
from steward.notify.models import Subscription


def sealing_context(subscription_id: int) -> str:
    return f"subscription {subscription_id}"


def new_secret() -> str:
    return "whsec_" + random.token_urlsafe(32)


def seal_secret(session: Session, subscription: Subscription, secret: str) -> None:
    subscription.secret_sealed = current_key(session).seal(
        secret, sealing_context(subscription.id))


def subscription_secret(session: Session, subscription: Subscription) -> str | None:
    if not subscription.secret_sealed:
        return None
    return current_key(session, create=False).unseal(subscription.secret_sealed,
                                                     sealing_context(subscription.id))
