"""Every KPI table as rows ready for CSV or JSON: DORA and ITSM per team or service,
and goal progress per goal and team.

CSV needs flat rows, so nested answers become columns joined by ``_``
(``lead_time_hours`` ``{"median": ..}`` is ``lead_time_hours_median``);
lists (weekly series) are left out of CSV and kept in JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from steward.errors import ValidationError
from steward.kpis import sql
from steward.kpis.dora_queries import dora_table
from steward.kpis.itsm import itsm_table

TABLES = ("dora", "itsm", "goals")
FORMATS = ("csv", "json")
Table = Literal["dora", "itsm", "goals"]
GoalRows = Callable[[Session, datetime | None], list[dict[str, Any]]]


def _no_goals(_session: Session, _now: datetime | None) -> list[dict[str, Any]]:
    return []


# Goals are measured by these KPIs, so the goals domain sits above this module: it hands in
# its rows when it loads, as incidents and SLOs hand in their facts for change risk
# (``changes.hooks``). Until then there are none.
goal_rows: GoalRows = _no_goals


def register_goal_rows(func: GoalRows) -> None:
    global goal_rows
    goal_rows = func


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
    return goal_rows(session, end)


def filename(table: str, group_by: str, fmt: str, end: datetime | None) -> str:
    day = (end.strftime("%Y-%m-%d") if end else "now")
    by = "" if table == "goals" else f"-by-{group_by}"
    return f"steward-{table}{by}-{day}.{fmt}"
