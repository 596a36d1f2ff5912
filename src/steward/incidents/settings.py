"""Incident settings, typed from the STEWARD_* settings: correlation, SLAs, lookback."""

from __future__ import annotations

import json
from datetime import timedelta

from steward import config
from steward.errors import ValidationError
from steward.incidents.correlate import CorrelationSettings
from steward.incidents.priority import DEFAULT_SLA, SlaTargets


def correlation() -> CorrelationSettings:
    current = config.settings()
    distance = current.max_correlation_distance  # checked first, as it always was
    return CorrelationSettings(
        group_window=current.group_window,
        topology_window=current.topology_window,
        max_distance=distance,
        topology=current.topology_correlation)


def sla_targets() -> SlaTargets:
    raw = config.settings().sla
    if not raw:
        return DEFAULT_SLA
    try:
        return SlaTargets.from_mapping(json.loads(raw))
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"STEWARD_SLA: {exc}", field="STEWARD_SLA") from exc


def reopen_window() -> timedelta:
    return config.settings().reopen_window


def event_time_bound() -> timedelta:
    return config.settings().event_time_bound


def suspect_lookback() -> timedelta:
    return config.settings().suspect_lookback


def auto_mitigate() -> bool:
    return config.settings().auto_mitigate
