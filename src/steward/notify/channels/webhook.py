"""Outbound webhooks: the JSON body and its signature. Pure.

The body is ``{"event": TYPE, "at": ISO, "incident"|"change": {...}, "links": {...}}``.
The header ``X-Steward-Signature: t=<unix seconds>,v1=<hex>`` carries an HMAC-SHA256, with
the subscription's secret, of ``"<t>.<raw body>"``: the receiver recomputes it over the
bytes it received and refuses a stale ``t`` (a replayed request). docs/notifications.md
shows a receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

EVENT_HEADER = "X-Steward-Event"
SIGNATURE_HEADER = "X-Steward-Signature"
TOLERANCE_SECONDS = 300


def webhook_body(body: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True,
                      ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, raw: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def headers(event_type: str, raw: bytes, secret: str | None, timestamp: int) -> dict[str, str]:
    out = {"Content-Type": "application/json", EVENT_HEADER: event_type,
           "User-Agent": "Steward-Webhook/1"}
    if secret:
        out[SIGNATURE_HEADER] = signature(secret, timestamp, raw)
    return out


def verify(secret: str, header: str, raw: bytes, now: int,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the signature matches the body and ``t`` is recent."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, raw).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
