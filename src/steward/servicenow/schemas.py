"""API shapes of history imports."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from steward.shapes import Out


class IncidentCounts(Out):
    created: int
    updated: int
    unchanged: int


class SkippedLine(Out):
    file: str
    line: int
    reason: str


class SkippedRows(Out):
    rows: int
    reasons: dict[str, int] = Field(description="rows skipped per reason")
    lines: list[SkippedLine]


class ImportSummaryOut(Out):
    """What a ServiceNow import did; importing the same export again changes nothing."""

    source: str
    files: list[str]
    style: Literal["event_log", "one_row_per_incident"]
    timezone: str
    strict: bool
    complete: bool = Field(description="false when a bad row stopped a strict import")
    changed: bool
    rows: int
    incidents: IncidentCounts
    events: int = Field(description="timeline entries added")
    teams_created: int
    services_created: int
    problems_created: int
    batches: int
    skipped: SkippedRows
    unknown_states: dict[str, int]
    stopped: SkippedLine | None = Field(description="the row that stopped a strict import")
