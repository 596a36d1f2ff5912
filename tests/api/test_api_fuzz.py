"""Generated requests from /openapi.json, on SQLite and PostgreSQL: no answer is a server
error, and every answer is one the document declares (status, content type, body schema).

Besides schemathesis' own examples, about half the requests carry one hostile value in
place of a generated one, chosen by Hypothesis: NUL or a lone surrogate in a string, a
string longer than any column, an integer beyond 32 (or 64) bits, a date at year 1 or
9999, JSON nested far too deep. Those are what PostgreSQL refuses where SQLite stores
them, and what window arithmetic overflows on; a random example rarely holds one. About
half name records that exist, so that requests reach the use cases and the database.

What ran (answers by status, operations that succeeded) and any failure are written to
``test-output/api-fuzz-<database>.txt``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from helpers import make_dependency, make_service, make_team, make_user
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from steward.app import create_app
from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration

DECLARED = [checks.status_code_conformance, checks.content_type_conformance,
            checks.response_schema_conformance]
EXAMPLES = 14  # per operation: about 1,300 requests, near half a minute per database
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
TIME_KEYS = {"end", "start", "at", "now", "occurred_at", "started_at", "finished_at",
             "planned_start", "planned_end", "starts_at", "ends_at", "period_start",
             "period_end", "committed_at"}
DEEP: Any = []
for _ in range(200):
    DEEP = [DEEP]

# Records the organisation holds (see ``organisation``), so that generated requests get
# past "no such service" often enough to reach the use cases, and the database, with
# their values. Deletions name what they generated: these records must stay.
KNOWN = {"service": "ledger", "depends_on": "ledger-db", "owner": "payments",
         "team": "payments", "parent": "payments", "services": ["ledger"],
         "username": "casey", "teams": ["payments"], "deployment_id": 1,
         "change_id": 1, "metric": "deployments_per_day"}
KNOWN_NAMES = {"/api/v1/teams/{name}": "payments", "/api/v1/services/{name}": "ledger",
               "/api/v1/services/{name}/impact": "ledger",
               "/api/v1/services/{name}/slos": "ledger"}


def organisation(db, client: TestClient) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A team, services, users, and one record of each kind (id 1); the admin's API token
    and an integration key."""
    make_team(db, "payments")
    make_service(db, "ledger", owner="payments")
    make_service(db, "ledger-db", owner="payments", kind="resource")
    make_dependency(db, "ledger", "ledger-db")
    token = make_user(db, "root", role="admin")
    make_user(db, "casey", teams=["payments"])  # the user requests may change or delete
    with db.session() as session:
        key = create_integration(session, SYSTEM, "generic", team="payments")[1]
    auth = {"Authorization": f"Bearer {token}"}
    for path, body in [
        ("/api/v1/changes", {"title": "Upgrade", "services": ["ledger"]}),
        ("/api/v1/incidents", {"title": "Ledger down", "service": "ledger"}),
        ("/api/v1/deployments", {"service": "ledger", "environment": "production"}),
        ("/api/v1/services/ledger/slos", {"name": "availability", "objective": 0.99}),
        ("/api/v1/goals", {"name": "Ship daily", "metric": "deployments_per_day",
                           "target": 1, "period_start": "2026-01-01T00:00:00Z",
                           "period_end": "2026-12-31T00:00:00Z"}),
        ("/api/v1/calendar/windows", {"name": "Freeze", "kind": "freeze",
                                      "starts_at": "2026-12-20T00:00:00Z",
                                      "ends_at": "2026-12-27T00:00:00Z"}),
        ("/api/v1/users/casey/tokens", {"name": "ci"}),
        ("/api/v1/schedules", {"team": "payments", "name": "primary",
                               "time_zone": "Europe/Amsterdam",
                               "layers": [{"name": "weekly", "starts": "2026-01-05T09:00",
                                           "handoff_interval_hours": 168,
                                           "members": ["casey"]}]}),
        ("/api/v1/schedules/1/overrides", {"user": "casey", "starts_at": "2026-02-01T00:00:00Z",
                                           "ends_at": "2026-02-02T00:00:00Z"}),
    ]:
        created = client.post(path, json=body, headers=auth)
        assert created.status_code == 201, (path, created.text)
    return token, key


def keep_the_callers_token(case: Any) -> None:
    """The run's own API token (id 1) is not revoked halfway: it would end the run."""
    if case.path == "/api/v1/tokens/{token_id}" and case.path_parameters.get("token_id") == 1:
        case.path_parameters["token_id"] = 2  # another user's


