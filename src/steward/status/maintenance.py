"""Scheduled maintenance from the change calendar.

Pure logic. A change with a planned window (planned start and end) on a published
component is public maintenance once it is approved:

- ``scheduled``: approved (state scheduled) and its planned start is still ahead;
- ``in_progress``: being implemented, or scheduled and inside its planned window;
- ``verifying``: implemented, under review;
- ``completed``: closed, or scheduled and its planned end has passed; shown for
  ``COMPLETED_SHOWN`` after it ended, then only in the history.

Changes not yet approved (new, assess, authorize), rejected or canceled are not public.
The public name and text speak only of the published components and the window: a
change's own title and description are internal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from steward.timeutil import as_utc

MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
COMPLETED_SHOWN = timedelta(days=7)
CHANGE_STATES_SHOWN = ("scheduled", "implement", "review", "closed")


@dataclass(frozen=True)
class PlannedChange:
    id: int
    state: str
    planned_start: datetime
    planned_end: datetime
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    closed_at: datetime | None = None


def maintenance_status(change: PlannedChange, now: datetime) -> str | None:
    """The change's public maintenance status now, or None when it is not shown."""
    now = as_utc(now)
    start, end = as_utc(change.planned_start), as_utc(change.planned_end)
    if change.state == "implement":
        return "in_progress"
    if change.state == "review":
        return "verifying"
    if change.state == "scheduled":
        if now < start:
            return "scheduled"
        if now < end:
            return "in_progress"
        return "completed" if now < end + COMPLETED_SHOWN else None
    if change.state == "closed":
        ended = ended_at(change)
        return "completed" if now < ended + COMPLETED_SHOWN else None
    return None


def ended_at(change: PlannedChange) -> datetime:
    """When the maintenance ended (or is planned to)."""
    for value in (change.actual_end, change.closed_at):
        if value is not None:
            return as_utc(value)
    return as_utc(change.planned_end)


def public_name(components: Sequence[str]) -> str:
    names = ", ".join(components[:3]) + (f" and {len(components) - 3} more"
                                          if len(components) > 3 else "")
    return f"Scheduled maintenance: {names}"


def public_body(status: str, start: datetime, end: datetime) -> str:
    window = (f"{as_utc(start):%Y-%m-%d %H:%M} to {as_utc(end):%Y-%m-%d %H:%M} UTC")
    return {
        "scheduled": f"Planned maintenance from {window}.",
        "in_progress": f"Maintenance is in progress (planned {window}).",
        "verifying": "The maintenance is done; we are verifying that everything works.",
        "completed": "The maintenance has been completed.",
    }[status]
