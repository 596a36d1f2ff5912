"""The change calendar: freeze and maintenance windows, and conflicting changes.

Pure logic over plain data. A window is either one-off (an interval in UTC)
or weekly recurring on a team's wall clock ("Fridays 16:00 Europe/Berlin").
Recurring windows are expanded in local time with ``zoneinfo`` because that
is how people state them: a Friday-afternoon freeze starts at 16:00 local
time in summer and in winter, so its UTC instant moves with daylight saving.

All intervals are half-open, ``[start, end)``: a change ending at 16:00 does
not overlap a freeze starting at 16:00. Naive datetimes are taken as UTC,
the house convention for values read back from SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from steward.timeutil import as_utc

SCOPE_KINDS = ("all", "team", "tier", "services")
WINDOW_KINDS = ("freeze", "maintenance")
TIERS = ("1", "2", "3", "4")
MAX_DURATION_MINUTES = 7 * 24 * 60  # longer recurring windows would overlap themselves

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Scope:
    """What a window covers: everything, some teams, some tiers or some services."""

    kind: str  # "all" | "team" | "tier" | "services"
    values: tuple[str, ...] = ()  # team names, tiers "1".."4", or service names

    def validate(self) -> None:
        if self.kind not in SCOPE_KINDS:
            raise ValueError(f"scope.kind: unknown scope {self.kind!r}; "
                             f"expected one of {', '.join(SCOPE_KINDS)}")
        if self.kind == "all":
            if self.values:
                raise ValueError("scope.values: a scope of everything takes no values")
            return
        if not self.values:
            raise ValueError(f"scope.values: a {self.kind} scope needs at least one value")
        if self.kind == "tier":
            bad = [value for value in self.values if value not in TIERS]
            if bad:
                raise ValueError(f"scope.values: tiers are 1 to 4, got {', '.join(bad)}")


@dataclass(frozen=True)
class Window:
    """A freeze (no changes) or maintenance (changes expected) window."""

    id: int
    name: str
    kind: str  # "freeze" | "maintenance"
    scope: Scope
    starts_at: datetime | None = None  # one-off, UTC
    ends_at: datetime | None = None
    weekdays: tuple[int, ...] = ()  # weekly: Monday=0
    start_time: str | None = None  # "HH:MM" local time
    duration_minutes: int | None = None
    timezone: str = "UTC"

    @property
    def recurring(self) -> bool:
        return bool(self.weekdays) or self.start_time is not None \
            or self.duration_minutes is not None

    def validate(self) -> None:
        """Raise ``ValueError`` whose message starts with the offending field."""
        if not self.name or not self.name.strip():
            raise ValueError("name: a window needs a name")
        if self.kind not in WINDOW_KINDS:
            raise ValueError(f"kind: unknown window kind {self.kind!r}; "
                             f"expected one of {', '.join(WINDOW_KINDS)}")
        self.scope.validate()
        _zone(self.timezone)
        one_off = self.starts_at is not None or self.ends_at is not None
        if one_off and self.recurring:
            raise ValueError("weekdays: a window is either one-off (starts_at, ends_at) or "
                             "weekly (weekdays, start_time, duration_minutes), not both")
        if one_off:
            if self.starts_at is None:
                raise ValueError("starts_at: a one-off window needs a start")
            if self.ends_at is None:
                raise ValueError("ends_at: a one-off window needs an end")
            if as_utc(self.ends_at) <= as_utc(self.starts_at):
                raise ValueError("ends_at: must be after starts_at")
            return
        if not self.recurring:
            raise ValueError("starts_at: a window needs starts_at and ends_at, or weekdays, "
                             "start_time and duration_minutes")
        if not self.weekdays:
            raise ValueError("weekdays: a weekly window needs at least one weekday (Monday=0)")
        for day in self.weekdays:
            if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
                raise ValueError(f"weekdays: weekdays are 0 (Monday) to 6 (Sunday), got {day!r}")
        if self.start_time is None:
            raise ValueError("start_time: a weekly window needs a start time (HH:MM)")
        _parse_clock(self.start_time)
        minutes = self.duration_minutes
        if minutes is None:
            raise ValueError("duration_minutes: a weekly window needs a duration")
        if isinstance(minutes, bool) or not isinstance(minutes, int) \
                or not 0 < minutes <= MAX_DURATION_MINUTES:
            raise ValueError(f"duration_minutes: must be between 1 and {MAX_DURATION_MINUTES} "
                             f"(7 days), got {minutes!r}")


@dataclass(frozen=True)
class Target:
    """A CI a change affects, as far as window scopes care."""

    name: str
    team: str | None
    tier: int


@dataclass(frozen=True)
class PlannedChange:
    id: int
    label: str  # "CHG-12"
    services: tuple[str, ...]
    start: datetime
    end: datetime


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open overlap: intervals that merely touch do not overlap."""
    return as_utc(a_start) < as_utc(b_end) and as_utc(b_start) < as_utc(a_end)


