"""One incident's alerts and timeline read in pages, at any size: the summarised timeline
(``timeline_summary``), every timeline entry in a time range, the alerts grouped by
service and signature, and the alerts one by one. Each reads a bounded part of the
incident whatever its number of alerts: counts are made in SQL, never by loading rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    and_,
    cast,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from steward.catalog.models import Service
from steward.errors import ValidationError
from steward.incidents import alert_groups as alert_groups_
from steward.incidents import timeline_summary as ts
from steward.incidents.models import (
    Alert,
    Incident,
    IncidentAlertGroup,
    IncidentService,
    TimelineEntry,
)
from steward.timeutil import isoformat_z

SCAN_LIMIT = 2_500       # timeline entries one summarised page reads at most
ALERTS_IN_DETAIL = 20    # alerts an incident's detail lists (the rest: paged)
T = TimelineEntry
# Written into the SQL, so that PostgreSQL matches the partial index on other entries.
NOT_ALERT: ColumnElement[str] = literal_column("'alert'")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _bucket(session: Session, column: Any) -> ColumnElement[int]:
    """The minute (since 1970) a UTC timestamp column falls in."""
    if _dialect(session) == "sqlite":
        seconds = (func.julianday(column) - 2440587.5) * 86400.0
    else:
        seconds = cast(func.extract("epoch", column), Float)
    return cast(func.floor(seconds / ts.BUCKET_SECONDS), Integer)


def parse_cursor(after: str | None) -> ts.Key | None:
    if after is None or after == "":
        return None
    key = ts.key_of(after)
    if key is None:
        raise ValidationError("after: a cursor from the previous page's 'next'", field="after")
    return key


def _after(key: ts.Key | None) -> Any:
    if key is None:
        return True
    return tuple_(T.at, T.id) > tuple_(key[0], key[1])


def _until(key: ts.Key | None) -> Any:
    if key is None:
        return True
    return tuple_(T.at, T.id) <= tuple_(key[0], key[1])


def entry_out(entry: TimelineEntry) -> dict[str, Any]:
    return {"type": "entry", "id": entry.id, "at": isoformat_z(entry.at), "kind": entry.kind,
            "actor": entry.actor, "text": entry.text, "data": entry.data or {}}


def _row_out(row: dict[str, Any]) -> dict[str, Any]:
    if row["type"] == "entry":
        return entry_out(row["entry"])
    data = dict(row["data"])
    data["first_at"], data["last_at"] = isoformat_z(data["first_at"]), isoformat_z(
        data["last_at"])
    return {"type": "summary", "id": None, "at": isoformat_z(row["at"]), "kind": row["kind"],
            "actor": row["actor"], "text": row["text"], "data": data}


# -- the timeline ----------------------------------------------------------------------------

def raw_timeline(session: Session, incident_id: int, *, after: str | None = None,
                 limit: int = 100, kind: str | None = None, start: datetime | None = None,
                 end: datetime | None = None) -> dict[str, Any]:
    """Every entry, in time order, ``limit`` at a time from the cursor ``after``; only
    those of ``kind`` ("alert", or "other" for every other kind) and from ``start`` to
    ``end`` (both included) when given."""
    key = parse_cursor(after)
    query = select(T).where(T.incident_id == incident_id, _after(key))
    if kind == "alert":
        query = query.where(T.kind == "alert")
    elif kind == "other":
        query = query.where(T.kind != "alert")
    elif kind:
        query = query.where(T.kind == kind)
    if start is not None:
        query = query.where(T.at >= start)
    if end is not None:
        query = query.where(T.at <= end)
    rows = list(session.scalars(query.order_by(T.at, T.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"summarised": False, "limit": limit,
            "next": ts.cursor_of((rows[-1].at, rows[-1].id)) if more and rows else None,
            "items": [entry_out(e) for e in rows]}


def summarised_timeline(session: Session, incident_id: int, *, after: str | None = None,
                        limit: int = 100) -> dict[str, Any]:
    """About ``limit`` rows of the timeline from the cursor ``after``: other entries as
    they are, alert entries summarised (``timeline_summary``). A page reads at most
    SCAN_LIMIT entries; ``next`` is the cursor of the page after, None at the end."""
    key = parse_cursor(after)
    base = (T.incident_id == incident_id, _after(key))
    # The page's scope: up to the SCAN_LIMIT-th entry from the cursor ...
    last = session.execute(select(T.at, T.id).where(*base).order_by(T.at, T.id)
                           .offset(SCAN_LIMIT - 1).limit(1)).first()
    scope: ts.Key | None = (last[0], last[1]) if last else None
    # ... and at most ``limit`` entries that are not alerts.
    events = list(session.scalars(select(T).where(*base, T.kind != NOT_ALERT, _until(scope))
                                  .order_by(T.at, T.id).limit(limit + 1)))
    if len(events) > limit:
        events = events[:limit]
        scope = (events[-1].at, events[-1].id)
    bucket = _bucket(session, T.at).label("bucket")
    service = T.data["service"].as_string().label("service")
    counts = [ts.AlertCount(bucket=b, service=s, count=n, first_at=first, last_at=last_at,
                            first_id=first_id)
              for b, s, n, first, last_at, first_id in session.execute(
                  select(bucket, service, func.count(), func.min(T.at), func.max(T.at),
                         func.min(T.id))
                  .where(*base, T.kind == "alert", _until(scope))
                  .group_by(bucket, service))]
    runs = ts.runs(counts, [e.at for e in events])
    joined = _joined(session, incident_id)
    wanted: list[int] = []
    ranges: list[tuple[datetime, datetime]] = []
    for run in runs[:limit]:
        if run.collapsed:
            wanted += ts.shown_firsts(run, joined)
        else:
            ranges.append((run.first_at, run.last_at))
    entries = _entries(session, incident_id, key, scope, wanted, ranges)
    rows: list[dict[str, Any]] = [_entry_row(e) for e in events]
    rows += [_entry_row(e) for e in entries]
    run_ends = _run_ends(session, incident_id, key, scope,
                         [r for r in runs[:limit] if r.collapsed])
    for run in runs[:limit]:
        if run.collapsed:
            row = ts.summary_row(run, joined)
            row["_end"] = run_ends.get(run.first_id, (run.last_at, 2**62))
            rows.append(row)
    # Runs past the first ``limit`` are left for a later page: the page ends before them.
    rows += [{"type": "stop", "_key": (run.first_at, run.first_id, 0)}
             for run in runs[limit:limit + 1]]
    ordered = ts.order(rows)
    page, end = cut_page(ordered, limit)
    if end is None:
        end = scope
    more = end is not None and session.scalar(
        select(T.id).where(T.incident_id == incident_id, _after(end)).limit(1)) is not None
    return {"summarised": True, "limit": limit,
            "next": ts.cursor_of(end) if more and end is not None else None,
            "items": [_row_out(r) for r in page]}


def _entry_row(entry: TimelineEntry) -> dict[str, Any]:
    return {"type": "entry", "entry": entry, "_key": (entry.at, entry.id, 1),
            "_end": (entry.at, entry.id)}


def cut_page(rows: Sequence[dict[str, Any]], limit: int,
         ) -> tuple[list[dict[str, Any]], ts.Key | None]:
    """The first ``limit`` rows or a few more: never between a summary and an entry it
    spans. Returns the rows and the key the page ends at (None: it took every row)."""
    if len(rows) <= limit and not any(row["type"] == "stop" for row in rows):
        return list(rows), None
    end: ts.Key | None = None
    for index, row in enumerate(rows):
        if row["type"] == "stop":
            return list(rows[:index]), end
        end = row["_end"] if end is None or row["_end"] > end else end
        following = rows[index + 1] if index + 1 < len(rows) else None
        if index + 1 >= limit and following is not None and following["_key"][:2] > end:
            return list(rows[:index + 1]), end
    return list(rows), None


def _joined(session: Session, incident_id: int) -> dict[str, datetime]:
    """When each service of the incident had its first alert in it."""
    return {name: at for name, at in session.execute(
        select(Service.name, IncidentService.first_alert_at).join(
            Service, Service.id == IncidentService.service_id).where(
            IncidentService.incident_id == incident_id))}


def _entries(session: Session, incident_id: int, key: ts.Key | None, scope: ts.Key | None,
             ids: list[int], ranges: list[tuple[datetime, datetime]]) -> list[TimelineEntry]:
    """The alert entries shown as they are: by id, and every one in each time range."""
    if not ids and not ranges:
        return []
    chosen: list[ColumnElement[bool]] = [T.id.in_(ids)] if ids else []
    chosen += [and_(T.at >= first, T.at <= last) for first, last in ranges]
    return list(session.scalars(select(T).where(
        T.incident_id == incident_id, T.kind == "alert", _after(key), _until(scope),
        or_(*chosen)).order_by(T.at, T.id)))


def _run_ends(session: Session, incident_id: int, key: ts.Key | None, scope: ts.Key | None,
              runs: list[ts.Run]) -> dict[int, ts.Key]:
    """Each collapsed run's last entry (at, id), by the run's first id: the largest id at
    its last time (one indexed lookup per run)."""
    out: dict[int, ts.Key] = {}
    for run in runs:
        last_id = session.scalar(select(func.max(T.id)).where(
            T.incident_id == incident_id, T.at == run.last_at, _after(key), _until(scope)))
        out[run.first_id] = (run.last_at, int(last_id or 0))
    return out


# -- alerts ----------------------------------------------------------------------------------

def alert_count(session: Session, incident_id: int) -> int:
    """How many alerts the incident has, as it keeps the count."""
    return int(session.scalar(select(Incident.alert_count).where(
        Incident.id == incident_id)) or 0)


def alert_groups(session: Session, incident_id: int, *, limit: int = 50,
                 offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """The incident's alerts grouped by service and signature, most alerts first: how
    many, how many still active, every alert's events, first and last seen, the worst
    severity they fired with, and as an example the summary of the group's first alert.
    Read from the counts the writers keep (``alert_groups``), never from the alerts."""
    G = IncidentAlertGroup
    total = int(session.scalar(select(func.count()).where(G.incident_id == incident_id)) or 0)
    rows = session.execute(
        select(G.service_id, G.signature, G.alerts, G.active, G.events, G.first_seen,
               G.last_seen, G.worst, G.first_alert_id)
        .where(G.incident_id == incident_id)
        .order_by(G.alerts.desc(), G.service_id, G.signature)
        .limit(limit).offset(offset)).all()
    names = _service_names(session, {r[0] for r in rows})
    ids = [r[8] for r in rows if r[8] is not None]
    examples = dict(session.execute(select(Alert.id, Alert.summary).where(
        Alert.id.in_(ids))).all()) if ids else {}
    return total, [{
        "service": names.get(service_id), "signature": signature, "alerts": int(alerts),
        "active": max(int(active), 0), "events": int(events),
        "first_seen": isoformat_z(first), "last_seen": isoformat_z(last),
        "severity": alert_groups_.severity_of(worst),
        "example": examples.get(first_id) if first_id is not None else None}
        for service_id, signature, alerts, active, events, first, last, worst, first_id
        in rows]


def _service_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {service_id: name for service_id, name in session.execute(
        select(Service.id, Service.name).where(Service.id.in_(ids)))}


def incident_alerts(session: Session, incident_id: int, *, status: str | None = None,
                    service: str | None = None, severity: str | None = None,
                    signature: str | None = None, limit: int = 50,
                    offset: int = 0) -> tuple[int, list[Alert]]:
    """The incident's alerts in the order they were first seen, with filters."""
    query = select(Alert).where(Alert.incident_id == incident_id)
    if status:
        query = query.where(Alert.status.in_(status.split(",")))
    if severity:
        query = query.where(Alert.severity.in_(severity.split(",")))
    if service:
        query = query.where(Alert.service_id.in_(select(Service.id).where(
            Service.name == service)))
    if signature:
        query = query.where(Alert.signature == signature)
    # Unfiltered, the count the incident keeps (a count of 100,000 alerts takes a while).
    total = (alert_count(session, incident_id)
             if not (status or severity or service or signature) else
             int(session.scalar(select(func.count()).select_from(query.subquery())) or 0))
    rows = session.scalars(query.order_by(Alert.first_seen, Alert.id).limit(limit)
                           .offset(offset))
    return total, list(rows)


def first_alerts(session: Session, incident_id: int) -> list[Alert]:
    """The first ALERTS_IN_DETAIL alerts of the incident, as its detail lists them."""
    return list(session.scalars(select(Alert).where(Alert.incident_id == incident_id)
                                .order_by(Alert.first_seen, Alert.id).limit(ALERTS_IN_DETAIL)))
