"""KPI tables as CSV and JSON downloads: the same numbers as the API, nested fields
flattened to columns in CSV, a file name to save under, clear errors for bad input."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from helpers import api_client, bearer, make_service, make_team, make_user
from sqlalchemy import select

from steward.catalog.models import Service
from steward.changes.models import Deployment, DeploymentCommit
from steward.kpis.export import flatten, to_csv

END = "2026-03-30T00:00:00Z"


def t(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def client(db):  # type: ignore[no-untyped-def]
    for team in ("pay", "web"):
        make_team(db, team)
    make_service(db, "api", owner="pay")
    make_service(db, "site", owner="web")
    with db.session() as s:
        for service, day, status, commit_hours in (("api", 10, "succeeded", 4),
                                                   ("api", 12, "rolled_back", 10),
                                                   ("api", 20, "succeeded", 30),
                                                   ("site", 21, "succeeded", 2)):
            service_id = s.scalar(select(Service.id).where(Service.name == service))
            dep = Deployment(service_id=service_id, environment="production", status=status,
                             started_at=t(day), finished_at=t(day))
            s.add(dep)
            s.flush()
            s.add(DeploymentCommit(deployment_id=dep.id, sha=f"c{dep.id}",
                                   committed_at=t(day) - timedelta(hours=commit_hours)))
    client = api_client(db)
    client.headers.update(bearer(make_user(db, "ada", role="admin")))
    return client


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_dora_csv_matches_the_api(client):  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/kpis/export", params={"table": "dora", "group_by": "team",
                                                       "days": 28, "end": END})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == \
        'attachment; filename="steward-dora-by-team-2026-03-30.csv"'
    rows = {r["team"]: r for r in rows_of(answer.text)}
    assert set(rows) == {"pay", "web"}
    for team, row in rows.items():
        api = client.get("/api/v1/kpis/dora", params={"team": team, "days": 28,
                                                      "end": END}).json()
        assert int(row["deployments"]) == api["deployments"]
        assert float(row["lead_time_hours_median"]) == api["lead_time_hours"]["median"]
        assert row["change_failure_rate_tier"] == (api["change_failure_rate"]["tier"] or "")
        assert row["window_end"] == "2026-03-30T00:00:00Z"
    assert rows["pay"]["deployments"] == "3"
    assert float(rows["pay"]["change_failure_rate_value"]) == pytest.approx(1 / 3, abs=1e-4)
    assert rows["web"]["recovery_time_hours_median"] == ""  # no data: empty, not 0
    assert "weekly" not in answer.text.splitlines()[0]


def test_by_service_json_and_itsm(client):  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/kpis/export", params={"table": "dora", "group_by": "service",
                                                       "end": END, "format": "json"})
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].endswith('dora-by-service-2026-03-30.json"')
    body = answer.json()
    by_service = {r["service"]: r for r in body["items"]}
    assert by_service["api"]["deployments"] == 3 and by_service["site"]["deployments"] == 1
    assert by_service["api"]["window"]["days"] == 28
    itsm = client.get("/api/v1/kpis/export", params={"table": "itsm", "end": END})
    header = itsm.text.splitlines()[0].split(",")
    assert header[0] == "team" and "mttr_hours_median" in header and "window_days" in header
    assert {r["window_days"] for r in rows_of(itsm.text)} == {"90"}


def test_goals_table(client):  # type: ignore[no-untyped-def]
    made = client.post("/api/v1/goals", json={
        "name": "CFR", "metric": "change_failure_rate", "target": 0.2,
        "period_start": "2026-03-01T00:00:00Z", "period_end": "2026-03-29T00:00:00Z"})
    assert made.status_code == 201
    answer = client.get("/api/v1/kpis/export", params={"table": "goals", "end": END})
    assert answer.headers["content-disposition"].endswith('goals-2026-03-30.csv"')
    rows = rows_of(answer.text)
    assert [(r["scope"], r["team"]) for r in rows] == [("organisation", ""), ("team", "pay"),
                                                      ("team", "web")]
    assert [r["meets"] for r in rows] == ["false", "false", "true"]
    assert float(rows[1]["value"]) == pytest.approx(1 / 3, abs=1e-4)


def test_bad_input_names_the_field(client):  # type: ignore[no-untyped-def]
    for params, field in (({"table": "people"}, "table"), ({}, "table"),
                          ({"table": "dora", "group_by": "person"}, "group_by"),
                          ({"table": "dora", "days": 0}, "days"),
                          ({"table": "dora", "end": "later"}, "end"),
                          ({"table": "dora", "format": "xlsx"}, "format")):
        answer = client.get("/api/v1/kpis/export", params=params)
        assert answer.status_code == 422, params
        assert answer.json()["field"] in (field, f"query.{field}"), answer.text
    client.headers.pop("Authorization")
    assert client.get("/api/v1/kpis/export", params={"table": "dora"}).status_code == 401


def test_flatten_and_csv_cells() -> None:
    row: dict[str, Any] = {"team": "a,b", "lead": {"median": 1.5, "p90": None},
                           "weekly": [1, 2], "ok": True}
    assert flatten(row) == {"team": "a,b", "lead_median": 1.5, "lead_p90": None, "ok": True}
    assert to_csv([row, {"team": "c", "extra": 2}]) == (
        'team,lead_median,lead_p90,ok,extra\r\n"a,b",1.5,,true,\r\nc,,,,2\r\n')
