"""Imports of history from other tools under /api/v1 (admin only)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool

from steward.api.deps import AdminActor, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.errors import ValidationError
from steward.servicenow.schemas import ImportSummaryOut
from steward.servicenow.service import Source, import_servicenow

router = api_router(prefix="/api/v1", tags=["imports"])
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

EXPORT_BODY = {
    "required": True,
    "description": "A ServiceNow incident export: CSV, or CSV compressed with gzip "
                   "(at most 100 MB).",
    "content": {
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        "application/gzip": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post("/imports/servicenow", response_model=ImportSummaryOut,
             responses=error_responses(401, 403, 413, 422),
             openapi_extra={"requestBody": EXPORT_BODY})
async def import_servicenow_export(
    request: Request, actor: AdminActor,
    timezone: Annotated[str, Query(max_length=64, description="IANA time zone of the "
                                   "export's times, e.g. Europe/Amsterdam")] = "UTC",
    strict: Annotated[bool, Query(description="stop at the first bad row")] = False,
    filename: Annotated[str, Query(max_length=200, description="the export's name, shown in "
                                   "the summary and the audit log")] = "upload.csv",
) -> dict[str, Any]:
    """Import ServiceNow incident history (event log or one row per incident).

    The answer is the import summary: incidents created, updated and unchanged,
    timeline entries added, teams, services and problems created, and the rows
    skipped with their line numbers and reasons. Importing the same export
    again changes nothing.
    """
    body = await request.body()
    if not body.strip():
        raise ValidationError("body: send the export (CSV, or CSV in gzip) as the request "
                              "body", field="body")
    name = _SAFE_NAME.sub("_", filename).strip("_") or "upload.csv"
    summary = await run_in_threadpool(
        import_servicenow, database(request), actor, [Source.from_bytes(name, body)],
        timezone=timezone, strict=strict)
    return summary.as_dict()
