"""Listing incidents and showing one: alerts, timeline, suspects, SLA; what an incident's
page shows a responder; and the count of open incidents beside "Incidents" in the
navigation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from steward.auth.actor import Actor
from steward.auth.models import User
from steward.catalog.graph import load_graph
from steward.catalog.models import Service, Team
from steward.catalog.use_cases.services import team_names
from steward.changes.models import Change, Deployment
from steward.changes.use_cases.deployments import is_production
from steward.db import Database, text_search
from steward.incidents import detail_queries, priority, settings, suspects
from steward.incidents.models import (
    OPEN_STATES,
    Alert,
    Incident,
    IncidentService,
    IncidentTeam,
)
from steward.incidents.use_cases import lifecycle
from steward.timeutil import as_utc, isoformat_z, utcnow


def list_incidents(session: Session, *, status: str | None = None, priority: str | None = None,
                   team: str | None = None, service: str | None = None, q: str | None = None,
                   start: datetime | None = None, end: datetime | None = None,
                   limit: int = 100, offset: int = 0) -> tuple[int, list[Incident]]:
    query = select(Incident)
    if status:
        query = query.where(Incident.status.in_(status.split(",")))
    if priority:
        query = query.where(Incident.priority.in_(priority.split(",")))
    if team:
        query = query.join(Team, Team.id == Incident.owner_team_id).where(Team.name == team)
    if service:
        query = query.where(Incident.id.in_(select(IncidentService.incident_id).join(
            Service, Service.id == IncidentService.service_id).where(Service.name == service)))
    if q:
        query = query.where(text_search(q, Incident.title, Incident.description))
    if start is not None:
        query = query.where(Incident.started_at >= start)
    if end is not None:
        query = query.where(Incident.started_at < end)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Incident.started_at.desc(), Incident.id.desc())
                           .limit(limit).offset(offset)).all()
    return total, list(rows)


def _name(session: Session, model: Any, column: Any, row_id: int | None) -> str | None:
    if row_id is None:
        return None
    return session.scalar(select(column).where(model.id == row_id))


def sla(incident: Incident) -> dict[str, Any]:
    """Deadlines and breach flags; imported history brings its own verdict (made_sla)."""
    status = priority.sla_status(incident.priority, as_utc(incident.started_at),
                                 incident.acknowledged_at, incident.resolved_at, utcnow(),
                                 settings.sla_targets())
    out = {"respond_by": isoformat_z(status.respond_by),
           "resolve_by": isoformat_z(status.resolve_by),
           "respond_breached": status.respond_breached,
           "resolve_breached": status.resolve_breached,
           "made_sla": incident.made_sla}
    if incident.made_sla is not None:
        # The source system recorded one verdict for the whole SLA: it wins over
        # Steward's own targets, which the record was never held to.
        out["respond_breached"] = False
        out["resolve_breached"] = not incident.made_sla
    return out


def incident_out(session: Session, incident: Incident, *, detail: bool = False) -> dict[str, Any]:
    services = list(session.scalars(select(Service.name).join(
        IncidentService, IncidentService.service_id == Service.id).where(
        IncidentService.incident_id == incident.id).order_by(Service.name)))
    out: dict[str, Any] = {
        "id": incident.id, "number": f"INC-{incident.id}", "title": incident.title,
        "status": incident.status, "priority": incident.priority,
        "impact": incident.impact, "urgency": incident.urgency,
        "started_at": isoformat_z(incident.started_at),
        "acknowledged_at": isoformat_z(incident.acknowledged_at),
        "mitigated_at": isoformat_z(incident.mitigated_at),
        "resolved_at": isoformat_z(incident.resolved_at),
        "closed_at": isoformat_z(incident.closed_at),
        "origin_service": _name(session, Service, Service.name, incident.origin_service_id),
        "team": _name(session, Team, Team.name, incident.owner_team_id),
        "assignee": _name(session, User, User.username, incident.assignee_id),
        "commander": _name(session, User, User.username, incident.commander_id),
        "services": services,
        "business_services": (incident.business_services or {}).get("down", [])
        + (incident.business_services or {}).get("degraded", []),
        "business_services_down": (incident.business_services or {}).get("down", []),
        "business_services_degraded": (incident.business_services or {}).get("degraded", []),
        "manual": incident.manual, "reopen_count": incident.reopen_count,
        "source": incident.source, "external_ref": incident.external_ref,
        "category": incident.category or None,
        "caused_by_deployment": incident.caused_by_deployment_id,
        "recurrence_of": incident.recurrence_of_id,
        "sla": sla(incident),
        "responding_teams": responding_teams(session, incident),
    }
    if detail:
        out["description"] = incident.description
        out["origin_reasoning"] = incident.origin_reasoning
        out["priority_reasons"] = list(incident.priority_reasons or [])
        out.update(bounded_detail(session, incident.id))
        out["suspects"] = suspects_for(session, incident)
    return out


def responding_teams(session: Session, incident: Incident) -> list[dict[str, Any]]:
    """The teams responding besides the owning team, in the order they were added."""
    rows = session.execute(select(Team.name, IncidentTeam.added_at, IncidentTeam.reason)
                           .join(IncidentTeam, IncidentTeam.team_id == Team.id)
                           .where(IncidentTeam.incident_id == incident.id,
                                  IncidentTeam.team_id != (incident.owner_team_id or -1))
                           .order_by(IncidentTeam.added_at, Team.name)).all()
    return [{"team": name, "added_at": isoformat_z(added_at), "reason": reason}
            for name, added_at, reason in rows]


def bounded_detail(session: Session, incident_id: int) -> dict[str, Any]:
    """What an incident's detail shows of its alerts and timeline, bounded at any number
    of alerts: the count, the first alerts, the summarised timeline's first page and the
    cursor of the next (``detail_queries``)."""
    timeline = detail_queries.summarised_timeline(session, incident_id)
    return {"alert_count": detail_queries.alert_count(session, incident_id),
            "alerts": alerts_out(session, detail_queries.first_alerts(session, incident_id)),
            "timeline": timeline["items"], "timeline_next": timeline["next"]}


def alerts_out(session: Session, alerts: Sequence[Alert]) -> list[dict[str, Any]]:
    """Alerts as the API shows them, their services' names read once."""
    ids = {a.service_id for a in alerts if a.service_id is not None}
    names = dict(session.execute(select(Service.id, Service.name).where(
        Service.id.in_(ids))).all()) if ids else {}
    return [alert_out(session, a, names) for a in alerts]


