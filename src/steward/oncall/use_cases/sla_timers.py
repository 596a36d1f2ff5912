"""An incident's service-level targets as timers: a warning before its response or
resolution target is missed, and a note when it is.

When an incident triggers, two timers are armed (one insert each, as escalation's first
step: the alert writer opens incidents in bulk): one at WARN_AT of the response target
(acknowledge within 15 minutes for a P1 by default, STEWARD_SLA) and one at
WARN_AT of the resolution target. When one fires:

- the target is met (acknowledged, or resolved, which counts as the response): nothing;
- the incident's priority changed meanwhile and its deadline is now later: armed again
  for the new warning time;
- otherwise the timeline says so ("Response due by 14:15 UTC (P1: within 15 min);
  nobody has acknowledged it yet."), the assignee is told at low urgency (an unassigned
  incident is escalation's business), and the timer is armed again at the deadline,
  where it notes the target missed ("Response target missed: ...").

Each stage has its own key, so each warning and each miss is written and sent once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from steward import events
from steward.errors import ValidationError
from steward.incidents import priority, settings
from steward.incidents.models import Incident
from steward.incidents.timeline import add_entry
from steward.jobs import timers
from steward.jobs.timers import Fired
from steward.notify import paging
from steward.timeutil import as_utc, utcnow

log = logging.getLogger("steward.oncall")
KIND = "sla.deadline"
WARN_AT = 0.8  # of the target's time: a P1's 15 minutes warn after 12
TARGETS = {"respond": "Response", "resolve": "Resolution"}


def _key(incident_id: int, target: str, stage: str) -> str:
    return f"sla:{incident_id}:{target}:{stage}"


def _deadlines(incident: Incident) -> dict[str, tuple[datetime, timedelta]]:
    """Each target's deadline and its length, from the incident's current priority."""
    targets = settings.sla_targets()
    status = priority.sla_status(incident.priority, as_utc(incident.started_at),
                                 incident.acknowledged_at, incident.resolved_at, utcnow(),
                                 targets)
    return {"respond": (status.respond_by, targets.respond[incident.priority]),
            "resolve": (status.resolve_by, targets.resolve[incident.priority])}


def _warn_at(deadline: datetime, length: timedelta) -> datetime:
    return deadline - length * (1 - WARN_AT)


def _arm(session: Session, incident_id: int, target: str, stage: str, due: datetime,
         *, replace: bool = False) -> None:
    timers.schedule(session, KIND, _key(incident_id, target, stage), due,
                    {"incident_id": incident_id, "target": target, "stage": stage},
                    replace=replace)


def on_triggered(session: Session, event: events.Event) -> None:
    """Arms the warnings. It runs in the transaction that opened the incident, the alert
    writer's included: a misconfigured STEWARD_SLA is logged, never a refused alert."""
    incident = session.get(Incident, event.subject)
    try:
        if incident is None or incident.priority not in settings.sla_targets().respond:
            return
        deadlines = _deadlines(incident)
    except ValidationError as exc:
        log.error("no service-level warnings for INC-%s: %s", event.subject, exc)
        return
    for target, (deadline, length) in deadlines.items():
        _arm(session, incident.id, target, "warn", _warn_at(deadline, length))


def _met(incident: Incident, target: str) -> bool:
    if target == "respond":
        return incident.acknowledged_at is not None or incident.resolved_at is not None
    return incident.resolved_at is not None


def on_deadline(session: Session, fired: Fired) -> None:
    """The ``sla.deadline`` timer's handler (see the module's docstring)."""
    payload: dict[str, Any] = fired.payload
    incident = session.get(Incident, payload.get("incident_id"))
    target, stage = payload.get("target"), payload.get("stage")
    if incident is None or target not in TARGETS or stage not in ("warn", "missed"):
        return
    if _met(incident, target) or incident.priority not in settings.sla_targets().respond:
        return
    deadline, length = _deadlines(incident)[target]
    due = _warn_at(deadline, length) if stage == "warn" else deadline
    if due > as_utc(fired.due_at) + timedelta(seconds=1):  # a lower priority since
        _arm(session, incident.id, target, stage, due, replace=True)
        return
    now = utcnow()
    what = TARGETS[target]
    limit = _minutes(length)
    pending = ("nobody has acknowledged it yet" if target == "respond"
               else "it is not resolved yet")
    if stage == "warn":
        text = (f"{what} due by {deadline:%H:%M} UTC ({incident.priority}: within {limit}); "
                f"{pending}.")
        _arm(session, incident.id, target, "missed", deadline)
    else:
        text = f"{what} target missed: {incident.priority} within {limit}; {pending}."
    add_entry(session, incident, "sla", text, at=now,
              data={"target": target, "stage": stage, "deadline": deadline.isoformat()})
    if incident.assignee_id is not None:
        paging.page_user(session, user_id=incident.assignee_id, incident_id=incident.id,
                         urgency="low", reason=f"INC-{incident.id}: {text}",
                         dedup_prefix=_key(incident.id, target, stage))


def _minutes(length: timedelta) -> str:
    minutes = int(length.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} d"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


timers.register(KIND, on_deadline)
events.subscribe("incident.triggered", on_triggered)
