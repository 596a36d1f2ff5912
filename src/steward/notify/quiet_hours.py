"""Quiet hours: when a person's low-urgency notifications wait. Pure.

Quiet hours are a daily local window ``HH:MM``-``HH:MM`` in the person's time zone; the end
may be past midnight (22:00-07:00). A notification due inside the window waits until it
ends; high urgency never waits (the caller does not ask).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_clock(text: str, field: str) -> time:
    """``HH:MM`` (24-hour) as a time; ValueError naming ``field`` otherwise."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ValueError(f"{field}: a time of day as HH:MM (24-hour), got {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def zone(name: str, field: str = "time_zone") -> ZoneInfo:
    try:
        if not name or name != name.strip() or name.startswith("/"):
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{field}: unknown time zone {name!r} (an IANA name such as "
                         "Europe/Amsterdam)") from None


def quiet_until(at: datetime, time_zone: str, start: str | None, end: str | None
                ) -> datetime | None:
    """When the quiet hours around ``at`` (aware) end, or None when ``at`` is not in them
    (or the person has none). The answer is aware UTC."""
    if not start or not end:
        return None
    begin, finish = parse_clock(start, "quiet_start"), parse_clock(end, "quiet_end")
    if begin == finish:
        return None
    tz = zone(time_zone)
    local = at.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if begin < finish:
        inside = begin <= clock < finish
        end_day = local.date()
    else:  # across midnight
        inside = clock >= begin or clock < finish
        end_day = local.date() + timedelta(days=1) if clock >= begin else local.date()
    if not inside:
        return None
    # The wall-clock end in the person's zone (fold=0: the first of a repeated hour); a
    # time that does not exist (a spring-forward gap) resolves to the instant after it.
    wall = datetime.combine(end_day, finish, tzinfo=tz)
    return wall.astimezone(UTC)
