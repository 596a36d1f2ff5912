"""Generated requests from /openapi.json never make the API answer with a 500, and every
answer is one the document declares: its status, content type and body schema."""

from __future__ import annotations

import schemathesis
from helpers import make_dependency, make_service, make_team, make_user
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from steward.api.app import create_app

DECLARED = [checks.status_code_conformance, checks.content_type_conformance,
            checks.response_schema_conformance]


def test_every_answer_is_declared_and_none_is_a_server_error(sqlite_db):
    make_team(sqlite_db, "payments")
    make_service(sqlite_db, "ledger", owner="payments")
    make_service(sqlite_db, "ledger-db", owner="payments", kind="resource")
    make_dependency(sqlite_db, "ledger", "ledger-db")
    token = make_user(sqlite_db, "root", role="admin")
    app = create_app(sqlite_db.settings, database=sqlite_db)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:
        @settings(max_examples=20, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def exercise(case):  # type: ignore[no-untyped-def]
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.body!r} -> "
                                f"{response.status_code} {response.text[:200]}")
                return
            try:
                case.validate_response(response, checks=DECLARED)
            except BaseExceptionGroup as found:  # schemathesis' FailureGroup
                failures.append(f"{case.method} {case.formatted_path} -> "
                                f"{response.status_code}: {found.exceptions[0]}"[:500])

        exercise()
    assert failures == []
