"""What alerts say of services: each service's state in one incident, and every service's
live health from the open incidents.

Pure logic: plain data in, plain data out.

In one incident, a service's state is the worst impact (``severity.impact_of``) of its
active (firing or acknowledged) alerts, or of all its alerts when none is active; a
service named in the incident without any alert (declared by a person) is down. Services
down are the failing seeds of impact analysis (``catalog.impact.analyse``), degraded
ones its degraded seeds; an ``info`` alert seeds nothing.

Live health: every service is ``down``, ``degraded``, ``up`` or ``unknown``. The open
incidents (triggered, acknowledged, mitigated; a mitigated incident counts at most as
degraded) seed one impact analysis over the whole graph; what it finds down or degraded
is, with the incidents whose own analysis reaches the service. A service nothing reaches
is up when something monitors it (an alert was ever recorded on it, an integration is
bound to it, it has an SLO), else unknown: Steward cannot tell.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steward.catalog.impact import Graph, ImpactResult, analyse
from steward.incidents.severity import (
    DEGRADED,
    DOWN,
    NONE,
    SEVERITIES,
    impact_of,
    most_severe,
    worst_impact,
)

UP, UNKNOWN = "up", "unknown"
HEALTH_STATES = (DOWN, DEGRADED, UP, UNKNOWN)  # worst first
_PRIORITY_ORDER = {"P1": 1, "P2": 2, "P3": 3, "P4": 4, "P5": 5}


@dataclass(frozen=True)
class ServiceImpact:
    """A service's state in one incident: ``down``, ``degraded`` or ``none``, and the most
    severe alert that says so (None: no alert, the service was named by a person)."""

    impact: str
    severity: str | None


def service_impacts(services: Iterable[int],
                    alerts: Iterable[tuple[int, str, bool]]) -> dict[int, ServiceImpact]:
    """Each service's state in an incident from its alerts, given as (service id,
    severity, active) (one row per alert, or per distinct combination: the same)."""
    active: dict[int, set[str]] = {}
    every: dict[int, set[str]] = {}
    for service_id, severity, is_active in alerts:
        every.setdefault(service_id, set()).add(severity)
        if is_active:
            active.setdefault(service_id, set()).add(severity)
    out: dict[int, ServiceImpact] = {}
    for service_id in dict.fromkeys([*services, *every]):
        counted = active.get(service_id) or every.get(service_id)
        if not counted:
            out[service_id] = ServiceImpact(DOWN, None)
        else:
            out[service_id] = ServiceImpact(worst_impact(counted), most_severe(counted))
    return out


def severities_as_bad(severity: str) -> tuple[str, ...]:
    """The severities whose impact is at least as bad as ``severity``'s (empty for one
    with no impact: nothing to compare). An alert of ``severity`` makes its service's state
    worse unless the service has an active alert of one of these."""
    rank = {DOWN: 0, DEGRADED: 1, NONE: 2}
    impact = impact_of(severity)
    if impact == NONE:
        return ()
    return tuple(s for s in SEVERITIES if rank[impact_of(s)] <= rank[impact])


def seeds(impacts: Mapping[int, ServiceImpact], *,
          at_most_degraded: bool = False) -> tuple[list[int], list[int]]:
    """(down, degraded) services, the seeds of impact analysis; with ``at_most_degraded``
    (a mitigated incident) every service down counts as degraded."""
    down = [sid for sid, i in impacts.items() if i.impact == DOWN and not at_most_degraded]
    degraded = [sid for sid, i in impacts.items()
                if i.impact == DEGRADED or (i.impact == DOWN and at_most_degraded)]
    return down, degraded


def incident_analysis(graph: Graph, impacts: Mapping[int, ServiceImpact], *,
                      mitigated: bool = False) -> ImpactResult:
    """What an incident's services, in the states their alerts say, take down or degrade."""
    down, degraded = seeds(impacts, at_most_degraded=mitigated)
    return analyse(graph, down, degraded)


# -- live health -----------------------------------------------------------------------


@dataclass(frozen=True)
class OpenIncident:
    """An open incident and the state of each of its services."""

    id: int
    title: str
    priority: str
    status: str
    impacts: Mapping[int, ServiceImpact]

    def ref(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "priority": self.priority,
                "status": self.status}


