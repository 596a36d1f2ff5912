"""Who is on call: rotations, layers and overrides turned into shifts (pure).

A layer's shift ``k`` starts at its ``k``-th hand-off. For an interval that is a
multiple of 24 hours the hand-off is a local wall-clock time in the schedule's time
zone (a weekly Monday 09:00 hand-off stays at 09:00 across daylight-saving changes, so
that week lasts 167 or 169 hours); any other interval counts real hours from the first
hand-off. A local time that does not exist (the hour skipped in spring) is read with the
offset before the change, as RFC 5545 reads it (02:30 becomes 03:30); a local time that
happens twice (the hour repeated in autumn) is its first occurrence.

Where layers overlap, the highest position that has somebody wins; an override wins
over every layer. A range with nobody is a gap, never filled by a guess. Every interval
is half open, ``[start, end)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Layer:
    name: str
    position: int  # higher wins
    starts: datetime  # naive local wall-clock time of the first hand-off
    time_zone: str
    interval_hours: int
    members: tuple[int, ...]  # user ids, in rotation order
    restrict_start: time | None = None  # daily local window; end <= start wraps midnight
    restrict_end: time | None = None
    restrict_weekdays: frozenset[int] | None = None  # 0 = Monday; the window's start day


@dataclass(frozen=True)
class Override:
    user_id: int
    starts_at: datetime  # aware
    ends_at: datetime
    id: int | None = None


@dataclass(frozen=True)
class Shift:
    user_id: int
    start: datetime  # aware UTC
    end: datetime
    layer: str | None  # None for an override
    override: bool = False
    override_id: int | None = None


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Timeline:
    shifts: list[Shift]
    gaps: list[Gap]


def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``; ``ValueError`` for a name the tz database lacks."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        raise ValueError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def known_time_zones() -> list[str]:
    return sorted(available_timezones())


def local_to_utc(moment: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall-clock time in ``tz`` as UTC (skipped: offset before the change;
    repeated: the first occurrence)."""
    return moment.replace(tzinfo=tz, fold=0).astimezone(UTC)


def parse_clock(text: str) -> time:
    """"HH:MM" (00:00..23:59); ``ValueError`` otherwise."""
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"{text!r} is not a time of day HH:MM")
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day HH:MM")
    return time(hour, minute)


def parse_weekdays(names: Iterable[str]) -> frozenset[int]:
    days = set()
    for name in names:
        key = name.strip().lower()[:3]
        if key not in WEEKDAYS:
            raise ValueError(f"{name!r} is not a weekday (mon..sun)")
        days.add(WEEKDAYS.index(key))
    return frozenset(days)


# --- one layer ---------------------------------------------------------------------


def _daily(layer: Layer) -> bool:
    return layer.interval_hours % 24 == 0


