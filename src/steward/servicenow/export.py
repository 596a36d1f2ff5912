"""Reading a ServiceNow incident export: rows in, Steward incident fields out.

Pure logic: no database, no web. The export is a CSV of the standard
``incident`` table fields, either an event log (one row per update of an
incident, ``sys_mod_count`` counting the updates) or one row per incident.
Missing values are written ``?`` (or left empty); times are ``D/M/YYYY HH:MM``
local to a zone the caller names. Each row is parsed on its own, so a bad row
is reported with its reason and the others still count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from steward.inputs import in_range

SOURCE = "servicenow"
TIMELINE_KIND = "servicenow"
MISSING = frozenset({"", "?"})
REQUIRED_COLUMNS = ("number", "opened_at")
# Columns kept as text (people only ever reach the timeline's data).
TEXT_FIELDS = ("short_description", "description", "category", "subcategory", "u_symptom",
               "cmdb_ci", "assignment_group", "assigned_to", "caller_id", "opened_by",
               "sys_updated_by", "resolved_by", "contact_type", "location", "problem_id",
               "rfc", "caused_by", "closed_code", "vendor", "close_notes")

# ServiceNow's incident states (labels, and the numbers of a raw export) -> Steward.
STATE_MAP = {
    "new": "triggered", "1": "triggered",
    "active": "acknowledged", "in progress": "acknowledged", "2": "acknowledged",
    "on hold": "acknowledged", "3": "acknowledged",
    "resolved": "resolved", "6": "resolved",
    "closed": "closed", "7": "closed",
    "canceled": "closed", "cancelled": "closed", "8": "closed",
}
OPEN = ("triggered", "acknowledged")
_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?")
_ISO_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?")
_LEVEL = re.compile(r"([1-5])(?:\s*-.*)?")
_SLUG = re.compile(r"[^a-z0-9._-]+")


class RowError(Exception):
    """A row that cannot be imported: ``reason`` is what summaries count by."""

    def __init__(self, field: str, reason: str, value: str = ""):
        self.field = field
        self.reason = f"{field}: {reason}"
        self.value = value
        shown = f" (got {value!r})" if value else ""
        super().__init__(self.reason + shown)


def zone_named(name: str) -> tzinfo:
    """The IANA time zone, or ``ValueError`` naming it."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"timezone: {name!r} is not an IANA time zone name "
                         "(e.g. UTC, Europe/Amsterdam)") from exc


class TimeReader:
    """ServiceNow's ``D/M/YYYY HH:MM`` local times as aware UTC datetimes.

    ``YYYY-MM-DD HH:MM:SS`` (ServiceNow's default date format) is read too;
    seconds are optional in both.

    Exports repeat the same few timestamps on many rows, so each text is
    converted once. An ambiguous local time (the hour repeated when clocks go
    back) is read as its first occurrence; a local time that does not exist
    (skipped when clocks go forward) is read with the offset before the change,
    as ServiceNow does, which lands it after the change.
    """

    def __init__(self, zone: tzinfo):
        self.zone = zone
        self._cache: dict[str, datetime] = {}

    def read(self, value: str, name: str) -> datetime | None:
        if value in MISSING:
            return None
        found = self._cache.get(value)
        if found is not None:
            return found
        text = value.strip()
        match = _TIME.fullmatch(text)
        if match is not None:
            day, month, year, hour, minute, second = match.groups()
        elif (iso := _ISO_TIME.fullmatch(text)) is not None:
            year, month, day, hour, minute, second = iso.groups()
        else:
            raise RowError(name, "not a time in the form D/M/YYYY HH:MM", value)
        try:
            local = datetime(int(year), int(month), int(day), int(hour), int(minute),
                             int(second or 0), tzinfo=self.zone)
            found = local.astimezone(UTC)
        except (ValueError, OverflowError) as exc:
            raise RowError(name, "not a valid date", value) from exc
        problem = in_range(found, name)
        if problem is not None:
            raise RowError(name, problem.removeprefix(f"{name}: "), value)
        self._cache[value] = found
        return found


