"""What a notification says about an incident or a change, read once when it is queued
(the message tells what was true when it happened, however late it is delivered)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.catalog.models import Service, Team
from steward.changes.models import Change, ChangeService
from steward.config import settings
from steward.incidents.models import Incident, IncidentService, IncidentTeam
from steward.notify import links
from steward.notify.urgency import urgency_for
from steward.timeutil import isoformat_z


def base_url() -> str:
    return links.public_base(settings().public_url)


def incident_teams(session: Session, incident: Incident) -> list[int]:
    """The owning team first, then the responding teams."""
    ids = [incident.owner_team_id] if incident.owner_team_id else []
    ids += [team_id for team_id in session.scalars(
        select(IncidentTeam.team_id).where(IncidentTeam.incident_id == incident.id)
        .order_by(IncidentTeam.team_id)) if team_id not in ids]
    return ids


def incident_facts(session: Session, incident: Incident) -> dict[str, Any]:
    services = list(session.scalars(
        select(Service.name).join(IncidentService, IncidentService.service_id == Service.id)
        .where(IncidentService.incident_id == incident.id).order_by(Service.name)))
    team_ids = incident_teams(session, incident)
    names = dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids)))
                 .all()) if team_ids else {}
    assignee = (session.scalar(select(User.username).where(User.id == incident.assignee_id))
                if incident.assignee_id else None)
    business = incident.business_services or {}
    return {
        "id": incident.id, "number": f"INC-{incident.id}", "title": incident.title,
        "status": incident.status, "priority": incident.priority,
        "urgency": urgency_for(incident.priority), "services": services,
        "business_services": {"down": list(business.get("down", [])),
                              "degraded": list(business.get("degraded", []))},
        "owner_team": names.get(incident.owner_team_id) if incident.owner_team_id else None,
        "responding_teams": [names[t] for t in team_ids[1:] if t in names],
        "assignee": assignee, "started_at": isoformat_z(incident.started_at),
        "acknowledged_at": isoformat_z(incident.acknowledged_at),
        "resolved_at": isoformat_z(incident.resolved_at),
        "url": links.incident_url(base_url(), incident.id),
    }


def change_facts(session: Session, change: Change) -> dict[str, Any]:
    services = list(session.scalars(
        select(Service.name).join(ChangeService, ChangeService.service_id == Service.id)
        .where(ChangeService.change_id == change.id).order_by(Service.name)))
    team = (session.scalar(select(Team.name).where(Team.id == change.owner_team_id))
            if change.owner_team_id else None)
    return {
        "id": change.id, "number": f"CHG-{change.id}", "title": change.title,
        "state": change.state, "model": change.model, "environment": change.environment,
        "risk_level": change.risk_level, "risk_score": change.risk_score,
        "owner_team": team, "services": services, "author": change.author,
        "planned_start": isoformat_z(change.planned_start),
        "planned_end": isoformat_z(change.planned_end),
        "url": links.change_url(base_url(), change.id),
    }
