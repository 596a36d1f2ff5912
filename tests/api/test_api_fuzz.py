"""Generated requests from /openapi.json never make the API answer with a 500."""

from __future__ import annotations

import schemathesis
from helpers import make_dependency, make_service, make_team, make_user
from hypothesis import HealthCheck, given, settings

from steward.api.app import create_app


def test_no_server_errors_on_any_operation(sqlite_db):
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

        exercise()
    assert failures == []
