"""CDEvents out: an incident detected or resolved, as a CDEvents v0.5.1 event sent in
CloudEvents binary mode (``ce-*`` headers, the CDEvent as the JSON body). Pure.

Steward's incidents are about production services: the event's environment is
``production``; its service is the incident's first affected service.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

SPEC_VERSION = "0.5.1"
EVENT_TYPES = {
    "incident.triggered": "dev.cdevents.incident.detected.0.3.0",
    "incident.resolved": "dev.cdevents.incident.resolved.0.3.0",
}
ENVIRONMENT = "production"


def event_id(source: str, notification_id: int) -> str:
    """The same id on every attempt of one notification (receivers drop repeats)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source}#notification-{notification_id}"))


def render_cdevent(event_type: str, body: dict[str, Any], *, source: str,
                   notification_id: int) -> dict[str, Any]:
    cd_type = EVENT_TYPES.get(event_type)
    if cd_type is None:
        raise ValueError(f"no CDEvent for {event_type}: only "
                         f"{', '.join(EVENT_TYPES)}")
    incident = body.get("incident") or {}
    content: dict[str, Any] = {
        "description": str(incident.get("title") or incident.get("number") or "incident"),
        "environment": {"id": ENVIRONMENT, "source": source},
    }
    services = incident.get("services") or []
    if services:
        content["service"] = {"id": str(services[0]), "source": source}
    return {
        "context": {"specversion": SPEC_VERSION, "id": event_id(source, notification_id),
                    "source": source, "type": cd_type, "timestamp": body["at"]},
        "subject": {"id": str(incident.get("number") or "incident"), "source": source,
                    "content": content},
        "customData": {"steward": {
            "number": incident.get("number"), "priority": incident.get("priority"),
            "status": incident.get("status"), "services": services,
            "url": incident.get("url")}},
        "customDataContentType": "application/json",
    }


def cloudevent_headers(event: dict[str, Any]) -> dict[str, str]:
    context = event["context"]
    return {"Content-Type": "application/json", "ce-specversion": "1.0",
            "ce-id": context["id"], "ce-source": context["source"],
            "ce-type": context["type"], "ce-time": context["timestamp"],
            "User-Agent": "Steward-CDEvents/1"}


def cdevent_body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
