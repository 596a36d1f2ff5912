"""Writing and verifying the hash-chained audit log.

Every entry's hash covers its own fields and the previous entry's hash. The
head row (one per database) is locked while an entry is appended so
concurrent writers extend the chain one after another.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from steward.audit.models import AuditEntry, AuditHead
from steward.timeutil import isoformat_z, utcnow

GENESIS = "0" * 64


class Actor(Protocol):
    """Who acted, as far as the log records it. ``steward.auth.actor.Actor`` is one; the
    log asks no more of it, so auth, which writes to the log, sits above it."""

    @property
    def kind(self) -> str: ...

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


def jsonable(value: Any) -> Any:
    """Plain JSON values, so what is hashed is exactly what is stored."""
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, datetime):
        return isoformat_z(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    return str(value)


def entry_hash(fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": isoformat_z(entry.at),
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "before": entry.before,
        "after": entry.after,
        "prev_hash": entry.prev_hash,
    }


def _lock_head(session: Session) -> AuditHead:
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction."""
    head = _lock_head(session)
    # Microseconds survive both SQLite and PostgreSQL, so the stored time hashes the same.
    entry = AuditEntry(
        seq=head.seq + 1,
        at=utcnow(),
        actor_kind=actor.kind,
        actor_id=str(actor.id),
        actor_name=actor.name,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id) if entity_id is not None else "",
        before=jsonable(before),
        after=jsonable(after),
        prev_hash=head.hash,
    )
    entry.hash = entry_hash(_hashed_fields(entry))
    session.add(entry)
    head.seq = entry.seq
    head.hash = entry.hash
    session.flush()
    return entry


@dataclass
class Change:
    """One mutation to append with :func:`record_many`."""

    action: str
    entity_type: str
    entity_id: Any
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def record_many(session: Session, actor: Actor, changes: list[Change]) -> int:
    """Append many entries at once (bulk imports); same chain, one insert."""
    if not changes:
        return 0
    head = _lock_head(session)
    now = utcnow()
    at = isoformat_z(now)
    rows = []
    prev_hash, seq = head.hash, head.seq
    for change in changes:
        seq += 1
        row = {
            "seq": seq, "actor_kind": actor.kind, "actor_id": str(actor.id),
            "actor_name": actor.name, "action": change.action,
            "entity_type": change.entity_type,
            "entity_id": str(change.entity_id) if change.entity_id is not None else "",
            "before": jsonable(change.before), "after": jsonable(change.after),
            "prev_hash": prev_hash,
        }
        row["hash"] = prev_hash = entry_hash({**row, "at": at})
        row["at"] = now
        rows.append(row)
    session.execute(insert(AuditEntry.__table__), rows)
    head.seq, head.hash = seq, prev_hash
    session.flush()
    return len(rows)


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first entry that does not fit."""
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    while True:
        rows = (
            session.execute(
                select(AuditEntry).where(AuditEntry.seq >= expected_seq).order_by(AuditEntry.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return VerifyResult(False, count, expected_seq,
                                    f"entry {expected_seq} is missing (next stored is {entry.seq})")
            if entry.prev_hash != prev_hash:
                return VerifyResult(False, count, entry.seq,
                                    f"entry {entry.seq} does not link to entry {entry.seq - 1}")
            if entry_hash(_hashed_fields(entry)) != entry.hash:
                return VerifyResult(False, count, entry.seq,
                                    f"entry {entry.seq} was altered (its hash does not match)")
            prev_hash = entry.hash
            expected_seq += 1
            count += 1
        session.expunge_all()
    head = session.get(AuditHead, 1)
    head_seq = head.seq if head else 0
    head_hash = head.hash if head else GENESIS
    if head_seq != count or head_hash != prev_hash:
        return VerifyResult(False, count, count + 1,
                            f"entries after {count} are missing (the chain head is at {head_seq})")
    return VerifyResult(True, count)



def list_entries(session: Session, *, entity_type: str | None = None,
                 entity_id: str | None = None, action: str | None = None,
                 actor: str | None = None, limit: int = 100,
                 offset: int = 0) -> tuple[int, list[AuditEntry]]:
    query = select(AuditEntry)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor_name == actor)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)).all()
    return total, list(rows)


def entry_out(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": isoformat_z(entry.at),
        "actor": {"kind": entry.actor_kind, "id": entry.actor_id, "name": entry.actor_name},
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "before": entry.before,
        "after": entry.after,
        "hash": entry.hash,
        "prev_hash": entry.prev_hash,
    }
