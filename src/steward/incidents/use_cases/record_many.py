"""Recording many alerts with few statements: the ingestion hot path.

``record_alert`` (in ``alerts``) is the reference: one alert at a time through
the ORM. This module gives the same results for a whole group of alerts (one
request's batch, or many requests committed together) with a handful of SQL
statements per group instead of about a dozen per alert:

- every active alert of the group's keys is read with one SELECT;
- a repeat of an active alert only bumps its count and last-seen time,
  gathered into one executemany UPDATE per group;
- a new alert that correlates into an open incident already holding its
  service (the common case in an alert storm) is placed by the same pure
  ``correlate.place_alert`` and written with bulk INSERTs of alerts and
  timeline entries and one UPDATE per touched incident.

Everything else takes the reference path, event by event, after the pending
writes are flushed so it sees them: acknowledge and resolve events, and new
alerts that open an incident, bring a new service into one, are more urgent
than it, carry a new Alertmanager group, land on a mitigated incident or
arrive out of order. Events are processed in their order, so repeats,
resolves and re-triggers of one key within a group give what one by one
would. A re-trigger of a resolved key joins here only when correlation places
it in an open incident (correlation comes first); otherwise it opens an
incident, so the reference path decides whether its old incident is reopened
or a recurrence opens (``recurrence``). Times count as ``event_time`` makes
them plausible, on both paths.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from steward.auth.models import Integration
from steward.auth.use_cases.integrations import KeyHolder
from steward.catalog.impact import Graph
from steward.db.direct import COPY_FROM, Driver, JsonText
from steward.incidents import (
    alert_groups,
    alert_store,
    correlate,
    event_time,
    health,
    rules,
    settings,
)
from steward.incidents.commands import URL_LENGTH, RecordAlert, alert_summary
from steward.incidents.models import (
    Alert,
    Incident,
    IncidentService,
    TimelineEntry,
)
from steward.incidents.routing import Prepared, prepare
from steward.incidents.timeline_summary import signature
from steward.incidents.transaction_state import (
    forget_open_incidents,
    graph_for,
    lock_correlation,
)
from steward.incidents.use_cases import alerts
from steward.incidents.use_cases.alerts import Outcome
from steward.incidents.use_cases.lifecycle import DEFERRED, recompute
from steward.incidents.use_cases.record_pending import (
    SLACK,
    Active,
    Pending,
    Scope,
    group_deltas,
)
from steward.timeutil import as_utc, utcnow

ALERTS = Alert.__table__
TIMELINE = TimelineEntry.__table__


def record_alerts(session: Session, integration: Integration | None,
                  commands: list[RecordAlert]) -> list[Outcome]:
    """Several alerts in one transaction, with few statements."""
    return record_prepared(session, [prepare(session, integration, commands)])[0]


def record_prepared(session: Session, submissions: Sequence[Prepared]) -> list[list[Outcome]]:
    """Record every submission's alerts (checked and routed by ``routing.prepare``), in
    order, in the caller's transaction."""
    outer = DEFERRED in session.info
    if not outer:
        session.info[DEFERRED] = {}
    try:
        writer = _GroupWriter(session)
        writer.preload(submissions)
        results = [[writer.record(p.integration, cmd, service)
                    for cmd, service in zip(p.commands, p.services, strict=True)]
                   for p in submissions]
        writer.flush()
        if not outer:
            for incident in session.info[DEFERRED].values():
                recompute(session, incident)
    finally:
        if not outer:
            session.info.pop(DEFERRED, None)
    return [[r.outcome() for r in per] for per in results]


@dataclass
class _Result:
    active: Active | None
    created: bool
    incident_id: int | None
    alert_id: int | None = None

    def outcome(self) -> Outcome:
        alert_id = self.alert_id if self.active is None else self.active.alert_id
        return Outcome(alert_id, self.created, self.incident_id)


