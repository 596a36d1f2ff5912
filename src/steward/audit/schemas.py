"""API shapes of the audit log."""

from __future__ import annotations

from typing import Any

from steward.shapes import Out, Timestamp


class AuditActor(Out):
    kind: str
    id: str
    name: str


class AuditEntryOut(Out):
    seq: int
    at: Timestamp
    actor: AuditActor
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    hash: str
    prev_hash: str


class AuditVerifyOut(Out):
    ok: bool
    entries: int
    first_bad_seq: int | None
    problem: str
