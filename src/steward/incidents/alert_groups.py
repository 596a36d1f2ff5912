"""Each incident's alerts counted by service and signature as they are written, so that an
incident of 100,000 alerts shows its groups without reading its alerts.

A group (``IncidentAlertGroup``) holds how many alerts, how many are still active (not
resolved), every alert's event count, the first and last time seen, the worst severity
they were recorded with, and the first alert (its summary is the group's example). An
alert belongs to the group of the service and the summary it fired with (a repeat with a
new summary keeps it there).

Both ways of recording alerts gather what they change as :class:`Deltas` and write them
with :func:`write`, one upsert per group, under the correlation lock (as every other
write of the alert writer), in key order; resolving alerts lowers ``active``
(:func:`resolved`, :func:`all_resolved`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from steward.db.direct import Driver
from steward.incidents.models import Alert
from steward.incidents.severity import SEVERITIES
from steward.incidents.transaction_state import lock_correlation
from steward.timeutil import as_utc

RANK = {level: rank for rank, level in enumerate(SEVERITIES)}
UNKNOWN_RANK = len(SEVERITIES)


def severity_rank(severity: str | None) -> int:
    return RANK.get(severity or "", UNKNOWN_RANK)


def severity_of(rank: int | None) -> str | None:
    return SEVERITIES[rank] if rank is not None and 0 <= rank < len(SEVERITIES) else None


def signature_key(signature: str) -> str:
    return hashlib.sha1(signature.encode("utf-8")).hexdigest()


Key = tuple[int, int, str]  # incident, service, signature


@dataclass
class Delta:
    alerts: int = 0
    active: int = 0
    events: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    worst: int | None = None
    first_alert_id: int | None = None

    def seen(self, at: datetime) -> None:
        self.first_seen = at if self.first_seen is None else min(self.first_seen, at)
        self.last_seen = at if self.last_seen is None else max(self.last_seen, at)

    def severity(self, rank: int) -> None:
        self.worst = rank if self.worst is None else min(self.worst, rank)


class Deltas(dict[Key, Delta]):
    """What a transaction changes in groups, folded per group."""

    def _of(self, key: Key) -> Delta:
        delta = self.get(key)
        if delta is None:
            delta = self[key] = Delta()
        return delta

    def new_alert(self, key: Key, alert_id: int, *, count: int, first_seen: datetime,
                  last_seen: datetime, worst: int, active: bool = True) -> None:
        delta = self._of(key)
        delta.alerts += 1
        delta.active += 1 if active else 0
        delta.events += count
        delta.seen(first_seen)
        delta.seen(last_seen)
        delta.severity(worst)
        delta.first_alert_id = (alert_id if delta.first_alert_id is None
                                else min(delta.first_alert_id, alert_id))

    def repeats(self, key: Key, count: int, last_seen: datetime | None, worst: int) -> None:
        delta = self._of(key)
        delta.events += count
        if last_seen is not None:
            delta.last_seen = (last_seen if delta.last_seen is None
                               else max(delta.last_seen, last_seen))
        delta.severity(worst)

    def resolved(self, key: Key, count: int = 1) -> None:
        self._of(key).active -= count


_UPSERT = (
    "INSERT INTO incident_alert_groups (incident_id, service_id, signature_key, signature,"
    " alerts, active, events, first_seen, last_seen, worst, first_alert_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (incident_id, service_id, signature_key) DO UPDATE SET"
    " alerts = incident_alert_groups.alerts + excluded.alerts,"
    " active = incident_alert_groups.active + excluded.active,"
    " events = incident_alert_groups.events + excluded.events,"
    " first_seen = CASE WHEN incident_alert_groups.first_seen IS NULL"
    " OR excluded.first_seen < incident_alert_groups.first_seen THEN excluded.first_seen"
    " ELSE incident_alert_groups.first_seen END,"
    " last_seen = CASE WHEN incident_alert_groups.last_seen IS NULL"
    " OR excluded.last_seen > incident_alert_groups.last_seen THEN excluded.last_seen"
    " ELSE incident_alert_groups.last_seen END,"
    " worst = CASE WHEN incident_alert_groups.worst IS NULL"
    " OR excluded.worst < incident_alert_groups.worst THEN excluded.worst"
    " ELSE incident_alert_groups.worst END,"
    " first_alert_id = CASE WHEN incident_alert_groups.first_alert_id IS NULL"
    " OR excluded.first_alert_id < incident_alert_groups.first_alert_id"
    " THEN excluded.first_alert_id ELSE incident_alert_groups.first_alert_id END")
_ALL_RESOLVED = "UPDATE incident_alert_groups SET active = 0 WHERE incident_id = ?"


def write(driver: Driver, deltas: Deltas) -> None:
    """Apply what a transaction changed, one upsert per group in key order (writers lock
    rows alike). The caller holds the correlation lock."""
    if not deltas:
        return
    time = driver.time
    driver.many(_UPSERT, [
        (incident_id, service_id, signature_key(signature), signature, d.alerts, d.active,
         d.events, time(d.first_seen), time(d.last_seen), d.worst, d.first_alert_id)
        for (incident_id, service_id, signature), d in sorted(deltas.items())])


def write_now(session: Session, deltas: Deltas) -> None:
    """:func:`write` from the ORM path: the lock first, as the alert writer takes it."""
    if deltas:
        lock_correlation(session)
        write(Driver(session), deltas)


def resolved(session: Session, key: Key) -> None:
    """One alert of the group resolved."""
    deltas = Deltas()
    deltas.resolved(key)
    write_now(session, deltas)


def all_resolved(session: Session, incident_id: int) -> None:
    """Every alert of the incident resolved (with the incident)."""
    lock_correlation(session)
    Driver(session).run(_ALL_RESOLVED, [incident_id])


def key_of(alert: Alert) -> Key | None:
    if alert.incident_id is None:
        return None
    return (alert.incident_id, alert.service_id, alert.signature or "")


def alert_joined(session: Session, alert: Alert) -> None:
    """An alert (flushed) now in its incident: one more in its group."""
    key = key_of(alert)
    if key is None:
        return
    deltas = Deltas()
    deltas.new_alert(key, alert.id, count=alert.count or 1, first_seen=as_utc(alert.first_seen),
                     last_seen=as_utc(alert.last_seen), worst=severity_rank(alert.severity),
                     active=alert.status != "resolved")
    write_now(session, deltas)


def alert_repeated(session: Session, alert: Alert, last_seen: datetime | None) -> None:
    """One more event of an alert (its severity the event's)."""
    key = key_of(alert)
    if key is None:
        return
    deltas = Deltas()
    deltas.repeats(key, 1, as_utc(last_seen) if last_seen else None,
                   severity_rank(alert.severity))
    write_now(session, deltas)


def alert_resolved(session: Session, alert: Alert) -> None:
    key = key_of(alert)
    if key is not None:
        resolved(session, key)
