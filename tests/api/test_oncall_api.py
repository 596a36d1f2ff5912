"""On-call through the HTTP API: schedules, overrides, shifts and gaps, escalation
policies, and ``GET /api/v1/oncall`` in exactly the shape others rely on."""

from __future__ import annotations

import pytest
from helpers import api_client, bearer, make_service, make_team

from steward.auth.actor import SYSTEM
from steward.auth.schemas import UserCreate
from steward.auth.use_cases import accounts as auth


@pytest.fixture
def setup(db):
    make_team(db, "payments")
    make_team(db, "web")
    make_service(db, "checkout", owner="payments")
    tokens = {}
    with db.session() as session:
        for name, role, teams in (("alice", "member", ["payments"]),
                                  ("bob", "member", ["payments"]),
                                  ("carol", "member", ["payments"]),
                                  ("wendy", "member", ["web"]),
                                  ("vic", "viewer", ["payments"])):
            auth.create_user(session, SYSTEM, UserCreate(
                username=name, role=role, teams=teams, email=f"{name}@example.com"))
            tokens[name] = auth.create_token(session, SYSTEM, name)
    return api_client(db), tokens


SCHEDULE = {
    "team": "payments", "name": "primary", "time_zone": "Europe/Amsterdam",
    "description": "Payments first line",
    "layers": [{"name": "weekly", "starts": "2026-03-23T09:00",
                "handoff_interval_hours": 168, "members": ["alice", "bob"]}],
}


def make_schedule(client, token: str) -> int:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/schedules", headers=bearer(token), json=SCHEDULE)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_oncall_answers_exactly_the_agreed_shape_across_spring_forward(setup) -> None:
    client, tokens = setup
    schedule_id = make_schedule(client, tokens["alice"])
    policy = {"name": "payments", "repeat_count": 2, "levels": [
        {"timeout_minutes": 5, "targets": [{"kind": "schedule", "schedule": "primary"}]},
        {"timeout_minutes": 10, "targets": [{"kind": "user", "user": "carol"}]}]}
    put = client.put("/api/v1/teams/payments/escalation-policy", headers=bearer(
        tokens["alice"]), json=policy)
    assert put.status_code == 200, put.text
    assert put.json()["levels"][0]["targets"][0]["schedule_id"] == schedule_id
    # Monday 30 March 2026, 08:30 local (CEST) = 06:30Z: still Alice; 09:00 local: Bob.
    before = client.get("/api/v1/oncall", params={"team": "payments",
                                                  "at": "2026-03-30T08:30:00+02:00"},
                        headers=bearer(tokens["vic"]))
    assert before.status_code == 200, before.text
    assert before.json() == {"team": "payments", "at": "2026-03-30T06:30:00Z", "oncall": [
        {"user": "alice", "email": "alice@example.com", "level": 1, "schedule": "primary"},
        {"user": "carol", "email": "carol@example.com", "level": 2, "schedule": None}]}
    after = client.get("/api/v1/oncall", params={"service": "checkout",
                                                 "at": "2026-03-30T07:00:00Z"},
                       headers=bearer(tokens["vic"])).json()
    assert after["team"] == "payments"
    assert [(o["user"], o["level"]) for o in after["oncall"]] == [("bob", 1), ("carol", 2)]


def test_oncall_without_a_policy_and_in_a_gap(setup) -> None:
    client, tokens = setup
    make_schedule(client, tokens["alice"])
    during = client.get("/api/v1/oncall?team=payments&at=2026-04-01T00:00:00Z",
                        headers=bearer(tokens["vic"])).json()
    assert during["oncall"] == [{"user": "bob", "email": "bob@example.com", "level": 1,
                                 "schedule": "primary"}]
    gap = client.get("/api/v1/oncall?team=payments&at=2026-01-01T00:00:00Z",
                     headers=bearer(tokens["vic"])).json()
    assert gap["oncall"] == []


def test_a_service_without_an_owner_has_nobody_on_call(setup, db) -> None:
    client, tokens = setup
    make_service(db, "orphan")
    body = client.get("/api/v1/oncall?service=orphan", headers=bearer(tokens["vic"])).json()
    assert body["team"] is None and body["oncall"] == []


@pytest.mark.parametrize(("query", "status", "field"), [
    ("team=nowhere", 404, "team"),
    ("service=nothing", 404, "service"),
    ("", 422, "team"),
    ("team=payments&service=checkout", 422, "team"),
    ("team=payments&at=yesterday", 422, "at"),
])
def test_oncall_bad_queries(setup, query: str, status: int, field: str) -> None:
    client, tokens = setup
    response = client.get(f"/api/v1/oncall?{query}", headers=bearer(tokens["vic"]))
    assert response.status_code == status, response.text
    assert response.json()["field"] == field


def test_now_next(setup) -> None:
    client, tokens = setup
    make_schedule(client, tokens["alice"])
    body = client.get("/api/v1/oncall/now-next?team=payments&at=2026-03-25T12:00:00Z",
                      headers=bearer(tokens["vic"])).json()
    [entry] = body["schedules"]
    assert entry["now"]["user"] == "alice"
    assert entry["now"]["end"] == "2026-03-30T07:00:00Z"  # 09:00 CEST
    assert entry["next"]["user"] == "bob" and entry["next"]["start"] == "2026-03-30T07:00:00Z"


