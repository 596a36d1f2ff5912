"""What the incident pages share: badges in text and colour, relative times, the
open-incident count in the navigation, and the affected part of the system map."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData

from steward.catalog.impact import Graph, analyse
from steward.db import Session
from steward.errors import ValidationError
from steward.incidents import queries
from steward.timeutil import as_utc, parse_timestamp, utcnow
from steward.web.guard import form_text
from steward.web.impact_view import affected_drawing
from steward.web.render import TEMPLATES

# (tone, label): the tone picks the colour, the label says the same in words.
INCIDENT_BADGES: dict[str, dict[str, tuple[str, str]]] = {
    "status": {
        "triggered": ("bad", "! triggered"),
        "acknowledged": ("warn", "acknowledged"),
        "mitigated": ("info", "mitigated"),
        "resolved": ("ok", "\u2713 resolved"),
        "closed": ("muted", "closed"),
    },
    "alert": {
        "firing": ("bad", "! firing"),
        "acknowledged": ("warn", "acknowledged"),
        "resolved": ("ok", "\u2713 resolved"),
    },
    "severity": {
        "critical": ("bad", "critical"),
        "error": ("bad", "error"),
        "warning": ("warn", "warning"),
        "info": ("info", "info"),
    },
}
PRIORITY_WORDS = {"P1": "critical", "P2": "high", "P3": "moderate", "P4": "low",
                  "P5": "planning"}
LEVEL_WORDS = {1: "1 high", 2: "2 medium", 3: "3 low"}
TIMELINE_KINDS = {
    "alert": ("\u26a0", "alert"),
    "state": ("\u21c4", "status"),
    "note": ("\u270e", "note"),
    "assignment": ("\u263a", "assignment"),
    "priority": ("\u2195", "priority"),
    "cause": ("\u2731", "cause"),
    "fix": ("\u2713", "fix"),
    "origin": ("\u25ce", "origin"),
    "team": ("\u2691", "team"),
    "recurrence": ("\u21bb", "recurrence"),
    "escalation": ("\u21d1", "escalation"),
    "sla": ("\u23f1", "SLA"),
    "public_update": ("\u2691", "public update"),
}


def incident_badge_parts(kind: str, value: str | None) -> tuple[str, str]:
    if not value:
        return "neutral", ""
    return INCIDENT_BADGES.get(kind, {}).get(value, ("neutral", value.replace("_", " ")))


def timeline_kind(kind: str) -> tuple[str, str]:
    return TIMELINE_KINDS.get(kind, ("\u2022", kind.replace("_", " ")))


def ago(value: str | datetime | None, now: datetime | None = None) -> str:
    """'4 min ago', '3 h ago', '6 d ago' (or 'in 12 min' for a deadline ahead)."""
    if not value:
        return ""
    moment = (parse_timestamp(value, field="time", bounded=False) if isinstance(value, str)
              else as_utc(value))
    seconds = int(((now or utcnow()) - moment).total_seconds())
    ahead, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        span = "less than a minute" if ahead else "just now"
        return f"in {span}" if ahead else span
    if seconds < 3600:
        span = f"{seconds // 60} min"
    elif seconds < 2 * 86400:
        hours, minutes = divmod(seconds // 60, 60)
        span = f"{hours} h {minutes} min" if hours < 6 and minutes else f"{hours} h"
    else:
        span = f"{seconds // 86400} d"
    return f"in {span}" if ahead else f"{span} ago"


def utc_text(value: str | None) -> str:
    """An ISO time from a view as '2026-03-02 10:05:00 UTC'."""
    if not value:
        return ""
    return parse_timestamp(value, field="time", bounded=False).strftime("%Y-%m-%d %H:%M:%S UTC")


def level_from(form: FormData, field: str) -> int | None:
    """Impact or urgency from a select: 1 (high) to 3 (low); '' or 'auto' is None."""
    raw = form_text(form, field)
    if raw in ("", "auto"):
        return None
    if raw not in ("1", "2", "3"):
        raise ValidationError(f"{field}: 1 (high) to 3 (low)", field=field)
    return int(raw)


def nav_counts(session: Session) -> dict[str, int]:
    """What the navigation shows beside "Incidents", counted in the handler's session."""
    return {"nav_open_incidents": queries.count_open_incidents(session)}


TEMPLATES.env.globals["incident_badge_parts"] = incident_badge_parts
TEMPLATES.env.globals["timeline_kind"] = timeline_kind
TEMPLATES.env.globals["priority_words"] = PRIORITY_WORDS
TEMPLATES.env.globals["level_words"] = LEVEL_WORDS
TEMPLATES.env.filters["ago"] = ago
TEMPLATES.env.filters["utc_text"] = utc_text



def failing_map_href(names: Sequence[str]) -> str:
    return "/map?failing=" + quote(",".join(names), safe=",")


def affected_map(graph: Graph, names: Sequence[str], origin: str | None,
                 title: str, states: Mapping[int, str] | None = None) -> dict[str, Any]:
    """The incident's services in the states their alerts give them (``states``: service
    id to "down", "degraded" or "none"; failing when not given) and what that takes down
    or degrades up to the business services, the origin outlined."""
    known = [graph.by_name[n] for n in names if n in graph.by_name]
    if not known:
        return {"svg": "", "affected": [], "href": ""}
    impacts = states or {}
    down = [i for i in known if impacts.get(i, "down") == "down"]
    degraded = [i for i in known if impacts.get(i) == "degraded"]
    affected, svg = affected_drawing(graph, analyse(graph, down, degraded),
                                     graph.by_name.get(origin or ""), title, "incident-map")
    return {"svg": svg, "affected": affected,
            "href": failing_map_href([graph.cis[i].name for i in known])}
