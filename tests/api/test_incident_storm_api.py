"""An alert storm through the API: 2,000 alerts on 30 services join one incident. Its
detail stays small, the timeline summarises the alert entries with the right counts, and
every paged list (summarised timeline, raw timeline, alert groups, alerts) reads each
item once, with nothing missing. On SQLite and PostgreSQL."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import api_client, bearer, make_dependency, make_service, make_team, make_user
from webclient import HTML
from webclient import sign_in as sign_in_at

import snapshots
from demo_templates import copy_sqlite
from snapshots import Snapshot
from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.db import Database
from steward.demo.seed import DEMO_PASSWORD
from steward.incidents.timeline_summary import signature
from steward.timeutil import isoformat_z, utcnow

SERVICES = [f"svc-{n:02d}" for n in range(30)]
KINDS = ("latency high on pod-{n} ({ms} ms)", "error rate {n}% on checkout",
         "queue depth {n} over limit")


@pytest.fixture(scope="module")
def storms() -> dict[str, tuple[Any, str, int, list[tuple[str, str]]]]:
    """The storm made once per backend: (its database, kept as in ``storm``), the token,
    the incident and the alerts sent."""
    return {}


@pytest.fixture
def storm(db, storms, tmp_path_factory):
    """core-db fails, then two bursts of alerts on 30 services that depend on it (1,200
    then 800, a note by a responder between them). Returns the client, the responder's
    token, the incident and every alert sent: (service, summary).

    The storm goes through the API once per backend, checked as it goes; each test gets
    a copy of that database (an SQLite file copied, or the rows written back on
    PostgreSQL), as the demo's are."""
    backend = "sqlite" if db.settings.is_sqlite else "postgres"
    if backend not in storms:
        token, incident, sent = make_storm(db)
        storms[backend] = (keep(db, tmp_path_factory.mktemp("storm")), token, incident, sent)
    else:
        put_back(db, storms[backend][0])
    _kept, token, incident, sent = storms[backend]
    return api_client(db), token, incident, sent


def keep(db: Database, folder: Path) -> Path | Snapshot:
    if not db.settings.is_sqlite:
        return snapshots.take(db)
    db.dispose()
    path = db.settings.sqlite_path
    assert path is not None
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy_sqlite(path, folder / "storm.db")
    return folder / "storm.db"


def put_back(db: Database, kept: Path | Snapshot) -> None:
    if isinstance(kept, Snapshot):
        snapshots.restore(db, kept)
        return
    db.dispose()
    path = db.settings.sqlite_path
    assert path is not None
    for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    copy_sqlite(kept, path)


def make_storm(db: Database) -> tuple[str, int, list[tuple[str, str]]]:
    make_team(db, "ops")
    make_service(db, "core-db", owner="ops", kind="resource", tier=1)
    for name in SERVICES:
        make_service(db, name, owner="ops", tier=3)
        make_dependency(db, name, "core-db")
    token = make_user(db, "olga", role="admin", password=DEMO_PASSWORD)
    with db.session() as session:
        key = create_integration(session, SYSTEM, "generic", team="ops")[1]
    client = api_client(db)
    start = utcnow() - timedelta(minutes=40)
    sent = [("core-db", "core-db down")]
    first = client.post("/api/v1/alerts", headers=bearer(key), json={
        "service": "core-db", "dedup_key": "db", "status": "firing", "severity": "critical",
        "summary": "core-db down", "occurred_at": isoformat_z(start)})
    assert first.status_code == 202, first.text
    incident = first.json()["results"][0]["incident_id"]
    rng = random.Random(7)
    kinds = {s: rng.sample(KINDS, 2) for s in SERVICES}

    def burst(offset: timedelta, alerts: int, seconds: int) -> None:
        for chunk in range(0, alerts, 500):
            batch = []
            for i in range(chunk, min(alerts, chunk + 500)):
                service = SERVICES[i % len(SERVICES)] if i < len(SERVICES) \
                    else rng.choice(SERVICES)
                summary = rng.choice(kinds[service]).format(n=rng.randrange(100),
                                                            ms=rng.randrange(300, 900))
                at = start + offset + timedelta(seconds=seconds * i / alerts)
                sent.append((service, summary))
                batch.append({"service": service, "dedup_key": f"{offset}-{i}",
                              "status": "firing", "severity": rng.choice(("error", "warning")),
                              "summary": summary, "occurred_at": isoformat_z(at)})
            answer = client.post("/api/v1/alerts", headers=bearer(key), json=batch)
            assert answer.status_code == 202, answer.text
            assert {r["incident_id"] for r in answer.json()["results"]} == {incident}

    burst(timedelta(seconds=30), 1200, 180)
    noted = client.post(f"/api/v1/incidents/{incident}/notes", headers=bearer(token), json={
        "text": "Failing over core-db.", "at": isoformat_z(start + timedelta(minutes=4))})
    assert noted.status_code == 200, noted.text
    burst(timedelta(minutes=5), 800, 120)
    return token, incident, sent


def summarised(client, token, incident, limit):
    pages, after = [], None
    while True:
        answer = client.get(f"/api/v1/incidents/{incident}/timeline", headers=bearer(token),
                            params={"limit": limit, **({"after": after} if after else {})})
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        after = answer.json()["next"]
        if after is None:
            return pages
        assert len(pages) < 200


