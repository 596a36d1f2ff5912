"""One-click acknowledge links: a signed token naming a page, its incident, the person
paged and when it expires. Pure.

``<notification>.<incident>.<user>.<expiry unix>.<signature>``, the signature an
HMAC-SHA256 of the rest under a key derived from the server's secret key, so only this
Steward makes tokens that it accepts and none can be altered (another incident, another
person, a later expiry). The token itself is not single use; the notification it names
records its use (``notifications.ack_used_at``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

PURPOSE = b"steward acknowledge links v1"
_SHAPE = re.compile(r"^(\d{1,18})\.(\d{1,18})\.(\d{1,18})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$")


class BadToken(ValueError):
    """Not a token this server made (or one altered since)."""


@dataclass(frozen=True)
class AckClaim:
    notification_id: int
    incident_id: int
    user_id: int
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def signing_key(server_secret: bytes) -> bytes:
    """A key for these links only, derived from the server's secret key."""
    return hmac.new(server_secret, PURPOSE, hashlib.sha256).digest()


def _signature(key: bytes, text: str) -> str:
    mac = hmac.new(key, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def make_token(key: bytes, *, notification_id: int, incident_id: int, user_id: int,
               expires_at: datetime) -> str:
    text = f"{notification_id}.{incident_id}.{user_id}.{int(expires_at.timestamp())}"
    return f"{text}.{_signature(key, text)}"


def read_token(key: bytes, token: str) -> AckClaim:
    """The claim a token makes; :class:`BadToken` unless this server signed it as it is.
    Expiry is the caller's to check (an expired link gets its own page)."""
    match = _SHAPE.match(token.strip())
    if match is None:
        raise BadToken("not an acknowledge link of this Steward")
    text = token.strip().rsplit(".", 1)[0]
    if not hmac.compare_digest(_signature(key, text), match.group(5)):
        raise BadToken("not an acknowledge link of this Steward")
    return AckClaim(int(match.group(1)), int(match.group(2)), int(match.group(3)),
                    datetime.fromtimestamp(int(match.group(4)), tz=UTC))
