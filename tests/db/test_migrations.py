"""The Alembic migrations build exactly the schema the models describe, and give the
rows stored before a migration what it adds."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from helpers import (
    alert_groups_as_counted,
    alert_groups_from_alerts,
    make_service,
    make_team,
)
from sqlalchemy import select, text

import steward.models
from steward.catalog.models import Service
from steward.db import migrate
from steward.incidents import detail_queries, health_queries, timeline_summary
from steward.incidents.commands import RecordAlert
from steward.incidents.models import Incident
from steward.incidents.use_cases.alerts import record_alert


def test_migrations_match_models(db) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        differences = compare_metadata(context, steward.models.metadata)
    assert differences == []
    assert migrate.current_revision(db) == migrate.head_revision(db)


def test_upgrading_gives_alerts_stored_before_it_their_signature(sqlite_db) -> None:
    """Alerts stored before their signature was (migration 0009) get it from the upgrade,
    as ``timeline_summary.signature`` gives it, so they group with the alerts after. (On
    SQLite only: the shared PostgreSQL test database keeps its schema.)"""
    db = sqlite_db
    make_team(db, "ops")
    make_service(db, "db", owner="ops")
    summaries = ["latency high on pod-7 (5230 ms)", "disk 95% full on node-12345678",
                 "queue stuck", "", "port 0 and 00 and 000 and 0000000"]
    with db.session() as session:
        for n, summary in enumerate(summaries):
            record_alert(session, None, RecordAlert(dedup_key=f"k{n}", status="firing",
                                                    service="db", summary=summary))
    config = migrate.alembic_config(db)
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0008")
        conn.commit()
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT summary, signature FROM alerts")).all())
    assert stored == {s: timeline_summary.signature(s) for s in summaries}
    assert stored["latency high on pod-7 (5230 ms)"] == "latency high on pod-# (# ms)"


def test_upgrading_counts_the_alerts_of_incidents_stored_before_it(sqlite_db) -> None:
    """Incidents stored before they kept their alert count (migration 0010) get it from
    the upgrade, and their services' states are read from their alerts until the next
    recompute keeps them."""
    db = sqlite_db
    make_team(db, "ops")
    make_service(db, "db", owner="ops")
    with db.session() as session:
        for n in range(3):
            record_alert(session, None, RecordAlert(dedup_key=f"k{n}", status="firing",
                                                    service="db", summary=f"db slow {n}",
                                                    severity="warning"))
    config = migrate.alembic_config(db)
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
        conn.commit()
    migrate.upgrade(db)
    with db.read_session() as session:
        [incident_id] = session.scalars(select(Incident.id)).all()
        assert detail_queries.alert_count(session, incident_id) == 3
        assert session.get(Incident, incident_id).service_impacts is None
        service_id = session.scalar(select(Service.id).where(Service.name == "db"))
        assert health_queries.incident_impacts(session, incident_id) == {
            service_id: "degraded"}


def test_upgrading_counts_the_alert_groups_of_incidents_stored_before_it(sqlite_db) -> None:
    """Incidents stored before they kept their alert groups (migration 0015) get them
    from the upgrade, as their alerts give them, and later alerts add to them."""
    db = sqlite_db
    make_team(db, "ops")
    make_service(db, "db", owner="ops")
    with db.session() as session:
        for n in range(3):
            record_alert(session, None, RecordAlert(
                dedup_key=f"k{n}", status="firing", service="db", severity="warning",
                summary=f"db slow {n}0 ms" if n < 2 else "db down"))
        record_alert(session, None, RecordAlert(dedup_key="k0", status="resolved",
                                                service="db"))
    config = migrate.alembic_config(db)
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0014")
        conn.commit()
    migrate.upgrade(db)
    with db.read_session() as session:
        [incident_id] = session.scalars(select(Incident.id)).all()
        total, groups = detail_queries.alert_groups(session, incident_id)
    assert total == 2
    assert [(g["signature"], g["alerts"], g["active"], g["severity"]) for g in groups] == [
        ("db slow # ms", 2, 1, "warning"), ("db down", 1, 1, "warning")]
    with db.session() as session:
        record_alert(session, None, RecordAlert(dedup_key="k9", status="firing",
                                                service="db", summary="db slow 90 ms",
                                                severity="critical"))
    with db.read_session() as session:
        total, groups = detail_queries.alert_groups(session, incident_id)
        assert alert_groups_as_counted(session, incident_id) == alert_groups_from_alerts(
            session, incident_id)
    assert (groups[0]["alerts"], groups[0]["active"], groups[0]["severity"]) == (
        3, 2, "critical")
