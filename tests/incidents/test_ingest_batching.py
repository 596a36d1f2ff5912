"""The ingestion hot path gives what one alert at a time through ``record_alert`` gives.

Each scenario runs twice in one database, on two copies of the same small
catalog (services suffixed 1 and 2, never connected, so their incidents never
mix): once event by event through ``record_alert``, once as one group through
``incidents.batch`` (as the alert writer records concurrent requests). Alerts,
incidents and timelines must come out the same, except that a group recomputes
an incident's priority once, at its end, so a priority change is noted after
the group's alerts rather than between them.
"""

from __future__ import annotations

from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import Any

import pytest
from helpers import (
    alert_groups_as_counted,
    alert_groups_from_alerts,
    make_dependency,
    make_service,
    make_team,
)
from sqlalchemy import func, select

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.catalog import graph
from steward.catalog.models import Service
from steward.errors import AuthenticationFailed, PermissionDenied, ValidationError
from steward.incidents import routing
from steward.incidents.commands import RecordAlert
from steward.incidents.health import service_impacts
from steward.incidents.models import Alert, Incident, IncidentService, TimelineEntry
from steward.incidents.use_cases.alerts import record_alert
from steward.incidents.use_cases.record_group import record_group
from steward.timeutil import utcnow

START = utcnow().replace(microsecond=0) - timedelta(minutes=30)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


@pytest.fixture
def twins(db):  # type: ignore[no-untyped-def]
    """Two identical catalogs (suffix 1 and 2) and a team-wide integration key for each."""
    # The dependency graph is cached per database URL and catalog revision; a PostgreSQL
    # test database is emptied (identities restarted) between tests, so a revision number
    # can come back with another test's graph.
    graph._cache.clear()
    keys = {}
    for n in (1, 2):
        make_team(db, f"team{n}")
        make_service(db, f"db{n}", owner=f"team{n}", kind="resource", tier=1)
        make_service(db, f"api{n}", owner=f"team{n}", tier=2)
        make_service(db, f"web{n}", owner=f"team{n}", tier=3)
        make_dependency(db, f"api{n}", f"db{n}")
        make_dependency(db, f"web{n}", f"api{n}")
        with db.session() as session:
            keys[n] = create_integration(session, SYSTEM, "generic", team=f"team{n}")[1]
    return keys


def fire(key: str, service: str, minute: float, severity: str = "warning",
         summary: str = "", labels: dict[str, str] | None = None,
         group_key: str | None = None) -> RecordAlert:
    return RecordAlert(dedup_key=key, status="firing", service=service, severity=severity,
                       summary=summary or f"{service} {key}", occurred_at=at(minute),
                       labels=labels or {}, group_key=group_key)


def settle(key: str, service: str, minute: float, status: str = "resolved") -> RecordAlert:
    return RecordAlert(dedup_key=key, status=status, service=service, occurred_at=at(minute),
                       ended_at=at(minute) if status == "resolved" else None)


def reference(db, key: str, commands: list[RecordAlert]) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    from steward.auth.use_cases import integrations

    results = []
    for cmd in commands:
        with db.session() as session:
            recorded = record_alert(session, integrations.by_key(session, key), cmd)
            results.append({"alert_id": recorded.alert.id if recorded.alert else None,
                            "created": recorded.created,
                            "incident_id": recorded.incident.id if recorded.incident else None})
    return results


