"""Atlassian Statuspage's public API (v2) shapes, from the status page's data.

Pure: takes the dict ``steward.status.queries.page`` makes and returns the JSON
bodies of ``/api/v2/*.json``, with exactly the keys and value types of Statuspage's
documented examples, so widgets and monitors written for Statuspage read Steward's.
Maintenance is a Statuspage "scheduled incident": its updates are ``incident_updates``
and its impact ``none`` (Statuspage's examples) unless components go under maintenance.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from steward.timeutil import isoformat_z


def _time(value: datetime | None) -> str | None:
    return isoformat_z(value) if value is not None else None


def page_shape(data: dict[str, Any], url: str) -> dict[str, Any]:
    return {"id": data["id"], "name": data["name"], "url": url,
            "updated_at": _time(data["updated_at"])}


def status_shape(data: dict[str, Any]) -> dict[str, Any]:
    indicator = data["indicator"]
    return {"description": data["description"], "indicator": indicator}


def component_shape(component: dict[str, Any], page_id: str) -> dict[str, Any]:
    return {"created_at": _time(component["created_at"]),
            "description": component["description"], "id": component["id"],
            "name": component["name"], "page_id": page_id,
            "position": component["order"], "status": component["status"],
            "updated_at": _time(component["updated_at"])}


def incident_shape(incident: dict[str, Any], page_id: str, url: str) -> dict[str, Any]:
    return {
        "created_at": _time(incident["created_at"]), "id": incident["id"],
        "impact": incident["impact"],
        "incident_updates": [{
            "body": u["body"], "created_at": _time(u["created_at"]),
            "display_at": _time(u["created_at"]), "id": u["id"],
            "incident_id": incident["id"], "status": u["status"],
            "updated_at": _time(u["created_at"])} for u in incident["updates"]],
        "monitoring_at": _time(incident["monitoring_at"]), "name": incident["name"],
        "page_id": page_id, "resolved_at": _time(incident["resolved_at"]),
        "shortlink": f"{url}/status/incidents/{incident['id']}",
        "status": incident["status"], "updated_at": _time(incident["updated_at"]),
    }


def maintenance_shape(work: dict[str, Any], page_id: str, url: str) -> dict[str, Any]:
    # One update: the state the window is in now, as of the last change to it.
    changed = work["updated_at"]
    return {
        "created_at": _time(work["created_at"]), "id": work["id"],
        "impact": "maintenance" if work["status"] == "in_progress" else "none",
        "incident_updates": [{
            "body": work["body"], "created_at": _time(changed), "display_at": _time(changed),
            "id": f"{work['id']}-{work['status']}", "incident_id": work["id"],
            "status": work["status"], "updated_at": _time(changed)}],
        "monitoring_at": None, "name": work["name"], "page_id": page_id,
        "resolved_at": _time(work["resolved_at"]),
        "scheduled_for": _time(work["scheduled_for"]),
        "scheduled_until": _time(work["scheduled_until"]),
        "shortlink": f"{url}/status#{work['id']}",
        "status": work["status"], "updated_at": _time(changed),
    }


def _base(data: dict[str, Any], url: str) -> dict[str, Any]:
    return {"page": page_shape(data, url)}


def status_json(data: dict[str, Any], url: str) -> dict[str, Any]:
    return {**_base(data, url), "status": status_shape(data)}


def components_json(data: dict[str, Any], url: str) -> dict[str, Any]:
    return {**_base(data, url),
            "components": [component_shape(c, data["id"]) for c in data["components"]]}


def incidents_json(data: dict[str, Any], url: str, *, unresolved: bool = False
                   ) -> dict[str, Any]:
    chosen = data["unresolved"] if unresolved else data["incidents"]
    return {**_base(data, url),
            "incidents": [incident_shape(i, data["id"], url) for i in chosen]}


MAINTENANCE_VIEWS = {"all": None, "upcoming": ("scheduled",),
                     "active": ("in_progress", "verifying")}


def maintenances_json(data: dict[str, Any], url: str, view: str = "all") -> dict[str, Any]:
    wanted = MAINTENANCE_VIEWS[view]
    chosen = [m for m in data["maintenances"] if wanted is None or m["status"] in wanted]
    return {**_base(data, url),
            "scheduled_maintenances": [maintenance_shape(m, data["id"], url) for m in chosen]}


def summary_json(data: dict[str, Any], url: str) -> dict[str, Any]:
    """The page, its status, components, unresolved incidents, and upcoming or
    in-progress maintenance."""
    return {**_base(data, url), "status": status_shape(data),
            "components": [component_shape(c, data["id"]) for c in data["components"]],
            "incidents": [incident_shape(i, data["id"], url) for i in data["unresolved"]],
            "scheduled_maintenances": [
                maintenance_shape(m, data["id"], url) for m in data["maintenances"]
                if m["status"] in ("scheduled", "in_progress", "verifying")]}
