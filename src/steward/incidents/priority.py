"""Incident priority (ITIL impact x urgency) and SLA targets with breach flags.

Pure logic. Impact and urgency are 1 (high) .. 3 (low); the matrix is the
one PRODUCT.md fixes, so priorities mean the same thing in every team.
Impact and urgency each come with a sentence, because responders override
them and need to see what they are overriding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

PRIORITIES = ("P1", "P2", "P3", "P4", "P5")

PRIORITY_MATRIX: dict[tuple[int, int], str] = {
    (1, 1): "P1",
    (1, 2): "P2", (2, 1): "P2",
    (1, 3): "P3", (2, 2): "P3", (3, 1): "P3",
    (2, 3): "P4", (3, 2): "P4",
    (3, 3): "P5",
}

# The most severe alert decides urgency: a critical alert means someone is
# (or will very soon be) unable to work.
URGENCY_BY_SEVERITY = {"critical": 1, "error": 2, "warning": 3, "info": 3}
_LEVEL_WORDS = {1: "high", 2: "medium", 3: "low"}


def priority(impact: int, urgency: int) -> str:
    """The priority for an impact and an urgency, each 1 (high) .. 3 (low)."""
    for field, value in (("impact", impact), ("urgency", urgency)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3:
            raise ValueError(f"{field}: must be 1 (high), 2 (medium) or 3 (low), got {value!r}")
    return PRIORITY_MATRIX[(impact, urgency)]


def impact_from(down_tiers: Sequence[int], degraded_tiers: Sequence[int],
                business_services_down: int, business_services_degraded: int, *,
                info_only: bool = False) -> tuple[int, str]:
    """Impact from the tiers of the CIs down and degraded and the business services hit.

    ``down_tiers`` and ``degraded_tiers`` are the tiers (1 most critical .. 4) of the
    CIs impact analysis found down and degraded; the business-service counts come from
    it too. A business service down, or a tier-1 CI down, is high impact: that is what
    customers notice. A business service or a tier-1 CI degraded, or a tier-2 CI down,
    is medium. Anything else is low; ``info_only`` says why nothing is affected (the
    incident's alerts are all ``info``, which marks no service down or degraded).
    """
    for field, count in (("business_services_down", business_services_down),
                         ("business_services_degraded", business_services_degraded)):
        if count < 0:
            raise ValueError(f"{field}: must not be negative, got {count}")
    for field, tiers in (("down_tiers", down_tiers), ("degraded_tiers", degraded_tiers)):
        for tier in tiers:
            if tier < 1:
                raise ValueError(f"{field}: a tier is 1 (most critical) or more, got {tier}")
    top_down = min(down_tiers, default=None)
    top_degraded = min(degraded_tiers, default=None)
    if business_services_down:
        return 1, f"high impact: {_count(business_services_down, 'business service')} down"
    if top_down == 1:
        return 1, "high impact: a tier-1 service is down"
    if business_services_degraded:
        return 2, (f"medium impact: {_count(business_services_degraded, 'business service')} "
                   "degraded, none down")
    if top_degraded == 1:
        return 2, "medium impact: a tier-1 service is degraded, none is down"
    if top_down == 2:
        return 2, "medium impact: a tier-2 service is down, no business service is hit"
    top_tier = min(top_down or 5, top_degraded or 5)
    if top_tier == 5:
        if info_only:
            return 3, "low impact: no service is affected (info alerts only)"
        return 3, "low impact: no affected service is known"
    state = "down" if top_down == top_tier else "degraded"
    return 3, f"low impact: the most critical service affected is tier {top_tier} ({state})"


def urgency_from(severities: Sequence[str]) -> tuple[int, str]:
    """Urgency from the most severe alert: critical 1, error 2, warning or info 3."""
    known = []
    for severity in severities:
        normalised = severity.strip().lower()
        if normalised not in URGENCY_BY_SEVERITY:
            raise ValueError(f"severities: unknown severity {severity!r}; expected one of "
                             f"{', '.join(URGENCY_BY_SEVERITY)}")
        known.append(normalised)
    if not known:
        return 3, "low urgency: no alert severity to go by"
    worst = min(known, key=URGENCY_BY_SEVERITY.__getitem__)
    urgency = URGENCY_BY_SEVERITY[worst]
    return urgency, f"{_LEVEL_WORDS[urgency]} urgency: the most severe alert is {worst}"


@dataclass(frozen=True)
class SlaTargets:
    """Time to respond (acknowledge) and to resolve, per priority."""

    respond: dict[str, timedelta]
    resolve: dict[str, timedelta]

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, Any],
                     base: SlaTargets | None = None) -> SlaTargets:
        """Targets from configuration such as ``{"P1": {"respond": "15m", "resolve": "4h"}}``.

        Priorities and targets left out keep ``base`` (the defaults). Durations
        are a number and a unit (``30s``, ``15m``, ``4h``, ``3d``) or several
        (``1h30m``). A response target longer than the resolution one is
        refused: it would make the resolution target meaningless.
        """
        base = base or DEFAULT_SLA
        respond, resolve = dict(base.respond), dict(base.resolve)
        if not isinstance(overrides, Mapping):
            raise ValueError("sla: expected a mapping of priority to targets")
        for prio, targets in overrides.items():
            if prio not in PRIORITIES:
                raise ValueError(f"{prio}: unknown priority; expected one of "
                                 f"{', '.join(PRIORITIES)}")
            if not isinstance(targets, Mapping):
                raise ValueError(f"{prio}: expected respond and resolve targets")
            for kind, value in targets.items():
                if kind not in ("respond", "resolve"):
                    raise ValueError(f"{prio}.{kind}: unknown target; expected respond or "
                                     "resolve")
                chosen = respond if kind == "respond" else resolve
                chosen[prio] = parse_duration(value, field=f"{prio}.{kind}")
        for prio in PRIORITIES:
            if prio in respond and prio in resolve and respond[prio] > resolve[prio]:
                raise ValueError(f"{prio}.respond: must not be longer than {prio}.resolve")
        return cls(respond=respond, resolve=resolve)


# Choices, not standards: common ITSM defaults for a team with 24/7 on-call.
# P1/P2 are paged and answered within the hour; P3 within a working half-day;
# P4/P5 are handled as ordinary work. Override per organisation.
DEFAULT_SLA = SlaTargets(
    respond={"P1": timedelta(minutes=15), "P2": timedelta(minutes=30),
             "P3": timedelta(hours=4), "P4": timedelta(days=1), "P5": timedelta(days=3)},
    resolve={"P1": timedelta(hours=4), "P2": timedelta(hours=8),
             "P3": timedelta(days=3), "P4": timedelta(days=7), "P5": timedelta(days=30)},
)


@dataclass(frozen=True)
class SlaStatus:
    respond_by: datetime
    resolve_by: datetime
    respond_breached: bool
    resolve_breached: bool


def sla_status(priority: str, started_at: datetime, acknowledged_at: datetime | None,
               resolved_at: datetime | None, now: datetime,
               targets: SlaTargets = DEFAULT_SLA) -> SlaStatus:
    """Deadlines and breach flags for an incident of ``priority``.

    A target is breached when it was met late, or is still open and ``now`` is
    past it; meeting it exactly on time is not a breach. Resolving without an
    explicit acknowledgement counts as the response: someone clearly acted.
    """
    if priority not in targets.respond or priority not in targets.resolve:
        raise ValueError(f"priority: no SLA target for {priority!r}")
    respond_by = started_at + targets.respond[priority]
    resolve_by = started_at + targets.resolve[priority]
    responded_at = acknowledged_at if acknowledged_at is not None else resolved_at
    return SlaStatus(
        respond_by=respond_by,
        resolve_by=resolve_by,
        respond_breached=(responded_at or now) > respond_by,
        resolve_breached=(resolved_at or now) > resolve_by,
    )


_DURATION_PART = re.compile(r"(\d+)\s*([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object, *, field: str) -> timedelta:
    """``30s``, ``15m``, ``4h``, ``3d`` or combinations (``1h30m``); must be positive."""
    if isinstance(value, timedelta):
        duration = value
    else:
        text = value.strip().lower() if isinstance(value, str) else ""
        if not text or _DURATION_PART.sub("", text).strip():
            raise ValueError(f"{field}: expected a duration like '30s', '15m', '4h' or '3d', "
                             f"got {value!r}")
        duration = timedelta(seconds=sum(int(n) * _UNIT_SECONDS[u]
                                         for n, u in _DURATION_PART.findall(text)))
    if duration <= timedelta(0):
        raise ValueError(f"{field}: must be longer than zero, got {value!r}")
    return duration


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
