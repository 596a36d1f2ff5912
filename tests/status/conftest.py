"""The status page's tests run on the demo organisation (its core-db cascade)."""

from __future__ import annotations

import pytest


def pytest_itemcollected(item: pytest.Item) -> None:
    if "web" in getattr(item, "fixturenames", ()) and item.get_closest_marker("demo") is None:
        item.add_marker(pytest.mark.demo)


@pytest.fixture
def web(db):  # type: ignore[no-untyped-def]
    """A TestClient on a copy of the demo organisation (``web.db``)."""
    from fastapi.testclient import TestClient

    from steward.app import create_app

    client = TestClient(create_app(db.settings, database=db))
    client.db = db  # type: ignore[attr-defined]
    return client
