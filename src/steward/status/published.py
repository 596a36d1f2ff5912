"""Which services the status page publishes, under which names: the one rule the page,
the Statuspage API, updates and subscriptions all read.

A ``business_service`` is published under its own name unless a component row says
published=False; any other service only with a row saying published=True. A row's name
"" means the catalog's name (its display name when it has one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.catalog.models import Service
from steward.status.models import StatusComponent
from steward.timeutil import as_utc


@dataclass(frozen=True)
class Published:
    service_id: int
    name: str  # the public name
    catalog_name: str
    group_name: str
    position: int
    description: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None  # the later of the service's and its row's


def published_components(session: Session) -> list[Published]:
    """Every published component, ordered as the page orders them (group, position,
    name)."""
    rows = session.execute(
        select(Service.id, Service.name, Service.display_name, Service.kind,
               Service.created_at, Service.updated_at,
               StatusComponent.published, StatusComponent.name, StatusComponent.group_name,
               StatusComponent.position, StatusComponent.description,
               StatusComponent.updated_at)
        .outerjoin(StatusComponent, StatusComponent.service_id == Service.id)).all()
    out = []
    for (sid, name, display, kind, created, updated, published, public, group, position,
         description, row_updated) in rows:
        if not (published if published is not None else kind == "business_service"):
            continue
        changed = max(as_utc(updated), as_utc(row_updated or updated))
        out.append(Published(sid, public or display or name, name, group or "",
                             position or 0, description or "", as_utc(created), changed))
    return sorted(out, key=lambda p: (p.group_name.lower(), p.position, p.name.lower()))


def names_of(components: list[Published]) -> dict[str, int]:
    """Each component by the names it answers to (public and catalog, lower case)."""
    found: dict[str, int] = {}
    for c in components:
        found.setdefault(c.catalog_name.lower(), c.service_id)
    for c in components:
        found[c.name.lower()] = c.service_id
    return found
