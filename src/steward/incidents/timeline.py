"""Appending to an incident's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from steward.incidents.models import Incident, TimelineEntry
from steward.timeutil import utcnow


def add_entry(session: Session, incident: Incident, kind: str, text: str, *,
              actor: str = "", at: datetime | None = None,
              data: dict[str, Any] | None = None) -> TimelineEntry:
    entry = TimelineEntry(incident_id=incident.id, at=at or utcnow(), kind=kind, actor=actor,
                          text=text, data=data or {})
    session.add(entry)
    return entry
