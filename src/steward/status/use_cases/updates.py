"""Public incident updates: the draft suggested from an incident, and publishing one.

Responders publish (the rights of any other incident action); each update is audited,
noted on the incident's timeline (kind ``public_update``) and mailed to the subscribers
who follow it, all in one transaction. The public page shows the updates only: never the
timeline, the incident's internal title or number, or who wrote them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.catalog.graph import load_graph
from steward.incidents import health, health_queries
from steward.incidents.models import Incident
from steward.incidents.timeline import add_entry
from steward.incidents.use_cases import lifecycle
from steward.status import drafts
from steward.status.models import StatusUpdate
from steward.status.published import Published, names_of, published_components
from steward.status.use_cases import subscribers
from steward.timeutil import utcnow

# Who publishes an update a team's policy sends by itself.
POLICY = Actor(kind="system", id="status-policy", name="status policy", role="admin")


def latest_update(session: Session, incident_id: int) -> StatusUpdate | None:
    return session.scalar(select(StatusUpdate).where(StatusUpdate.incident_id == incident_id)
                          .order_by(StatusUpdate.created_at.desc(), StatusUpdate.id.desc())
                          .limit(1))


def _facts(session: Session, incident: Incident, published: list[Published]
           ) -> drafts.IncidentFacts:
    """The published components the incident takes down or degrades (through the
    dependency graph, as its priority counts them), and where it stands."""
    graph = load_graph(session)
    impacts = {sid: health.ServiceImpact(state, None) for sid, state in
               health_queries.incident_impacts(session, incident.id).items()
               if sid in graph.cis}
    result = health.incident_analysis(graph, impacts)
    components = [drafts.Component(p.service_id, p.name, result.state_of(p.service_id))
                  for p in published if result.state_of(p.service_id) in ("down", "degraded")]
    last = latest_update(session, incident.id)
    return drafts.IncidentFacts(
        status=incident.status, priority=incident.priority, started_at=incident.started_at,
        has_cause=incident.caused_by_deployment_id is not None, components=components,
        last_title=last.title if last else "")


def _suggestion(session: Session, incident: Incident,
                published: list[Published]) -> dict[str, Any]:
    return drafts.suggest(_facts(session, incident, published))


def suggest_update(session: Session, incident_id: int) -> dict[str, Any]:
    """The draft a responder starts from: {status, title, body, impact, components}."""
    incident = lifecycle.get_incident(session, incident_id)
    return _suggestion(session, incident, published_components(session))


def publish_update(session: Session, actor: Actor, incident_id: int,
                   data: Mapping[str, Any], *, automatic: bool = False) -> StatusUpdate:
    """Publishes one public update of the incident (see :func:`drafts.check_update` for
    what ``data`` holds); ``automatic``: a team's policy publishes it, no person."""
    incident = lifecycle.get_incident(session, incident_id)
    if not automatic:
        lifecycle.require_responder(actor, incident)
    published = published_components(session)
    suggestion = _suggestion(session, incident, published)
    last = latest_update(session, incident.id)
    clean = drafts.check_update(
        data, last_title=last.title if last else "", names=names_of(published),
        default_status={c["service_id"]: c["status"] for c in suggestion["components"]})
    update = StatusUpdate(incident_id=incident.id, author_user_id=actor.user_id,
                          automatic=automatic, created_at=utcnow(), **clean)
    session.add(update)
    session.flush()
    add_entry(session, incident, "public_update", drafts.timeline_text(clean, automatic),
              actor=actor.name, data={"update_id": update.id, "status": clean["status"]})
    session.flush()
    queued = subscribers.mail_update(session, update, published)
    audit.record(session, actor, "incident.public_update", "incident", incident.id,
                 after={**clean, "update_id": update.id, "automatic": automatic,
                        "subscribers_mailed": queued})
    return update
