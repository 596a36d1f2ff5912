"""Domain events: what happened to an incident or a change, told to whoever listens.

A domain publishes an event inside the transaction that made it happen; listeners
(escalation, the notification outbox) run there too and write what they must in
that same transaction, so the event and its consequences are committed together
or not at all. Domains publish without knowing who listens: incidents and changes
import this module only, and on-call and notifications register here.

Event kinds, with ``subject`` the incident's or change's id:

- ``incident.triggered``: an incident opened (``data``: ``{"manual": bool}``).
- ``incident.acknowledged``, ``incident.mitigated``, ``incident.resolved``,
  ``incident.closed``: its state moved there (``data``: ``{"from": STATE}``).
- ``incident.reopened``: a resolved, closed or mitigated incident triggered again.
- ``incident.assigned``: its assignee changed (``data``: ``{"assignee_id": ID or None,
  "previous_id": ID or None}``).
- ``incident.escalated``: the escalation moved to a level (published by on-call).
- ``change.created``, ``change.approved``, ``change.rejected``, ``change.unauthorised``
  (``data`` of the last: ``{"deployment_id": ID}``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from steward.timeutil import utcnow


@dataclass(frozen=True)
class Event:
    kind: str
    subject: int
    at: datetime = field(default_factory=utcnow)
    actor: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.kind.split(".", 1)[0]


Listener = Callable[[Session, Event], None]
_listeners: list[tuple[str, Listener]] = []


def subscribe(prefix: str, listener: Listener) -> None:
    """Call ``listener`` for every event whose kind starts with ``prefix`` ("" for all,
    "incident." for an incident's). Registering the same listener twice is harmless."""
    if (prefix, listener) not in _listeners:
        _listeners.append((prefix, listener))


def unsubscribe(listener: Listener) -> None:
    _listeners[:] = [(p, fn) for p, fn in _listeners if fn is not listener]


def publish(session: Session, event: Event) -> None:
    """Tell every listener, in the publisher's transaction; a listener's error rolls the
    whole transaction back (an event whose page could not be queued did not happen)."""
    for prefix, listener in list(_listeners):
        if event.kind.startswith(prefix):
            listener(session, event)
