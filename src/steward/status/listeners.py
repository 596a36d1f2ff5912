"""The P1 publishing policy: when an incident opens, a ``status.auto_publish`` timer is
set; when it fires (a minute later, so a cascade's first alerts have joined, the owning
team is settled and the priority recomputed; the alert path may defer that to the end
of its batch), an incident that is P1, still open, with no public update yet, whose
owning team's policy says ``auto_publish_p1``, gets the suggested draft published as its
first update (``automatic``). Registered once, when ``steward.models`` imports this."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward import events
from steward.incidents.models import OPEN_STATES, Incident
from steward.jobs import timers
from steward.jobs.timers import Fired
from steward.status.models import StatusPolicy, StatusUpdate
from steward.status.use_cases.updates import POLICY, publish_update, suggest_update
from steward.timeutil import utcnow

KIND = "status.auto_publish"
SETTLE = timedelta(minutes=1)


def on_triggered(session: Session, event: events.Event) -> None:
    """Arms the timer, only while some team has the policy (one small read)."""
    if event.kind != "incident.triggered":
        return
    if session.scalar(select(StatusPolicy.team_id).where(
            StatusPolicy.auto_publish_p1.is_(True)).limit(1)) is None:
        return
    timers.schedule(session, KIND, f"{KIND}:{event.subject}", utcnow() + SETTLE,
                    {"incident_id": event.subject})


def auto_publish(session: Session, fired: Fired) -> None:
    incident_id = fired.payload.get("incident_id")
    if not isinstance(incident_id, int):
        return
    incident = session.get(Incident, incident_id)
    if incident is None or incident.priority != "P1" or incident.status not in OPEN_STATES \
            or incident.owner_team_id is None:
        return
    policy = session.get(StatusPolicy, incident.owner_team_id)
    if policy is None or not policy.auto_publish_p1:
        return
    if session.scalar(select(StatusUpdate.id).where(
            StatusUpdate.incident_id == incident_id).limit(1)) is not None:
        return
    draft = suggest_update(session, incident_id)
    publish_update(session, POLICY, incident_id, {
        **draft, "components": [{"name": c["name"], "status": c["status"]}
                                for c in draft["components"]]}, automatic=True)


def register() -> None:
    events.subscribe("incident.triggered", on_triggered)
    timers.register(KIND, auto_publish)


register()