def raw_entries(client, token, incident, **params):
    entries, after = [], None
    while True:
        answer = client.get(f"/api/v1/incidents/{incident}/timeline", headers=bearer(token),
                            params={"raw": "true", "limit": 300, **params,
                                    **({"after": after} if after else {})})
        assert answer.status_code == 200, answer.text
        entries += answer.json()["items"]
        after = answer.json()["next"]
        if after is None:
            return entries


def test_the_detail_stays_small_and_counts_every_alert(storm):
    client, token, incident, sent = storm
    answer = client.get(f"/api/v1/incidents/{incident}", headers=bearer(token))
    assert answer.status_code == 200
    detail = answer.json()
    assert len(answer.content) < 40_000
    assert detail["alert_count"] == len(sent) == 2001
    assert len(detail["alerts"]) == 20 and detail["alerts"][0]["service"] == "core-db"
    assert set(detail["services"]) == {"core-db", *SERVICES}
    assert len(detail["timeline"]) <= 100


def test_the_timeline_summarises_each_burst_with_its_counts(storm):
    client, token, incident, _sent = storm
    [page] = summarised(client, token, incident, 100)
    rows = page["items"]
    summaries = [r for r in rows if r["type"] == "summary"]
    assert [s["text"].split(" in ")[0] for s in summaries] == [
        "+1,201 alerts on 31 services", "+800 alerts on 30 services"]
    assert summaries[0]["text"].endswith("(31 services joined).")
    assert "(" not in summaries[1]["text"]  # no service joined in the second burst
    note = next(r for r in rows if r["kind"] == "note")
    assert rows.index(summaries[0]) < rows.index(note) < rows.index(summaries[1])
    # every alert entry a summary stands for, read through its range: the same counts
    for summary in summaries:
        entries = raw_entries(client, token, incident, kind="alert",
                              start=summary["data"]["first_at"], end=summary["data"]["last_at"])
        assert len(entries) == summary["data"]["alerts"]
        assert len({e["data"]["service"] for e in entries}) == summary["data"]["services"]
    # the first alert of the services that joined in the first burst, shown as they are
    shown = [r for r in rows if r["type"] == "entry" and r["kind"] == "alert"]
    assert len(shown) == 10
    assert shown[0]["text"].startswith("Alert on core-db")
    assert len({r["data"]["service"] for r in shown}) == 10


def test_paging_reads_every_row_once(storm):
    client, token, incident, _sent = storm
    [whole] = summarised(client, token, incident, 100)
    pages = summarised(client, token, incident, 1)
    # a summary never parts from the entries it leads: the first burst with its first
    # alerts, the note, the second burst
    assert [len(p["items"]) for p in pages] == [11, 1, 1]
    assert [r for p in pages for r in p["items"]] == whole["items"]
    entries = raw_entries(client, token, incident)
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)) == 2001 + 1  # every alert entry and the note
    assert [(e["at"], e["id"]) for e in entries] == sorted((e["at"], e["id"]) for e in entries)
    bad = client.get(f"/api/v1/incidents/{incident}/timeline?after=nonsense",
                     headers=bearer(token))
    assert bad.status_code == 422 and "after" in bad.text


def test_alerts_grouped_by_service_and_signature(storm):
    client, token, incident, sent = storm
    expected = Counter((service, signature(summary)) for service, summary in sent)
    groups, offset = [], 0
    while True:
        answer = client.get(f"/api/v1/incidents/{incident}/alerts", headers=bearer(token),
                            params={"group": "signature", "limit": 25, "offset": offset})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert page["total"] == len(expected)
        groups += page["items"]
        offset += 25
        if offset >= page["total"]:
            break
    assert {(g["service"], g["signature"]): g["alerts"] for g in groups} == dict(expected)
    assert [g["alerts"] for g in groups] == sorted((g["alerts"] for g in groups), reverse=True)
    worst = next(g for g in groups if g["service"] == "core-db")
    assert worst["severity"] == "critical" and worst["active"] == 1


def test_alerts_one_by_one_with_filters(storm):
    client, token, incident, sent = storm
    on_three = [s for s in sent if s[0] == "svc-03"]
    seen: list[int] = []
    for offset in range(0, len(on_three), 40):
        page = client.get(f"/api/v1/incidents/{incident}/alerts", headers=bearer(token),
                          params={"service": "svc-03", "limit": 40, "offset": offset}).json()
        assert page["total"] == len(on_three)
        seen += [a["id"] for a in page["items"]]
        assert {a["service"] for a in page["items"]} == {"svc-03"}
    assert len(seen) == len(set(seen)) == len(on_three)
    critical = client.get(f"/api/v1/incidents/{incident}/alerts?severity=critical",
                          headers=bearer(token)).json()
    assert critical["total"] == 1 and critical["items"][0]["summary"] == "core-db down"
    missing = client.get("/api/v1/incidents/999999/alerts", headers=bearer(token))
    assert missing.status_code == 404


def test_the_incident_page_stays_small(storm):
    client, _token, incident, _sent = storm
    sign_in_at(client, "olga", landing="/incidents")
    page = client.get(f"/incidents/{incident}", headers=HTML)
    assert page.status_code == 200
    assert len(page.content) < 300_000
    assert "+1,201 alerts on 31 services" in page.text
    assert 'id="alert-groups-table"' in page.text and "Next groups" in page.text
    assert "First alerts" in page.text
    drill = client.get(f"/incidents/{incident}", headers=HTML, params={
        "from": isoformat_z(utcnow() - timedelta(minutes=40)), "to": isoformat_z(utcnow())})
    assert drill.status_code == 200 and "Later entries" in drill.text
    assert "Every alert entry from" in drill.text