def alert_out(session: Session, alert: Alert,
              names: Mapping[int, str] | None = None) -> dict[str, Any]:
    service = (names.get(alert.service_id) if names is not None and alert.service_id
               is not None else _name(session, Service, Service.name, alert.service_id))
    return {"id": alert.id, "dedup_key": alert.dedup_key, "status": alert.status,
            "severity": alert.severity, "summary": alert.summary, "source": alert.source,
            "service": service,
            "labels": alert.labels or {}, "details": alert.details or {}, "url": alert.url,
            "first_seen": isoformat_z(alert.first_seen), "last_seen": isoformat_z(alert.last_seen),
            "reported_at": isoformat_z(alert.reported_at),
            "received_at": isoformat_z(alert.created_at),
            "count": alert.count, "resolved_at": isoformat_z(alert.resolved_at),
            "incident_id": alert.incident_id}


def suspects_for(session: Session, incident: Incident) -> list[dict[str, Any]]:
    """Deployments before the incident on its services and what they depend on (each at
    its distance from the nearest of them), ranked."""
    graph = load_graph(session)
    services = [sid for sid in session.scalars(select(IncidentService.service_id).where(
        IncidentService.incident_id == incident.id).order_by(IncidentService.service_id))
        if sid in graph.cis]
    origin = incident.origin_service_id if incident.origin_service_id in graph.cis else None
    if origin is not None:  # the origin first: it wins ties of distance
        services = [origin, *(s for s in services if s != origin)]
    if not services:
        return []
    nearest = suspects.nearest_services(graph, services)
    distances = {sid: hops for sid, (hops, _) in nearest.items()}
    started = as_utc(incident.started_at)
    lookback = settings.suspect_lookback()
    rows = session.execute(
        select(Deployment, Change.risk_score)
        .join(Change, Change.id == Deployment.change_id, isouter=True)
        .where(Deployment.service_id.in_(list(distances)),
               Deployment.finished_at.is_not(None),
               Deployment.finished_at <= started, Deployment.finished_at >= started - lookback)
    ).all()
    candidates = [suspects.Candidate(
        deployment_id=d.id, change_id=d.change_id, service_id=d.service_id,
        service=graph.cis[d.service_id].name, version=d.version,
        finished_at=as_utc(d.finished_at), risk_score=risk, status=d.status,
        environment=d.environment) for d, risk in rows if d.finished_at is not None]
    candidates = [c for c in candidates if is_production(c.environment)]
    ranked = suspects.rank_suspects(
        candidates, distances, started, lookback,
        origin=graph.cis[origin].name if origin is not None else None,
        near={sid: graph.cis[source].name for sid, (_, source) in nearest.items()})
    by_id = {c.deployment_id: c for c in candidates}
    return [{"deployment_id": s.deployment_id, "change_id": s.change_id, "service": s.service,
             "version": by_id[s.deployment_id].version,
             "finished_at": isoformat_z(by_id[s.deployment_id].finished_at),
             "status": by_id[s.deployment_id].status,
             "score": s.score, "reasons": list(s.reasons),
             "confirmed": s.deployment_id == incident.caused_by_deployment_id}
            for s in ranked]


