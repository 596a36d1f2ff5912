"""Input at the edges of what the API takes: every one gets a 4xx naming the field, or
(alerts from monitoring) is recorded with what can be kept; never a 500.

Each test runs on SQLite and PostgreSQL: PostgreSQL refuses NUL in text, values over a
column's size and integers over 32 bits, where SQLite stores them.
"""

from __future__ import annotations

import orjson
import pytest
from helpers import api_client, bearer, make_service, make_team, make_user
from sqlalchemy import select

from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.catalog.models import Service, Team
from steward.incidents.models import Alert, Incident

INT_COLUMN_OVERFLOW = 2**31  # one more than an INTEGER column holds


@pytest.fixture
def api(db):  # type: ignore[no-untyped-def]
    make_team(db, "pay")
    make_service(db, "ledger", owner="pay")
    token = make_user(db, "root", role="admin")
    client = api_client(db)
    client.headers.update(bearer(token))
    return client


def integration_key(db, type: str = "generic", service: str = "ledger") -> str:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return create_integration(session, SYSTEM, type, service=service)[1]


def error(response) -> tuple[int, str | None]:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) <= {"error", "field", "details"}, body  # the one error shape
    return response.status_code, body.get("field")


# -- alert summaries longer than an incident title (500) --------------------------------

def test_a_long_alert_summary_opens_an_incident_with_a_shortened_title(api, db):
    words = " ".join(f"word{i:04d}" for i in range(100))  # 999 characters
    sent = api.post("/api/v1/alerts", headers=bearer(integration_key(db)), json={
        "dedup_key": "long", "status": "firing", "summary": words})
    assert sent.status_code == 202, sent.text
    with db.read_session() as session:
        summary, title = session.execute(select(Alert.summary, Incident.title).join(
            Incident, Incident.id == Alert.incident_id)).one()
    assert summary == words  # the alert keeps all of it
    assert len(title) <= 500 and title.endswith("…")
    assert words.startswith(title[:-1].rstrip())
    assert title[:-1].rstrip().endswith(("0", "1", "2", "3", "4", "5", "6", "7", "8",
                                                  "9"))  # cut between words, not in one


# -- display names over their columns -----------------------------------------------------

def test_team_and_service_display_names_over_their_columns_are_refused(api, db):
    team = api.post("/api/v1/teams", json={"name": "ops", "display_name": "T" * 201})
    assert error(team) == (422, "display_name")
    service = api.post("/api/v1/services", json={"name": "api", "display_name": "S" * 301})
    assert error(service) == (422, "display_name")
    patched = api.patch("/api/v1/services/ledger", json={"display_name": "S" * 301})
    assert error(patched) == (422, "display_name")
    assert api.post("/api/v1/teams", json={"name": "ops", "display_name": "T" * 200}
                    ).status_code == 201
    assert api.post("/api/v1/services", json={"name": "api", "display_name": "S" * 300}
                    ).status_code == 201


# -- NUL and lone surrogates ---------------------------------------------------------------

def test_nul_in_a_body_field_is_refused_naming_the_field(api, db):
    assert error(api.post("/api/v1/teams", json={"name": "ops", "description": "a\x00b"})
                 ) == (422, "description")
    assert error(api.patch("/api/v1/services/ledger", json={
        "annotations": {"runbook": "x\x00"}})) == (422, "annotations.runbook")
    assert error(api.post("/api/v1/changes", json={
        "title": "Upgrade\x00", "services": ["ledger"]})) == (422, "title")
    with db.read_session() as session:
        assert session.scalar(select(Team).where(Team.name == "ops")) is None


def test_nul_in_a_query_or_path_parameter_is_refused_naming_it(api):
    for path in ("/api/v1/teams", "/api/v1/services", "/api/v1/users", "/api/v1/changes",
                 "/api/v1/incidents"):
        assert error(api.get(path, params={"q": "a\x00"})) == (422, "query.q"), path
    assert error(api.get("/api/v1/services/led%00ger")) == (422, "path.name")
    assert error(api.get("/api/v1/kpis/dora", params={"team": "\x00"})) == (422, "query.team")


def test_a_lone_surrogate_in_json_is_refused_naming_the_field(api):
    raw = b'{"name": "ops", "description": "broken \\ud800 text"}'
    sent = api.post("/api/v1/teams", content=raw,
                    headers={"Content-Type": "application/json"})
    assert error(sent) == (422, "description")


def test_json_nested_a_thousand_deep_is_refused_with_a_clear_answer(api):
    deep = b'{"name": "ops", "contacts": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    sent = api.post("/api/v1/teams", content=deep, headers={"Content-Type": "application/json"})
    assert sent.status_code == 400
    assert "nested" in sent.json()["error"]


