"""The import use case on small hand-written exports, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from steward.audit.models import AuditEntry
from steward.audit.service import verify
from steward.auth.actor import SYSTEM, Actor
from steward.catalog.models import Service, Team
from steward.errors import PermissionDenied, ValidationError
from steward.incidents.models import Incident, IncidentService, TimelineEntry
from steward.problems.models import Problem
from steward.servicenow.service import Source, import_servicenow

TABLES = (Incident, TimelineEntry, Team, Service, Problem, IncidentService, AuditEntry)


def run(db, text: str | bytes, name: str = "export.csv", **options):  # type: ignore[no-untyped-def]
    data = text.encode() if isinstance(text, str) else text
    return import_servicenow(db, SYSTEM, [Source.from_bytes(name, data)], **options)


def counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.read_session() as session:
        return {t.__tablename__: session.scalar(select(func.count()).select_from(t))
                for t in TABLES}


def incident(db, ref: str) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """The stored incident's columns."""
    with db.read_session() as session:
        found = session.execute(select(Incident.__table__).where(
            Incident.external_ref == ref)).mappings().first()
        assert found is not None, f"{ref} was not imported"
        return SimpleNamespace(**found)


def export(snow) -> str:  # type: ignore[no-untyped-def]
    rows = snow.history("INC0000045")
    rows += [snow.row("INC0000047", incident_state="Active", sys_mod_count="1",
                      assignment_group="Group 70", cmdb_ci="cmdb_ci 3",
                      problem_id="Problem ID  2", rfc="CHG0000011", priority="1 - Critical",
                      impact="1 - High", urgency="1 - High", made_sla="false")]
    rows += [snow.row("INC0000050", cmdb_ci="cmdb_ci 3", assignment_group="?")]
    return snow.csv(rows)