def list_alerts(session: Session, *, status: str | None = None, service: str | None = None,
                limit: int = 100, offset: int = 0) -> tuple[int, list[Alert]]:
    query = select(Alert)
    if status:
        query = query.where(Alert.status == status)
    if service:
        query = query.join(Service, Service.id == Alert.service_id).where(Service.name == service)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Alert.last_seen.desc()).limit(limit).offset(offset))
    return total, list(rows)


def incident_listing(session: Session, *, status: str | None = None,
                     priority: str | None = None, team: str | None = None,
                     service: str | None = None, q: str | None = None,
                     start: datetime | None = None, end: datetime | None = None,
                     limit: int = 100, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """The incidents :func:`list_incidents` finds, each as :func:`incident_out` shows it."""
    total, rows = list_incidents(session, status=status, priority=priority, team=team,
                                 service=service, q=q, start=start, end=end, limit=limit,
                                 offset=offset)
    return total, [incident_out(session, incident) for incident in rows]


def incident_detail(session: Session, incident_id: int) -> dict[str, Any]:
    """One incident with its alerts, timeline and suspects; NotFound names ``incident``."""
    return incident_out(session, lifecycle.get_incident(session, incident_id), detail=True)


def count_open_incidents(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Incident).where(
        Incident.status.in_(OPEN_STATES))) or 0)


def open_incident_count(db: Database) -> int | None:
    """The number beside "Incidents" in the navigation: one COUNT in a read session of its
    own, None when the database does not answer (an error page must render even then)."""
    try:
        with db.read_session() as session:
            return count_open_incidents(session)
    except SQLAlchemyError:
        return None


# -- one incident's page --------------------------------------------------------------

