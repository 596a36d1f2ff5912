"""GET /api/v1/kpis/export: every KPI table as a CSV or JSON download."""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import Query, Request, Response

from steward.api.deps import CurrentActor, TimeText, database, time_query
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.kpis import export
from steward.kpis.schemas import KpiExportOut
from steward.timeutil import parse_timestamp

router = api_router(prefix="/api/v1", tags=["kpis"])


@router.get("/kpis/export", response_model=KpiExportOut, responses={
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "The table as a download: CSV (`format=csv`) or JSON."},
    **error_responses(401, 422)})
def export_kpis(
    request: Request, _actor: CurrentActor,
    table: Annotated[Literal["dora", "itsm", "goals"], Query(
        description="dora or itsm per team/service, or goals (progress per goal and team)")],
    group_by: Annotated[Literal["team", "service"], Query(
        description="one row per team or per service (dora and itsm)")] = "team",
    days: Annotated[int | None, Query(ge=1, le=3660, description=(
        "window length in days (default 28 for dora, 90 for itsm)"))] = None,
    end: Annotated[TimeText | None, time_query("window end, ISO-8601 (default now)")] = None,
    format: Annotated[Literal["csv", "json"], Query(description="csv or json")] = "csv",
) -> Response:
    """Rows of one KPI table; CSV flattens nested fields (``lead_time_hours_median``)."""
    at = parse_timestamp(end, field="end") if end is not None else None
    with database(request).read_session() as session:
        rows = export.kpi_rows(session, table, group_by=group_by, days=days, end=at)
    name = export.filename(table, group_by, format, at)
    headers = {"Content-Disposition": f'attachment; filename="{name}"',
               "Cache-Control": "no-store"}
    if format == "csv":
        return Response(export.to_csv(rows), media_type="text/csv; charset=utf-8",
                        headers=headers)
    return Response(orjson.dumps({"table": table, "group_by": group_by, "items": rows}),
                    media_type="application/json", headers=headers)
