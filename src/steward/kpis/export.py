"""Every KPI table as rows ready for CSV or JSON: DORA and ITSM per team or service,
and goal progress per goal and team.

CSV needs flat rows, so nested answers become columns joined by ``_``
(``lead_time_hours`` ``{"median": ..}`` is ``lead_time_hours_median``);
lists (weekly series) are left out of CSV and kept in JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from steward.errors import ValidationError
from steward.goals import service as goals
from steward.kpis import sql
from steward.kpis.dora_queries import dora_table
from steward.kpis.itsm import itsm_table

TABLES = ("dora", "itsm", "goals")
FORMATS = ("csv", "json")
Table = Literal["dora", "itsm", "goals"]


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``parent_child`` keys; lists are dropped."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}_"))
        elif isinstance(value, (list, tuple)):
            continue
        else:
            flat[name] = value
    return flat


def to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV with a header of every column seen, in the order first seen."""
    flat = [flatten(r) for r in rows]
    columns: dict[str, None] = {}
    for row in flat:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for row in flat:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def kpi_rows(session: Session, table: str, *, group_by: str = "team", days: int | None = None,
             end: datetime | None = None) -> list[dict[str, Any]]:
    """The rows of one KPI table."""
    if table not in TABLES:
        raise ValidationError(f"table: expected one of {', '.join(TABLES)}", field="table")
    grouping = sql.group_by_of(group_by)
    if table == "dora":
        return dora_table(session, group_by=grouping, days=days or 28, end=end)
    if table == "itsm":
        return itsm_table(session, group_by=grouping, days=days or 90, end=end)
    return goal_rows(session, now=end)


def goal_rows(session: Session, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per goal for the organisation, then one per goal and team."""
    rows = []
    for goal in goals.list_goals(session):
        progress = goals.goal_progress(session, goal, now=now, weekly=False)
        base = {"goal_id": goal.id, "goal": goal.name, "metric": goal.metric,
                "comparator": goal.comparator, "target": goal.target,
                "period_start": progress["period_start"], "period_end": progress["period_end"],
                "status": progress["status"]}
        org = progress["organisation"]
        rows.append({**base, "scope": "organisation", "team": None, "value": org["value"],
                     "meets": org["meets"]})
        for team in progress["teams"]:
            rows.append({**base, "scope": "team", "team": team["team"],
                         "value": team["value"], "meets": team["meets"]})
    return rows


def filename(table: str, group_by: str, fmt: str, end: datetime | None) -> str:
    day = (end.strftime("%Y-%m-%d") if end else "now")
    by = "" if table == "goals" else f"-by-{group_by}"
    return f"steward-{table}{by}-{day}.{fmt}"