def text_value(value: str) -> str | None:
    """``?`` and empty become None; runs of spaces (``Opened by  8``) become one."""
    if value in MISSING:
        return None
    if "  " not in value and value == value.strip():
        return value  # the usual case, without building a new string
    return " ".join(value.split()) or None


def slug(text: str) -> str:
    """A catalog name from a ServiceNow label: ``Group 56`` -> ``group-56``."""
    return _SLUG.sub("-", text.lower()).strip("-._")[:100] or "unnamed"


def _count(value: str, name: str) -> int:
    if value in MISSING:
        return 0
    try:
        number = int(value)
    except ValueError as exc:
        raise RowError(name, "not a whole number", value) from exc
    if number < 0:
        raise RowError(name, "must not be negative", value)
    return number


def _flag(value: str, name: str) -> bool | None:
    if value in MISSING:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise RowError(name, "not true or false", value)


_LEVELS: dict[tuple[str, int], int] = {}  # labels seen before: exports repeat a handful


def _level(value: str, name: str, top: int) -> int | None:
    """``2 - Medium`` -> 2; 1..top."""
    if value in MISSING:
        return None
    known = _LEVELS.get((value, top))
    if known is not None:
        return known
    match = _LEVEL.fullmatch(value.strip())
    if match is None or int(match.group(1)) > top:
        raise RowError(name, f"not a level 1..{top} (like '1 - High')", value)
    if len(_LEVELS) < 1000:
        _LEVELS[(value, top)] = int(match.group(1))
    return int(match.group(1))


@dataclass(slots=True)
class Header:
    columns: dict[str, int]
    width: int
    has_mod_count: bool
    text_columns: tuple[tuple[str, int], ...] = ()

    @classmethod
    def parse(cls, names: Sequence[str]) -> Header:
        columns: dict[str, int] = {}
        for index, raw in enumerate(names):
            name = raw.strip().lstrip("\ufeff").lower()
            columns.setdefault(name, index)
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise ValueError(f"header: the export has no {', '.join(missing)} column; a "
                             "ServiceNow incident export names its columns in the first line "
                             "(number, incident_state, opened_at, ...)")
        text_columns = tuple((n, columns[n]) for n in TEXT_FIELDS if n in columns)
        return cls(columns, len(names), "sys_mod_count" in columns, text_columns)


@dataclass(slots=True)
class Row:
    """One parsed row: an update of an incident (or the whole incident)."""

    line: int
    number: str
    state_label: str | None
    mapped_state: str | None  # None: a state Steward does not know (like -100)
    active: bool | None
    mod_count: int | None
    opened_at: datetime
    updated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    impact: int | None
    urgency: int | None
    priority: int | None
    made_sla: bool | None
    reassignment_count: int
    reopen_count: int
    text: dict[str, str | None]

    def order(self) -> tuple[int, datetime, int]:
        """Later rows win: ``sys_mod_count``, then ``sys_updated_at``, then file order."""
        return (*self.version(), self.line)

    def version(self) -> tuple[int, datetime]:
        """How recent the state in this row is, comparable across exports."""
        stamp = self.updated_at or self.opened_at
        return (-1 if self.mod_count is None else self.mod_count, stamp)



