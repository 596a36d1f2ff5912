"""/openapi.json describes every operation well enough to generate a client from it.

Every operation declares a typed success answer, the errors it can give in the
shape the server writes them, and how its callers authenticate; a new route that
does not fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import make_service, make_team, make_user

from steward.api.errors import ErrorOut
from steward.app import create_app
from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.config import Settings
from steward.db import Database

UNSAFE = {"post", "patch", "put", "delete"}
PUBLIC = {("get", "/healthz"), ("get", "/metrics"), ("post", "/v2/enqueue"),
          ("post", "/v2/change/enqueue")}
# The public status page's API (Statuspage's shapes): no credentials.
PUBLIC_PREFIX = "/api/v2/"
# PagerDuty's endpoints answer invalid events as PagerDuty does, not with ErrorOut.
PAGERDUTY = {("post", "/v2/enqueue"), ("post", "/v2/change/enqueue")}
ERROR_REF = "#/components/schemas/ErrorOut"


@pytest.fixture(scope="module")
def document(sqlite_template: Path) -> dict[str, Any]:
    """The document as the server serves it (no request touches the database)."""
    db = Database(Settings(database_url=f"sqlite:///{sqlite_template}"))
    answer = TestClient(create_app(db.settings, database=db)).get("/openapi.json")
    db.dispose()
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, operation) for path, item in document["paths"].items()
            for method, operation in item.items()]


def typed(schema: dict[str, Any], document: dict[str, Any]) -> bool:
    """Whether a schema says what the answer holds (not just "some JSON")."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        target = document["components"]["schemas"][name]
        return "properties" in target or typed(target, document)
    if "anyOf" in schema or "oneOf" in schema:
        branches = schema.get("anyOf", schema.get("oneOf"))
        return all(typed(b, document) for b in branches)
    if schema.get("type") == "array":
        return typed(schema.get("items", {}), document)
    return schema.get("type") == "string"  # text downloads: CSV, Prometheus text


def references(schema: dict[str, Any]) -> set[str]:
    if "$ref" in schema:
        return {schema["$ref"]}
    return {ref for branch in schema.get("anyOf", []) for ref in references(branch)}


def test_every_operation_declares_a_typed_success_answer(document):  # type: ignore[no-untyped-def]
    untyped = []
    for method, path, operation in operations(document):
        successes = {code: r for code, r in operation["responses"].items()
                     if code.startswith("2")}
        if not successes:
            untyped.append(f"{method} {path}: no 2xx")
        for code, response in successes.items():
            if code == "204":
                assert "content" not in response, f"{method} {path} 204 has a body"
                continue
            content = response.get("content", {})
            if not content or not all(typed(c.get("schema", {}), document)
                                      for c in content.values()):
                untyped.append(f"{method} {path} {code}")
    assert untyped == []
    assert len(operations(document)) >= 90