def incident_view(session: Session, incident_id: int, actor: Actor) -> dict[str, Any]:
    """One incident as its page shows it to ``actor``: the detail (with whether impact and
    urgency were set by hand), the deployments it names (suspects, cause, fixes), and for
    a responder the actions its status allows and whom and what the forms offer."""
    incident = lifecycle.get_incident(session, incident_id)
    out = incident_out(session, incident, detail=True)
    out["impact_overridden"] = incident.impact_overridden
    out["urgency_overridden"] = incident.urgency_overridden
    fixes = list(session.scalars(select(Deployment.id).where(
        Deployment.fixes_incident_id == incident.id)))
    cause = incident.caused_by_deployment_id
    known = deployments_by_id(session, {s["deployment_id"] for s in out["suspects"]}
                              | set(fixes) | ({cause} if cause else set()))
    respond = lifecycle.may_respond(actor, incident)
    return {
        "incident": out,
        "suspects": [{**s, "deployment": known.get(s["deployment_id"], {})}
                     for s in out["suspects"]],
        "cause": known.get(cause or -1),
        "fixes": [known[i] for i in fixes if i in known],
        "can_respond": respond,
        "actions": [action for action, (allowed, _) in lifecycle.ACTIONS.items()
                    if incident.status in allowed] if respond else [],
        "people": assignable_people(session, (out["assignee"], out["commander"]))
        if respond else [],
        "teams": sorted(team_names(session).values()) if respond else [],
        "fix_candidates": fix_candidates(session, incident) if respond else [],
    }


def deployments_by_id(session: Session, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.execute(select(Deployment, Service.name).join(
        Service, Service.id == Deployment.service_id).where(Deployment.id.in_(ids))).all()
    return {d.id: {"id": d.id, "service": name, "version": d.version, "status": d.status,
                   "environment": d.environment, "change_id": d.change_id,
                   "finished_at": isoformat_z(d.finished_at)} for d, name in rows}


def fix_candidates(session: Session, incident: Incident) -> list[dict[str, Any]]:
    """Deployments on the incident's services since it started: the likely fixes."""
    services = select(IncidentService.service_id).where(
        IncidentService.incident_id == incident.id)
    rows = session.execute(select(Deployment, Service.name).join(
        Service, Service.id == Deployment.service_id).where(
        Deployment.service_id.in_(services),
        or_(Deployment.finished_at >= incident.started_at,
            Deployment.started_at >= incident.started_at))
        .order_by(Deployment.id.desc()).limit(20)).all()
    return [{"id": d.id, "service": name, "version": d.version} for d, name in rows]


def assignable_people(session: Session, keep: tuple[str | None, ...]) -> list[tuple[str, str]]:
    """Who can be assigned, as (username, name shown): everyone who can respond, and
    whoever is assigned now (``keep``)."""
    rows = session.execute(select(User.username, User.display_name).where(
        or_(User.active.is_(True) & (User.role != "viewer"),
            User.username.in_([k for k in keep if k])))
        .order_by(User.username)).all()
    return [(username, display or username) for username, display in rows]


# -- what the overview lists ------------------------------------------------------------

def incident_briefs(session: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    """The incidents ``ids`` in brief, oldest first (the longest burning leads): number,
    title, priority, status, start, owning team, assignee and services, in two statements
    however many there are."""
    if not ids:
        return []
    rows = session.execute(
        select(Incident.id, Incident.title, Incident.priority, Incident.status,
               Incident.started_at, Incident.acknowledged_at, Team.name, User.username)
        .outerjoin(Team, Team.id == Incident.owner_team_id)
        .outerjoin(User, User.id == Incident.assignee_id)
        .where(Incident.id.in_(list(ids)))
        .order_by(Incident.started_at, Incident.id)).all()
    services: dict[int, list[str]] = {}
    for incident_id, name in session.execute(
            select(IncidentService.incident_id, Service.name)
            .join(Service, Service.id == IncidentService.service_id)
            .where(IncidentService.incident_id.in_(list(ids))).order_by(Service.name)):
        services.setdefault(incident_id, []).append(name)
    return [{"id": i, "number": f"INC-{i}", "title": title, "priority": prio,
             "status": status, "started_at": isoformat_z(started),
             "acknowledged_at": isoformat_z(acked), "team": team, "assignee": assignee,
             "services": services.get(i, [])}
            for i, title, prio, status, started, acked, team, assignee in rows]
