"""Incident settings from STEWARD_* variables: correlation windows, SLAs, lookback."""

from __future__ import annotations

import json
import os
from datetime import timedelta

from steward.errors import ValidationError
from steward.incidents.correlate import CorrelationSettings
from steward.incidents.priority import DEFAULT_SLA, SlaTargets


def _minutes(name: str, default: float) -> timedelta:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return timedelta(minutes=default)
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValidationError(f"{name}: expected minutes, got {raw!r}", field=name) from exc
    if value <= 0:
        raise ValidationError(f"{name}: must be positive", field=name)
    return timedelta(minutes=value)


def correlation() -> CorrelationSettings:
    raw = os.environ.get("STEWARD_CORRELATION_DISTANCE", "").strip()
    try:
        distance = int(raw) if raw else 2
    except ValueError as exc:
        raise ValidationError("STEWARD_CORRELATION_DISTANCE: expected a whole number",
                              field="STEWARD_CORRELATION_DISTANCE") from exc
    return CorrelationSettings(
        group_window=_minutes("STEWARD_GROUP_WINDOW_MINUTES", 5),
        topology_window=_minutes("STEWARD_TOPOLOGY_WINDOW_MINUTES", 5),
        max_distance=distance,
        topology=os.environ.get("STEWARD_TOPOLOGY_CORRELATION", "1") not in {"0", "false"})


def sla_targets() -> SlaTargets:
    raw = os.environ.get("STEWARD_SLA", "").strip()
    if not raw:
        return DEFAULT_SLA
    try:
        return SlaTargets.from_mapping(json.loads(raw))
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"STEWARD_SLA: {exc}", field="STEWARD_SLA") from exc


def suspect_lookback() -> timedelta:
    return _minutes("STEWARD_SUSPECT_LOOKBACK_MINUTES", 24 * 60)


def auto_mitigate() -> bool:
    return os.environ.get("STEWARD_AUTO_MITIGATE", "1") not in {"0", "false", "no"}
