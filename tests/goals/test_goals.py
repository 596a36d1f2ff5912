"""Shared goals through the API: admins set them, everyone reads every team's progress.

Goal: change failure rate <= 25 % from 2026-03-02 to 2026-03-30, judged on
2026-03-24 12:00, so the period so far is 23 whole days (to 03-25 00:00) and
three whole weeks (from 03-02, 03-09 and 03-16) are behind it.

    team pay (api):  week 1: 2 deployments, 1 rolled back (50 %)
                     week 2: 4 deployments, 1 rolled back (25 %)
                     week 3: 2 deployments, none failed (0 %)
                     03-24 01:00 one more, fine; so far 2 of 9 = 22.2 %: met, improving
    team web (site): week 1 fine, weeks 2 and 3 rolled back: 2 of 3, not met, worsening
    team idle:       no deployments: no value, neither met nor missed
    organisation:    4 of 12 = 33.3 %, weeks 1/3, 2/5, 1/3: not met, flat
    Outside the period so far (not counted): 03-01 and 03-27, both rolled back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from helpers import api_client, bearer, make_service, make_team, make_user
from sqlalchemy import func, select

from steward.audit.models import AuditEntry
from steward.catalog.models import Service
from steward.changes.models import Deployment
from steward.goals.models import Goal

NOW = "2026-03-24T12:00:00Z"


def near(value: Any) -> Any:
    """KPI answers round rates and hours to four decimals."""
    return pytest.approx(value, abs=1e-4)


def t(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def ship(session: Any, service: str, at: datetime, status: str = "succeeded") -> None:
    service_id = session.scalar(select(Service.id).where(Service.name == service))
    session.add(Deployment(service_id=service_id, environment="production", status=status,
                           started_at=at, finished_at=at))


@pytest.fixture
def client(db):  # type: ignore[no-untyped-def]
    for team in ("pay", "web", "idle"):
        make_team(db, team)
    make_service(db, "api", owner="pay")
    make_service(db, "site", owner="web")
    with db.session() as s:
        for day, status in ((3, "succeeded"), (4, "rolled_back"),
                            (9, "succeeded"), (10, "succeeded"), (11, "rolled_back"),
                            (12, "succeeded"), (17, "succeeded"), (18, "succeeded")):
            ship(s, "api", t(day), status)
        ship(s, "api", t(24, 1))
        for day, status in ((5, "succeeded"), (13, "rolled_back"), (19, "rolled_back")):
            ship(s, "site", t(day), status)
        ship(s, "api", t(1), "rolled_back")
        ship(s, "site", t(27), "rolled_back")
    client = api_client(db)
    client.admin = bearer(make_user(db, "ada", role="admin"))  # type: ignore[attr-defined]
    client.member = bearer(make_user(db, "mo", teams=["pay"]))  # type: ignore[attr-defined]
    client.viewer = bearer(make_user(db, "vi", role="viewer"))  # type: ignore[attr-defined]
    client.db = db  # type: ignore[attr-defined]
    return client


GOAL = {"name": "Fewer failed changes", "metric": "change_failure_rate", "target": 0.25,
        "period_start": "2026-03-02T00:00:00Z", "period_end": "2026-03-30T00:00:00Z",
        "description": "This quarter's shared objective."}


def goal_count(client: Any) -> int:
    with client.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(Goal)))


def test_progress_per_team_with_weekly_trend(client):  # type: ignore[no-untyped-def]
    made = client.post("/api/v1/goals", json=GOAL, headers=client.admin)
    assert made.status_code == 201, made.text
    goal = made.json()
    assert goal["comparator"] == "<="  # lower is better for a failure rate
    assert goal["period_start"] == "2026-03-02T00:00:00Z"

    answer = client.get(f"/api/v1/goals/{goal['id']}", params={"now": NOW},
                        headers=client.viewer)
    assert answer.status_code == 200, answer.text
    progress = answer.json()
    assert progress["status"] == "running"
    assert progress["window"] == {"start": "2026-03-02T00:00:00Z",
                                  "end": "2026-03-25T00:00:00Z", "days": 23}
    org = progress["organisation"]
    assert org["value"] == near(4 / 12) and org["meets"] is False
    teams = {t["team"]: t for t in progress["teams"]}
    assert set(teams) == {"pay", "web", "idle"}
    assert teams["pay"]["value"] == near(2 / 9) and teams["pay"]["meets"] is True
    assert teams["pay"]["progress"] == 1.0
    assert teams["pay"]["weeks"] == near([0.5, 0.25, 0.0])
    assert teams["pay"]["trend"] == "improving"
    assert teams["web"]["value"] == near(2 / 3) and teams["web"]["meets"] is False
    assert teams["web"]["progress"] == near(0.25 / (2 / 3))
    assert teams["web"]["trend"] == "worsening"
    assert teams["idle"] == {**teams["idle"], "value": None, "meets": None,
                             "display": "no data"}
    assert [w["week_start"] for w in progress["weeks"]] == [
        "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z"]
    assert [w["value"] for w in progress["weeks"]] == near([1 / 3, 2 / 5, 1 / 3])
    assert [w["meets"] for w in progress["weeks"]] == [False, False, False]
    assert progress["trend"] == "flat"
    assert progress["teams_meeting"] == 1 and progress["teams_with_data"] == 2
    assert "alice" not in answer.text and "user" not in progress  # never per person

    # Later, the period is over: the whole period counts, 03-27 included.
    after = client.get(f"/api/v1/goals/{goal['id']}", params={"now": "2026-04-15T00:00:00Z"},
                       headers=client.member).json()
    assert after["status"] == "finished" and after["window"]["days"] == 28
    assert {t["team"]: t["value"] for t in after["teams"]}["web"] == near(3 / 4)
    before = client.get(f"/api/v1/goals/{goal['id']}", params={"now": "2026-02-01T00:00:00Z"},
                        headers=client.member).json()
    assert before["status"] == "upcoming" and before["organisation"]["value"] is None

    listed = client.get("/api/v1/goals", params={"progress": "true"},
                        headers=client.viewer).json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == GOAL["name"]
    assert "teams" in listed["items"][0]


def test_a_metric_where_higher_is_better(client):  # type: ignore[no-untyped-def]
    made = client.post("/api/v1/goals", headers=client.admin, json={
        **GOAL, "name": "Deploy often", "metric": "deploy_days_per_week", "target": 2})
    assert made.status_code == 201 and made.json()["comparator"] == ">="
    progress = client.get(f"/api/v1/goals/{made.json()['id']}", params={"now": NOW},
                          headers=client.viewer).json()
    teams = {t["team"]: t for t in progress["teams"]}
    # pay deployed on 2, 4 and 2 distinct days in its three weeks: median 2 (met).
    assert teams["pay"]["weeks"] == [2, 4, 2] and teams["pay"]["meets"] is True
    assert teams["web"]["weeks"] == [1, 1, 1] and teams["web"]["meets"] is False
    assert teams["web"]["progress"] == near(0.5) and teams["web"]["trend"] == "flat"


def test_only_admins_set_goals_and_bad_input_names_the_field(client):  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/goals", json=GOAL, headers=client.member).status_code == 403
    assert client.post("/api/v1/goals", json=GOAL).status_code == 401
    for change, field in ((({"metric": "happiness"}), "metric"),
                          ({"target": 1.5}, "target"),
                          ({"target": -1}, "target"),
                          ({"comparator": "<"}, "comparator"),
                          ({"period_end": "2026-03-01T00:00:00Z"}, "period_end"),
                          ({"period_start": "yesterday"}, "period_start"),
                          ({"name": ""}, "name"),
                          ({"owner": "alice"}, "owner")):
        answer = client.post("/api/v1/goals", json={**GOAL, **change}, headers=client.admin)
        assert answer.status_code == 422, (change, answer.text)
        assert answer.json()["field"] == field and field in answer.json()["error"], answer.text
    assert goal_count(client) == 0

    made = client.post("/api/v1/goals", json=GOAL, headers=client.admin).json()
    again = client.post("/api/v1/goals", json=GOAL, headers=client.admin)
    assert again.status_code == 409 and again.json()["field"] == "name"
    assert client.get("/api/v1/goals/999", headers=client.viewer).status_code == 404
    bad_now = client.get(f"/api/v1/goals/{made['id']}", params={"now": "soon"},
                         headers=client.viewer)
    assert bad_now.status_code == 422 and bad_now.json()["field"] == "now"
    assert goal_count(client) == 1


def test_update_and_delete_are_audited(client):  # type: ignore[no-untyped-def]
    made = client.post("/api/v1/goals", json=GOAL, headers=client.admin).json()
    path = f"/api/v1/goals/{made['id']}"
    assert client.patch(path, json={"target": 0.1}, headers=client.member).status_code == 403
    refused = client.patch(path, json={"metric": "sla_compliance", "target": 5},
                           headers=client.admin)
    assert refused.status_code == 422 and refused.json()["field"] == "target"
    changed = client.patch(path, json={"target": 0.1}, headers=client.admin)
    assert changed.status_code == 200 and changed.json()["target"] == 0.1
    shown = client.get(path, params={"now": NOW}, headers=client.viewer).json()
    assert {t["team"]: t["meets"] for t in shown["teams"]}["pay"] is False  # 22 % > 10 %
    assert client.delete(path, headers=client.viewer).status_code == 403
    assert client.delete(path, headers=client.admin).status_code == 204
    assert client.get(path, headers=client.viewer).status_code == 404
    with client.db.read_session() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_type == "goal").order_by(AuditEntry.seq)))
    assert actions == ["goal.create", "goal.update", "goal.delete"]
    metrics = client.get("/api/v1/goals/metrics", headers=client.viewer).json()["items"]
    keys = {m["key"] for m in metrics}
    assert {"deploy_days_per_week", "lead_time_median_hours", "change_failure_rate",
            "recovery_time_median_hours", "rework_rate", "mttr_median_hours",
            "mtta_median_hours", "sla_compliance", "reopen_rate",
            "change_success_rate"} <= keys
