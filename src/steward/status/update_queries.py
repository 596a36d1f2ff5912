"""Reads about public updates and publishing policies, as plain data for the incident
page, the API and the CLI (internal views: they name the author)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.catalog.models import Service
from steward.catalog.use_cases.teams import get_team
from steward.incidents.use_cases import lifecycle
from steward.status import drafts
from steward.status.models import StatusPolicy, StatusUpdate
from steward.status.published import published_components
from steward.status.use_cases.updates import suggest_update
from steward.timeutil import isoformat_z


def update_out(session: Session, update: StatusUpdate,
               names: dict[int, str] | None = None) -> dict[str, Any]:
    """One update; a component removed from the catalog since is named as such."""
    if names is None:
        names = {p.service_id: p.name for p in published_components(session)}
    missing = [c["service_id"] for c in update.components or []
               if c.get("service_id") not in names]
    catalog = dict(session.execute(select(Service.id, Service.name).where(
        Service.id.in_(missing))).all()) if missing else {}
    components = []
    for c in update.components or []:
        sid = int(c.get("service_id") or 0)
        name = names.get(sid) or catalog.get(sid)
        components.append({"service_id": sid, "status": c.get("status", ""),
                           "name": name or "(removed from the catalog)",
                           "published": sid in names})
    author = (session.scalar(select(User.username).where(User.id == update.author_user_id))
              if update.author_user_id else None)
    return {"id": update.id, "incident_id": update.incident_id, "status": update.status,
            "title": update.title, "body": update.body, "impact": update.impact,
            "components": components, "author": author, "automatic": update.automatic,
            "created_at": isoformat_z(update.created_at)}


def incident_updates(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """The incident's public updates, newest first; NotFound for an unknown incident."""
    lifecycle.get_incident(session, incident_id)
    names = {p.service_id: p.name for p in published_components(session)}
    rows = session.scalars(select(StatusUpdate).where(StatusUpdate.incident_id == incident_id)
                           .order_by(StatusUpdate.created_at.desc(), StatusUpdate.id.desc()))
    return [update_out(session, row, names) for row in rows]


def incident_section(session: Session, incident_id: int) -> dict[str, Any]:
    """What the incident page's "Public updates" section shows: the updates, the draft
    for the form, the components it can name."""
    suggestion = suggest_update(session, incident_id)
    return {"updates": incident_updates(session, incident_id), "suggestion": suggestion,
            "suggested_status": {c["name"]: c["status"] for c in suggestion["components"]},
            "components": [p.name for p in published_components(session)],
            "states": list(drafts.UPDATE_STATES), "impacts": list(drafts.IMPACTS),
            "component_statuses": list(drafts.COMPONENT_STATUSES)}


def team_policy(session: Session, team: str) -> dict[str, Any]:
    found = get_team(session, team)
    policy = session.get(StatusPolicy, found.id)
    return {"team": found.name, "auto_publish_p1": bool(policy and policy.auto_publish_p1)}
