"""What the public status page says: component statuses, the page's indicator.

Pure logic: plain data in, plain data out. The words are Atlassian Statuspage's, so
widgets and monitors written for it read Steward's page unchanged.

A component's status comes from the live health of its service (up and unknown are
operational: the public page does not speculate), made worse by what the latest update
of an unresolved public incident states for it, and ``under_maintenance`` while a
maintenance is in progress on it, unless it is down. The page's indicator is the worst
of its components' statuses and its unresolved incidents' impacts.
"""

from __future__ import annotations

from collections.abc import Iterable

OPERATIONAL = "operational"
DEGRADED_PERFORMANCE = "degraded_performance"
PARTIAL_OUTAGE = "partial_outage"
MAJOR_OUTAGE = "major_outage"
UNDER_MAINTENANCE = "under_maintenance"
COMPONENT_STATUSES = (OPERATIONAL, DEGRADED_PERFORMANCE, PARTIAL_OUTAGE, MAJOR_OUTAGE,
                      UNDER_MAINTENANCE)
# Worse first; maintenance outranks only "operational".
_RANK = {MAJOR_OUTAGE: 0, PARTIAL_OUTAGE: 1, DEGRADED_PERFORMANCE: 2, UNDER_MAINTENANCE: 3,
         OPERATIONAL: 4}
FROM_HEALTH = {"down": MAJOR_OUTAGE, "degraded": DEGRADED_PERFORMANCE, "up": OPERATIONAL,
               "unknown": OPERATIONAL}
COMPONENT_LABELS = {OPERATIONAL: "Operational", DEGRADED_PERFORMANCE: "Degraded performance",
                    PARTIAL_OUTAGE: "Partial outage", MAJOR_OUTAGE: "Major outage",
                    UNDER_MAINTENANCE: "Under maintenance"}

INDICATORS = ("none", "minor", "major", "critical", "maintenance")
DESCRIPTIONS = {"none": "All Systems Operational", "minor": "Minor Service Outage",
                "major": "Partial System Outage", "critical": "Major System Outage",
                "maintenance": "Service Under Maintenance"}
_INDICATOR_OF_STATUS = {DEGRADED_PERFORMANCE: "minor", PARTIAL_OUTAGE: "major",
                        MAJOR_OUTAGE: "critical"}
_INDICATOR_RANK = {"critical": 0, "major": 1, "minor": 2, "none": 3}


def worse(first: str, second: str) -> str:
    """The worse of two component statuses."""
    return first if _RANK.get(first, 4) <= _RANK.get(second, 4) else second


def component_status(health: str, stated: Iterable[str] = (), *,
                     in_maintenance: bool = False) -> str:
    """A component's public status from its service's live health (down, degraded, up,
    unknown), the statuses unresolved public incidents state for it, and whether a
    maintenance is in progress on it."""
    status = FROM_HEALTH.get(health, OPERATIONAL)
    for said in stated:
        if said in _RANK and said != UNDER_MAINTENANCE:
            status = worse(status, said)
    if in_maintenance and status != MAJOR_OUTAGE:
        status = worse(status, UNDER_MAINTENANCE)
    return status


def indicator(component_statuses: Iterable[str], incident_impacts: Iterable[str] = (),
              *, maintenance_in_progress: bool = False) -> tuple[str, str]:
    """The page's (indicator, description): the worst of its components' statuses
    (degraded performance minor, partial outage major, major outage critical) and of its
    unresolved incidents' impacts; "maintenance" when nothing is wrong but a maintenance
    is in progress."""
    worst = "none"
    statuses = list(component_statuses)
    candidates = [_INDICATOR_OF_STATUS.get(s, "none") for s in statuses]
    candidates += [i for i in incident_impacts if i in _INDICATOR_RANK]
    for found in candidates:
        if _INDICATOR_RANK[found] < _INDICATOR_RANK[worst]:
            worst = found
    if worst == "none" and (maintenance_in_progress or UNDER_MAINTENANCE in statuses):
        worst = "maintenance"
    return worst, DESCRIPTIONS[worst]


def component_public_id(service_id: int) -> str:
    return f"c{service_id}"


def incident_public_id(incident_id: int) -> str:
    return f"i{incident_id}"


def maintenance_public_id(change_id: int) -> str:
    return f"m{change_id}"


def parse_public_id(raw: str, prefix: str) -> int | None:
    """The number in a public id ("c12" -> 12), or None when it is not one."""
    if len(raw) < 2 or len(raw) > 12 or raw[0] != prefix or not raw[1:].isdigit():
        return None
    return int(raw[1:])