def occurrences(window: Window, start: datetime, end: datetime) -> list[Interval]:
    """The window's UTC intervals overlapping ``[start, end)``, in order.

    An occurrence that began before ``start`` but is still running counts: a
    freeze that started yesterday still freezes today. A weekly occurrence
    runs from ``start_time`` to the wall-clock time ``duration_minutes``
    later, so "Sunday 01:00 for 120 minutes" stays 01:00-03:00 on the local
    clock even on the nights the clocks change (it then lasts 1 or 3 hours).
    """
    window.validate()
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        return []
    if not window.recurring:
        assert window.starts_at is not None and window.ends_at is not None  # validated
        one_off = (as_utc(window.starts_at), as_utc(window.ends_at))
        return [one_off] if overlaps(*one_off, start, end) else []
    zone = _zone(window.timezone)
    clock = _parse_clock(window.start_time or "")
    duration = timedelta(minutes=window.duration_minutes or 0)
    # Look back far enough to catch an occurrence that started earlier and is still running.
    day = start.astimezone(zone).date() - timedelta(days=duration.days + 2)
    last_day = end.astimezone(zone).date()
    found: list[Interval] = []
    while day <= last_day:
        if day.weekday() in window.weekdays:
            local_start = datetime.combine(day, clock, tzinfo=zone)
            # Aware + timedelta is wall-clock arithmetic in Python, which is what we want.
            occ_start = local_start.astimezone(UTC)
            occ_end = (local_start + duration).astimezone(UTC)
            if occ_end <= occ_start:  # a start in the spring-forward gap; keep the length
                occ_end = occ_start + duration
            if overlaps(occ_start, occ_end, start, end):
                found.append((occ_start, occ_end))
        day += timedelta(days=1)
    return found


def applies(window: Window, targets: Sequence[Target]) -> bool:
    """Whether the window's scope covers any of the CIs a change affects."""
    scope = window.scope
    if scope.kind == "all":
        return True
    wanted = set(scope.values)
    if scope.kind == "team":
        return any(target.team in wanted for target in targets)
    if scope.kind == "tier":
        return any(str(target.tier) in wanted for target in targets)
    if scope.kind == "services":
        return any(target.name in wanted for target in targets)
    raise ValueError(f"scope.kind: unknown scope {scope.kind!r}")


def freezes_overlapping(windows: Iterable[Window], start: datetime, end: datetime,
                        targets: Sequence[Target]) -> list[Window]:
    """Freeze windows covering the targets that overlap ``[start, end)``, in input order."""
    return [window for window in windows
            if window.kind == "freeze" and applies(window, targets)
            and occurrences(window, start, end)]


def outside_maintenance(windows: Iterable[Window], start: datetime, end: datetime,
                        targets: Sequence[Target]) -> bool:
    """True when maintenance windows apply to the targets and ``[start, end)`` is outside them.

    A service without maintenance windows can change at any time, so it is
    never "outside". Occurrences of all applicable windows are merged first,
    so a change spanning two back-to-back windows counts as inside.
    """
    start, end = as_utc(start), as_utc(end)
    relevant = [window for window in windows
                if window.kind == "maintenance" and applies(window, targets)]
    if not relevant:
        return False
    intervals = sorted(occ for window in relevant for occ in occurrences(window, start, end))
    for occ_start, occ_end in _merge(intervals):
        if occ_start <= start and end <= occ_end:
            return False
    return True


