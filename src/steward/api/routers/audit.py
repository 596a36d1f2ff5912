"""Browsing and verifying the audit log (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from steward.api.deps import AdminActor, Limit, Offset, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.audit import service as audit
from steward.audit.schemas import AuditEntryOut, AuditVerifyOut
from steward.shapes import Page

router = api_router(prefix="/api/v1", tags=["audit"], responses=error_responses(401, 403))


@router.get("/audit", response_model=Page[AuditEntryOut], responses=error_responses(422))
def list_audit(request: Request, _actor: AdminActor, limit: Limit = 100, offset: Offset = 0,
               entity_type: str | None = None, entity_id: str | None = None,
               action: str | None = None, actor: str | None = None) -> dict[str, Any]:
    with database(request).read_session() as session:
        total, entries = audit.list_entries(session, entity_type=entity_type,
                                            entity_id=entity_id, action=action,
                                            actor=actor, limit=limit, offset=offset)
        return {"total": total, "limit": limit, "offset": offset,
                "items": [audit.entry_out(e) for e in entries]}


@router.get("/audit/verify", response_model=AuditVerifyOut)
def verify_audit(request: Request, _actor: AdminActor) -> dict[str, Any]:
    with database(request).read_session() as session:
        result = audit.verify(session)
    return {"ok": result.ok, "entries": result.entries, "first_bad_seq": result.first_bad_seq,
            "problem": result.problem}
