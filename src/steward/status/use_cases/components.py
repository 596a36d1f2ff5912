"""Which services the public status page shows, and how: admins only, audited.

A business service is published unless a row hides it; any other service only with a
row that publishes it. Publishing a service that has no row yet makes one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.catalog.models import Service
from steward.errors import NotFound
from steward.status.admin_queries import settings_of
from steward.status.models import StatusComponent
from steward.status.schemas import ComponentSettings
from steward.timeutil import utcnow


def set_component(session: Session, actor: Actor, service_name: str,
                  data: ComponentSettings) -> dict[str, Any]:
    """Change how the status page shows ``service_name``; NotFound (field ``service``)
    when the catalog has no such service."""
    actor.require_admin("change what the status page publishes")
    service = session.scalar(select(Service).where(Service.name == service_name))
    if service is None:
        raise NotFound(f"service {service_name!r} does not exist", field="service")
    row = session.get(StatusComponent, service.id)
    before = settings_of(service, row)
    if row is None:
        row = StatusComponent(service_id=service.id, published=before["published"], name="",
                              description="", group_name="", position=0)
        session.add(row)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "published" in changes:
        row.published = changes["published"]
    for field, column in (("name", "name"), ("description", "description"),
                          ("group", "group_name"), ("position", "position")):
        if field in changes:
            setattr(row, column, changes[field])
    row.updated_at = utcnow()
    session.flush()
    after = settings_of(service, row)
    audit.record(session, actor, "status.component.update", "service", service.id,
                 before=before, after=after)
    return after