def parse_row(values: Sequence[str], header: Header, times: TimeReader, line: int) -> Row:
    """One CSV record as a :class:`Row`, or :class:`RowError` with the reason."""
    if len(values) != header.width:
        raise RowError("row", f"expected {header.width} fields, found {len(values)}")
    cols = header.columns

    def raw(name: str) -> str:
        index = cols.get(name)
        return values[index] if index is not None else ""

    number = text_value(raw("number"))
    if number is None:
        raise RowError("number", "missing")
    opened_at = times.read(raw("opened_at"), "opened_at")
    if opened_at is None:
        raise RowError("opened_at", "missing")
    state_label = text_value(raw("incident_state") or raw("state"))
    mapped = STATE_MAP.get(state_label.lower()) if state_label else None
    if mapped is None and state_label and state_label.lower().startswith("awaiting"):
        mapped = "acknowledged"
    mod = raw("sys_mod_count")
    return Row(
        line=line, number=number[:100], state_label=state_label, mapped_state=mapped,
        active=_flag(raw("active"), "active"),
        mod_count=None if mod in MISSING else _count(mod, "sys_mod_count"),
        opened_at=opened_at,
        updated_at=times.read(raw("sys_updated_at"), "sys_updated_at"),
        resolved_at=times.read(raw("resolved_at"), "resolved_at"),
        closed_at=times.read(raw("closed_at"), "closed_at"),
        impact=_level(raw("impact"), "impact", 3),
        urgency=_level(raw("urgency"), "urgency", 3),
        priority=_level(raw("priority"), "priority", 5),
        made_sla=_flag(raw("made_sla"), "made_sla"),
        reassignment_count=_count(raw("reassignment_count"), "reassignment_count"),
        reopen_count=_count(raw("reopen_count"), "reopen_count"),
        text={name: text_value(values[index]) for name, index in header.text_columns},
    )


# -- one incident from its rows ------------------------------------------------------

@dataclass
class Event:
    """A timeline entry for one row."""

    key: str
    at: datetime
    order: tuple[int, datetime, int]
    text: str
    data: dict[str, Any]


@dataclass
class IncidentPlan:
    number: str
    fields: dict[str, Any]
    team: str | None
    service: str | None
    problem: str | None
    events: list[Event]
    latest: tuple[int, datetime]
    unknown_states: list[str] = field(default_factory=list)


PRIORITY_MATRIX = {(1, 1): 1, (1, 2): 2, (2, 1): 2, (1, 3): 3, (2, 2): 3, (3, 1): 3,
                   (2, 3): 4, (3, 2): 4, (3, 3): 5}
PRIORITY_LABELS = {1: "1 - Critical", 2: "2 - High", 3: "3 - Moderate", 4: "4 - Low",
                   5: "5 - Planning"}
# What a timeline entry says changed between two updates, and the data it keeps.
TRACKED = (("state", "state"), ("assignment_group", "group"), ("assigned_to", "assigned to"),
           ("priority", "priority"), ("problem_id", "problem"), ("rfc", "change"),
           ("caused_by", "caused by"))
PEOPLE = ("caller_id", "opened_by", "sys_updated_by", "assigned_to", "resolved_by")


def _tracked(row: Row) -> dict[str, Any]:
    return {
        "state": row.state_label,
        "assignment_group": row.text.get("assignment_group"),
        "assigned_to": row.text.get("assigned_to"),
        "priority": PRIORITY_LABELS.get(row.priority) if row.priority else None,
        "problem_id": row.text.get("problem_id"),
        "rfc": row.text.get("rfc"),
        "caused_by": row.text.get("caused_by"),
    }


def _event(row: Row, previous: Row | None, key: str, steward_state: str) -> Event:
    now = _tracked(row)
    changes: dict[str, list[Any]] = {}
    phrases: list[str] = []
    if previous is None:
        phrases.append(f"opened as {row.state_label or 'unknown state'}")
        for name, label in TRACKED[1:]:
            if now[name]:
                phrases.append(f"{label} {now[name]}")
    else:
        before = _tracked(previous)
        for name, label in TRACKED:
            if before[name] != now[name]:
                changes[name] = [before[name], now[name]]
                phrases.append(f"{label} {before[name] or 'none'} \u2192 {now[name] or 'none'}")
        if not phrases:
            phrases.append("updated")
    update = "" if row.mod_count is None else f" update {row.mod_count}"
    data: dict[str, Any] = {"event": key, "line": row.line, "servicenow_state": row.state_label,
                            "state": steward_state}
    if row.mod_count is not None:
        data["sys_mod_count"] = row.mod_count
    if row.active is not None:
        data["active"] = row.active
    for name in (*PEOPLE, "assignment_group"):
        if row.text.get(name):
            data[name] = row.text[name]
    if changes:
        data["changes"] = changes
    return Event(key=key, at=row.updated_at or row.opened_at, order=row.order(),
                 text=f"ServiceNow{update}: " + "; ".join(phrases), data=data)


