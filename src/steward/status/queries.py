"""Reads for the public status page: plain data, a handful of statements per page.

``page(session, now)`` is everything ``/status`` and the Statuspage API show, as one
dict; the routers and pages keep it a second or two (``steward.status.cache``), so these
reads run at most once per process every few seconds however many people look.
Nothing internal is in it: published components under their public names, incidents
only through their public updates, maintenance only by component and window.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from steward.catalog.models import Service
from steward.changes.models import Change, ChangeService
from steward.errors import NotFound
from steward.incidents.health_queries import health_by_id
from steward.incidents.models import Incident, IncidentService
from steward.status import maintenance as maint
from steward.status import public, published
from steward.status.models import StatusUpdate
from steward.status.uptime import DAYS, Outage, daily_uptime, overall_uptime
from steward.timeutil import as_utc, utcnow

PAGE_ID = "steward"
PAGE_NAME = "Steward status"
RECENT_RESOLVED = timedelta(days=7)  # resolved incidents the front page still lists
HISTORY_LIMIT = 50  # incidents in incidents.json and the feeds, as Statuspage lists


def published_components(session: Session) -> list[dict[str, Any]]:
    """Every published component (``published``), in page order, as the page shows it."""
    out = [{"id": public.component_public_id(c.service_id), "service_id": c.service_id,
            "name": c.name, "description": c.description or None, "group": c.group_name,
            "position": c.position, "created_at": c.created_at, "updated_at": c.updated_at}
           for c in published.published_components(session)]
    for index, component in enumerate(out, start=1):
        component["order"] = index
    return out


def _updates_by_incident(session: Session, incident_ids: Iterable[int] | None = None,
                         ) -> dict[int, list[Any]]:
    query = select(StatusUpdate).order_by(StatusUpdate.created_at, StatusUpdate.id)
    if incident_ids is not None:
        query = query.where(StatusUpdate.incident_id.in_(list(incident_ids)))
    found: dict[int, list[Any]] = {}
    for update in session.scalars(query):
        found.setdefault(update.incident_id, []).append(update)
    return found


def _named_components(update: Any, by_service: dict[int, dict[str, Any]]
                      ) -> list[dict[str, Any]]:
    """The published components an update names, with the status it gave each; a
    service removed from the catalog, or no longer published, is left out."""
    out = []
    for item in update.components or []:
        try:
            component = by_service.get(int(item.get("service_id")))
        except (TypeError, ValueError, AttributeError):
            continue
        if component is None:
            continue
        status = item.get("status")
        out.append({"id": component["id"], "name": component["name"],
                    "status": status if status in public.COMPONENT_STATUSES else None})
    return out


def _public_incident(incident_id: int, updates: list[Any],
                     by_service: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """A public incident from its updates (oldest first): the latest's name, status and
    impact; created when the first was published."""
    first, latest = updates[0], updates[-1]
    resolved = latest.status == "resolved"
    monitoring = next((as_utc(u.created_at) for u in updates if u.status == "monitoring"), None)
    components: dict[str, dict[str, Any]] = {}
    for update in updates:
        for named in _named_components(update, by_service):
            components[named["id"]] = {"id": named["id"], "name": named["name"]}
    return {
        "id": public.incident_public_id(incident_id), "incident_id": incident_id,
        "name": latest.title, "status": latest.status, "impact": latest.impact,
        "created_at": as_utc(first.created_at), "updated_at": as_utc(latest.created_at),
        "monitoring_at": monitoring,
        "resolved_at": as_utc(latest.created_at) if resolved else None,
        "components": list(components.values()),
        "stated": [] if resolved else _named_components(latest, by_service),
        "updates": [{
            "id": f"u{u.id}", "status": u.status, "body": u.body,
            "created_at": as_utc(u.created_at),
            "components": _named_components(u, by_service)} for u in reversed(updates)],
    }


def public_incidents(session: Session, components: list[dict[str, Any]],
                     ) -> list[dict[str, Any]]:
    """Every public incident, newest first."""
    by_service = {c["service_id"]: c for c in components}
    found = [_public_incident(i, ups, by_service)
             for i, ups in _updates_by_incident(session).items()]
    found.sort(key=lambda i: (i["created_at"], i["incident_id"]), reverse=True)
    return found


def maintenances(session: Session, components: list[dict[str, Any]], now: datetime,
                 ) -> list[dict[str, Any]]:
    """Public maintenance from approved changes with a planned window on published
    components, soonest first."""
    by_service = {c["service_id"]: c for c in components}
    if not by_service:
        return []
    rows = session.execute(
        select(Change.id, Change.state, Change.planned_start, Change.planned_end,
               Change.actual_start, Change.actual_end, Change.closed_at, Change.created_at,
               Change.updated_at, ChangeService.service_id)
        .join(ChangeService, ChangeService.change_id == Change.id)
        .where(Change.state.in_(maint.CHANGE_STATES_SHOWN),
               Change.planned_start.is_not(None), Change.planned_end.is_not(None),
               Change.planned_end >= now - timedelta(days=DAYS),
               ChangeService.service_id.in_(list(by_service)))).all()
    changes: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = changes.setdefault(row.id, {"row": row, "services": []})
        entry["services"].append(row.service_id)
    out = []
    for change_id, entry in changes.items():
        row = entry["row"]
        planned = maint.PlannedChange(
            id=change_id, state=row.state, planned_start=row.planned_start,
            planned_end=row.planned_end, actual_start=row.actual_start,
            actual_end=row.actual_end, closed_at=row.closed_at)
        status = maint.maintenance_status(planned, now)
        if status is None:
            continue
        named = sorted((by_service[s] for s in set(entry["services"])),
                       key=lambda c: c["order"])
        out.append({
            "id": public.maintenance_public_id(change_id), "change_id": change_id,
            "name": maint.public_name([c["name"] for c in named]), "status": status,
            "impact": "maintenance",
            "body": maint.public_body(status, row.planned_start, row.planned_end),
            "scheduled_for": as_utc(row.planned_start),
            "scheduled_until": as_utc(row.planned_end),
            "created_at": as_utc(row.created_at), "updated_at": as_utc(row.updated_at),
            "resolved_at": maint.ended_at(planned) if status == "completed" else None,
            "components": [{"id": c["id"], "name": c["name"]} for c in named],
        })
    out.sort(key=lambda m: (m["scheduled_for"], m["change_id"]))
    return out


def outages(session: Session, components: list[dict[str, Any]], now: datetime,
            ) -> dict[int, list[Outage]]:
    """Each published component's outages in the last ``DAYS`` days, by service id:
    the incidents that held its service (its state in each), and for a business
    service the incidents whose impact analysis found it down or degraded."""
    ids = [c["service_id"] for c in components]
    found: dict[int, list[Outage]] = {i: [] for i in ids}
    if not ids:
        return found
    since = now - timedelta(days=DAYS)
    recent = or_(Incident.resolved_at.is_(None), Incident.resolved_at >= since)

    def end_of(mitigated: datetime | None, resolved: datetime | None) -> datetime | None:
        ends = [as_utc(v) for v in (mitigated, resolved) if v is not None]
        return min(ends) if ends else None

    for row in session.execute(
            select(IncidentService.service_id, IncidentService.first_alert_at,
                   Incident.id, Incident.started_at, Incident.mitigated_at,
                   Incident.resolved_at, Incident.service_impacts)
            .join(Incident, Incident.id == IncidentService.incident_id)
            .where(IncidentService.service_id.in_(ids), recent)):
        # Stored before incidents kept each service's state: a named service counts down.
        impact = (row.service_impacts or {}).get(str(row.service_id), "down")
        if impact in ("down", "degraded"):
            start = row.first_alert_at or row.started_at
            found[row.service_id].append(
                Outage(as_utc(start), end_of(row.mitigated_at, row.resolved_at), impact))
    business = {c["service_id"] for c in components}
    names = {name: sid for name, sid in session.execute(select(Service.name, Service.id)
                                 .where(Service.id.in_(list(business)),
                                        Service.kind == "business_service"))}
    if names:
        for row in session.execute(
                select(Incident.started_at, Incident.mitigated_at, Incident.resolved_at,
                       Incident.business_services).where(recent)):
            for impact in ("down", "degraded"):
                for name in (row.business_services or {}).get(impact, []):
                    if name in names:
                        found[names[name]].append(Outage(
                            as_utc(row.started_at), end_of(row.mitigated_at, row.resolved_at),
                            impact))
    return found


def page(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """Everything the public page shows, as plain data: components with their status
    and 90 days of uptime, unresolved and recent public incidents, maintenance, and the
    page's indicator."""
    now = as_utc(now or utcnow())
    components = published_components(session)
    health = health_by_id(session) if components else {}
    incidents = public_incidents(session, components)
    unresolved = [i for i in incidents if i["resolved_at"] is None]
    works = maintenances(session, components, now)
    in_maintenance = {c["id"] for m in works if m["status"] == "in_progress"
                      for c in m["components"]}
    stated: dict[str, list[str]] = {}
    for incident in unresolved:
        for named in incident["stated"]:
            if named["status"]:
                stated.setdefault(named["id"], []).append(named["status"])
    held = outages(session, components, now)
    for component in components:
        found = health.get(component["service_id"])
        component["status"] = public.component_status(
            found.state if found else "unknown", stated.get(component["id"], ()),
            in_maintenance=component["id"] in in_maintenance)
        component["days"] = daily_uptime(held[component["service_id"]], now)
        component["uptime"] = overall_uptime(held[component["service_id"]], now)
    indicator, description = public.indicator(
        [c["status"] for c in components], [i["impact"] for i in unresolved],
        maintenance_in_progress=bool(in_maintenance))
    return {
        "id": PAGE_ID, "name": PAGE_NAME, "updated_at": now, "now": now,
        "indicator": indicator, "description": description,
        "components": components,
        "incidents": incidents[:HISTORY_LIMIT],
        "unresolved": unresolved,
        "recent": [i for i in incidents if i["resolved_at"] is not None
                   and i["resolved_at"] >= now - RECENT_RESOLVED],
        "maintenances": works,
    }


def component_history(page_data: dict[str, Any], public_id: str) -> dict[str, Any]:
    """One component of a computed page, with the public incidents that named it;
    NotFound (field ``component``) when nothing published has that id."""
    component = next((c for c in page_data["components"] if c["id"] == public_id), None)
    if component is None:
        raise NotFound(f"no published component {public_id!r}", field="component")
    return {"component": component,
            "incidents": [i for i in page_data["incidents"]
                          if any(c["id"] == public_id for c in i["components"])],
            "maintenances": [m for m in page_data["maintenances"]
                             if any(c["id"] == public_id for c in m["components"])]}


def incident_public(page_data: dict[str, Any], public_id: str) -> dict[str, Any]:
    """One public incident of a computed page; NotFound (field ``incident``) when no
    incident with that id has a public update."""
    found = next((i for i in page_data["incidents"] if i["id"] == public_id), None)
    if found is None:
        raise NotFound(f"no public incident {public_id!r}", field="incident")
    return found
