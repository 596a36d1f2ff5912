"""Links in notifications: Steward's public address and the pages they point at. Pure."""

from __future__ import annotations

from urllib.parse import quote

DEFAULT_PUBLIC_URL = "http://localhost:8000"


def public_base(configured: str) -> str:
    """``STEWARD_PUBLIC_URL`` without its trailing slash, or the default."""
    return (configured.strip() or DEFAULT_PUBLIC_URL).rstrip("/")


def incident_url(base: str, incident_id: int) -> str:
    return f"{base}/incidents/{incident_id}"


def change_url(base: str, change_id: int) -> str:
    return f"{base}/changes/{change_id}"


def ack_url(base: str, token: str) -> str:
    return f"{base}/ack/{quote(token, safe='')}"
