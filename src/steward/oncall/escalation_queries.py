"""Reading an incident's escalation: one line of plain data for its page and the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.oncall import escalation as esc
from steward.oncall.escalation_models import IncidentEscalation
from steward.oncall.models import EscalationPolicy
from steward.timeutil import as_utc, isoformat_z

TONES = {esc.ACTIVE: "warn", esc.STOPPED: "ok", esc.RAN_OUT: "bad", esc.NO_POLICY: "muted"}


def escalation_for_incident(session: Session, incident_id: int) -> dict[str, Any] | None:
    """Where the incident's escalation is ("level 2 of 2, next step 14:05 UTC", "stopped:
    acknowledged by alice"), or None when it never started."""
    row = session.execute(
        select(IncidentEscalation, EscalationPolicy.name)
        .outerjoin(EscalationPolicy, EscalationPolicy.id == IncidentEscalation.policy_id)
        .where(IncidentEscalation.incident_id == incident_id)).first()
    if row is None:
        return None
    state, policy = row
    next_at = as_utc(state.next_step_at) if state.next_step_at is not None else None
    text = esc.describe(state.state, level=state.level, levels=state.levels,
                        repeat=state.cycle - state.run_start, repeat_count=state.repeat_count,
                        next_step_at=next_at, reason=state.reason, by=state.stopped_by)
    return {"state": state.state, "text": text, "tone": TONES.get(state.state, "neutral"),
            "policy": policy, "cycle": state.cycle, "level": state.level,
            "levels": state.levels, "next_step_at": isoformat_z(next_at)}
