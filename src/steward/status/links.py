"""Signed links for status page subscribers: confirming a subscription (double opt-in)
and unsubscribing with one click. Pure.

``<purpose>.<subscriber id>.<expiry unix or 0>.<signature>``; the signature is an
HMAC-SHA256 of the purpose, the subscriber's id, the expiry and the subscriber's random
token (kept in the database, never in the link) under a key derived from the server's
secret key. So only this Steward makes links it accepts, none can be altered (another
subscriber, another purpose, a later expiry), and subscribing again (a new token)
retires every earlier link of that address. A confirmation link expires after
:data:`CONFIRM_DAYS`; an unsubscribe link never does (every email carries one, and an
old email must still unsubscribe).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

KEY_PURPOSE = b"steward status subscriber links v1"
PURPOSES = ("confirm", "unsubscribe")
CONFIRM_DAYS = 7
CONFIRM_LIFETIME = timedelta(days=CONFIRM_DAYS)
_SHAPE = re.compile(r"^(confirm|unsubscribe)\.(\d{1,18})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$")


class BadLink(ValueError):
    """Not a link this server made for that subscription (or one altered since)."""


@dataclass(frozen=True)
class LinkClaim:
    purpose: str
    subscriber_id: int
    expires_at: datetime | None
    signature: str

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


def signing_key(server_secret: bytes) -> bytes:
    """A key for these links only, derived from the server's secret key."""
    return hmac.new(server_secret, KEY_PURPOSE, hashlib.sha256).digest()


def _expiry(expires_at: datetime | None) -> int:
    return int(expires_at.timestamp()) if expires_at is not None else 0


def _signature(key: bytes, purpose: str, subscriber_id: int, expiry: int,
               subscriber_token: str) -> str:
    text = f"{purpose}.{subscriber_id}.{expiry}.{subscriber_token}"
    mac = hmac.new(key, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def make_link_token(key: bytes, *, purpose: str, subscriber_id: int, subscriber_token: str,
                    expires_at: datetime | None = None) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"purpose: one of {', '.join(PURPOSES)}")
    expiry = _expiry(expires_at)
    return (f"{purpose}.{subscriber_id}.{expiry}."
            f"{_signature(key, purpose, subscriber_id, expiry, subscriber_token)}")


def read_link_token(token: str, purpose: str) -> LinkClaim:
    """What a link claims, before its signature is checked (that needs the subscriber's
    token: :func:`verify`); :class:`BadLink` when it is not shaped as one of ``purpose``."""
    match = _SHAPE.match(token.strip())
    if match is None or match.group(1) != purpose:
        raise BadLink(f"not a {purpose} link of this status page")
    expiry = int(match.group(3))
    return LinkClaim(purpose, int(match.group(2)),
                     datetime.fromtimestamp(expiry, tz=UTC) if expiry else None,
                     match.group(4))


def verify(key: bytes, claim: LinkClaim, subscriber_token: str) -> None:
    """:class:`BadLink` unless this server signed ``claim`` for the subscriber as it is."""
    expected = _signature(key, claim.purpose, claim.subscriber_id,
                          _expiry(claim.expires_at), subscriber_token)
    if not hmac.compare_digest(expected, claim.signature):
        raise BadLink(f"not a {claim.purpose} link of this status page")


def confirm_url(base: str, token: str) -> str:
    return f"{base}/status/subscribe/confirm?token={quote(token, safe='')}"


def unsubscribe_url(base: str, token: str) -> str:
    return f"{base}/status/unsubscribe?token={quote(token, safe='')}"


def page_url(base: str) -> str:
    return f"{base}/status"


def incident_url(base: str, incident_id: int) -> str:
    """The public incident page (its public id, never the internal number)."""
    return f"{base}/status/incidents/i{incident_id}"
