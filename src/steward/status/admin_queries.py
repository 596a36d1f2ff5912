"""Reads for the status page's administration: every service's publishing settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.catalog.models import Service
from steward.status.models import StatusComponent
from steward.status.public import component_public_id


def settings_of(service: Any, row: StatusComponent | None) -> dict[str, Any]:
    """A service's status page settings as the API shows them."""
    published = row.published if row is not None else service.kind == "business_service"
    name = row.name if row is not None else ""
    return {
        "service": service.name, "kind": service.kind, "published": bool(published),
        "public_id": component_public_id(service.id),
        "public_name": name or service.display_name or service.name, "name": name,
        "description": row.description if row is not None else "",
        "group": row.group_name if row is not None else "",
        "position": row.position if row is not None else 0,
    }


def component_settings(session: Session, *, published_only: bool = False
                       ) -> list[dict[str, Any]]:
    """Every service's settings (or only the published ones), by group, position, name."""
    rows = session.execute(
        select(Service, StatusComponent)
        .outerjoin(StatusComponent, StatusComponent.service_id == Service.id)).all()
    found = [settings_of(service, row) for service, row in rows]
    if published_only:
        found = [f for f in found if f["published"]]
    found.sort(key=lambda f: (not f["published"], f["group"].lower(), f["position"],
                              f["public_name"].lower()))
    return found
