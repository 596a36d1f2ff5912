"""The alert writer's reads and writes, as SQL on the driver's connection (``steward.db.direct``).

Each function is one statement (or one executemany) of the ingestion hot path,
the same query the ORM path makes, with values in and out as SQLAlchemy's
types would give them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from steward.db.direct import Driver
from steward.incidents import correlate
from steward.incidents.correlate import ACTIVE_STATES
from steward.incidents.models import OPEN_STATES

# The status is a literal, so SQLite can use the partial unique index uq_alerts_active_key.
_ACTIVE = ("SELECT id, dedup_key, incident_id, service_id, signature FROM alerts "
           "WHERE {integration} "
           "AND {keys} AND status != 'resolved'")
# PostgreSQL: one lookup per key. With the keys as one array condition the planner, when its
# statistics lag behind a fast-growing table, read every active alert of the integration
# and filtered them by key (hundreds of microseconds, growing with the table, until the next
# ANALYZE); a lookup of one integration and one key always takes the unique index. The
# LIMIT (at most one row: the partial unique index says so) keeps the lookup per key: a
# plain lateral subquery is flattened into a join, which the planner, believing the table
# small, made a hash join over every active alert.
_ACTIVE_PG = ("SELECT a.id, a.dedup_key, a.incident_id, a.service_id, a.signature "
              "FROM unnest(?::text[]) AS k(key) CROSS JOIN LATERAL "
              "(SELECT id, dedup_key, incident_id, service_id, signature FROM alerts "
              "WHERE integration_id = ? AND dedup_key = k.key AND status != 'resolved' "
              "LIMIT 1) AS a")
_OPEN = ("SELECT i.id, i.status, i.urgency, i.urgency_overridden, i.last_alert_at, "
         "i.started_at, i.group_keys, s.service_id, s.first_alert_at "
         "FROM incidents i LEFT OUTER JOIN incident_services s ON s.incident_id = i.id "
         "WHERE i.status IN ({states})".format(states=", ".join(f"'{s}'" for s in OPEN_STATES)))
# Near a group's services: every triggered or acknowledged incident (related alerts join
# it for as long as it stays so), and mitigated ones whose last alert activity (or start)
# falls in the window. Both by the status index (ix_incidents_status_started); the
# services' condition on incident_services' primary key.
_JOINABLE = ("(i.status IN ({active}) OR (COALESCE(i.last_alert_at, i.started_at) >= ?"
             " AND COALESCE(i.last_alert_at, i.started_at) <= ?))").replace(
    "{active}", ", ".join(f"'{s}'" for s in ACTIVE_STATES))
_OPEN_NEAR = (_OPEN + " AND " + _JOINABLE
              + " AND EXISTS (SELECT 1 FROM incident_services x"
              " WHERE x.incident_id = i.id AND {services})")
# PostgreSQL: the same, the joinable open incidents read first and once. Planned as one
# join, the estimate of one incident in the window (it cannot see the times) made a
# nested loop that tests every open incident against every row of incident_services.
_OPEN_NEAR_PG = (
    "WITH o AS MATERIALIZED (SELECT i.id, i.status, i.urgency, i.urgency_overridden,"
    " i.last_alert_at, i.started_at, i.group_keys FROM incidents i"
    " WHERE i.status IN ({states}) AND " + _JOINABLE + "), "
    "near AS MATERIALIZED (SELECT DISTINCT x.incident_id FROM o"
    " JOIN incident_services x ON x.incident_id = o.id WHERE {services}) "
    "SELECT o.id, o.status, o.urgency, o.urgency_overridden, o.last_alert_at, o.started_at,"
    " o.group_keys, s.service_id, s.first_alert_at FROM o"
    " JOIN near ON near.incident_id = o.id"
    " LEFT OUTER JOIN incident_services s ON s.incident_id = o.id").replace(
        "{states}", ", ".join(f"'{s}'" for s in OPEN_STATES))
_BUMP = ("UPDATE alerts SET count = count + ?, "
         "last_seen = CASE WHEN last_seen < ? THEN ? ELSE last_seen END, "
         "summary = COALESCE(?, summary), "
         "severity = ?, labels = COALESCE(?json, labels) "
         "WHERE id = ?")
# Never moves back: another process may have recorded a later alert in the meantime.
_INCIDENT_SEEN = ("UPDATE incidents SET last_alert_at = CASE WHEN last_alert_at IS NULL "
                  "OR last_alert_at < ? THEN ? ELSE last_alert_at END, "
                  "alert_count = alert_count + ?, updated_at = ? WHERE id = ?")
_SERVICES = "SELECT id, name, owner_team_id FROM services WHERE {names} OR {ids}"
_REVISION = "SELECT revision FROM catalog_state WHERE id = 1"
_NEXT_IDS = "SELECT nextval(pg_get_serial_sequence('alerts', 'id')) FROM generate_series(1, ?)"


def active_alerts(driver: Driver, integration_id: int | None, keys: Sequence[str],
                  ) -> list[tuple[int, str, int | None, int, str]]:
    """(id, dedup key, incident id, service id, signature) of the active alerts of an
    integration with those keys."""
    if not keys:
        return []
    if integration_id is not None and not driver.sqlite:
        return driver.rows(_ACTIVE_PG, [list(keys), integration_id])
    integration = "integration_id IS NULL" if integration_id is None else "integration_id = ?"
    given = [] if integration_id is None else [integration_id]
    one_of, values = driver.one_of("dedup_key", keys)
    return driver.rows(_ACTIVE.format(integration=integration, keys=one_of),
                       [*given, *values])


OpenRow = tuple[int, str, int, bool, datetime | None, datetime, list[str], int | None,
                datetime | None]


def open_incidents(driver: Driver, services: Iterable[int] | None, since: datetime,
                   until: datetime) -> list[OpenRow]:
    """Open incidents, one row per service they hold (id, status, urgency, urgency
    overridden, last alert, started, group keys, service id, its first alert); with
    ``services``, only those an alert on one of them could join by service or topology
    (``correlate.place_alert``): incidents holding one of them that are triggered or
    acknowledged, or mitigated with their last alert activity (or start) between
    ``since`` and ``until``."""
    if services is None:
        rows = driver.rows(_OPEN)
    else:
        wanted = sorted(services)
        if not wanted:
            return []
        one_of, values = driver.one_of("x.service_id", wanted)
        near = _OPEN_NEAR if driver.sqlite else _OPEN_NEAR_PG
        rows = driver.rows(near.format(services=one_of),
                           [driver.time(since), driver.time(until), *values])
    read_time, read_json = driver.read_time, driver.read_json
    # started_at is NOT NULL, which read_time's optional answer cannot say.
    return [(incident_id, status, urgency, bool(overridden), read_time(last),
             read_time(started), read_json(group_keys), service_id, read_time(first))  # type: ignore[misc]
            for (incident_id, status, urgency, overridden, last, started, group_keys,
                 service_id, first) in rows]


def bump_alerts(driver: Driver, bumps: Iterable[Sequence[Any]]) -> None:
    """Repeats of stored alerts: (alert id, repeats, last seen, summary or None, severity,
    labels or None), in the order given (callers give id order, so writers lock alike).
    The batch writer counts repeats in place, so rows may be lists as well as tuples.
    A new summary leaves the signature as it is: the alert stays in its group."""
    time, json = driver.time, driver.json
    driver.many(_BUMP, [(n, time(seen), time(seen), summary, severity,
                         None if labels is None else json(labels), alert_id)
                        for alert_id, n, seen, summary, severity, labels in bumps])


def touch_incidents(driver: Driver, last_alert: dict[int, datetime], added: Mapping[int, int],
                    now: datetime) -> None:
    """Move incidents' last alert time forward and count the alerts ``added`` to them,
    in id order."""
    time = driver.time
    updated = time(now)
    driver.many(_INCIDENT_SEEN, [(time(last_alert[i]), time(last_alert[i]), added.get(i, 0),
                                  updated, i) for i in sorted(last_alert)])


def services_named(driver: Driver, names: Sequence[str],
                   ids: Sequence[int]) -> list[tuple[int, str, int | None]]:
    """(id, name, owning team) of the services with those names or ids."""
    named, names_given = driver.one_of("name", names)
    numbered, ids_given = driver.one_of("id", ids)
    return driver.rows(_SERVICES.format(names=named, ids=numbered),
                       [*names_given, *ids_given])


def next_alert_ids(driver: Driver, count: int) -> list[int]:
    """PostgreSQL: ``count`` new ids from the alerts' sequence (gaps, as ever with
    sequences, where a transaction that took them rolls back)."""
    return [alert_id for (alert_id,) in driver.rows(_NEXT_IDS, [count])]


def catalog_revision(driver: Driver) -> int:
    rows = driver.rows(_REVISION)
    return int(rows[0][0] or 0) if rows else 0


@dataclass
class Facts:
    """What the fast join needs of an open incident besides ``correlate.OpenIncident``."""

    status: str
    urgency: int
    urgency_overridden: bool
    first_alert: dict[int, datetime]  # service id -> its first alert in the incident


class OpenFacts(dict[int, Facts]):
    """Open incidents' facts by id, with the incidents of each service and group key."""

    def __init__(self) -> None:
        super().__init__()
        self.by_service: dict[int, list[int]] = {}
        self.by_group: dict[str, list[int]] = {}
        # (service id, group key) -> the incidents an alert with those could join
        self.candidates: dict[tuple[int, str | None], list[int]] = {}