class _GroupWriter:
    def __init__(self, session: Session):
        self.session = session
        self.driver = Driver(session)
        # Events without a time of their own are seen when the group is recorded.
        self.now = utcnow()
        self.active: dict[tuple[int | None, str], Active | None] = {}
        self.pending = Pending()
        self.stale_orm = False  # Core wrote rows the session may hold as objects
        self.settings = settings.correlation()
        self.bound = settings.event_time_bound()
        self.nearby: dict[int, frozenset[int]] = {}
        self.open: dict[int, correlate.OpenIncident] | None = None
        self.facts: alert_store.OpenFacts | None = None
        self.scope = Scope()
        self.json_names: dict[str, str] = {}
        self.graph: Graph | None = None
        self.placements: dict[tuple[int, str | None, datetime], correlate.Placement] = {}
        # (incident, service, severity): the service has had an alert at least as bad
        self.as_bad: set[tuple[int, int, str]] = set()
        # (incident, service, severity, seen, group key) -> whether the join is only the
        # alert (``rules.joining``): the same while the incidents' facts stay as read
        self.plain_joins: dict[tuple[int, int, str, datetime, str | None], bool] = {}

    # -- one event ------------------------------------------------------------------------

    def record(self, integration: Integration | KeyHolder | None, cmd: RecordAlert,
               service: tuple[int, str] | None) -> _Result:
        iid = integration.id if integration is not None else None
        key = (iid, cmd.dedup_key)
        if key not in self.active:
            self._load_active(iid, [cmd.dedup_key])
        active = self.active[key]
        if cmd.status == "firing" and active is not None:
            self._repeat(active, cmd)
            return _Result(active, False, active.incident_id)
        if cmd.status == "firing" and service is not None:
            placed = self._fast_new(iid, cmd, service)
            if placed is not None:
                self.active[key] = placed
                return _Result(placed, True, placed.incident_id)
        return self._reference(integration, cmd, key)

    def _received(self, cmd: RecordAlert) -> datetime:
        return as_utc(cmd.received_at) if cmd.received_at else self.now

    def _repeat(self, active: Active, cmd: RecordAlert) -> None:
        seen = event_time.clamp(cmd.occurred_at, self._received(cmd), self.bound)
        if active.row is not None:  # new in this group: amend the pending INSERT
            row = active.row
            repeat = rules.Repeat(row["count"], row["last_seen"], row["summary"],
                                  row["severity"], row["labels"])
            repeat.add(cmd, seen)
            active.worst = min(active.worst, alert_groups.severity_rank(cmd.severity))
            row.update(count=repeat.count, last_seen=repeat.last_seen, summary=repeat.summary,
                       severity=repeat.severity, labels=repeat.labels)
            return
        assert active.alert_id is not None
        self.pending.bumps.setdefault(active.alert_id, rules.Repeat()).add(cmd, seen)
        group = active.group()
        if group is not None:
            rank = alert_groups.severity_rank(cmd.severity)
            known = self.pending.bumped.get(active.alert_id)
            self.pending.bumped[active.alert_id] = (
                group, rank if known is None else min(known[1], rank))

    def _fast_new(self, iid: int | None, cmd: RecordAlert,
                  service: tuple[int, str]) -> Active | None:
        """A new alert joining an open incident that already has its service, else None."""
        service_id, service_name = service
        received = self._received(cmd)
        seen, time_note = event_time.plausible(cmd.occurred_at, received, self.bound)
        open_incidents, facts = self._open_incidents()
        graph = self._graph()
        # Only the incidents that can match: same group key, or a service nearby. They
        # change only when the incidents are read again (a fast join adds no service).
        candidates = facts.candidates.get((service_id, cmd.group_key))
        if candidates is None:
            found = {i for s in self._nearby(graph, service_id)
                     for i in facts.by_service.get(s, ())}
            if cmd.group_key:
                found.update(facts.by_group.get(cmd.group_key, ()))
            candidates = facts.candidates[(service_id, cmd.group_key)] = sorted(found)
        # The same question gets the same answer while the open incidents stay as they
        # are (a storm's alerts on one service, seen at the group's time).
        question = (service_id, cmd.group_key, seen)
        placement = self.placements.get(question)
        if placement is None:
            placement = self.placements[question] = correlate.place_alert(
                graph, service_id, seen, [open_incidents[i] for i in candidates],
                self.settings, group_key=cmd.group_key)
        if placement.incident_id is None:
            return None
        incident = open_incidents[placement.incident_id]
        # Only a join that changes nothing but the alert itself is written here.
        join = (incident.id, service_id, cmd.severity, seen, cmd.group_key)
        plain = self.plain_joins.get(join)
        if plain is None:
            fact = facts.get(incident.id)
            plain = self.plain_joins[join] = fact is not None and rules.joining(
                status=fact.status, urgency=fact.urgency,
                urgency_overridden=fact.urgency_overridden, started_at=incident.started_at,
                group_keys=incident.group_keys,
                service_first_alert=fact.first_alert.get(service_id),
                severity=cmd.severity, seen=seen, group_key=cmd.group_key).only_alert \
                and not self._worsens(incident.id, service_id, cmd.severity)
        if not plain:
            return None
        details = dict(cmd.details)
        if time_note is not None:
            details[event_time.TIME_NOTE] = time_note
        summary = alert_summary(cmd.summary)
        sig = signature(summary)
        row = {"integration_id": iid, "service_id": service_id, "incident_id": incident.id,
               "dedup_key": cmd.dedup_key, "status": "firing", "severity": cmd.severity,
               "summary": summary, "signature": sig, "source": cmd.source,
               "labels": dict(cmd.labels), "details": details,
               "url": (cmd.url or "")[:URL_LENGTH], "group_key": cmd.group_key,
               "first_seen": seen, "last_seen": seen, "count": 1, "resolved_at": None,
               "created_at": received,
               "reported_at": as_utc(cmd.occurred_at) if cmd.occurred_at else None}
        placed = Active(incident.id, row=row, service_id=service_id,
                         signature=sig,
                         worst=alert_groups.severity_rank(cmd.severity))
        self.pending.inserts.append(placed)
        self.pending.timeline.append((placed, {
            "incident_id": incident.id, "at": seen, "kind": "alert", "actor": "",
            "text": f"Alert on {service_name} joined: {row['summary']} ({cmd.severity}). "
                    f"{placement.reason}",
            "data": service_name}))
        if seen > incident.last_alert_at:
            open_incidents[incident.id] = replace(incident, last_alert_at=seen)
            self.placements.clear()
        self.pending.incidents[incident.id] = open_incidents[incident.id].last_alert_at
        return placed

    def _worsens(self, incident_id: int, service_id: int, level: str) -> bool:
        """Whether an alert of ``level`` makes its service's state in the incident worse
        than its alerts did: then the reference path joins it and recomputes."""
        as_bad = health.severities_as_bad(level)
        if not as_bad or (incident_id, service_id, level) in self.as_bad:
            return False
        found = alert_store.has_alert_among(self.driver, incident_id, service_id, as_bad)
        if found:
            self.as_bad.add((incident_id, service_id, level))
        return not found

    def _reference(self, integration: Integration | KeyHolder | None, cmd: RecordAlert,
                   key: tuple[int | None, str]) -> _Result:
        """The ORM path, after flushing what is pending so it sees every earlier event."""
        self.flush()
        if isinstance(integration, KeyHolder):
            integration = self.session.get(Integration, integration.id)
        if self.stale_orm:
            for obj in list(self.session.identity_map.values()):
                if isinstance(obj, (Alert, Incident, IncidentService)):
                    self.session.expire(obj)
            self.stale_orm = False
        # It reads the open incidents itself, all of them, as they now are; the lock
        # first, as flush takes it (it may update an alert before it needs the lock).
        lock_correlation(self.session, self.driver)
        forget_open_incidents(self.session)
        recorded = alerts.record_alert(self.session, integration, cmd)
        self.session.flush()
        # Incidents may have opened, grown or changed state: read them again when needed.
        self.open = self.facts = None
        self.placements.clear()
        self.plain_joins.clear()
        forget_open_incidents(self.session)
        self.now = utcnow()  # later events are seen after this one, as one by one they would
        alert = recorded.alert
        self.active[key] = (Active(alert.incident_id, alert_id=alert.id,
                                    service_id=alert.service_id, signature=alert.signature)
                            if alert is not None and alert.status != "resolved" else None)
        incident_id = recorded.incident.id if recorded.incident is not None else None
        return _Result(None, recorded.created, incident_id,
                       alert.id if alert is not None else None)

    # -- reads ----------------------------------------------------------------------------

    def preload(self, submissions: Sequence[Prepared]) -> None:
        """Every active alert of the group's keys, with one query per integration; and
        what the group's new alerts could need of the open incidents."""
        wanted: dict[int | None, set[str]] = {}
        for prepared in submissions:
            iid = prepared.integration.id if prepared.integration is not None else None
            wanted.setdefault(iid, set()).update(c.dedup_key for c in prepared.commands)
            for cmd, service in zip(prepared.commands, prepared.services, strict=True):
                if cmd.status == "firing" and service is not None:
                    self.scope.add(service[0], cmd)
        for iid, keys in wanted.items():
            ordered = sorted(keys)
            for start in range(0, len(ordered), 500):
                self._load_active(iid, ordered[start:start + 500])

    def _load_active(self, iid: int | None, keys: list[str]) -> None:
        for key in keys:
            self.active[(iid, key)] = None
        for alert_id, key, incident_id, service_id, sig in alert_store.active_alerts(
                self.driver, iid, keys):
            self.active[(iid, key)] = Active(incident_id, alert_id=alert_id,
                                              service_id=service_id, signature=sig)

    def _open_incidents(self) -> tuple[dict[int, correlate.OpenIncident],
                                       alert_store.OpenFacts]:
        """The open incidents this group's new alerts could join, read once (again after
        the reference path ran). Without group keys, only incidents on services near the
        group's alerts can match: triggered or acknowledged ones whenever they were last
        active, mitigated ones within the correlation windows."""
        if self.open is None or self.facts is None:
            # No correlation lock to read: it keeps two writers from each opening an
            # incident for one group, and this path only joins incidents that already
            # hold the alert's service; ``flush`` takes it before writing (see there).
            graph = self._graph()
            services: set[int] | None = None
            if not self.scope.group_keys:
                services = set()
                for service_id in self.scope.services:
                    services |= self._nearby(graph, service_id)
            window = correlate.mitigated_reach(self.settings)
            self.open, self.facts = alert_store.load_open(
                self.driver, services, self.scope.first - window - SLACK,
                self.scope.last + window + SLACK)
        return self.open, self.facts

    def _json_name(self, name: str) -> str:
        text = self.json_names.get(name)
        if text is None:
            text = self.json_names[name] = json.dumps(name)
        return text

    def _graph(self) -> Graph:
        """The dependency graph, once per transaction (shared with the reference path)."""
        if self.graph is None:
            self.graph = graph_for(self.session)
        return self.graph

    def _nearby(self, graph: Graph, service_id: int) -> frozenset[int]:
        nearby = self.nearby.get(service_id)
        if nearby is None:
            nearby = self.nearby[service_id] = correlate.nearby_services(graph, service_id,
                                                                         self.settings)
        return nearby

    # -- writes ---------------------------------------------------------------------------

    def _insert_alerts(self, rows: list[dict[str, Any]], *, orm: bool) -> list[int]:
        """Insert new alerts; their ids, in order. (Many alerts of an integration on
        PostgreSQL are numbered beforehand instead: see ``flush``.)

        SQLite: one executemany, then the ids read back by key: every new alert is the
        only active alert of its integration and key (the partial unique index says so),
        which is cheaper than an INSERT ... RETURNING kept in parameter order (one
        statement per row there). A few rows on PostgreSQL: INSERT ... RETURNING in the
        flush's pipeline. Alerts of no integration, which that index does not cover
        (``orm``), take the ORM's RETURNING way."""
        if orm:
            return list(self.session.execute(_INSERT_ALERTS_RETURNING, rows).scalars())
        if not self.driver.sqlite:
            # A few rows on PostgreSQL (many are numbered beforehand): their ids come back
            # with the INSERT, in the flush's one round trip, rather than with a query.
            ids = {(iid, key): alert_id for alert_id, iid, key in self.driver.insert_returning(
                ALERTS, rows, "id, integration_id, dedup_key")}
            return [ids[(row["integration_id"], row["dedup_key"])] for row in rows]
        self.driver.insert_rows(ALERTS, rows)
        keys: dict[int, list[str]] = {}
        for row in rows:
            keys.setdefault(row["integration_id"], []).append(row["dedup_key"])
        found: dict[tuple[int, str], int] = {}
        for iid, wanted in keys.items():
            for start in range(0, len(wanted), 500):
                for alert_id, key, *_rest in alert_store.active_alerts(
                        self.driver, iid, wanted[start:start + 500]):
                    found[(iid, key)] = alert_id
        return [found[(row["integration_id"], row["dedup_key"])] for row in rows]

    def flush(self) -> None:
        pending = self.pending
        if not pending:
            return
        self.pending = Pending()
        rows = [a.row for a in pending.inserts if a.row is not None]
        orm = any(row["integration_id"] is None for row in rows)
        # On PostgreSQL a few alerts' writes go in one pipeline (COPY, for many, cannot;
        # nor can the ORM's INSERT for alerts of no integration).
        together = len(rows) < COPY_FROM and not orm
        # Many alerts on PostgreSQL: their ids from the sequence first, so their timeline
        # entries go in before the correlation lock and the alerts need no read-back. (A
        # few come back from their INSERT, in the pipeline's one round trip, instead.)
        numbered = not together and not orm and not self.driver.sqlite
        if numbered:
            ids = alert_store.next_alert_ids(self.driver, len(rows))
            for placed, alert_id in zip(pending.inserts, ids, strict=True):
                placed.alert_id = alert_id
                assert placed.row is not None
                placed.row["id"] = alert_id
        with self.driver.pipeline() if together else contextlib.nullcontext():
            self._write(pending, rows, orm=orm, numbered=numbered)
        self.stale_orm = True

    def _write(self, pending: Pending, rows: list[dict[str, Any]], *, orm: bool,
               numbered: bool) -> None:
        # Timeline entries lock no row another writer could hold: their foreign key takes a
        # key-share lock on the incident, which no writer's UPDATE of an incident conflicts
        # with. So, with their alerts' ids known, they go before the lock.
        if numbered:
            self._insert_timeline(pending)
        # The lock before any row is locked or any alert inserted, in every transaction of
        # the alert writer (see _reference): writers that take the lock and rows in
        # different orders could deadlock, on PostgreSQL until its deadlock timeout (a
        # second) undoes one of them. An INSERT of a key another process has just
        # inserted, uncommitted, waits for that process (the unique index), and that
        # process, on the reference path, may hold the lock while this one would wait
        # for it.
        lock_correlation(self.session, self.driver)
        if numbered:
            self.driver.insert_rows(ALERTS, rows)
            for placed in pending.inserts:
                placed.row = None
        elif pending.inserts:
            ids = self._insert_alerts(rows, orm=orm)
            for placed, alert_id in zip(pending.inserts, ids, strict=True):
                placed.alert_id, placed.row = alert_id, None
            self._insert_timeline(pending)
        # Rows are updated in id order, so concurrent writers lock them in the same order.
        if pending.bumps:
            alert_store.bump_alerts(self.driver, [
                (i, r.count, r.last_seen, r.summary, r.severity, r.labels)
                for i, r in sorted(pending.bumps.items())])
        if pending.incidents:
            added = Counter(p.incident_id for p in pending.inserts if p.incident_id)
            alert_store.touch_incidents(self.driver, pending.incidents, added, utcnow())
        alert_groups.write(self.driver, group_deltas(pending, rows))

    def _insert_timeline(self, pending: Pending) -> None:
        """The new alerts' timeline entries (their alerts' ids known)."""
        if not pending.timeline:
            return
        for placed, entry in pending.timeline:
            # {"alert_id": ..., "service": ...} as the JSON type would serialise it
            entry["data"] = JsonText(f'{{"alert_id": {placed.alert_id}, "service": '
                                     f'{self._json_name(entry["data"])}}}')
        self.driver.insert_rows(TIMELINE, [entry for _placed, entry in pending.timeline])


_INSERT_ALERTS_RETURNING = insert(ALERTS).returning(ALERTS.c.id, sort_by_parameter_order=True)