def conflicts(change: PlannedChange, others: Sequence[PlannedChange],
              related: Callable[[str], Collection[str]]) -> list[tuple[PlannedChange, str]]:
    """Other changes overlapping in time on the same or a directly related service.

    ``related(name)`` returns the direct dependencies and dependants of a
    service. It may return a plain set, which gives neutral wording, or a
    mapping of name to ``"dependant"`` (it depends on ``name``) or
    ``"dependency"`` (``name`` depends on it), which says which way round.
    Results are ordered by start time, then id.
    """
    mine = set(change.services)
    cache: dict[str, Collection[str]] = {}

    def neighbours(name: str) -> Collection[str]:
        if name not in cache:
            cache[name] = related(name)
        return cache[name]

    found: list[tuple[PlannedChange, str]] = []
    for other in sorted(others, key=lambda o: (as_utc(o.start), o.id)):
        if other.id == change.id or not overlaps(change.start, change.end, other.start,
                                                 other.end):
            continue
        shared = sorted(mine & set(other.services))
        if shared:
            found.append((other, f"{other.label} overlaps and also changes {_and(shared)}"))
            continue
        clauses = []
        for name in sorted(mine):
            links = neighbours(name)
            for theirs in sorted(set(other.services) & set(links)):
                relation = links.get(theirs) if isinstance(links, Mapping) else None
                clauses.append(_relation_clause(theirs, name, relation))
        if clauses:
            found.append((other, f"{other.label} overlaps and changes {_and(clauses)}"))
    return found


def week_grid(windows: Iterable[Window], changes: Iterable[PlannedChange],
              week_start: datetime | date, tz: str) -> dict[str, Any]:
    """Seven local days from ``week_start``, each with window occurrences and changes.

    Intervals are clipped to the day and given in local time; ``continues_before``
    and ``continues_after`` tell the view to draw an open edge. Local days are
    23 or 25 hours long on daylight-saving changes, which this handles.
    """
    zone = _zone(tz)
    if isinstance(week_start, datetime):
        first = as_utc(week_start).astimezone(zone).date()
    else:
        first = week_start
    bounds = [datetime.combine(first + timedelta(days=i), time(0), tzinfo=zone).astimezone(UTC)
              for i in range(8)]
    window_occurrences = [(window, occ) for window in windows
                          for occ in occurrences(window, bounds[0], bounds[-1])]
    change_list = [change for change in changes
                   if overlaps(change.start, change.end, bounds[0], bounds[-1])]
    days = []
    for i in range(7):
        day_start, day_end = bounds[i], bounds[i + 1]
        day_windows = [
            {"id": window.id, "name": window.name, "kind": window.kind,
             **_clip(occ_start, occ_end, day_start, day_end, zone)}
            for window, (occ_start, occ_end) in window_occurrences
            if overlaps(occ_start, occ_end, day_start, day_end)]
        day_changes = [
            {"id": change.id, "label": change.label, "services": list(change.services),
             **_clip(as_utc(change.start), as_utc(change.end), day_start, day_end, zone)}
            for change in change_list
            if overlaps(change.start, change.end, day_start, day_end)]
        day_windows.sort(key=lambda entry: (entry["start"], entry["id"]))
        day_changes.sort(key=lambda entry: (entry["start"], entry["id"]))
        days.append({"date": first + timedelta(days=i), "windows": day_windows,
                     "changes": day_changes})
    return {"timezone": tz, "week_start": first, "days": days}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"timezone: unknown time zone {name!r}") from exc


def _parse_clock(text: str) -> time:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", text)
    if match is None:
        raise ValueError(f"start_time: expected HH:MM between 00:00 and 23:59, got {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _merge(intervals: list[Interval]) -> list[Interval]:
    """Merge sorted intervals that overlap or touch."""
    merged: list[Interval] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _clip(start: datetime, end: datetime, day_start: datetime, day_end: datetime,
          zone: ZoneInfo) -> dict[str, Any]:
    return {"start": max(start, day_start).astimezone(zone),
            "end": min(end, day_end).astimezone(zone),
            "continues_before": start < day_start, "continues_after": end > day_end}


def _relation_clause(theirs: str, mine: str, relation: str | None) -> str:
    if relation == "dependant":
        return f"{theirs}, which depends on {mine}"
    if relation == "dependency":
        return f"{theirs}, which {mine} depends on"
    return f"{theirs}, a direct dependency or dependant of {mine}"


def _and(items: Sequence[str]) -> str:
    """Join for a sentence; semicolons when the items carry commas of their own."""
    if len(items) == 1:
        return items[0]
    separator = "; " if any("," in item for item in items) else ", "
    if len(items) == 2 and separator == ", ":
        return f"{items[0]} and {items[1]}"
    return separator.join(items[:-1]) + separator + "and " + items[-1]
