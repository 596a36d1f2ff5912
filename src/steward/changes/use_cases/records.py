"""Standard-change templates and calendar windows: creating them, removing a window."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.catalog.models import Service, Team
from steward.changes.assessment import pure_window
from steward.changes.models import CalendarWindow, ChangeTemplate, TemplateService
from steward.changes.schemas import TemplateCreate, WindowCreate
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


# How a template and a window are shown (and audited); changes.queries shows them so too.
def template_out(session: Session, template: ChangeTemplate) -> dict[str, Any]:
    services = list(session.scalars(select(Service.name).join(
        TemplateService, TemplateService.service_id == Service.id).where(
        TemplateService.template_id == template.id).order_by(Service.name)))
    owner = session.get(Team, template.owner_team_id) if template.owner_team_id else None
    return {"id": template.id, "name": template.name, "description": template.description,
            "risk_ceiling": template.risk_ceiling, "services": services,
            "owner": owner.name if owner else None, "active": template.active}


def window_out(row: CalendarWindow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "kind": row.kind, "scope": row.scope_kind,
            "scope_values": list(row.scope_values or []),
            "starts_at": isoformat_z(row.starts_at), "ends_at": isoformat_z(row.ends_at),
            "weekdays": list(row.weekdays or []), "start_time": row.start_time,
            "duration_minutes": row.duration_minutes, "timezone": row.timezone}