@dataclass(frozen=True)
class Health:
    """A service's live state, the sentence saying why, and the incidents behind it."""

    state: str
    reason: str
    incidents: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "reason": self.reason,
                "incidents": [dict(i) for i in self.incidents]}


def _numbers(incidents: Sequence[OpenIncident]) -> str:
    return ", ".join(f"INC-{i.id}" for i in incidents)


def _seed_reason(incident: OpenIncident, found: ServiceImpact) -> str:
    article = "an" if (found.severity or "")[:1] in ("a", "e", "i", "o", "u") else "a"
    said = f"{article} {found.severity} alert on it" if found.severity else "declared on it"
    if incident.status == "mitigated" and found.impact == DOWN:
        return f"INC-{incident.id} is mitigated ({said})"
    if found.severity is None:
        return f"INC-{incident.id} was declared on it"
    return f"INC-{incident.id} has {said}"


def _incidents_of(bits: int, ordered: Sequence[OpenIncident]) -> list[OpenIncident]:
    found = []
    while bits:
        lowest = bits & -bits
        found.append(ordered[lowest.bit_length() - 1])
        bits ^= lowest
    return found


def live_health(graph: Graph, incidents: Sequence[OpenIncident],
                monitored: Collection[int]) -> dict[int, Health]:
    """Every service's health (by id) from the open incidents; ``monitored`` holds the
    services something watches (alerts ever, an integration, an SLO)."""
    ordered = sorted(incidents, key=lambda i: (_PRIORITY_ORDER.get(i.priority, 9), i.id))
    all_down: dict[int, None] = {}
    all_degraded: dict[int, None] = {}
    # Which incidents reach each service: an incident affects exactly what depends on its
    # seeds, directly or not (a service down degrades at least every dependant), so a bit
    # per incident spreads along the dependants until nothing changes.
    reached_bits: dict[int, int] = {}
    queue: deque[int] = deque()
    for bit, incident in enumerate(ordered):
        down, degraded = seeds(incident.impacts, at_most_degraded=incident.status == "mitigated")
        all_down.update(dict.fromkeys(down))
        all_degraded.update(dict.fromkeys(degraded))
        for ci_id in (*down, *degraded):
            if ci_id in graph.cis:
                reached_bits[ci_id] = reached_bits.get(ci_id, 0) | (1 << bit)
                queue.append(ci_id)
    while queue:
        current = queue.popleft()
        bits = reached_bits[current]
        for dependant, _type in graph.dependants.get(current, ()):
            before = reached_bits.get(dependant, 0)
            if before | bits != before:
                reached_bits[dependant] = before | bits
                queue.append(dependant)
    combined = analyse(graph, list(all_down), [s for s in all_degraded if s not in all_down])

    refs = {incident.id: incident.ref() for incident in ordered}  # shared, never changed
    touched: dict[int, list[OpenIncident]] = {}
    for incident in ordered:
        for ci_id in incident.impacts:
            touched.setdefault(ci_id, []).append(incident)

    health: dict[int, Health] = {}
    for ci_id in graph.cis:
        behind = _incidents_of(reached_bits.get(ci_id, 0), ordered)
        touching = touched.get(ci_id, [])
        affected = combined.affected.get(ci_id)
        if affected is not None:
            if len(affected.path) == 1:  # its own alerts say so
                seeded = [i for i in behind if i.impacts.get(ci_id) is not None
                          and i.impacts[ci_id].impact != NONE]
                reason = "; ".join(_seed_reason(i, i.impacts[ci_id]) for i in seeded[:3])
            else:
                reason = (f"{affected.reason} ({' -> '.join(affected.path)}"
                          + (f"; {_numbers(behind[:3])})" if behind else ")"))
            health[ci_id] = Health(affected.state, reason, tuple(refs[i.id] for i in behind))
        elif touching:
            health[ci_id] = Health(UP, f"only info alerts on it in {_numbers(touching[:3])}",
                                   tuple(refs[i.id] for i in touching))
        elif ci_id in monitored:
            health[ci_id] = Health(UP, "no open incident affects it")
        else:
            health[ci_id] = Health(UNKNOWN, "nothing monitors it: no alert was ever recorded "
                                            "on it, no integration is bound to it and it has "
                                            "no SLO")
    return health
