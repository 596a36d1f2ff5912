"""The demo pager: where the demo's people are paged when no mail server is set.

Each person of the demo organisation has a webhook contact method pointing at
``/demo/pager`` on the demo server itself, with a rule to use it at once, so a page
is delivered within seconds of an incident without any mail server: its delivery
shows in the incident's notification log, and the page at ``/demo/pager`` lists what
arrived. The pager accepts messages only while some contact method points at it (on
a server without the demo, it answers 404), keeps the last ones in the memory of the
process that received them, and never writes to the database: the server's own timer
loop is waiting for its answer inside a transaction.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.notify.models import ContactMethod
from steward.timeutil import isoformat_z, utcnow

PATH = "/demo/pager"
KEPT = 200

_inbox: deque[dict[str, Any]] = deque(maxlen=KEPT)
_lock = threading.Lock()


def pager_url(base: str) -> str:
    return base.rstrip("/") + PATH


def in_use(session: Session) -> bool:
    """Whether any person's contact method points at a demo pager."""
    return session.scalar(select(ContactMethod.id).where(
        ContactMethod.kind == "webhook", ContactMethod.target.endswith(PATH)).limit(1)) is not None


def _text(value: Any, limit: int = 500) -> str:
    return str(value)[:limit] if value is not None else ""


def receive(body: Any, event_type: str) -> dict[str, Any]:
    """Keeps what a page (or any notification) said, in words; answers the entry."""
    facts: dict[str, Any] = body if isinstance(body, dict) else {}
    found = facts.get("incident")
    incident: dict[str, Any] = found if isinstance(found, dict) else {}
    entry = {
        "at": isoformat_z(utcnow()),
        "event": _text(event_type, 60),
        "to": _text(facts.get("user"), 100),
        "reason": _text(facts.get("reason")),
        "incident": _text(incident.get("number"), 40),
        "title": _text(incident.get("title"), 300),
        "priority": _text(incident.get("priority"), 4),
        "urgency": _text(incident.get("urgency"), 10),
        "url": _text(incident.get("url"), 500),
    }
    with _lock:
        _inbox.appendleft(entry)
    return entry


def received() -> list[dict[str, Any]]:
    """What arrived, newest first."""
    with _lock:
        return list(_inbox)
