"""Chat webhooks in the Slack incoming-webhook shape: ``text`` (the notification line every
client shows) and ``attachments`` with the details, which Slack, Mattermost and
Rocket.Chat all render. Pure."""

from __future__ import annotations

from typing import Any

COLOURS = {"P1": "#b91c1c", "P2": "#c2410c", "P3": "#a16207", "P4": "#4b5563"}
EVENT_WORDS = {
    "incident.triggered": "triggered", "incident.acknowledged": "acknowledged",
    "incident.escalated": "escalated", "incident.resolved": "resolved",
    "incident.page": "paged", "change.created": "created", "change.approved": "approved",
    "change.rejected": "rejected", "change.unauthorised": "deployed without authorisation",
}


def _escape(text: str) -> str:
    """Slack's three control characters in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_chat(event_type: str, body: dict[str, Any]) -> dict[str, Any]:
    incident = body.get("incident")
    change = body.get("change")
    word = EVENT_WORDS.get(event_type, event_type)
    if incident:
        subject = incident
        url = incident.get("url", "")
        head = (f"{incident.get('priority', '')} {incident.get('number', '')} {word}: "
                f"{incident.get('title', '')}")
        fields = [{"title": "Priority", "value": str(incident.get("priority", "")),
                   "short": True},
                  {"title": "Status", "value": str(incident.get("status", "")), "short": True}]
        if incident.get("services"):
            fields.append({"title": "Services", "value": ", ".join(incident["services"]),
                           "short": False})
        down = (incident.get("business_services") or {}).get("down") or []
        if down:
            fields.append({"title": "Business services down", "value": ", ".join(down),
                           "short": False})
        if incident.get("owner_team"):
            fields.append({"title": "Team", "value": str(incident["owner_team"]),
                           "short": True})
        colour = COLOURS.get(str(incident.get("priority")), "#4b5563")
    else:
        subject = change or {}
        url = subject.get("url", "")
        head = f"{subject.get('number', '')} {word}: {subject.get('title', '')}"
        fields = [{"title": "State", "value": str(subject.get("state", "")), "short": True},
                  {"title": "Risk", "value": str(subject.get("risk_level", "")),
                   "short": True}]
        if subject.get("services"):
            fields.append({"title": "Services", "value": ", ".join(subject["services"]),
                           "short": False})
        colour = "#b91c1c" if event_type == "change.unauthorised" else "#1d4ed8"
    reason = str(body.get("reason") or "")
    text = _escape(head) + (f" <{url}|Open in Steward>" if url else "")
    attachment: dict[str, Any] = {
        "fallback": head, "color": colour, "title": _escape(head), "fields": fields}
    if url:
        attachment["title_link"] = url
    if reason:
        attachment["text"] = _escape(reason)
    return {"text": text, "attachments": [attachment], "username": "Steward"}
