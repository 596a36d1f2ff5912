"""Templates, calendar windows, and how changes are listed and shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.catalog.models import Service, Team
from steward.changes import calendar
from steward.changes.assessment import pure_window
from steward.changes.models import (
    Approval,
    CalendarWindow,
    Change,
    ChangeService,
    ChangeTemplate,
    Deployment,
    TemplateService,
)
from steward.changes.schemas import TemplateCreate, WindowCreate
from steward.db import text_search
from steward.errors import Conflict, NotFound, ValidationError
from steward.timeutil import isoformat_z


def create_template(session: Session, actor: Actor, data: TemplateCreate) -> ChangeTemplate:
    if session.scalar(select(ChangeTemplate.id).where(ChangeTemplate.name == data.name)):
        raise Conflict(f"name: a template named {data.name!r} already exists", field="name")
    services = list(session.scalars(select(Service).where(Service.name.in_(data.services))))
    missing = sorted(set(data.services) - {s.name for s in services})
    if missing:
        raise ValidationError(f"services: unknown service(s): {', '.join(missing)}",
                              field="services")
    owner_id = None
    if data.owner:
        owner_id = session.scalar(select(Team.id).where(Team.name == data.owner))
        if owner_id is None:
            raise ValidationError(f"owner: team {data.owner!r} does not exist", field="owner")
    for service in services:
        actor.require_team_write(service.owner_team_id,
                                 f"pre-approve changes to {service.name}")
    template = ChangeTemplate(name=data.name, description=data.description,
                              risk_ceiling=data.risk_ceiling,
                              owner_team_id=owner_id or services[0].owner_team_id)
    session.add(template)
    session.flush()
    for service in services:
        session.add(TemplateService(template_id=template.id, service_id=service.id))
    session.flush()
    audit.record(session, actor, "template.create", "change_template", template.id,
                 after=template_out(session, template))
    return template


def template_out(session: Session, template: ChangeTemplate) -> dict[str, Any]:
    services = list(session.scalars(select(Service.name).join(
        TemplateService, TemplateService.service_id == Service.id).where(
        TemplateService.template_id == template.id).order_by(Service.name)))
    owner = session.get(Team, template.owner_team_id) if template.owner_team_id else None
    return {"id": template.id, "name": template.name, "description": template.description,
            "risk_ceiling": template.risk_ceiling, "services": services,
            "owner": owner.name if owner else None, "active": template.active}


def list_templates(session: Session) -> list[ChangeTemplate]:
    return list(session.scalars(select(ChangeTemplate).order_by(ChangeTemplate.name)))


def create_window(session: Session, actor: Actor, data: WindowCreate) -> CalendarWindow:
    if data.scope == "team":
        for name in data.scope_values:
            team_id = session.scalar(select(Team.id).where(Team.name == name))
            if team_id is None:
                raise ValidationError(f"scope_values: team {name!r} does not exist",
                                      field="scope_values")
            actor.require_team_write(team_id, "set windows for this team")
    else:
        actor.require_admin("set windows beyond one team")
    if data.scope == "services":
        known = set(session.scalars(select(Service.name).where(
            Service.name.in_(data.scope_values))))
        missing = sorted(set(data.scope_values) - known)
        if missing:
            raise ValidationError(f"scope_values: unknown service(s): {', '.join(missing)}",
                                  field="scope_values")
    if data.scope != "all" and not data.scope_values:
        raise ValidationError(f"scope_values: name the {data.scope} this window applies to",
                              field="scope_values")
    row = CalendarWindow(name=data.name, kind=data.kind, scope_kind=data.scope,
                         scope_values=list(data.scope_values), starts_at=data.starts_at,
                         ends_at=data.ends_at, weekdays=list(data.weekdays),
                         start_time=data.start_time, duration_minutes=data.duration_minutes,
                         timezone=data.timezone)
    try:
        pure_window(row).validate()
    except ValueError as exc:
        message = str(exc)
        field = message.split(":", 1)[0] if ":" in message else "window"
        raise ValidationError(message, field=field) from exc
    session.add(row)
    session.flush()
    audit.record(session, actor, "window.create", "calendar_window", row.id,
                 after=window_out(row))
    return row


def delete_window(session: Session, actor: Actor, window_id: int) -> None:
    row = session.get(CalendarWindow, window_id)
    if row is None:
        raise NotFound(f"window {window_id} does not exist", field="id")
    actor.require_admin("remove calendar windows")
    before = window_out(row)
    session.delete(row)
    session.flush()
    audit.record(session, actor, "window.delete", "calendar_window", window_id, before=before)


def window_out(row: CalendarWindow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "kind": row.kind, "scope": row.scope_kind,
            "scope_values": list(row.scope_values or []),
            "starts_at": isoformat_z(row.starts_at), "ends_at": isoformat_z(row.ends_at),
            "weekdays": list(row.weekdays or []), "start_time": row.start_time,
            "duration_minutes": row.duration_minutes, "timezone": row.timezone}


def list_windows(session: Session) -> list[CalendarWindow]:
    return list(session.scalars(select(CalendarWindow).order_by(CalendarWindow.kind,
                                                                CalendarWindow.name)))


def occurrences_between(session: Session, start: datetime,
                        end: datetime) -> list[dict[str, Any]]:
    found = []
    for row in list_windows(session):
        for s, e in calendar.occurrences(pure_window(row), start, end):
            found.append({"window": window_out(row), "start": isoformat_z(s),
                          "end": isoformat_z(e)})
    return sorted(found, key=lambda o: o["start"])


# -- listing and showing changes -------------------------------------------------------

def list_changes(session: Session, *, state: str | None = None, model: str | None = None,
                 team: str | None = None, service: str | None = None,
                 risk_level: str | None = None, q: str | None = None,
                 start: datetime | None = None, end: datetime | None = None,
                 limit: int = 100, offset: int = 0) -> tuple[int, list[Change]]:
    query = select(Change)
    if state:
        query = query.where(Change.state.in_(state.split(",")))
    if model:
        query = query.where(Change.model == model)
    if risk_level:
        query = query.where(Change.risk_level == risk_level)
    if team:
        query = query.join(Team, Team.id == Change.owner_team_id).where(Team.name == team)
    if service:
        query = query.where(Change.id.in_(select(ChangeService.change_id).join(
            Service, Service.id == ChangeService.service_id).where(Service.name == service)))
    if q:
        query = query.where(text_search(q, Change.title, Change.description))
    if start is not None:
        query = query.where(Change.planned_end > start)
    if end is not None:
        query = query.where(Change.planned_start < end)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Change.id.desc()).limit(limit).offset(offset)).all()
    return total, list(rows)


def change_out(session: Session, change: Change, *, detail: bool = False) -> dict[str, Any]:
    services = list(session.scalars(select(Service.name).join(
        ChangeService, ChangeService.service_id == Service.id).where(
        ChangeService.change_id == change.id).order_by(Service.name)))
    team = session.get(Team, change.owner_team_id) if change.owner_team_id else None
    template = session.get(ChangeTemplate, change.template_id) if change.template_id else None
    out: dict[str, Any] = {
        "id": change.id, "number": f"CHG-{change.id}", "title": change.title,
        "model": change.model, "state": change.state, "outcome": change.outcome,
        "environment": change.environment, "team": team.name if team else None,
        "services": services, "template": template.name if template else None,
        "author": change.author,
        "risk": {"score": change.risk_score, "level": change.risk_level,
                 "factors": change.risk_factors or []},
        "auto_approved": change.auto_approved,
        # a production deployment of this change ran without its approval
        "unauthorised": session.scalar(select(Deployment.id).where(
            Deployment.change_id == change.id, Deployment.unauthorised.is_(True))
            .limit(1)) is not None,
        "planned_start": isoformat_z(change.planned_start),
        "planned_end": isoformat_z(change.planned_end),
        "actual_start": isoformat_z(change.actual_start),
        "actual_end": isoformat_z(change.actual_end),
        "links": change.links or {}, "source": change.source,
        "created_at": isoformat_z(change.created_at),
        "closed_at": isoformat_z(change.closed_at),
    }
    if detail:
        out["description"] = change.description
        out["policy"] = change.policy or {}
        out["approvals"] = [
            {"user": a.username, "team": a.team, "decision": a.decision, "comment": a.comment,
             "at": isoformat_z(a.at)}
            for a in session.scalars(select(Approval).where(Approval.change_id == change.id)
                                     .order_by(Approval.at))]
        out["deployments"] = [
            {"id": d.id, "version": d.version, "status": d.status,
             "environment": d.environment, "unauthorised": d.unauthorised,
             "finished_at": isoformat_z(d.finished_at)}
            for d in session.scalars(select(Deployment).where(Deployment.change_id == change.id)
                                     .order_by(Deployment.id))]
    return out


# ServiceNow-style change success score: what each closed change adds.
OUTCOME_POINTS = {"successful": 3, "successful_with_issues": -2, "failed": -5,
                  "rolled_back": -5}


def success_scores(session: Session, *, days: int = 90,
                   team: str | None = None) -> list[dict[str, Any]]:
    """Per team: closed changes by outcome, success rate and score over ``days``.

    Incidents caused by a change take points off too (-10 P1, -5 P2, -2 P3)
    once incident management records causes.
    """
    from datetime import timedelta

    from steward.timeutil import utcnow

    since = utcnow() - timedelta(days=days)
    query = (select(Team.name, Change.outcome, func.count())
             .join(Team, Team.id == Change.owner_team_id)
             .where(Change.state == "closed", Change.closed_at >= since)
             .group_by(Team.name, Change.outcome))
    if team:
        query = query.where(Team.name == team)
    by_team: dict[str, dict[str, int]] = {}
    for name, outcome, count in session.execute(query):
        by_team.setdefault(name, {})[outcome or "successful"] = int(count)
    out = []
    for name in sorted(by_team):
        outcomes = by_team[name]
        closed = sum(outcomes.values())
        successful = outcomes.get("successful", 0) + outcomes.get("successful_with_issues", 0)
        out.append({"team": name, "days": days, "closed": closed, "outcomes": outcomes,
                    "success_rate": successful / closed if closed else None,
                    "score": sum(OUTCOME_POINTS.get(o, 0) * n for o, n in outcomes.items())})
    return out