def _title(number: str, final: Row) -> str:
    described = final.text.get("short_description")
    if described:
        return described[:500]
    parts = [p for p in (final.text.get("category"), final.text.get("subcategory")) if p]
    return f"{number} ({' / '.join(parts)})" if parts else f"{number} (imported from ServiceNow)"


def _final_state(rows: Sequence[Row]) -> tuple[str, list[str]]:
    """The last row's state; an unknown state keeps the last known one before it."""
    unknown = [r.state_label or "(missing)" for r in rows if r.mapped_state is None]
    for row in reversed(rows):
        if row.mapped_state is not None:
            return row.mapped_state, unknown
    final = rows[-1]
    if final.active is False:
        return "closed", unknown
    if final.resolved_at is not None:
        return "resolved", unknown
    return "acknowledged", unknown


def plan_incident(rows: Sequence[Row], *, event_log: bool) -> IncidentPlan:
    """The incident the rows of one number describe, with a timeline entry per row.

    ``rows`` are in any order; the latest (by :meth:`Row.order`) gives the
    final state. In an event log the first row whose state left New gives the
    acknowledgement time; a one-row export does not say when that happened.
    """
    ordered = sorted(rows, key=Row.order)
    final = ordered[-1]
    number = final.number
    status, unknown = _final_state(ordered)
    events: list[Event] = []
    seen: dict[str, int] = {}
    previous: Row | None = None
    known = "triggered"
    acknowledged_at = None
    for row in ordered:
        known = row.mapped_state or known
        if event_log and acknowledged_at is None and row.mapped_state not in (None, "triggered"):
            acknowledged_at = row.updated_at
        base = (f"m{row.mod_count}" if row.mod_count is not None
                else f"t{(row.updated_at or row.opened_at):%Y%m%d%H%M%S}")
        seen[base] = seen.get(base, -1) + 1
        events.append(_event(row, previous, f"{base}.{seen[base]}", known))
        previous = row
    resolved_at = final.resolved_at if status in ("resolved", "closed") else None
    closed_at = final.closed_at if status == "closed" else None
    if status == "closed" and closed_at is None:
        closed_at = final.updated_at
    impact, urgency = final.impact or 2, final.urgency or 2
    level = final.priority or PRIORITY_MATRIX[(impact, urgency)]
    shown = PRIORITY_LABELS[level] if final.priority else "none (from impact and urgency)"
    parts = [p for p in (final.text.get("category"), final.text.get("subcategory")) if p]
    rfc, caused_by = final.text.get("rfc"), final.text.get("caused_by")
    fields: dict[str, Any] = {
        "title": _title(number, final),
        "description": _description(number, final),
        "status": status,
        "priority": f"P{level}",
        "impact": impact,
        "urgency": urgency,
        "priority_reasons": [f"imported from ServiceNow: priority {shown}"],
        "started_at": final.opened_at,
        "acknowledged_at": acknowledged_at,
        "resolved_at": resolved_at,
        "closed_at": closed_at,
        "made_sla": final.made_sla,
        "reassignment_count": final.reassignment_count,
        "reopen_count": final.reopen_count,
        "category": " / ".join(parts)[:200],
        "change_ref": rfc[:100] if rfc else None,
        "caused_by_ref": caused_by[:100] if caused_by else None,
    }
    return IncidentPlan(number=number, fields=fields, team=final.text.get("assignment_group"),
                        service=final.text.get("cmdb_ci"), problem=final.text.get("problem_id"),
                        events=events, latest=final.version(), unknown_states=unknown)


def _description(number: str, final: Row) -> str:
    """Where the record came from and what ServiceNow said about it (no people named)."""
    facts = [f"{label}: {final.text[name]}" for name, label in (
        ("contact_type", "contact"), ("location", "location"), ("u_symptom", "symptom"),
        ("closed_code", "close code"), ("vendor", "vendor")) if final.text.get(name)]
    text = f"Imported from ServiceNow {number}."
    if facts:
        text += " " + "; ".join(facts) + "."
    body = final.text.get("description")
    return f"{body}\n\n{text}" if body else text