def test_every_operation_declares_its_errors_in_the_shape_the_server_writes(document):  # type: ignore[no-untyped-def]
    missing = []
    for method, path, operation in operations(document):
        declared = operation["responses"]
        needed = set()
        if operation.get("security"):
            needed.add("401")
        if operation.get("parameters") or "requestBody" in operation:
            needed.add("400" if (method, path) in PAGERDUTY else "422")
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            needed.add("404")
        if "requestBody" in operation:
            needed.add("413")
        if method in UNSAFE and path.startswith("/api/v1/") and any(
                "apiToken" in s for s in operation.get("security", [])):
            needed.add("403")
        missing += [f"{method} {path} {code}" for code in sorted(needed - set(declared))]
        for code, response in declared.items():
            if not code.startswith("4"):
                continue
            schema = response["content"]["application/json"]["schema"]
            if (method, path) in PAGERDUTY and code in ("400", "429"):
                shape = "PagerDutyInvalid" if code == "400" else "PagerDutyThrottled"
                assert references(schema) == {f"#/components/schemas/{shape}"}
            else:
                assert ERROR_REF in references(schema), f"{method} {path} {code}"
    assert missing == []
    # FastAPI's own 422 shape ({"detail": [...]}) is not what Steward answers.
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_operation_says_how_callers_authenticate(document):  # type: ignore[no-untyped-def]
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiToken"] == {"type": "http", "scheme": "bearer",
                                   "description": schemes["apiToken"]["description"]}
    assert schemes["integrationKey"]["scheme"] == "bearer"
    for method, path, operation in operations(document):
        names = {name for requirement in operation.get("security", []) for name in requirement}
        if (method, path) in PUBLIC or path.startswith(PUBLIC_PREFIX):
            assert names == set(), f"{method} {path}"
        elif path.startswith("/ingest/") or (method, path) == ("post", "/api/v1/alerts"):
            assert names and "apiToken" not in names, f"{method} {path}"
        elif path == "/api/v1/slos/{slo_id}/reports":
            assert names == {"apiToken", "integrationKey", "webSession"}
        else:
            assert names == {"apiToken", "webSession"}, f"{method} {path}"
    alerts = document["paths"]["/api/v1/alerts"]["post"]
    assert alerts["security"] == [{"integrationKey": []}]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("post", "/api/v1/alerts", "202"), ("post", "/ingest/alertmanager", "202"),
    ("post", "/ingest/grafana", "202"), ("post", "/v2/enqueue", "202"),
    ("post", "/ingest/github", "201"), ("post", "/ingest/gitlab", "201"),
    ("post", "/ingest/cdevents", "201"), ("post", "/v2/change/enqueue", "202"),
    ("post", "/api/v1/deployments", "201"), ("post", "/api/v1/teams", "201"),
    ("delete", "/api/v1/teams/{name}", "204"),
])
def test_routes_declare_the_status_they_answer_with(document, method, path, status):  # type: ignore[no-untyped-def]
    declared = [c for c in document["paths"][path][method]["responses"] if c.startswith("2")]
    assert declared[0] == status


def test_the_alert_body_is_a_named_model(document):  # type: ignore[no-untyped-def]
    body = document["paths"]["/api/v1/alerts"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["anyOf"][0] == {"$ref": "#/components/schemas/AlertIn"}
    assert schema["anyOf"][1]["items"] == {"$ref": "#/components/schemas/AlertIn"}
    assert {"dedup_key", "status"} <= set(document["components"]["schemas"]["AlertIn"]
                                          ["required"])
    assert not any("x-steward" in key for _, _, op in operations(document) for key in op)


def test_error_answers_fit_the_declared_error_model(sqlite_db):  # type: ignore[no-untyped-def]
    client = TestClient(create_app(sqlite_db.settings, database=sqlite_db))
    headers = {"Authorization": f"Bearer {make_user(sqlite_db, 'root', role='admin')}"}
    make_team(sqlite_db, "web")
    make_service(sqlite_db, "shop", owner="web")
    with sqlite_db.session() as session:
        key = create_integration(session, SYSTEM, "generic", service="shop")[1]
    answers = [
        client.get("/api/v1/teams"),  # 401
        client.get("/api/v1/teams/nobody", headers=headers),  # 404
        client.post("/api/v1/teams", json={"name": "", "x": 1}, headers=headers),  # 422
        client.post("/api/v1/teams", content=b"{", headers={
            **headers, "content-type": "application/json"}),  # 400
        client.post("/api/v1/alerts", json={"dedup_key": "k"}),  # 401: no key, body unread
        client.post("/api/v1/alerts", json={"dedup_key": "k"},
                    headers={"Authorization": "Bearer stk_k"}),  # 401: an unknown key
        client.post("/api/v1/alerts", json={"dedup_key": "k"},
                    headers={"Authorization": f"Bearer {key}"}),  # 422, the hot route
        client.post("/api/v1/teams", content=b"x" * 6_000_000, headers=headers),  # 413
    ]
    client.post("/api/v1/teams", json={"name": "ops"}, headers=headers)
    answers.append(client.post("/api/v1/teams", json={"name": "ops"}, headers=headers))  # 409
    assert [a.status_code for a in answers] == [401, 404, 422, 400, 401, 401, 422, 413, 409]
    for answer in answers:
        error = ErrorOut.model_validate(answer.json())  # refuses keys it does not know
        assert error.error
    several = ErrorOut.model_validate(answers[2].json())
    assert several.details is not None and len(several.details) == 2
