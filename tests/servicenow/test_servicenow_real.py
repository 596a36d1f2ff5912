"""The real ServiceNow event log (UCI "Incident management process enriched event log").

../shared/data/servicenow/incident_event_log.csv.gz: 141,712 event rows of 24,918
incidents. Every expected figure here is computed from the CSV with the standard
library, independently of the importer: what must be imported, and the KPIs
(counts per state and priority, MTTR per priority, MTTA, SLA compliance) that
Steward must then report for the imported history.
"""

from __future__ import annotations

import csv
import gzip
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import shared_data
from steward.audit.models import AuditEntry
from steward.audit.service import verify
from steward.auth.actor import SYSTEM
from steward.catalog.models import Service, Team
from steward.incidents.models import Incident, TimelineEntry
from steward.kpis.itsm import itsm_kpis
from steward.servicenow.service import Source, import_servicenow

STATES = {"New": "triggered", "Active": "acknowledged", "Resolved": "resolved",
          "Closed": "closed"}
WINDOW_END = datetime(2018, 1, 1, tzinfo=UTC)  # the history runs from 2016 to early 2017
WINDOW_DAYS = 1000


def export() -> Path:
    return shared_data("servicenow", "incident_event_log.csv.gz")


def when(text: str) -> datetime:
    return datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=UTC)


def steward_state(label: str) -> str | None:
    return "acknowledged" if label.startswith("Awaiting") else STATES.get(label)


def reference(path: Path) -> dict[str, Any]:
    """What the file says, read with the csv module: per incident its rows in order."""
    rows_of: dict[str, list[dict[str, str]]] = defaultdict(list)
    bad_lines = []
    with gzip.open(path, "rt", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        for line, values in enumerate(reader, start=2):
            record = dict(zip(header, values, strict=False))
            try:
                assert len(values) == len(header)
                for name in ("opened_at", "sys_updated_at"):
                    when(record[name])
            except (AssertionError, ValueError):
                bad_lines.append(line)
                continue
            record["line"] = str(line)
            rows_of[record["number"]].append(record)
    incidents = []
    for number, rows in rows_of.items():
        rows.sort(key=lambda r: (int(r["sys_mod_count"]), when(r["sys_updated_at"]),
                                 int(r["line"])))
        final = rows[-1]
        known = [steward_state(r["incident_state"]) for r in rows]
        status = next(s for s in reversed(known) if s is not None)
        started = when(final["opened_at"])
        acked = next((when(r["sys_updated_at"]) for r, s in zip(rows, known, strict=True)
                      if s not in (None, "triggered")), None)
        resolved = when(final["resolved_at"]) if final["resolved_at"] != "?" else None
        incidents.append({
            "number": number, "status": status, "priority": f"P{final['priority'][0]}",
            "made_sla": {"true": True, "false": False}.get(final["made_sla"]),
            "ttr": (resolved - started).total_seconds() / 3600 if resolved else None,
            "tta": (acked - started).total_seconds() / 3600 if acked else None,
        })
    return {"incidents": incidents, "bad_lines": bad_lines,
            "rows": sum(len(r) for r in rows_of.values())}


def hours(values: list[float]) -> dict[str, float | None]:
    kept = [v for v in values if v >= 0]  # a resolution before the start says nothing
    if not kept:
        return {"median": None, "p90": None, "mean": None}
    return {"median": statistics.median(kept),
            "p90": statistics.quantiles(kept, n=10, method="inclusive")[8]
            if len(kept) > 1 else kept[0],
            "mean": statistics.fmean(kept)}


def sla(incidents: list[dict[str, Any]]) -> float | None:
    known = [i["made_sla"] for i in incidents if i["made_sla"] is not None]
    return sum(known) / len(known) if known else None


def close(actual: dict[str, float | None], expected: dict[str, float | None]) -> bool:
    return all((actual[k] is None and expected[k] is None)
               or (actual[k] is not None and expected[k] is not None
                   and abs(actual[k] - expected[k]) < 1e-3) for k in expected)


def table_counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.read_session() as session:
        return {t.__tablename__: session.scalar(select(func.count()).select_from(t))
                for t in (Incident, TimelineEntry, Team, Service, AuditEntry)}


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return reference(export())


def test_whole_history_imports_and_its_kpis_match_the_file(db, expected):
    summary = import_servicenow(db, SYSTEM, [Source.from_path(export())])
    incidents = expected["incidents"]
    # Acceptance 1: every incident accounted for.
    assert len(incidents) == 24_918
    assert summary.created == len(incidents)
    assert sum(summary.skipped.values()) == len(expected["bad_lines"])
    assert summary.events == expected["rows"]
    counts = table_counts(db)
    assert counts["incidents"] == len(incidents)
    assert counts["incident_timeline"] == expected["rows"]

    # Acceptance 2: Steward's KPIs over the imported history equal the file's figures.
    with db.read_session() as session:
        kpis = itsm_kpis(session, days=WINDOW_DAYS, end=WINDOW_END)
    assert kpis["incidents"] == len(incidents)
    assert kpis["by_status"] == dict(Counter(i["status"] for i in incidents))
    by_priority = defaultdict(list)
    for item in incidents:
        by_priority[item["priority"]].append(item)
    assert set(kpis["by_priority"]) == set(by_priority)
    for priority, items in by_priority.items():
        got = kpis["by_priority"][priority]
        assert got["incidents"] == len(items), priority
        want = hours([i["ttr"] for i in items if i["ttr"] is not None])
        assert close(got["mttr_hours"], want), (priority, got["mttr_hours"], want)
        assert got["sla_compliance"] == pytest.approx(sla(items), abs=1e-4), priority
    assert close(kpis["mttr_hours"], hours([i["ttr"] for i in incidents if i["ttr"] is not None]))
    assert close(kpis["mtta_hours"], hours([i["tta"] for i in incidents if i["tta"] is not None]))
    assert kpis["sla_compliance"] == pytest.approx(sla(incidents), abs=1e-4)

    # Acceptance 3: importing it again changes nothing.
    again = import_servicenow(db, SYSTEM, [Source.from_path(export())])
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(incidents))
    assert again.events == 0 and not again.changed
    assert table_counts(db) == counts
    with db.read_session() as session:
        assert verify(session).ok


