"""The catalog's reads for pages return plain data, and removing a dependency named from a
service's page only removes one of that service's."""

from __future__ import annotations

import pytest
from helpers import make_dependency, make_service, make_team
from sqlalchemy import select

from steward.auth import queries as auth_queries
from steward.auth.actor import SYSTEM
from steward.catalog import queries
from steward.catalog.models import Dependency
from steward.catalog.use_cases import services as catalog
from steward.errors import NotFound


@pytest.fixture
def small_catalog(db):  # type: ignore[no-untyped-def]
    make_team(db, "payments")
    make_service(db, "api", owner="payments", tier=1)
    make_service(db, "db", owner="payments", kind="resource")
    make_service(db, "cache")
    make_dependency(db, "api", "db")
    make_dependency(db, "api", "cache", type="soft")
    return db


def test_service_rows_count_dependencies_both_ways(small_catalog):  # type: ignore[no-untyped-def]
    with small_catalog.read_session() as session:
        total, rows = queries.service_rows(session, team="payments")
    assert total == 2
    assert [(r.name, r.owner, r.depends_on, r.dependants) for r in rows] == [
        ("api", "payments", 2, 0), ("db", "payments", 0, 1)]


def test_service_view_holds_the_service_its_dependencies_and_impact(small_catalog):  # type: ignore[no-untyped-def]
    with small_catalog.read_session() as session:
        view = queries.service_view(session, "db")
        with pytest.raises(NotFound):
            queries.service_view(session, "nope")
    assert view.service.name == "db" and view.service.owner == "payments"
    assert [d["service"] for d in view.dependants] == ["api"]
    assert view.depends_on == []
    assert sorted(a.name for a in view.impact.affected.values()) == ["api", "db"]
    assert view.teams == ["payments"]


def test_team_pages_data(small_catalog):  # type: ignore[no-untyped-def]
    with small_catalog.read_session() as session:
        total, rows = queries.team_rows(session)
        detail = queries.team_detail(session, "payments")
        members = auth_queries.team_members(session, "payments")
    assert total == 1 and rows[0]["services"] == 2
    assert detail["name"] == "payments" and members == []


def test_a_dependency_is_removed_from_its_own_service_only(small_catalog):  # type: ignore[no-untyped-def]
    db = small_catalog
    with db.read_session() as session:
        dep_id = session.scalar(select(Dependency.id).order_by(Dependency.id))
    with db.session() as session, pytest.raises(NotFound, match="does not belong to cache"):
        catalog.delete_dependency(session, SYSTEM, dep_id, service="cache")
    with db.session() as session:
        catalog.delete_dependency(session, SYSTEM, dep_id, service="db")  # the far end counts
    with db.read_session() as session:
        assert session.get(Dependency, dep_id) is None
