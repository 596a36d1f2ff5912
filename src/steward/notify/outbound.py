"""Teams' subscriptions told of what happens to their incidents and changes.

Listens to the domain events (``steward.events``) inside the transaction that publishes
them and queues one notification per matching subscription: for an incident, the
subscriptions of its owning team and of its responding teams; for a change, those of
its owning team. Only rows are written here; delivery happens later, elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.changes.models import Change
from steward.events import Event
from steward.incidents.models import Incident
from steward.notify import outbox
from steward.notify.facts import change_facts, incident_facts, incident_teams
from steward.notify.models import Subscription
from steward.notify.urgency import urgency_for
from steward.timeutil import isoformat_z

INCIDENT_EVENTS = ("incident.triggered", "incident.acknowledged", "incident.escalated",
                   "incident.resolved")
CHANGE_EVENTS = ("change.created", "change.approved", "change.rejected",
                 "change.unauthorised")
EVENT_TYPES = INCIDENT_EVENTS + CHANGE_EVENTS
# What each kind of subscription can be told.
KIND_EVENTS = {"webhook": EVENT_TYPES, "chat": EVENT_TYPES,
               "cdevents": ("incident.triggered", "incident.resolved")}


def _subscriptions(session: Session, team_ids: list[int], kind: str) -> list[Subscription]:
    if not team_ids:
        return []
    rows = session.scalars(select(Subscription).where(
        Subscription.team_id.in_(team_ids), Subscription.active.is_(True))
        .order_by(Subscription.id)).all()
    return [row for row in rows if kind in (row.event_types or [])
            and kind in KIND_EVENTS.get(row.kind, ())]


def _occurrence(event: Event) -> str:
    """Tells one occurrence of an event from another of the same kind and subject."""
    data = json.dumps(event.data, sort_keys=True, default=str)
    digest = hashlib.sha256(f"{isoformat_z(event.at)}|{data}".encode()).hexdigest()[:16]
    return digest


def on_event(session: Session, event: Event) -> None:
    if event.kind not in EVENT_TYPES:
        return
    body: dict[str, Any] = {"event": event.kind, "at": isoformat_z(event.at),
                            "actor": event.actor}
    incident_id = change_id = None
    if event.domain == "incident":
        incident = session.get(Incident, event.subject)
        if incident is None:
            return
        subscriptions = _subscriptions(session, incident_teams(session, incident), event.kind)
        if not subscriptions:
            return
        facts = incident_facts(session, incident)
        body |= {"incident": facts, "links": {"incident": facts["url"]}}
        incident_id = incident.id
        urgency = urgency_for(incident.priority)
        subject = f"{facts['number']} {event.kind.split('.', 1)[1]}: {facts['title']}"
    else:
        change = session.get(Change, event.subject)
        if change is None:
            return
        subscriptions = _subscriptions(
            session, [change.owner_team_id] if change.owner_team_id else [], event.kind)
        if not subscriptions:
            return
        facts = change_facts(session, change)
        body |= {"change": facts, "links": {"change": facts["url"]}}
        change_id = change.id
        urgency = "high" if event.kind == "change.unauthorised" else "low"
        subject = f"{facts['number']} {event.kind.split('.', 1)[1]}: {facts['title']}"
    if event.data:
        body["data"] = event.data
    occurrence = _occurrence(event)
    for subscription in subscriptions:
        outbox.enqueue(session, channel=subscription.kind, target=subscription.url,
                       event_type=event.kind, urgency=urgency, subject=subject, body=body,
                       dedup_key=f"sub:{subscription.id}:{event.kind}:{event.subject}:"
                                 f"{occurrence}",
                       incident_id=incident_id, change_id=change_id,
                       subscription_id=subscription.id)