def handoff(layer: Layer, k: int) -> datetime:
    """The UTC instant of the layer's ``k``-th hand-off (``k`` = 0 is ``starts``)."""
    tz = zone(layer.time_zone)
    if _daily(layer):
        return local_to_utc(layer.starts + timedelta(days=k * layer.interval_hours // 24), tz)
    return local_to_utc(layer.starts, tz) + timedelta(hours=k * layer.interval_hours)


def shift_index(layer: Layer, at: datetime) -> int:
    """The ``k`` with ``handoff(k) <= at < handoff(k + 1)`` (negative before the start)."""
    first = handoff(layer, 0)
    step = timedelta(hours=layer.interval_hours)
    k = (at - first) // step
    # Daylight saving moves a day-based hand-off by at most a few hours: one step fixes it.
    while handoff(layer, k) > at:
        k -= 1
    while handoff(layer, k + 1) <= at:
        k += 1
    return k


def rotation_member(layer: Layer, at: datetime) -> int | None:
    """Who the rotation (ignoring restrictions) gives at ``at``."""
    if not layer.members or layer.interval_hours < 1:
        return None
    k = shift_index(layer, at)
    if k < 0:
        return None
    return layer.members[k % len(layer.members)]


def _restricted(layer: Layer) -> bool:
    return layer.restrict_start is not None or layer.restrict_weekdays is not None


def restriction_windows(layer: Layer, start: datetime, end: datetime) -> list[tuple[datetime,
                                                                                  datetime]]:
    """The UTC ranges within [start, end) where the layer's daily restriction lets it
    cover; the whole range when it has none."""
    if not _restricted(layer):
        return [(start, end)] if start < end else []
    tz = zone(layer.time_zone)
    first = start.astimezone(tz).date() - DAY * 2
    last = end.astimezone(tz).date() + DAY
    out: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        if layer.restrict_weekdays is None or day.weekday() in layer.restrict_weekdays:
            w_start, w_end = _window_on(layer, day, tz)
            lo, hi = max(w_start, start), min(w_end, end)
            if lo < hi:
                if out and out[-1][1] >= lo:
                    out[-1] = (out[-1][0], max(out[-1][1], hi))
                else:
                    out.append((lo, hi))
        day += DAY
    return out


def _window_on(layer: Layer, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    begin = layer.restrict_start or time(0, 0)
    finish = layer.restrict_end if layer.restrict_start is not None else None
    start = local_to_utc(datetime.combine(day, begin), tz)
    if finish is None or finish <= begin:
        end_day = day + DAY
        end = local_to_utc(datetime.combine(end_day, finish or begin), tz)
    else:
        end = local_to_utc(datetime.combine(day, finish), tz)
    return start, end


def covers(layer: Layer, at: datetime) -> bool:
    """Whether the layer's restriction lets it cover ``at``."""
    if not _restricted(layer):
        return True
    return bool(restriction_windows(layer, at, at + timedelta(microseconds=1)))


def layer_shifts(layer: Layer, start: datetime, end: datetime) -> list[Shift]:
    """The layer's own shifts within [start, end), cut to its restriction windows."""
    start, end = _utc(start), _utc(end)
    if start >= end or not layer.members or layer.interval_hours < 1:
        return []
    out: list[Shift] = []
    k = max(shift_index(layer, start), 0)
    n = len(layer.members)
    windows = restriction_windows(layer, start, end)
    w = 0
    s = handoff(layer, k)
    while s < end and w < len(windows):
        e = handoff(layer, k + 1)
        lo, hi = max(s, start), min(e, end)
        user = layer.members[k % n]
        # Both lists are sorted: skip windows that ended before this shift.
        while w < len(windows) and windows[w][1] <= lo:
            w += 1
        i = w
        while i < len(windows) and windows[i][0] < hi:
            a, b = max(lo, windows[i][0]), min(hi, windows[i][1])
            if a < b:
                out.append(Shift(user, a, b, layer.name))
            i += 1
        k += 1
        s = e
    return out


def layer_at(layer: Layer, at: datetime) -> int | None:
    at = _utc(at)
    if not covers(layer, at):
        return None
    return rotation_member(layer, at)


# --- the schedule: layers and overrides combined -----------------------------------


def on_call_at(layers: Sequence[Layer], overrides: Sequence[Override],
               at: datetime) -> Shift | None:
    """Who is on call at ``at`` as a one-instant shift (``None``: a gap)."""
    at = _utc(at)
    for item in sorted(overrides, key=lambda o: (o.starts_at, o.id or 0), reverse=True):
        if _utc(item.starts_at) <= at < _utc(item.ends_at):
            return Shift(item.user_id, at, at, None, True, item.id)
    for layer in sorted(layers, key=lambda la: la.position, reverse=True):
        user = layer_at(layer, at)
        if user is not None:
            return Shift(user, at, at, layer.name)
    return None


def timeline(layers: Sequence[Layer], overrides: Sequence[Override], start: datetime,
             end: datetime) -> Timeline:
    """The final shifts over [start, end) and the gaps between them: together they cover
    the range without overlapping."""
    start, end = _utc(start), _utc(end)
    if start >= end:
        return Timeline([], [])
    # Candidates, strongest first: overrides, then layers from the highest position.
    ranked: list[list[Shift]] = []
    cut = [o for o in overrides if _utc(o.starts_at) < end and _utc(o.ends_at) > start]
    ranked.append(sorted(
        (Shift(o.user_id, max(_utc(o.starts_at), start), min(_utc(o.ends_at), end), None,
               True, o.id) for o in cut), key=lambda s: s.start))
    for layer in sorted(layers, key=lambda la: la.position, reverse=True):
        ranked.append(layer_shifts(layer, start, end))
    points = {start, end}
    for shifts in ranked:
        for shift in shifts:
            points.add(shift.start)
            points.add(shift.end)
    edges = sorted(points)
    pieces: list[Shift | Gap] = []
    cursors = [0] * len(ranked)
    for lo, hi in itertools.pairwise(edges):
        chosen: Shift | None = None
        for i, shifts in enumerate(ranked):
            # Each list is sorted and non-overlapping: advance past shifts that ended.
            while cursors[i] < len(shifts) and shifts[cursors[i]].end <= lo:
                cursors[i] += 1
            j = cursors[i]
            if j < len(shifts) and shifts[j].start <= lo:
                chosen = shifts[j]
                break
        piece: Shift | Gap
        if chosen is None:
            piece = Gap(lo, hi)
        else:
            piece = Shift(chosen.user_id, lo, hi, chosen.layer, chosen.override,
                          chosen.override_id)
        pieces.append(_merge_into(pieces, piece))
    shifts = [p for p in pieces if isinstance(p, Shift)]
    gaps = [p for p in pieces if isinstance(p, Gap)]
    return Timeline(shifts, gaps)


def _merge_into(pieces: list[Shift | Gap], piece: Shift | Gap) -> Shift | Gap:
    """Append-or-extend: a piece that continues the last one (same person, same source)
    extends it. Returns what was last appended (the caller appends it anew)."""
    if pieces:
        last = pieces[-1]
        if isinstance(last, Gap) and isinstance(piece, Gap):
            pieces.pop()
            return Gap(last.start, piece.end)
        if (isinstance(last, Shift) and isinstance(piece, Shift)
                and (last.user_id, last.layer, last.override, last.override_id)
                == (piece.user_id, piece.layer, piece.override, piece.override_id)
                and last.end == piece.start):
            pieces.pop()
            return Shift(last.user_id, last.start, piece.end, last.layer, last.override,
                         last.override_id)
    return piece


@dataclass(frozen=True)
class NowNext:
    now: Shift | None  # the person on call at ``at`` over their whole run (None: a gap)
    since: datetime | None  # when that run (or gap) began (None: before the lookback)
    until: datetime | None  # when it ends (None: beyond the horizon)
    next: Shift | None  # the next person on call after ``until`` (None: none in horizon)


def _runs(pieces: list[Shift | Gap]) -> list[tuple[int | None, list[Shift | Gap]]]:
    """Contiguous pieces of the same person (or of nobody) grouped together."""
    runs: list[tuple[int | None, list[Shift | Gap]]] = []
    for piece in pieces:
        who = piece.user_id if isinstance(piece, Shift) else None
        if runs and runs[-1][0] == who and runs[-1][1][-1].end == piece.start:
            runs[-1][1].append(piece)
        else:
            runs.append((who, [piece]))
    return runs


def now_and_next(layers: Sequence[Layer], overrides: Sequence[Override], at: datetime,
                 horizon: timedelta = timedelta(days=35),
                 lookback: timedelta = timedelta(days=14)) -> NowNext:
    """Who is on call at ``at`` (from when, until when) and who comes next. A person
    whose override runs into their own shift stays on call: "next" is someone else."""
    at = _utc(at)
    first, last = at - lookback, at + horizon
    line = timeline(layers, overrides, first, last)
    runs = _runs(sorted([*line.shifts, *line.gaps], key=lambda p: p.start))
    index = next((i for i, (_, run) in enumerate(runs)
                  if run[0].start <= at < run[-1].end), None)
    if index is None:
        return NowNext(None, None, None, None)
    _, run = runs[index]
    since = run[0].start if run[0].start > first else None
    until = run[-1].end if run[-1].end < last else None
    current = next(p for p in run if p.start <= at < p.end)
    now = (Shift(current.user_id, run[0].start, run[-1].end, current.layer, current.override,
                 current.override_id) if isinstance(current, Shift) else None)
    following: Shift | None = None
    for later_who, later in runs[index + 1:]:
        if later_who is not None:
            head = later[0]
            assert isinstance(head, Shift)
            following = Shift(head.user_id, head.start, later[-1].end, head.layer,
                              head.override, head.override_id)
            break
    return NowNext(now, since, until, following)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
