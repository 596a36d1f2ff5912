"""What starts, stops and restarts an incident's escalation: its domain events.

- ``incident.triggered``: the first step is scheduled, due at once. This runs inside
  whatever opened the incident, the alert writer's batches included, so it only inserts
  a timer row; everything else happens in the step (:mod:`.escalation`).
- ``incident.acknowledged`` / ``mitigated`` / ``resolved`` / ``closed``: the escalation
  stops (its state says why and who). The step that was due next is not cancelled
  here: cancelling would wait for a worker that may be firing it right now (its row is
  locked by that worker) while this transaction holds the incident that worker waits
  for. The step finds the escalation stopped when it fires and does nothing.
- ``incident.assigned`` by a person: a new run starts, paging the new assignee at
  once, then the policy's next level after the first level's timeout (unassigned by
  a person: the policy's first level again).
- ``incident.reopened``: a new run starts from the policy's first level.

Escalation's own assignments are published without an actor and change nothing here.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from steward import events
from steward.incidents.models import Incident
from steward.jobs import timers
from steward.oncall import escalation as esc
from steward.oncall.escalation_models import IncidentEscalation
from steward.timeutil import utcnow

STOPPING = ("incident.acknowledged", "incident.mitigated", "incident.resolved",
            "incident.closed")


def start(session: Session, incident_id: int) -> None:
    """The first step of a new incident's escalation, due now (one insert)."""
    at = esc.first_position()
    timers.schedule(session, esc.STEP_KIND, esc.timer_key(incident_id, at), utcnow(),
                    {"incident_id": incident_id, "cycle": at.cycle, "level": at.level,
                     "run_start": at.run_start})


def stop(session: Session, incident_id: int, reason: str, by: str = "") -> None:
    """The escalation stops, saying why (one update; nothing when none is running)."""
    session.execute(
        update(IncidentEscalation)
        .where(IncidentEscalation.incident_id == incident_id,
               IncidentEscalation.state == esc.ACTIVE)
        .values(state=esc.STOPPED, reason=reason[:300], stopped_by=by[:200], next_key=None,
                next_step_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False))


def restart(session: Session, incident_id: int, *, by: str = "",
            assignee_id: int | None = None) -> None:
    """A new run: paging ``assignee_id`` first (or the policy's first level), now."""
    status = session.scalar(select(Incident.status).where(Incident.id == incident_id))
    if status is None or status in ("resolved", "closed"):
        return
    state = session.scalar(select(IncidentEscalation)
                           .where(IncidentEscalation.incident_id == incident_id)
                           .with_for_update().execution_options(populate_existing=True))
    now = utcnow()
    cycle = esc.restart_cycle(state.cycle if state is not None else None)
    at = esc.first_position(cycle)
    if state is None:
        state = IncidentEscalation(incident_id=incident_id, started_at=now,
                                   state=esc.ACTIVE if status == "triggered" else esc.STOPPED,
                                   reason="" if status == "triggered" else status)
        session.add(state)
    elif status == "triggered":
        state.state, state.reason, state.stopped_by = esc.ACTIVE, "", ""
    if status != "triggered" and assignee_id is None:
        return  # acknowledged and unassigned: nobody to tell, nothing to escalate
    key = esc.timer_key(incident_id, at)
    payload: dict[str, object] = {"incident_id": incident_id, "cycle": at.cycle,
                                  "level": at.level, "run_start": at.run_start}
    if assignee_id is not None:
        payload.update(assignee_id=assignee_id, by=by)
    timers.schedule(session, esc.STEP_KIND, key, now, payload, replace=True)
    state.cycle, state.level, state.run_start = at.cycle, at.level, at.run_start
    state.paged_in_cycle = 0
    state.next_key, state.next_step_at, state.updated_at = key, now, now
    session.flush()


def on_incident_event(session: Session, event: events.Event) -> None:
    if event.kind == "incident.triggered":
        start(session, event.subject)
    elif event.kind in STOPPING:
        stop(session, event.subject, event.kind.split(".", 1)[1], event.actor)
    elif event.kind == "incident.reopened":
        restart(session, event.subject, by=event.actor)
    elif event.kind == "incident.assigned" and event.actor:
        assignee = event.data.get("assignee_id")
        restart(session, event.subject, by=event.actor,
                assignee_id=int(assignee) if assignee is not None else None)


events.subscribe("incident.", on_incident_event)
