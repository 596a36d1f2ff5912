"""What the batch writer (``record_many``) holds between reading a group of events and
writing it: the active alerts it knows, the group's scope, the writes pending, and what
those writes change in the incidents' alert groups (``alert_groups``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from steward.incidents import alert_groups, rules
from steward.incidents.commands import RecordAlert
from steward.timeutil import as_utc, utcnow


@dataclass
class Active:
    """An active (not resolved) alert as the group sees it."""

    incident_id: int | None
    alert_id: int | None = None  # None while its INSERT is pending
    row: dict[str, Any] | None = None  # the pending INSERT's values
    # Its group in the incident (``alert_groups``): service and signature
    service_id: int | None = None
    signature: str = ""
    worst: int = alert_groups.UNKNOWN_RANK  # of the severities a pending alert fired with

    def group(self) -> alert_groups.Key | None:
        if self.incident_id is None or self.service_id is None:
            return None
        return (self.incident_id, self.service_id, self.signature)


# Events without a time are seen when processed, a little after the group was read.
SLACK = timedelta(minutes=1)


@dataclass
class Scope:
    """The services and times of a group's firing events, and whether any has a group key."""

    services: set[int] = field(default_factory=set)
    group_keys: bool = False
    first: datetime = field(default_factory=utcnow)
    last: datetime = field(default_factory=utcnow)

    def add(self, service_id: int, cmd: RecordAlert) -> None:
        self.services.add(service_id)
        self.group_keys = self.group_keys or cmd.group_key is not None
        if cmd.occurred_at is not None:
            seen = as_utc(cmd.occurred_at)
            self.first, self.last = min(self.first, seen), max(self.last, seen)


@dataclass
class Pending:
    inserts: list[Active] = field(default_factory=list)
    timeline: list[tuple[Active, dict[str, Any]]] = field(default_factory=list)
    bumps: dict[int, rules.Repeat] = field(default_factory=dict)  # alert id -> its repeats
    # alert id -> its group and the worst severity of its repeats
    bumped: dict[int, tuple[alert_groups.Key, int]] = field(default_factory=dict)
    incidents: dict[int, datetime] = field(default_factory=dict)  # id -> new last_alert_at

    def __bool__(self) -> bool:
        return bool(self.inserts or self.bumps or self.incidents)


def group_deltas(pending: Pending, rows: list[dict[str, Any]]) -> alert_groups.Deltas:
    """What the pending writes change in the incidents' alert groups. (Every alert of
    a storm passes here: one tuple per group, folded in place.)"""
    new: dict[alert_groups.Key, list[Any]] = {}
    for placed, row in zip(pending.inserts, rows, strict=True):
        if placed.incident_id is None or placed.service_id is None:
            continue
        key = (placed.incident_id, placed.service_id, placed.signature)
        folded = new.get(key)
        if folded is None:
            new[key] = [1, row["count"], row["first_seen"], row["last_seen"],
                        placed.worst, placed.alert_id]
            continue
        folded[0] += 1
        folded[1] += row["count"]
        if row["first_seen"] < folded[2]:
            folded[2] = row["first_seen"]
        if row["last_seen"] > folded[3]:
            folded[3] = row["last_seen"]
        if placed.worst < folded[4]:
            folded[4] = placed.worst
        if placed.alert_id is not None and (folded[5] is None
                                            or placed.alert_id < folded[5]):
            folded[5] = placed.alert_id
    deltas = alert_groups.Deltas()
    for key, (count, events, first_seen, last_seen, worst, first_id) in new.items():
        deltas[key] = alert_groups.Delta(alerts=count, active=count, events=events,
                                         first_seen=first_seen, last_seen=last_seen,
                                         worst=worst, first_alert_id=first_id)
    for alert_id, (group, worst) in pending.bumped.items():
        repeat = pending.bumps[alert_id]
        deltas.repeats(group, repeat.count, repeat.last_seen, worst)
    return deltas