def with_known_records(case: Any) -> None:
    """Name records that exist where the request names one."""
    if case.method.upper() == "DELETE":
        return
    path = case.path_parameters or {}
    if "name" in path and case.path in KNOWN_NAMES:
        path["name"] = KNOWN_NAMES[case.path]
    for name in path:
        if name.endswith("_id"):
            path[name] = 1
    for container in (path, case.query, case.body):
        if isinstance(container, dict):
            for key, value in KNOWN.items():
                if key in container and not (key == "username" and container is case.body):
                    container[key] = value
    if isinstance(case.body, list):
        for item in case.body:
            if isinstance(item, dict) and "service" in item:
                item["service"] = "ledger"


def hostile_values(value: Any, where: str, key: Any = None) -> list[Any]:
    """Values to put in place of ``value``, generated for field ``key`` in ``where``."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [2**31, 2**63, -(2**31) - 1]
    if isinstance(value, float):
        return [1e308, 2.0**31]
    if isinstance(value, str):
        found = [value + "\x00", "x" * 5000]
        if where == "body":  # a URL cannot carry a lone surrogate; JSON can
            found.append(value + "\ud800")
        if DATE.match(value) or key in TIME_KEYS:
            found += ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]
        return found
    if where == "body" and isinstance(value, (dict, list)):
        return [DEEP]
    return []


def leaves(container: Any, where: str, depth: int = 0) -> list[tuple[Any, Any, Any]]:
    """(container, key, value) of every value a hostile one may replace."""
    found: list[tuple[Any, Any, Any]] = []
    items = (container.items() if isinstance(container, dict)
             else enumerate(container) if isinstance(container, list) else ())
    for key, value in items:
        if isinstance(value, (dict, list)) and depth < 3:
            found.extend(leaves(value, where, depth + 1))
        if hostile_values(value, where, key):
            found.append((container, key, value))
    return found


def with_a_hostile_value(case: Any, data: st.DataObject) -> str | None:
    """Replace one value of ``case`` by a hostile one; what was done, or None."""
    places = []
    for where, container in (("path", case.path_parameters), ("query", case.query),
                             ("body", case.body)):
        if isinstance(container, (dict, list)):
            places += [(where, *leaf) for leaf in leaves(container, where)]
    if not places:
        return None
    where, container, key, value = data.draw(st.sampled_from(places), label="field")
    hostile = data.draw(st.sampled_from(hostile_values(value, where, key)), label="value")
    container[key] = hostile
    return f"{where}.{key}={str(hostile)[:30]!r}"


def test_every_answer_is_declared_and_none_is_a_server_error(db):  # type: ignore[no-untyped-def]
    app = create_app(db.settings, database=db)
    token, key = organisation(db, TestClient(app))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    server_errors: list[str] = []
    undeclared: list[str] = []
    answered: dict[tuple[str, int], int] = {}
    succeeded: dict[str, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 80

    def exercise(operation: Any, headers: dict[str, str]) -> None:
        label = f"{operation.method.upper()} {operation.path}"
        succeeded.setdefault(label, 0)

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), data=st.data())
        def run(case, data):  # type: ignore[no-untyped-def]
            if data.draw(st.booleans(), label="known records"):
                with_known_records(case)
            changed = with_a_hostile_value(case, data) if data.draw(
                st.booleans(), label="hostile") else None
            keep_the_callers_token(case)
            request = f"{case.method} {case.formatted_path} ({changed or 'as generated'})"
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # noqa: BLE001 - the app raised: a 500 to a client
                server_errors.append(" ".join(
                    f"{request} -> {type(exc).__name__}: {exc}".split())[:400])
                return
            kind = ("hostile" if changed else "generated", response.status_code)
            answered[kind] = answered.get(kind, 0) + 1
            succeeded[label] += response.status_code < 300
            if response.status_code >= 500:
                server_errors.append(f"{request} -> {response.status_code} "
                                     f"{response.text[:200]}")
                return
            try:
                case.validate_response(response, checks=DECLARED)
            except BaseExceptionGroup as found:  # schemathesis' FailureGroup
                undeclared.append(" ".join(f"{request} -> {response.status_code}: "
                                           f"{found.exceptions[0]}".split())[:400])

        run()

    for operation in operations:
        schemes = {name for requirement in operation.definition.raw.get("security", [])
                   for name in requirement}
        credential = key if "integrationKey" in schemes and "apiToken" not in schemes else token
        exercise(operation, {"Authorization": f"Bearer {credential}"})

    report = OUTPUT / f"api-fuzz-{db.engine.dialect.name}.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(
        [f"{kind} {status}: {count}" for (kind, status), count in sorted(answered.items())]
        + [f"2xx {count}: {label}" for label, count in succeeded.items()]
        + server_errors + undeclared) + "\n")
    assert server_errors == []
    assert undeclared == []