def test_shifts_and_gaps_with_an_override(setup) -> None:
    client, tokens = setup
    schedule_id = make_schedule(client, tokens["alice"])
    made = client.post(f"/api/v1/schedules/{schedule_id}/overrides", headers=bearer(
        tokens["bob"]), json={"user": "carol", "starts_at": "2026-03-24T18:00:00Z",
                              "ends_at": "2026-03-25T06:00:00Z", "reason": "alice travels"})
    assert made.status_code == 201, made.text
    assert made.json()["requested_by"] == "bob"
    overlapping = client.post(f"/api/v1/schedules/{schedule_id}/overrides", headers=bearer(
        tokens["bob"]), json={"user": "bob", "starts_at": "2026-03-25T00:00:00Z",
                              "ends_at": "2026-03-26T00:00:00Z"})
    assert overlapping.status_code == 409
    assert f"override {made.json()['id']}" in overlapping.json()["error"]
    backwards = client.post(f"/api/v1/schedules/{schedule_id}/overrides", headers=bearer(
        tokens["bob"]), json={"user": "bob", "starts_at": "2026-03-27T00:00:00Z",
                              "ends_at": "2026-03-26T00:00:00Z"})
    assert backwards.status_code == 422 and backwards.json()["field"] == "ends_at"
    body = client.get(f"/api/v1/schedules/{schedule_id}/shifts",
                      params={"from": "2026-03-20T00:00:00Z", "to": "2026-04-06T07:00:00Z"},
                      headers=bearer(tokens["vic"])).json()
    assert body["gaps"] == [{"start": "2026-03-20T00:00:00Z", "end": "2026-03-23T08:00:00Z"}]
    assert [(s["user"], s["override"], s["start"]) for s in body["shifts"]] == [
        ("alice", False, "2026-03-23T08:00:00Z"),
        ("carol", True, "2026-03-24T18:00:00Z"),
        ("alice", False, "2026-03-25T06:00:00Z"),
        ("bob", False, "2026-03-30T07:00:00Z"),
    ]
    assert [s["user"] for s in body["layers"]["weekly"]] == ["alice", "bob"]
    listed = client.get(f"/api/v1/schedules/{schedule_id}/overrides",
                        headers=bearer(tokens["vic"])).json()["items"]
    assert [(o["user"], o["reason"]) for o in listed] == [("carol", "alice travels")]
    gone = client.delete(f"/api/v1/schedules/{schedule_id}/overrides/{listed[0]['id']}",
                         headers=bearer(tokens["alice"]))
    assert gone.status_code == 204


@pytest.mark.parametrize(("change", "field"), [
    ({"time_zone": "Europe/Atlantis"}, "time_zone"),
    ({"layers": [{"name": "x", "starts": "2026-01-01T00:00", "handoff_interval_hours": 24,
                  "members": []}]}, "layers.0.members"),
    ({"layers": [{"name": "x", "starts": "2026-01-01T00:00", "handoff_interval_hours": 0,
                  "members": ["alice"]}]}, "layers.0.handoff_interval_hours"),
    ({"layers": [{"name": "x", "starts": "2026-01-01T00:00", "handoff_interval_hours": 24,
                  "members": ["zed"]}]}, "layers.0.members.0"),
])
def test_bad_schedules_answer_422_naming_the_field(setup, change, field: str) -> None:
    client, tokens = setup
    response = client.post("/api/v1/schedules", headers=bearer(tokens["alice"]),
                           json={**SCHEDULE, **change})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert client.get("/api/v1/schedules", headers=bearer(tokens["vic"])).json()["total"] == 0


@pytest.mark.parametrize(("levels", "field"), [
    ([{"timeout_minutes": 5, "targets": []}], "levels.0.targets"),
    ([{"timeout_minutes": 0, "targets": [{"kind": "user", "user": "carol"}]}],
     "levels.0.timeout_minutes"),
    ([{"timeout_minutes": 5, "targets": [{"kind": "schedule", "schedule": "nope"}]}],
     "levels.0.targets.0.schedule"),
    ([{"timeout_minutes": 5, "targets": [{"kind": "team", "team": "nope"}]}],
     "levels.0.targets.0.team"),
])
def test_bad_policies_answer_422_naming_the_field(setup, levels, field: str) -> None:
    client, tokens = setup
    response = client.put("/api/v1/teams/payments/escalation-policy", headers=bearer(
        tokens["alice"]), json={"name": "p", "levels": levels})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    missing = client.get("/api/v1/teams/payments/escalation-policy",
                         headers=bearer(tokens["vic"]))
    assert missing.status_code == 404


def test_rights(setup) -> None:
    client, tokens = setup
    assert client.post("/api/v1/schedules", headers=bearer(tokens["vic"]),
                       json=SCHEDULE).status_code == 403
    assert client.post("/api/v1/schedules", headers=bearer(tokens["wendy"]),
                       json=SCHEDULE).status_code == 403
    schedule_id = make_schedule(client, tokens["alice"])
    assert client.patch(f"/api/v1/schedules/{schedule_id}", headers=bearer(tokens["wendy"]),
                        json={"name": "mine"}).status_code == 403
    assert client.put("/api/v1/teams/payments/escalation-policy", headers=bearer(
        tokens["vic"]), json={"name": "p", "levels": [{"timeout_minutes": 5, "targets": [
            {"kind": "user", "user": "carol"}]}]}).status_code == 403
    assert client.get(f"/api/v1/schedules/{schedule_id}",
                      headers=bearer(tokens["wendy"])).status_code == 200
    renamed = client.patch(f"/api/v1/schedules/{schedule_id}", headers=bearer(tokens["bob"]),
                           json={"name": "first-line"})
    assert renamed.json()["name"] == "first-line"
    assert client.delete(f"/api/v1/schedules/{schedule_id}",
                         headers=bearer(tokens["bob"])).status_code == 204
    assert client.get(f"/api/v1/schedules/{schedule_id}",
                      headers=bearer(tokens["bob"])).status_code == 404