def test_import_maps_incidents_teams_services_problems_and_timeline(db, snow):
    summary = run(db, export(snow))
    assert summary.as_dict()["incidents"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert (summary.events, summary.teams_created, summary.services_created,
            summary.problems_created) == (6, 2, 1, 1)
    closed = incident(db, "INC0000045")
    assert (closed.status, closed.source, closed.priority) == ("closed", "servicenow", "P3")
    assert closed.impact_overridden and closed.urgency_overridden
    open_one = incident(db, "INC0000047")
    assert (open_one.status, open_one.priority, open_one.made_sla) == ("acknowledged", "P1", False)
    assert open_one.change_ref == "CHG0000011"
    with db.read_session() as session:
        team = session.scalar(select(Team).where(Team.name == "group-70"))
        assert team is not None and team.display_name == "Group 70"
        assert open_one.owner_team_id == team.id
        service = session.scalar(select(Service).where(Service.name == "cmdb_ci-3"))
        # Owned by the team of the first incident that named it.
        assert service.kind == "service" and service.owner_team_id == team.id
        assert open_one.origin_service_id == service.id
        links = session.execute(select(IncidentService.incident_id)
                                .where(IncidentService.service_id == service.id)).scalars()
        assert sorted(links) == sorted([open_one.id, incident(db, "INC0000050").id])
        problem = session.get(Problem, open_one.problem_id)
        assert (problem.external_ref, problem.title, problem.status) == (
            "Problem ID 2", "Problem ID 2", "open")
        timeline = session.scalars(select(TimelineEntry).where(
            TimelineEntry.incident_id == closed.id).order_by(TimelineEntry.at)).all()
        assert [t.kind for t in timeline] == ["servicenow"] * 4
        assert [t.data["servicenow_state"] for t in timeline] == [
            "New", "Active", "Resolved", "Closed"]
        # Nobody from the export became a user.
        from steward.auth.models import User
        assert session.scalar(select(func.count()).select_from(User)) == 0
        assert verify(session).ok


def test_gzip_body_imports_the_same(db, snow):
    summary = run(db, gzip.compress(export(snow).encode()), name="export.csv.gz")
    assert summary.created == 3 and summary.events == 6


def test_reimport_changes_nothing(db, snow):
    run(db, export(snow))
    before = counts(db)
    summary = run(db, export(snow))
    assert summary.as_dict()["incidents"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert (summary.events, summary.changed) == (0, False)
    assert counts(db) == before


def test_newer_export_updates_changed_incidents_and_adds_only_new_events(db, snow):
    run(db, export(snow))
    before = counts(db)
    newer = export(snow).rstrip("\n").split("\n")
    newer.append(",".join(snow.row("INC0000047", incident_state="Resolved", sys_mod_count="2",
                                   sys_updated_at="1/3/2016 09:00",
                                   resolved_at="1/3/2016 09:00", assignment_group="Group 70",
                                   cmdb_ci="cmdb_ci 3", problem_id="Problem ID  2",
                                   rfc="CHG0000011", priority="1 - Critical",
                                   impact="1 - High", urgency="1 - High", made_sla="false")))
    summary = run(db, "\n".join(newer) + "\n")
    assert summary.as_dict()["incidents"] == {"created": 0, "updated": 1, "unchanged": 2}
    assert summary.events == 1
    after = counts(db)
    assert after["incident_timeline"] == before["incident_timeline"] + 1
    assert after["audit_entries"] == before["audit_entries"] + 1
    assert after["incidents"] == before["incidents"]
    resolved = incident(db, "INC0000047")
    assert resolved.status == "resolved"
    assert resolved.resolved_at.isoformat() == "2016-03-01T09:00:00+00:00"
    # The older export again: the newer state stays.
    again = run(db, export(snow))
    assert again.updated == 0 and incident(db, "INC0000047").status == "resolved"


def test_bad_rows_are_reported_by_line_and_the_rest_imports(db, snow):
    lines = export(snow).rstrip("\n").split("\n")
    lines[2] = lines[2].replace("29/2/2016 02:00", "30/2/2016 02:00")  # line 3 of the file
    lines.insert(4, "INC0000099,New,true")  # line 5: too few fields
    summary = run(db, "\n".join(lines) + "\n")
    out = summary.as_dict()
    assert out["skipped"]["rows"] == 2
    assert out["skipped"]["reasons"] == {"sys_updated_at: not a valid date": 1,
                                         "row: expected 36 fields, found 3": 1}
    assert [(s["line"], s["reason"]) for s in out["skipped"]["lines"]] == [
        (3, "sys_updated_at: not a valid date (got '30/2/2016 02:00')"),
        (5, "row: expected 36 fields, found 3")]
    assert out["incidents"]["created"] == 3 and out["complete"]
    assert counts(db)["incident_timeline"] == 5


def test_strict_stops_at_the_first_bad_row_and_stores_nothing_of_its_batch(db, snow):
    rows = [snow.row(f"INC{n:07d}") for n in range(1, 6)]
    rows[3][9] = "not a date"  # INC0000004, line 5
    summary = run(db, snow.csv(rows), strict=True, batch_size=2)
    assert summary.stopped == {"file": "export.csv", "line": 5,
                               "reason": "opened_at: not a time in the form D/M/YYYY HH:MM "
                                         "(got 'not a date')"}
    # The first batch (INC1, INC2) was committed; the second (INC3 and the bad row) was not.
    with db.read_session() as session:
        stored = session.scalars(select(Incident.external_ref).order_by(Incident.id)).all()
    assert stored == ["INC0000001", "INC0000002"]
    assert counts(db)["audit_entries"] == 1


def test_one_audit_entry_per_batch(db, snow):
    rows = [snow.row(f"INC{n:07d}") for n in range(1, 6)]
    summary = run(db, snow.csv(rows), batch_size=2)
    assert summary.batches == 3
    with db.read_session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert [e.action for e in entries] == ["incident.import"] * 3
        assert entries[0].entity_id == "export.csv:2-3"
        assert entries[0].after["incidents_created"] == ["INC0000001", "INC0000002"]
        assert entries[0].after["teams_created"] == ["group-56"]
        assert verify(session).ok


def test_an_existing_team_and_service_are_reused(db, snow):
    from helpers import make_service, make_team

    make_team(db, "group-56", display_name="Payments")
    make_service(db, "cmdb_ci-3", owner="group-56")
    summary = run(db, snow.csv([snow.row("INC1", cmdb_ci="cmdb_ci 3")]))
    assert (summary.teams_created, summary.services_created) == (0, 0)
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Team)) == 1


def test_only_an_admin_may_import(db, snow):
    member = Actor(kind="user", id="7", name="pat", role="member")
    with pytest.raises(PermissionDenied, match="only an admin may import"):
        import_servicenow(db, member, [Source.from_bytes("x.csv", export(snow).encode())])
    assert counts(db)["incidents"] == 0


@pytest.mark.parametrize("body, options, field, message", [
    ("incident_state,opened_at\nNew,1/1/2016 10:00\n", {}, "file", "no number column"),
    ("", {}, "file", "is empty"),
    (None, {"timezone": "Mars/Olympus"}, "timezone", "not an IANA time zone"),
    (b"\x1f\x8bnot really gzip", {}, "file", "cannot be read"),
])
def test_unreadable_exports_are_refused_before_anything_is_stored(db, snow, body, options,
                                                                  field, message):
    with pytest.raises(ValidationError, match=message) as caught:
        run(db, export(snow) if body is None else body, **options)
    assert caught.value.field == field
    assert counts(db)["incidents"] == 0
