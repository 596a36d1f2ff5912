"""Public incident updates, without a database: the draft suggested from an incident, the
checks an update must pass before it is published, and the words of the emails sent to
subscribers. Pure: plain data in, plain data out.

A draft says what the public may know and nothing more: which published components are
affected and how, since when, and where the responders are (investigating, identified,
monitoring, resolved). It never names internal services, people, teams or the incident's
internal title or number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from steward.errors import ValidationError

UPDATE_STATES = ("investigating", "identified", "monitoring", "resolved")
IMPACTS = ("none", "minor", "major", "critical")
# A component's public status, as Atlassian Statuspage names them.
COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage",
                      "major_outage", "under_maintenance")
# An affected service's state in an incident, as the page shows it.
FROM_IMPACT = {"down": "major_outage", "degraded": "degraded_performance"}
TITLE_LENGTH = 200
BODY_LENGTH = 5000


@dataclass(frozen=True)
class Component:
    """A published component an incident affects: its id, public name and state
    ("down" or "degraded")."""

    service_id: int
    name: str
    state: str


@dataclass(frozen=True)
class IncidentFacts:
    """What a draft is made from. ``has_cause``: responders know why (a confirmed cause,
    or a fix recorded)."""

    status: str
    priority: str
    started_at: datetime
    has_cause: bool = False
    components: Sequence[Component] = field(default_factory=tuple)
    last_title: str = ""


def public_state(incident_status: str, has_cause: bool) -> str:
    """Where the responders are, in the public's words: investigating while triggered
    (or acknowledged without a known cause), identified once acknowledged with a cause,
    monitoring once mitigated, resolved once resolved or closed."""
    if incident_status in ("resolved", "closed"):
        return "resolved"
    if incident_status == "mitigated":
        return "monitoring"
    if incident_status == "acknowledged" and has_cause:
        return "identified"
    return "investigating"


def _names(components: Sequence[Component]) -> str:
    names = [c.name for c in components]
    if not names:
        return "some of our services"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _impact(priority: str, components: Sequence[Component]) -> str:
    if any(c.state == "down" for c in components):
        return "critical" if priority == "P1" else "major"
    return "minor"


def _clock(at: datetime) -> str:
    return at.strftime("%H:%M UTC on %d %B %Y").replace(" 0", " ")


def suggest(facts: IncidentFacts) -> dict[str, Any]:
    """The draft a person edits: status, title, body, impact and components (each with the
    status the update gives it)."""
    state = public_state(facts.status, facts.has_cause)
    components = sorted(facts.components, key=lambda c: c.name.lower())
    names = _names(components)
    down = any(c.state == "down" for c in components)
    verb = "is" if len(components) == 1 else "are"
    title = facts.last_title or (
        f"{names} {'unavailable' if down else 'degraded'}" if components
        else "Service disruption")
    since = _clock(facts.started_at)
    trouble = "failing" if down else "slower than usual or failing for some requests"
    bodies = {
        "investigating": f"We are investigating problems with {names}, which {verb} {trouble} "
                         f"since {since}. We will post an update as soon as we know more.",
        "identified": f"We have identified the cause of the problems with {names} (since "
                      f"{since}) and are working on a fix.",
        "monitoring": f"A fix has been applied and {names} {verb} recovering. We are "
                      "monitoring the results.",
        "resolved": f"This incident has been resolved: {names} {verb} operating normally "
                    "again.",
    }
    if state == "resolved":
        statuses = ["operational"] * len(components)
    elif state == "monitoring":
        statuses = ["degraded_performance"] * len(components)
    else:
        statuses = [FROM_IMPACT.get(c.state, "degraded_performance") for c in components]
    return {"status": state, "title": title[:TITLE_LENGTH], "body": bodies[state],
            "impact": "none" if state == "resolved" else _impact(facts.priority, components),
            "components": [{"service_id": c.service_id, "name": c.name, "status": s}
                           for c, s in zip(components, statuses, strict=True)]}


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{name}: text expected", field=name)
    return value.strip()


def check_update(data: Mapping[str, Any], *, last_title: str, names: Mapping[str, int],
                 default_status: Mapping[int, str]) -> dict[str, Any]:
    """An update as it will be stored, or a :class:`ValidationError` naming the field.

    ``data``: status, body, and optionally title (required for an incident's first
    update, which has no ``last_title``; a later one keeps the last title unless given),
    impact, and components: a list of names or of ``{"name": ..., "status": ...}``.
    ``names``: the published components, by lower-case public and catalog name.
    ``default_status``: the status of a component named without one (the suggestion's)."""
    status = _text(data, "status")
    if status not in UPDATE_STATES:
        raise ValidationError(f"status: one of {', '.join(UPDATE_STATES)}", field="status")
    body = _text(data, "body")
    if not body:
        raise ValidationError("body: an update needs some text for the public",
                              field="body")
    if len(body) > BODY_LENGTH:
        raise ValidationError(f"body: at most {BODY_LENGTH} characters", field="body")
    title = _text(data, "title") or last_title
    if not title:
        raise ValidationError("title: the first public update of an incident needs a "
                              "title", field="title")
    if len(title) > TITLE_LENGTH:
        raise ValidationError(f"title: at most {TITLE_LENGTH} characters", field="title")
    impact = _text(data, "impact") or ("none" if status == "resolved" else "minor")
    if impact not in IMPACTS:
        raise ValidationError(f"impact: one of {', '.join(IMPACTS)}", field="impact")
    return {"status": status, "title": title, "body": body, "impact": impact,
            "components": _components(data.get("components") or [], status, names,
                                      default_status)}


def _components(raw: Any, status: str, by_name: Mapping[str, int],
                default_status: Mapping[int, str]) -> list[dict[str, Any]]:
    if not isinstance(raw, (list, tuple)):
        raise ValidationError("components: a list of component names", field="components")
    out: dict[int, str] = {}
    for item in raw:
        if isinstance(item, str):
            name, given = item, ""
        elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
            name, given = item["name"], str(item.get("status") or "")
        else:
            raise ValidationError("components: each a name or {name, status}",
                                  field="components")
        service_id = by_name.get(name.strip().lower())
        if service_id is None:
            raise ValidationError(f"components: {name.strip()!r} is not a published "
                                  "component of the status page", field="components")
        if given and given not in COMPONENT_STATUSES:
            raise ValidationError(f"components: the status of {name.strip()!r} must be one "
                                  f"of {', '.join(COMPONENT_STATUSES)}", field="components")
        if not given:  # as the suggestion would give it for this update's status
            given = {"resolved": "operational", "monitoring": "degraded_performance"}.get(
                status) or default_status.get(service_id, "partial_outage")
        out[service_id] = given
    return [{"service_id": sid, "status": s} for sid, s in out.items()]


def timeline_text(update: Mapping[str, Any], automatic: bool) -> str:
    how = " automatically (the team's P1 policy)" if automatic else ""
    return (f"Public update published{how}: {update['status']} \u2014 {update['title']}: "
            f"{update['body'][:300]}")
