"""The time an event counts from: what its source reported, made plausible.

Pure logic. A source's clock may be wrong (a host without NTP, a replayed event,
a time zone taken for UTC), and an event is never refused for it. The time
kept as the source reported it is the alert's ``reported_at``; the time that
counts (an alert's ``first_seen``, and so the incident's ``started_at``; a
repeat's ``last_seen``; a resolve's ``resolved_at``) is that time clamped into
``[received - bound, received]``: never in the future, never earlier than the
bound (``STEWARD_EVENT_TIME_BOUND_MINUTES``) before Steward received it. A
clamped time says so on the alert (``details.time_note``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from steward.timeutil import as_utc, isoformat_z

# Where an alert says its reported time was not the one counted.
TIME_NOTE = "time_note"


def plausible(reported: datetime | None, received: datetime,
              bound: timedelta) -> tuple[datetime, str | None]:
    """The time an event counts from, and a sentence when it is not the reported one.

    ``reported`` None (the source gave no time) counts from ``received``, silently."""
    if reported is None:
        return received, None
    reported = as_utc(reported)
    earliest = received - bound
    if reported > received:
        return received, (f"reported {isoformat_z(reported)}, {span(reported - received)} "
                          "after it was received; counted from its receipt")
    if reported < earliest:
        return earliest, (f"reported {isoformat_z(reported)}, {span(received - reported)} "
                          f"before it was received; counted from {span(bound)} before "
                          "receipt")
    return reported, None


def clamp(reported: datetime | None, received: datetime, bound: timedelta) -> datetime:
    """:func:`plausible`'s time alone."""
    return plausible(reported, received, bound)[0]


def span(delta: timedelta) -> str:
    """A duration as a person says it: ``11 years``, ``3 days``, ``5 h``, ``60 min``."""
    seconds = int(abs(delta.total_seconds()))
    days = seconds // 86400
    if days >= 730:
        return f"{days // 365} years"
    if days >= 2:
        return f"{days} days"
    if seconds >= 3 * 3600:
        return f"{seconds // 3600} h"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"
