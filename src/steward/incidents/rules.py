"""The rules an alert follows once placed, written once for both ways of recording it.

Pure. ``use_cases.alerts`` (one alert at a time, through the ORM) and
``use_cases.record_many`` (a group of alerts with bulk statements) both call
these, so a repeat or a join gives the same result whichever path records it:

- :class:`Repeat`: what repeats of an active alert change (count, last seen,
  summary, severity, labels);
- :func:`joining`: what a new alert joining an open incident changes in it,
  and so whether the incident's derived facts (origin, teams, impact,
  priority) must be worked out again.

Where a new alert goes (the open incident it joins, or a new one) is
``correlate.place_alert``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from steward.incidents.commands import RecordAlert, alert_summary
from steward.incidents.priority import URGENCY_BY_SEVERITY


@dataclass
class Repeat:
    """Repeats of one active alert, folded together: ``count`` repeats, the latest time
    seen, and the summary, severity and labels they leave (None: the stored one stays).

    Start from the stored alert's values to get its new ones, or from nothing
    (``Repeat()``) to gather what a bulk UPDATE applies to a stored row."""

    count: int = 0
    last_seen: datetime | None = None
    summary: str | None = None
    severity: str | None = None
    labels: dict[str, Any] | None = None

    def add(self, cmd: RecordAlert, seen: datetime) -> None:
        """One more firing event for the alert, seen at ``seen``: a repeat keeps the alert's
        first time, moves its last one forward only, takes the event's severity, and its
        summary and labels unless the event has none."""
        self.count += 1
        self.last_seen = seen if self.last_seen is None else max(self.last_seen, seen)
        self.summary = alert_summary(cmd.summary) or self.summary
        self.severity = cmd.severity
        self.labels = dict(cmd.labels) or self.labels


class Joining(NamedTuple):
    """What a new alert joining an open incident changes there. (A named tuple: the hot
    path asks this of every alert of a storm.)"""

    new_service: bool  # its service had no alert in the incident
    earlier_on_service: bool  # before the first alert of its service in the incident
    earlier_start: bool  # before the incident started: the start moves back
    new_group_key: bool  # an Alertmanager group the incident did not hold
    more_urgent: bool  # more urgent than the incident (its urgency not set by hand)
    reopens: bool  # the incident was mitigated: it is triggered again
    # its severity makes its service's state in the incident worse than its alerts there did
    # (a warning after info alerts, a critical after warnings): the caller's answer
    worsens_service: bool = False

    @property
    def recompute(self) -> bool:
        """Whether origin, teams, impact and priority must be worked out again: a new
        service changes what is affected, a more urgent alert the urgency, a worse state
        of a service the impact. Another alert on a service already in the incident
        changes nothing derived."""
        return self.new_service or self.more_urgent or self.worsens_service

    @property
    def only_alert(self) -> bool:
        """Nothing but the alert itself (and the incident's last alert time) changes."""
        return not any(self)


def joining(*, status: str, urgency: int, urgency_overridden: bool, started_at: datetime,
            group_keys: tuple[str, ...] | list[str], service_first_alert: datetime | None,
            severity: str, seen: datetime, group_key: str | None,
            worsens_service: bool = False) -> Joining:
    """What an alert of ``severity`` seen at ``seen`` changes in the open incident it
    joins; ``service_first_alert`` is its service's first alert there (None: none yet)."""
    at = _utc(seen)
    return Joining(
        service_first_alert is None,
        service_first_alert is not None and at < _utc(service_first_alert),
        at < _utc(started_at),
        bool(group_key) and group_key not in group_keys,
        not urgency_overridden and URGENCY_BY_SEVERITY.get(severity, 2) < urgency,
        status == "mitigated", worsens_service)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
