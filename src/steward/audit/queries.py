"""Reads of the audit log for pages: entries newest first, the kinds of record in it.

Plain data only, so a page can render after its session is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit.models import AuditEntry
from steward.audit.service import list_entries


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: datetime
    actor_kind: str
    actor_id: str
    actor_name: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any


def audit_records(session: Session, *, entity_type: str | None = None, limit: int = 100,
                  offset: int = 0) -> tuple[int, list[AuditRecord]]:
    """(how many entries match, one page of them, newest first)."""
    total, entries = list_entries(session, entity_type=entity_type, limit=limit, offset=offset)
    return total, [AuditRecord(
        seq=e.seq, at=e.at, actor_kind=e.actor_kind, actor_id=e.actor_id,
        actor_name=e.actor_name, action=e.action, entity_type=e.entity_type,
        entity_id=e.entity_id, before=e.before, after=e.after) for e in entries]


def entity_types(session: Session) -> list[str]:
    """The kinds of record the log holds entries for, sorted: it spans every domain, so a
    filter offers what is actually there."""
    return sorted(session.scalars(select(AuditEntry.entity_type).distinct()))