# -- ids beyond the columns ----------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/v1/changes/{id}", "/api/v1/incidents/{id}", "/api/v1/deployments/{id}",
    "/api/v1/dependencies/{id}", "/api/v1/goals/{id}", "/api/v1/slos/{id}",
])
def test_ids_beyond_an_integer_column_are_refused(api, path):
    status, field = error(api.get(path.format(id=INT_COLUMN_OVERFLOW)))
    assert status == 422 and field and field.startswith("path.")
    assert api.get(path.format(id=2**31 - 1)).status_code == 404


def test_ids_in_a_body_beyond_an_integer_column_are_refused(api, db):
    declared = api.post("/api/v1/incidents", json={"title": "Down", "service": "ledger"})
    assert declared.status_code == 201, declared.text
    number = declared.json()["id"]
    assert error(api.post(f"/api/v1/incidents/{number}/cause",
                          json={"deployment_id": INT_COLUMN_OVERFLOW})) == (422, "deployment_id")
    assert error(api.post("/api/v1/gate", json={"service": "ledger",
                                                "change_id": INT_COLUMN_OVERFLOW})
                 ) == (422, "change_id")
    assert error(api.post("/api/v1/deployments", json={
        "service": "ledger", "environment": "production", "rollback_of": INT_COLUMN_OVERFLOW})
    ) == (422, "rollback_of")
    assert error(api.post("/api/v1/gate", json={"service": "ledger", "batch_size": 2**40})
                 ) == (422, "batch_size")


# -- dates far outside the product's range -------------------------------------------------

def test_alerts_at_year_one_are_refused_naming_the_field(api, db):
    sent = api.post("/api/v1/alerts", headers=bearer(integration_key(db)), json={
        "dedup_key": "old", "status": "firing", "occurred_at": "0001-01-01T00:00:00Z"})
    assert error(sent) == (400, "occurred_at")  # a time that does not parse


def test_changes_at_year_one_are_refused_naming_the_field(api):
    sent = api.post("/api/v1/changes", json={
        "title": "Old", "services": ["ledger"], "planned_start": "0001-01-01T00:00:00Z",
        "planned_end": "0001-01-01T01:00:00Z"})
    assert error(sent) == (422, "planned_start")


@pytest.mark.parametrize("path", ["/api/v1/kpis/dora", "/api/v1/kpis/itsm"])
def test_kpis_ending_at_year_one_are_refused_naming_the_field(api, path):
    assert error(api.get(path, params={"end": "0001-01-05T00:00:00Z"})) == (422, "end")


# -- answers still in range ----------------------------------------------------------------

def test_text_at_its_limits_is_stored(api, db):
    sent = api.post("/api/v1/services", json={
        "name": "s" * 200, "display_name": "D" * 300, "description": "x" * 50_000,
        "annotations": {"k": "v" * 1000}})
    assert sent.status_code == 201, sent.text
    with db.read_session() as session:
        service = session.scalar(select(Service).where(Service.name == "s" * 200))
        assert service is not None and service.display_name == "D" * 300
        assert orjson.loads(orjson.dumps(service.annotations)) == {"k": "v" * 1000}


def test_a_goal_description_set_to_null_is_cleared(api):
    created = api.post("/api/v1/goals", json={
        "name": "Ship daily", "metric": "deployments_per_day", "target": 1,
        "description": "why", "period_start": "2026-01-01T00:00:00Z",
        "period_end": "2026-12-31T00:00:00Z"})
    assert created.status_code == 201, created.text
    cleared = api.patch(f"/api/v1/goals/{created.json()['id']}", json={"description": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["description"] == ""


def test_servicenow_history_with_nul_is_imported_without_it_and_year_one_is_skipped(api, db):
    export = ("number,short_description,state,opened_at,priority,assignment_group,cmdb_ci\n"
              "INC0001,Disk \x00full,New,2024-01-01 10:00:00,3 - Moderate,Ops\x00,ledger\n"
              "INC0002,Old,New,0001-01-01 10:00:00,3 - Moderate,Ops,ledger\n")
    sent = api.post("/api/v1/imports/servicenow", content=export.encode(),
                    headers={"Content-Type": "text/csv"})
    assert sent.status_code == 200, sent.text
    summary = sent.json()
    assert summary["incidents"]["created"] == 1
    assert [line["line"] for line in summary["skipped"]["lines"]] == [3]
    assert "out of range" in summary["skipped"]["lines"][0]["reason"]
    with db.read_session() as session:
        assert session.scalar(select(Incident.title).where(
            Incident.external_ref == "INC0001")) == "Disk full"
        assert session.scalar(select(Team.display_name).where(Team.name == "ops")) == "Ops"


def test_an_empty_time_parameter_is_refused_not_taken_for_now(api):
    for path, name in (("/api/v1/kpis/dora", "end"), ("/api/v1/changes", "start"),
                       ("/api/v1/slos", "at")):
        assert error(api.get(path, params={name: ""})) == (422, name), path