def load_open(driver: Driver, services: set[int] | None = None,
              since: datetime | None = None, until: datetime | None = None,
              ) -> tuple[dict[int, correlate.OpenIncident], OpenFacts]:
    """The open incidents as correlation sees them, with their facts: every one, or (with
    ``services``, ``since`` and ``until``) those :func:`open_incidents` finds near them.
    Both ways of recording alerts read them with this, so they place alerts alike."""
    if services is None:
        rows = open_incidents(driver, None, datetime.min, datetime.max)
    else:
        assert since is not None and until is not None
        rows = open_incidents(driver, services, since, until)
    facts = OpenFacts()
    cached: dict[int, correlate.OpenIncident] = {}
    shape: dict[int, tuple[datetime, datetime, tuple[str, ...]]] = {}
    for (incident_id, status, urgency, overridden, last, started, group_keys, service_id,
         first) in rows:
        fact = facts.get(incident_id)
        if fact is None:
            fact = facts[incident_id] = Facts(status, urgency, overridden, {})
            shape[incident_id] = (last or started, started, tuple(group_keys or ()))
        if service_id is not None and first is not None:  # the outer join finds both or none
            fact.first_alert[service_id] = first
    for incident_id, fact in facts.items():
        last_at, started_at, keys = shape[incident_id]
        cached[incident_id] = correlate.OpenIncident(
            id=incident_id, services=tuple(fact.first_alert), last_alert_at=last_at,
            started_at=started_at, group_keys=keys, status=fact.status)
        for service_id in fact.first_alert:
            facts.by_service.setdefault(service_id, []).append(incident_id)
        for group_key in keys:
            facts.by_group.setdefault(group_key, []).append(incident_id)
    return cached, facts


def has_alert_among(driver: Driver, incident_id: int, service_id: int,
                    severities: Sequence[str]) -> bool:
    """Whether the incident has an alert on the service with one of these severities."""
    among, params = driver.one_of("severity", severities)
    return bool(driver.rows(f"SELECT 1 FROM alerts WHERE incident_id = ? AND service_id = ? "
                            f"AND {among} LIMIT 1", [incident_id, service_id, *params]))
