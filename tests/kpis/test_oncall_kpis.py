"""On-call KPIs per team: pages per shift, pages out of hours, time to acknowledge by
escalation level; through the API and on the KPI page (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from helpers import api_client, bearer, make_team, make_user
from sqlalchemy import select
from webclient import sign_in

from escalation_setup import declare, fire, oncall_team
from steward.auth.actor import SYSTEM
from steward.catalog.models import Team
from steward.demo.seed import DEMO_PASSWORD
from steward.incidents.models import Incident
from steward.incidents.use_cases import lifecycle
from steward.kpis.oncall import oncall_kpis
from steward.oncall.escalation_models import EscalationPage, IncidentEscalation

END = datetime(2026, 3, 10, tzinfo=UTC)


def _team_ids(db) -> dict[str, int]:
    with db.read_session() as session:
        return {name: tid for tid, name in session.execute(select(Team.id, Team.name))}


@pytest.fixture
def history(db):
    """payments (weekly rotation in Amsterdam) paged three times in March 2026, ops once;
    four escalations of payments with known acknowledgement times."""
    oncall_team(db, zone="Europe/Amsterdam")
    make_team(db, "ops")
    teams = _team_ids(db)
    pay, ops = teams["payments"], teams["ops"]
    with db.session() as session:
        pages = [(pay, datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "high", False),
                 (pay, datetime(2026, 3, 2, 20, 0, tzinfo=UTC), "high", True),
                 (pay, datetime(2026, 3, 7, 12, 0, tzinfo=UTC), "low", True),
                 (pay, datetime(2026, 1, 1, 12, 0, tzinfo=UTC), "high", True),  # before
                 (ops, datetime(2026, 3, 3, 9, 0, tzinfo=UTC), "high", False)]
        for ack_minutes, level, state in ((4, 1, "stopped"), (6, 1, "stopped"),
                                          (20, 2, "stopped"), (None, 2, "ran_out")):
            start = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
            incident = Incident(title="t", status="acknowledged" if ack_minutes else "triggered",
                                started_at=start, owner_team_id=pay,
                                acknowledged_at=(start + timedelta(minutes=ack_minutes)
                                                 if ack_minutes else None))
            session.add(incident)
            session.flush()
            session.add(IncidentEscalation(incident_id=incident.id, team_id=pay, cycle=1,
                                           level=level, run_start=1, levels=2, state=state,
                                           started_at=start, updated_at=start))
            for team_id, at, urgency, out in pages:
                session.add(EscalationPage(incident_id=incident.id, team_id=team_id,
                                           cycle=1, level=level, user_id=None,
                                           urgency=urgency, paged_at=at,
                                           time_zone="Europe/Amsterdam", out_of_hours=out))
            pages = []  # every page once, on the first incident
    return db


def test_figures_per_team(history) -> None:
    with history.read_session() as session:
        answer = oncall_kpis(session, days=28, end=END)
    rows = {r["team"]: r for r in answer["teams"]}
    pay = rows["payments"]
    assert (pay["pages"], pay["high_urgency_pages"], pay["out_of_hours_pages"]) == (3, 2, 2)
    assert pay["out_of_hours_share"] == pytest.approx(0.6667)
    assert pay["shifts"] == 4.0  # 28 days of a weekly rotation
    assert pay["pages_per_shift"] == 0.75
    assert pay["time_to_acknowledge_minutes"] == [
        {"level": 1, "acknowledged": 2, "median": 5.0, "p90": 5.8},
        {"level": 2, "acknowledged": 1, "median": 20.0, "p90": 20.0}]
    assert pay["escalations_ran_out"] == 1
    ops = rows["ops"]
    assert (ops["pages"], ops["shifts"], ops["pages_per_shift"]) == (1, None, None)
    assert answer["business_hours"] == {"start": "08:00", "end": "18:00", "weekdays": "mon-fri"}
    # Nothing in the answer names a person.
    assert "alice" not in str(answer) and "user" not in str(answer)


def test_api_one_team_and_errors(history) -> None:
    token = make_user(history, "ada", role="viewer")
    client = api_client(history)
    answer = client.get("/api/v1/kpis/oncall", params={"team": "payments", "days": 28,
                                                       "end": "2026-03-10T00:00:00Z"},
                        headers=bearer(token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [r["team"] for r in body["teams"]] == ["payments"]
    assert body["teams"][0]["pages_per_shift"] == 0.75
    assert body["window"]["days"] == 28 and body["scope"]["team"] == "payments"
    missing = client.get("/api/v1/kpis/oncall", params={"team": "nobody"},
                         headers=bearer(token))
    assert missing.status_code == 404 and "nobody" in missing.text
    bad = client.get("/api/v1/kpis/oncall", params={"days": 0}, headers=bearer(token))
    assert bad.status_code == 422
    assert client.get("/api/v1/kpis/oncall").status_code == 401


def test_kpi_page_shows_the_on_call_load(history) -> None:
    make_user(history, "dana", role="viewer", password=DEMO_PASSWORD)
    web = api_client(history)
    sign_in(web, "dana")
    page = web.get("/kpis", params={"days": 28, "end": "2026-03-10T00:00:00Z"}).text
    section = re.search(r'<section[^>]*id="oncall".*?</section>', page, re.S)
    assert section is not None
    row = re.search(r'<tr data-team="payments">(.*?)</tr>', section.group(0), re.S)
    assert row is not None
    cells = [re.sub(r"<[^>]+>", "", c).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)]
    assert cells[:6] == ["payments", "3", "2", "4.0", "0.75", "2 (66.7 %)"]
    assert "level 1: 5.0 / 5.8 min (2)" in cells[6]
    team_page = web.get("/kpis/teams/payments",
                        params={"days": 28, "end": "2026-03-10T00:00:00Z"}).text
    assert 'id="oncall-table"' in team_page and 'data-team="ops"' not in team_page


def test_escalations_feed_the_figures(db) -> None:
    oncall_team(db)
    first, second = declare(db), declare(db)
    fire(db)
    fire(db, after=timedelta(minutes=6))
    with db.session() as session:
        lifecycle.act(session, SYSTEM, first, "acknowledge")
    fire(db, after=timedelta(minutes=30))  # second runs out
    with db.read_session() as session:
        row = oncall_kpis(session, team="payments", days=7)["teams"][0]
    assert row["pages"] == 4  # alice and carol, for each incident
    assert row["high_urgency_pages"] == 4
    assert [(a["level"], a["acknowledged"]) for a in row["time_to_acknowledge_minutes"]] == [
        (2, 1)]
    assert row["escalations_ran_out"] == 1
    assert second != first
