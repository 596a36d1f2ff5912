"""Incidents and deployments: the deployment that caused an incident, and the one that fixed it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.catalog.models import Service
from steward.changes.models import Deployment
from steward.errors import ValidationError
from steward.incidents.models import Incident
from steward.incidents.timeline import add_entry
from steward.incidents.use_cases.lifecycle import (
    action_time,
    get_incident,
    require_responder,
    snapshot,
)
from steward.timeutil import as_utc


def confirm_cause(session: Session, actor: Actor, incident_id: int,
                  deployment_id: int, at: datetime | None = None) -> Incident:
    """The deployment caused the incident: it now counts as failed."""
    incident = get_incident(session, incident_id)
    require_responder(actor, incident)
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        raise ValidationError(f"deployment_id: deployment {deployment_id} does not exist",
                              field="deployment_id")
    if deployment.finished_at and as_utc(deployment.finished_at) > as_utc(incident.started_at):
        raise ValidationError("deployment_id: that deployment finished after the incident "
                              "started", field="deployment_id")
    before = snapshot(incident)
    incident.caused_by_deployment_id = deployment.id
    if deployment.caused_incident_id is None:
        deployment.caused_incident_id = incident.id
    service = session.scalar(select(Service.name).where(Service.id == deployment.service_id))
    add_entry(session, incident, "cause", f"Cause confirmed: deployment {deployment.id} of "
              f"{service} {deployment.version}"
              + (f" (CHG-{deployment.change_id})" if deployment.change_id else "") + ".",
              actor=actor.name, at=action_time(at), data={"deployment_id": deployment.id})
    session.flush()
    audit.record(session, actor, "incident.cause", "incident", incident.id, before=before,
                 after=snapshot(incident))
    return incident


def mark_fix(session: Session, actor: Actor, incident_id: int, deployment_id: int,
             at: datetime | None = None) -> Incident:
    """The deployment fixed the incident: unplanned rework."""
    incident = get_incident(session, incident_id)
    require_responder(actor, incident)
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        raise ValidationError(f"deployment_id: deployment {deployment_id} does not exist",
                              field="deployment_id")
    deployment.fixes_incident_id = incident.id
    add_entry(session, incident, "fix", f"Deployment {deployment.id} ({deployment.version}) "
              "recorded as the fix.", actor=actor.name, at=action_time(at),
              data={"deployment_id": deployment.id})
    session.flush()
    audit.record(session, actor, "incident.fix", "incident", incident.id,
                 after={"fixed_by_deployment_id": deployment.id})
    return incident