def grouped(db, key: str, commands: list[RecordAlert],  # type: ignore[no-untyped-def]
            pieces: int = 1) -> list[dict[str, Any]]:
    """The commands as ``pieces`` concurrent requests committed in one group."""
    size = -(-len(commands) // pieces)
    with db.session() as session:
        answers = record_group(session, [(key, (), commands[i:i + size])
                                         for i in range(0, len(commands), size)])
    results = []
    for answer in answers:
        assert not isinstance(answer, Exception), answer
        results.extend(answer)
    return results


def state(db, n: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Everything recorded for catalog ``n``, with ids replaced by their order of creation."""
    with db.read_session() as session:
        names = {sid: name.rstrip("12") for sid, name in session.execute(
            select(Service.id, Service.name).where(Service.name.like(f"%{n}")))}
        alerts = session.scalars(select(Alert).where(Alert.service_id.in_(names))
                                 .order_by(Alert.id)).all()
        incident_ids = sorted({a.incident_id for a in alerts if a.incident_id})
        incident_no = {iid: i for i, iid in enumerate(incident_ids)}
        alert_no = {a.id: i for i, a in enumerate(alerts)}
        incidents = []
        for iid in incident_ids:
            incident = session.get(Incident, iid)
            assert incident is not None
            services = sorted(names[s] for s in session.scalars(
                select(IncidentService.service_id).where(IncidentService.incident_id == iid)))
            timeline = [(e.kind, e.at if e.at < at(20) else "now",
                         e.text.replace(f"INC-{iid}", "INC"),
                         {k: (alert_no[v] if k == "alert_id" else v) for k, v in
                          (e.data or {}).items()})
                        for e in session.scalars(select(TimelineEntry).where(
                            TimelineEntry.incident_id == iid).order_by(TimelineEntry.id))]
            # A group recomputes priority once, at its end: the change is noted there.
            timeline.sort(key=lambda entry: entry[0] == "priority")
            # The states kept on the incident are those its alerts give (the map draws them).
            kept = {names[int(sid)]: impact
                    for sid, impact in (incident.service_impacts or {}).items()}
            derived = {names[sid]: state.impact for sid, state in service_impacts(
                session.scalars(select(IncidentService.service_id).where(
                    IncidentService.incident_id == iid)),
                [(sid, sev, True) for sid, sev in session.execute(
                    select(Alert.service_id, Alert.severity).where(Alert.incident_id == iid)
                    .distinct())]).items()}
            assert kept == derived
            # Its alert groups are as its alerts give them.
            assert alert_groups_as_counted(session, iid) == alert_groups_from_alerts(
                session, iid)
            # So is the count of its alerts.
            assert incident.alert_count == session.scalar(
                select(func.count()).select_from(Alert).where(Alert.incident_id == iid))
            incidents.append({
                "title": incident.title,
                "status": incident.status, "priority": incident.priority,
                "impact": incident.impact, "urgency": incident.urgency,
                "origin": names.get(incident.origin_service_id or 0),
                "started_at": incident.started_at, "last_alert_at": incident.last_alert_at,
                "mitigated_at": incident.mitigated_at, "group_keys": incident.group_keys,
                "services": services, "timeline": timeline, "service_impacts": kept,
                "alert_count": incident.alert_count})
        return _unsuffixed({"alerts": [
            (a.dedup_key, names[a.service_id], a.status, a.severity, a.summary,
             a.signature, a.labels,
             a.count, a.first_seen, a.last_seen, a.resolved_at,
             incident_no.get(a.incident_id or 0)) for a in alerts],
            "incidents": incidents}, n)


def _unsuffixed(value: Any, n: int) -> Any:
    if isinstance(value, str):
        for name in ("db", "api", "web", "team", "grp"):
            value = value.replace(f"{name}{n}", name)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_unsuffixed(v, n) for v in value)
    if isinstance(value, dict):
        return {k: _unsuffixed(v, n) for k, v in value.items()}
    return value


def scenario(n: int) -> list[RecordAlert]:
    """New alerts, repeats, a resolve then a re-trigger of one key, an acknowledge, a
    new service joining by topology, a more urgent alert, a group key, out of order."""
    db, api, web = f"db{n}", f"api{n}", f"web{n}"
    return [
        fire("a", db, 0),
        fire("a", db, 0.5, summary="db a again", labels={"x": "1"}),
        fire("b", db, 1),
        fire("c", api, 1.5),  # joins through the dependency graph: a new service
        fire("b", db, 2, severity="error"),
        fire("d", db, 2.5),
        settle("a", db, 3),
        fire("a", db, 3.5, summary="db a re-triggered"),
        fire("a", db, 4),
        settle("c", api, 4.5, status="acknowledged"),
        fire("c", api, 5),
        fire("e", db, 5.5, severity="critical"),  # more urgent than the incident
        fire("f", db, 6, group_key=f"grp{n}"),
        fire("g", web, 6.5, group_key=f"grp{n}"),
        fire("h", db, 1.2),  # out of order: earlier than the incident's last alert
        settle("zz", db, 7),  # a resolve for no active alert
        fire("b", db, 7.5),
        settle("b", db, 8), settle("d", db, 8), settle("e", db, 8), settle("f", db, 8),
        settle("h", db, 8),
        fire("i", db, 8.5),
    ]


def test_a_mixed_group_gives_what_one_by_one_gives(db, twins):
    first = reference(db, twins[1], scenario(1))
    second = grouped(db, twins[2], scenario(2))
    assert [(r["created"], r["alert_id"] is None, r["incident_id"] is None) for r in first] == [
        (r["created"], r["alert_id"] is None, r["incident_id"] is None) for r in second]
    assert state(db, 2) == state(db, 1)


def test_a_group_of_many_requests_gives_what_one_by_one_gives(db, twins):
    reference(db, twins[1], scenario(1))
    grouped(db, twins[2], scenario(2), pieces=7)
    assert state(db, 2) == state(db, 1)


def outage(n: int) -> list[RecordAlert]:
    """An outage on db that stays triggered: alerts near it keep joining long after its
    last alert (no time window), until it is mitigated; then only within the window."""
    db, api, web = f"db{n}", f"api{n}", f"web{n}"
    return [
        fire("a", db, 0),
        fire("b", db, 12),  # 12 minutes after any alert: still the same outage
        fire("c", web, 19),  # 2 hops from db, 7 minutes after the last alert
        fire("d", api, 27, severity="error"),
        settle("a", db, 27.5), settle("b", db, 27.5), settle("c", web, 27.5),
        settle("d", api, 27.5),  # every alert resolved: mitigated
        fire("e", db, 28),  # within the window of a mitigated incident: joins it again
    ]


def test_alerts_join_an_open_outage_for_its_whole_life_on_both_paths(db, twins):
    reference(db, twins[1], outage(1))
    grouped(db, twins[2], outage(2))
    assert state(db, 2) == state(db, 1)
    [incident] = state(db, 2)["incidents"]
    assert incident["services"] == ["api", "db", "web"]
    assert incident["status"] == "triggered"
    joined = [text for kind, _at, text, _data in incident["timeline"] if kind == "alert"]
    assert "same service (db) as INC (triggered, open since " in joined[1]
    assert "web depends on db (2 hops), which is in INC (triggered" in joined[2]


def test_the_hot_path_reads_an_open_outage_whatever_its_last_alert(db, twins, monkeypatch):
    """A group's new alert on a service of a triggered incident last active long ago joins
    it on the hot path, with no event taking the reference path: the hot path reads every
    triggered or acknowledged incident near its alerts, whenever they were last active."""
    from steward.incidents.use_cases import alerts

    grouped(db, twins[1], [fire("a", "db1", 0)])
    calls: list[RecordAlert] = []
    record = alerts.record_alert

    def counted(session, integration, cmd):  # type: ignore[no-untyped-def]
        calls.append(cmd)
        return record(session, integration, cmd)

    monkeypatch.setattr(alerts, "record_alert", counted)
    results = grouped(db, twins[1], [fire("b", "db1", 15), fire("c", "db1", 25)])
    assert calls == []
    assert [r["created"] for r in results] == [True, True]
    with db.read_session() as session:
        assert len(set(session.scalars(select(Alert.incident_id)))) == 1


def test_unrelated_outages_stay_apart_on_both_paths(db, twins):
    """Two catalogs that share nothing: an open outage on one never takes the other's."""
    grouped(db, twins[1], [fire("a", "db1", 0)])
    results = grouped(db, twins[2], [fire("a", "db2", 10), fire("b", "web2", 11)])
    with db.read_session() as session:
        incidents = set(session.scalars(select(Alert.incident_id)))
    assert len(incidents) == 2
    assert results[0]["incident_id"] == results[1]["incident_id"]


def test_everything_resolving_mitigates_within_a_group(db, twins):
    events = [fire("a", "db{n}", 0), fire("b", "db{n}", 1), fire("a", "db{n}", 2),
              settle("a", "db{n}", 3), settle("b", "db{n}", 4), fire("b", "db{n}", 5)]

    def for_catalog(n: int) -> list[RecordAlert]:
        return [RecordAlert(**{**vars(e), "service": e.service.format(n=n)})  # type: ignore[union-attr]
                for e in events]

    reference(db, twins[1], for_catalog(1))
    grouped(db, twins[2], for_catalog(2))
    assert state(db, 2) == state(db, 1)
    assert [i["status"] for i in state(db, 2)["incidents"]] == ["triggered"]


def test_repeats_in_one_group_count_every_event(db, twins):
    grouped(db, twins[1], [fire("a", "db1", 0), fire("b", "db1", 0.2)])
    repeats = [fire("a", "db1", 1 + i / 10, summary=f"a slow {i}0 ms") for i in range(5)]
    repeats += [fire("new", "db1", 2 + i / 10, summary=f"new {i}") for i in range(4)]
    results = grouped(db, twins[1], repeats, pieces=3)
    with db.read_session() as session:
        counts = dict(session.execute(select(Alert.dedup_key, Alert.count)).all())
        new = session.execute(select(Alert.summary, Alert.signature, Alert.first_seen,
                                     Alert.last_seen).where(Alert.dedup_key == "new")).one()
        a = session.execute(select(Alert.summary, Alert.signature)
                            .where(Alert.dedup_key == "a")).one()
    assert counts == {"a": 6, "b": 1, "new": 4}
    # a repeat's new summary leaves the signature it fired with (its group), stored alert
    # or pending one
    assert tuple(new) == ("new 3", "new #", at(2), at(2.3))
    assert a[0] == "a slow 40 ms" and a[1] != "a slow # ms"
    assert [r["created"] for r in results] == [False] * 5 + [True, False, False, False]
    assert len({r["alert_id"] for r in results[5:]}) == 1
    assert len({r["incident_id"] for r in results}) == 1


def test_long_summaries_are_stored_alike_and_titles_shortened(db, twins):
    """PagerDuty allows 1,024 characters of summary, an incident title holds 500; a source
    without a limit (Alertmanager annotations) may send more than an alert holds."""
    words = " ".join(f"word{i:04d}" for i in range(150))  # 1,499 characters

    def events(n: int) -> list[RecordAlert]:
        return [fire("a", f"db{n}", 0, summary=words),  # opens the incident
                fire("a", f"db{n}", 1, summary=words[:700]),  # a repeat
                fire("b", f"db{n}", 2, summary=words[:1024]),  # joins: the fast path
                fire("c", f"api{n}", 3, summary=words[:600])]  # joins, a new service

    reference(db, twins[1], events(1))
    grouped(db, twins[2], events(2))
    assert state(db, 2) == state(db, 1)
    recorded = state(db, 2)
    summaries = {alert[0]: alert[4] for alert in recorded["alerts"]}
    assert summaries["a"] == words[:700] and summaries["b"] == words[:1024]
    assert summaries["c"] == words[:600]
    [incident] = recorded["incidents"]
    assert len(incident["title"]) <= 500 and incident["title"].endswith("\u2026")
    assert words.startswith(incident["title"][:-1])
    with db.read_session() as session:
        first = session.scalar(select(Alert.summary).where(Alert.dedup_key == "a"))
    assert first == words[:700]


def test_a_first_summary_longer_than_an_alert_holds_is_shortened_alike(db, twins):
    words = " ".join(f"word{i:04d}" for i in range(150))
    reference(db, twins[1], [fire("a", "db1", 0, summary=words)])
    grouped(db, twins[2], [fire("a", "db2", 0, summary=words)])
    assert state(db, 2) == state(db, 1)
    [alert] = state(db, 2)["alerts"]
    assert len(alert[4]) <= 1024 and alert[4].endswith("\u2026")
    assert words.startswith(alert[4][:-1])


def test_a_refused_request_fails_alone_and_writes_nothing(db, twins):
    with db.session() as session:
        answers = record_group(session, [
            (twins[1], (), [fire("ok", "db1", 0)]),
            ("stk_not-a-key", (), [fire("x", "db1", 0)]),
            (twins[1], (), [fire("y", "db1", 0), fire("z", "nowhere", 0)]),
            (twins[1], ("pagerduty",), [fire("w", "db1", 0)]),
            (twins[1], (), [fire("ok", "db1", 1)]),
        ])
    assert isinstance(answers[1], AuthenticationFailed)
    assert isinstance(answers[2], ValidationError) and answers[2].field == "service"
    assert isinstance(answers[3], AuthenticationFailed)
    assert answers[0][0]["created"] and not answers[4][0]["created"]
    with db.read_session() as session:
        assert dict(session.execute(select(Alert.dedup_key, Alert.count)).all()) == {"ok": 2}


def test_routing_matches_the_reference(db, twins):
    """Both paths route by ``catalog.event_routing``: a name of the key's team wins, an
    unknown name goes to the key's service and is kept, another team's is refused."""
    from steward.auth.use_cases import integrations

    keys = {}
    with db.session() as session:
        for n in (1, 2):
            keys[n] = create_integration(session, SYSTEM, "generic", service=f"api{n}")[1]

    def events(n: int) -> list[RecordAlert]:
        return [fire("p", f"db{n}", 0), fire("q", "ghost", 0),
                RecordAlert(dedup_key="r", status="firing"), settle("q", "ghost", 1),
                fire("q", "ghost", 2)]

    reference(db, keys[1], events(1))
    results = grouped(db, keys[2], events(2))
    assert all(r["incident_id"] for r in results)

    def placed(n: int) -> list[tuple[str, str, str, str | None]]:
        with db.read_session() as session:
            rows = session.execute(select(Alert.dedup_key, Service.name, Alert.status,
                                          Alert.details).join(
                Service, Service.id == Alert.service_id).where(Service.name.like(f"%{n}"))
                .order_by(Alert.id)).all()
        return [(key, name.rstrip("12"), status, details.get("service_not_in_catalog"))
                for key, name, status, details in rows]

    assert placed(1) == placed(2) == [
        ("p", "db", "firing", None), ("q", "api", "resolved", "ghost"),
        ("r", "api", "firing", None), ("q", "api", "firing", "ghost")]
    with db.session() as session:
        holder = integrations.by_key(session, keys[1])
        refusals = []
        for path in (lambda cmd: routing.prepare(session, holder, [cmd]),
                     lambda cmd: record_alert(session, holder, cmd)):
            with pytest.raises(PermissionDenied) as refused:
                path(fire("t", "db2", 0))
            refusals.append((refused.value.field, refused.value.message))
        assert refusals[0] == refusals[1]
        assert refusals[0][0] == "service" and "'db2' belongs to another team" in refusals[0][1]
        team_key = integrations.by_key(session, twins[1])
        with pytest.raises(ValidationError, match="routes to no service"):
            routing.prepare(session, team_key, [RecordAlert(dedup_key="s", status="firing")])
        with pytest.raises(ValidationError, match="ghost"):
            routing.prepare(session, team_key, [fire("s", "ghost", 0)])
        # An acknowledge or resolve needs no service: it settles by dedup key.
        unplaced = routing.prepare(session, team_key, [settle("s", "ghost", 1)])
        assert unplaced.services == [None]
        assert record_alert(session, team_key, settle("s", "ghost", 1)).alert is None


def test_alerts_of_no_integration_are_recorded_in_a_group_too(db, twins):
    from steward.incidents.use_cases.record_many import record_alerts

    with db.session() as session:
        first = record_alerts(session, None, [fire("a", "db1", 0), fire("b", "db1", 0.1)])
    with db.session() as session:
        second = record_alerts(session, None, [fire("c", "db1", 0.2), fire("a", "db1", 0.3),
                                               fire("d", "db1", 0.4)])
    with db.read_session() as session:
        stored = {key: (alert_id, count) for alert_id, key, count in session.execute(
            select(Alert.id, Alert.dedup_key, Alert.count))}
    assert [o.alert_id for o in first + second] == [
        stored["a"][0], stored["b"][0], stored["c"][0], stored["a"][0], stored["d"][0]]
    assert {k: c for k, (_id, c) in stored.items()} == {"a": 2, "b": 1, "c": 1, "d": 1}
    assert len({o.incident_id for o in first + second}) == 1


def _stored(db, table: Any, ids: list[int]) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    """The rows as the database holds them, every column as text, without the id."""
    from sqlalchemy import String, cast

    columns = [c for c in table.c if c.name != "id"]
    with db.read_session() as session:
        return [tuple(row) for row in session.execute(
            select(*(cast(c, String) for c in columns)).where(table.c.id.in_(ids))
            .order_by(table.c.id))]


@pytest.mark.parametrize("copies", [1, 8], ids=["few-rows", "copy"])
def test_bulk_inserts_store_what_the_orm_stores(db, twins, copies):
    """The hot path's INSERTs skip SQLAlchemy's bind processing: the stored text (times,
    JSON) is still what the ORM's INSERT stores, for awkward values too; with enough
    rows PostgreSQL gets them by COPY, a few come back with their ids, and alerts
    numbered from their sequence beforehand are stored under those numbers."""
    from datetime import UTC, timezone

    from sqlalchemy import insert

    from steward.db import direct
    from steward.incidents import alert_store

    with db.session() as session:
        service_id = session.scalars(select(Service.id).where(Service.name == "db1")).one()
    reference(db, twins[1], [fire("seed", "db1", 0)])
    with db.read_session() as session:
        incident_id = session.scalars(select(Alert.incident_id)).one()
    plus_two = timezone(timedelta(hours=2))
    alerts, timeline = [], []
    times = [START, START.replace(microsecond=123456),
             datetime(2026, 3, 1, 1, 30, tzinfo=plus_two)] * copies
    assert (len(times) >= direct.COPY_FROM) == (copies > 1)
    for n, seen in enumerate(times):
        labels = {"é": "ünï", "n": n, "nested": {"b": [1, 2.5, None, True]}}
        alerts.append({
            "integration_id": None, "service_id": service_id, "incident_id": incident_id,
            "dedup_key": f"raw-{n}", "status": "firing", "severity": "warning",
            "summary": "quote ' and \" and %s", "signature": "quote ' and \" and %s",
            "source": "generic", "labels": labels,
            "details": {} if n else {"x": "y"}, "url": "", "group_key": None if n else "g",
            "first_seen": seen, "last_seen": seen.astimezone(UTC), "count": n + 1,
            "resolved_at": None if n else seen, "created_at": seen})
        timeline.append({"incident_id": incident_id, "at": seen, "kind": "alert",
                         "actor": "", "text": "joined", "data": labels})
    written = {}
    returned: list[int] = []
    for way in ("orm", "bulk", "returning", "numbered"):
        for table, rows in ((Alert.__table__, alerts), (TimelineEntry.__table__, timeline)):
            if way in ("returning", "numbered") and (table.name != "alerts"
                                                     or db.settings.is_sqlite):
                continue  # PostgreSQL's ways of inserting alerts only
            with db.session() as session:
                before = session.execute(select(func_max(table.c.id))).scalar() or 0
                if way == "orm":
                    session.execute(insert(table), [dict(r) for r in rows])
                elif way == "bulk":
                    direct.Driver(session).insert_rows(table, [dict(r) for r in rows])
                elif way == "numbered":
                    driver = direct.Driver(session)
                    returned = alert_store.next_alert_ids(driver, len(rows))
                    driver.insert_rows(table, [{**r, "id": alert_id} for r, alert_id
                                               in zip(rows, returned, strict=True)])
                else:
                    driver = direct.Driver(session)
                    with driver.pipeline():
                        returned = [row[0] for row in driver.insert_returning(
                            table, [dict(r) for r in rows], "id")]
            with db.read_session() as session:
                # In id order: a table emptied by DELETE between tests reuses its free
                # space, so the heap's order is not the order rows were written in.
                ids = list(session.scalars(select(table.c.id).where(table.c.id > before)
                                           .order_by(table.c.id)))
            written[(way, table.name)] = _stored(db, table, ids)
            if way in ("returning", "numbered"):
                assert sorted(returned) == ids  # RETURNING's rows come in no set order
    for table in (Alert.__table__, TimelineEntry.__table__):
        assert len(written[("bulk", table.name)]) == len(times)
        assert written[("bulk", table.name)] == written[("orm", table.name)]
    if not db.settings.is_sqlite:
        assert written[("returning", "alerts")] == written[("orm", "alerts")]
        assert written[("numbered", "alerts")] == written[("orm", "alerts")]


def func_max(column: Any) -> Any:
    from sqlalchemy import func

    return func.max(column)


def test_the_alert_writer_records_concurrent_requests_as_one_group(db, twins):
    """Requests queued together are recorded in one transaction, on the connection the
    writer keeps while busy; none falls back to one transaction per request (which gives
    the same answers, only slower), and a refused key fails alone."""
    from steward.db.group_commit import GroupCommitter

    writer = GroupCommitter(db, run_group=record_group)
    alone: list[int] = []
    one_by_one = writer._one_by_one

    def counted(group):  # type: ignore[no-untyped-def]
        alone.append(len(group))
        one_by_one(group)

    writer._one_by_one = counted  # type: ignore[method-assignment]
    pieces = [(twins[1], (), [fire(f"g-{n}", "db1", n)]) for n in range(6)]
    pieces.append(("no-such-key", (), [fire("g-x", "db1", 7)]))
    pieces += [(twins[1], (), [fire(f"g-{n}", "db1", 8)]) for n in range(3)]  # repeats
    futures: list[Future[Any]] = [Future() for _ in pieces]
    for future, piece in zip(futures, pieces, strict=True):
        writer._queue.put((future, piece, None))  # all queued before the writer takes a group
    writer._ensure_started()
    outcomes = []
    for future in futures:
        try:
            outcomes.append(future.result(timeout=30))
        except AuthenticationFailed as exc:
            outcomes.append(exc)
    assert alone == []
    assert isinstance(outcomes[6], AuthenticationFailed)
    created = [o[0]["created"] for n, o in enumerate(outcomes) if n != 6]
    assert created == [True] * 6 + [False] * 3
    with db.read_session() as session:
        counts = dict(session.execute(select(Alert.dedup_key, Alert.count)).all())
        incidents = set(session.scalars(select(Alert.incident_id)))
    assert counts == {"g-0": 2, "g-1": 2, "g-2": 2, "g-3": 1, "g-4": 1, "g-5": 1}
    assert len(incidents) == 1


@pytest.mark.parametrize("db", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
@pytest.mark.parametrize("new", [1, 25], ids=["few-rows", "numbered"])
def test_the_writer_takes_the_correlation_lock_before_inserting_alerts(db, twins, new):
    """PostgreSQL: a new alert's INSERT waits for another writer that has just inserted the
    same key, uncommitted; that writer, on the reference path, holds the correlation lock
    while it inserts. Were the lock taken after the INSERT, the two would wait for each
    other until the deadlock timeout (a second) undid one, as they did with two server
    processes. Many new alerts, numbered from their sequence first, may have their
    timeline entries written before the lock; never the alerts themselves."""
    from steward.db import direct

    with db.session() as session:  # an incident on db1 that new alerts on db1 join
        record_group(session, [(twins[1], (), [fire("first", "db1", 1)])])
    sent: list[str] = []
    native, insert_rows = direct.Driver._native, direct.Driver.insert_rows

    def recorded(self, sql):  # type: ignore[no-untyped-def]
        sent.append(sql)
        return native(self, sql)

    def inserted(self, table, rows):  # type: ignore[no-untyped-def]
        sent.append(f"INSERT INTO {table.name} ({len(rows)} rows)")
        return insert_rows(self, table, rows)

    direct.Driver._native = recorded  # type: ignore[method-assign]
    direct.Driver.insert_rows = inserted  # type: ignore[method-assign]
    try:
        with db.session() as session:
            outcome = record_group(session, [(twins[1], (), [
                *(fire(f"second-{n}", "db1", 2) for n in range(new)),
                fire("first", "db1", 2)])])
    finally:
        direct.Driver._native = native  # type: ignore[method-assign]
        direct.Driver.insert_rows = insert_rows  # type: ignore[method-assign]
    assert [r["created"] for r in outcome[0]] == [True] * new + [False]
    lock = next(i for i, sql in enumerate(sent) if "pg_advisory_xact_lock" in sql)
    insert = next(i for i, sql in enumerate(sent) if sql.startswith("INSERT INTO alerts"))
    assert lock < insert
    with db.read_session() as session:
        entries = session.scalars(select(TimelineEntry.data).where(
            TimelineEntry.text.like("Alert on db1 joined%"))).all()
        keys = dict(session.execute(select(Alert.id, Alert.dedup_key)).all())
    # each timeline entry names its own alert, numbered before the INSERT or returned by it
    assert sorted(keys[e["alert_id"]] for e in entries) == sorted(
        f"second-{n}" for n in range(new))


@pytest.mark.parametrize("db", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_an_active_alert_lookup_reads_only_its_key(db, twins):
    """PostgreSQL: the writer's lookup of a group's active alerts, planned as a prepared
    statement while the table was small and run after thousands of an integration's
    alerts came in (statistics behind, as between two ANALYZE runs), reads one index
    entry per key. With an index on the integration alone it was planned through that
    one, reading every alert of the integration to find each key."""
    from sqlalchemy import text

    from steward.incidents import alert_store

    with db.session() as session:
        record_group(session, [(twins[1], (), [fire("first", "db1", 1)])])
        iid = session.scalars(select(Alert.integration_id)).one()
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE alerts"))
        conn.commit()
    with db.session() as session:
        record_group(session, [(twins[1], (), [fire(f"k-{n}", "db1", 2)
                                               for n in range(3000)])])
    sql = alert_store._ACTIVE_PG.replace("?", "$1", 1).replace("?", "$2", 1)
    with db.engine.connect() as conn:
        conn.execute(text("SET plan_cache_mode = force_generic_plan"))
        conn.exec_driver_sql(f"PREPARE active(text[], integer) AS {sql}")
        plan = "\n".join(conn.exec_driver_sql(
            f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE active('{{k-2999,k-5}}', {iid})")
            .scalars())
    assert "Rows Removed by Filter" not in plan, plan
    assert plan.count("Index Scan") == 1 and "(actual rows=2 loops=1)" in plan, plan


def test_repeats_and_incident_times_of_a_group_update_every_row_once(db, twins):
    """A group's repeats of stored alerts and its incidents' last alert times, several rows
    at once: each row gets its own values; times only move forward; a repeat without a
    summary or labels keeps the stored ones."""
    from steward.db import direct
    from steward.incidents import alert_store

    reference(db, twins[1], [fire("a", "db1", 0, summary="first a", labels={"x": "1"})])
    reference(db, twins[2], [fire("b", "db2", 0, summary="first b")])
    with db.read_session() as session:
        ids = dict(session.execute(select(Alert.dedup_key, Alert.id)).all())
        incidents = dict(session.execute(select(Alert.dedup_key, Alert.incident_id)).all())
    with db.session() as session:
        driver = direct.Driver(session)
        alert_store.bump_alerts(driver, sorted([
            (ids["a"], 3, at(-5), None, "critical", None),  # earlier: last seen stays
            (ids["b"], 2, at(4), "b again", "info", {"y": "2"})]))
        alert_store.touch_incidents(driver, {incidents["a"]: at(-5), incidents["b"]: at(4)},
                                    {incidents["b"]: 2}, at(10))
    with db.read_session() as session:
        stored = {a.dedup_key: (a.count, a.last_seen, a.summary, a.severity, a.labels)
                  for a in session.scalars(select(Alert))}
        seen = {i.id: (i.last_alert_at, i.updated_at, i.alert_count)
                for i in session.scalars(select(Incident))}
    assert stored == {"a": (4, at(0), "first a", "critical", {"x": "1"}),
                      "b": (3, at(4), "b again", "info", {"y": "2"})}
    assert seen == {incidents["a"]: (at(0), at(10), 1), incidents["b"]: (at(4), at(10), 3)}


@pytest.mark.parametrize("db", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_open_incidents_near_a_group_are_read_by_the_status_index(db, twins):
    """PostgreSQL: the open incidents a group could join (triggered or acknowledged ones
    whenever they were last active, mitigated ones in the window) are found through the
    status index, not by reading every incident ever recorded."""
    from sqlalchemy import text

    from steward.incidents import alert_store

    reference(db, twins[1], [fire("a", "db1", 0)])
    with db.engine.connect() as conn:
        conn.execute(text(
            "INSERT INTO incidents (title, description, status, priority, impact, urgency,"
            " impact_overridden, urgency_overridden, priority_reasons, origin_reasoning,"
            " business_services, group_keys, manual, started_at, reopen_count,"
            " reassignment_count, category, source, created_at, updated_at)"
            " SELECT 'old', '', 'closed', 'P3', 2, 2, false, false, '[]', '', '{}', '[]',"
            " false, now() - n * interval '1 minute', 0, 0, '', 'steward', now(), now()"
            " FROM generate_series(1, 20000) AS n"))
        conn.execute(text("ANALYZE incidents"))
        conn.commit()
    with db.read_session() as session:
        service = session.scalar(select(Service.id).where(Service.name == "db1"))
    one_of = "x.service_id = $3"
    sql = alert_store._OPEN_NEAR_PG.format(services=one_of).replace("?", "$1", 1).replace(
        "?", "$2", 1)
    with db.engine.connect() as conn:
        plan = "\n".join(conn.exec_driver_sql(
            f"EXPLAIN (COSTS OFF) {sql}".replace("$1", f"'{at(-5).isoformat()}'")
            .replace("$2", f"'{at(5).isoformat()}'").replace("$3", str(service)))
            .scalars())
    assert "Seq Scan on incidents" not in plan, plan
    assert "ix_incidents_status_started" in plan, plan
    with db.session() as session:
        from steward.db.direct import Driver

        found, _facts = alert_store.load_open(Driver(session), {service}, at(20), at(25))
    assert [i.status for i in found.values()] == ["triggered"]  # whenever last active