def corrupted_copy(folder: Path) -> tuple[Path, dict[int, str]]:
    """The export with a bad date on line 50,001 and a short row on line 100,001."""
    target = folder / "corrupted.csv.gz"
    broken: dict[int, str] = {}
    with gzip.open(export(), "rt", newline="") as source, \
            gzip.open(target, "wt", newline="") as out:
        for line, text in enumerate(source, start=1):
            if line == 50_001:
                fields = text.rstrip("\n").split(",")
                fields[9] = "32/13/2016 25:00"  # opened_at
                text = ",".join(fields) + "\n"
                broken[line] = fields[0]
            elif line == 100_001:
                broken[line] = text.split(",")[0]
                text = text.rsplit(",", 1)[0] + "\n"
            out.write(text)
    return target, broken


def test_corrupted_lines_are_reported_by_number_and_strict_stops_there(
        sqlite_db, tmp_path, monkeypatch, expected):
    path, broken = corrupted_copy(tmp_path)
    summary = import_servicenow(sqlite_db, SYSTEM, [Source.from_path(path)])
    lines = [(s["line"], s["reason"]) for s in summary.skipped_lines]
    assert lines == [(50_001, "opened_at: not a valid date (got '32/13/2016 25:00')"),
                     (100_001, "row: expected 36 fields, found 35")]
    # Only two rows were left out: their incidents still come from their other rows.
    assert summary.created == len(expected["incidents"])
    assert summary.events == expected["rows"] - 2
    assert summary.stopped is None

    from steward.cli.main import app

    fresh = tmp_path / "strict.db"
    monkeypatch.setenv("STEWARD_DATABASE_URL", f"sqlite:///{fresh}")
    assert CliRunner().invoke(app, ["init"]).exit_code == 0
    result = CliRunner().invoke(app, ["import", "servicenow", str(path), "--strict"])
    assert result.exit_code == 1
    assert "stopped at corrupted.csv.gz line 50001: opened_at: not a valid date" in result.output
    from steward.config import Settings
    from steward.db import Database

    strict_db = Database(Settings(database_url=f"sqlite:///{fresh}"))
    try:
        with strict_db.read_session() as session:
            refs = set(session.scalars(select(Incident.external_ref)))
            assert broken[50_001] not in refs  # its batch was not stored
            assert 0 < len(refs) < len(expected["incidents"])
    finally:
        strict_db.dispose()
