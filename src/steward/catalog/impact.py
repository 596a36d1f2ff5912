"""Impact analysis: which configuration items a set of failing CIs takes down.

Pure logic: plain data in, plain data out. Rules, applied to a graph whose
edges point from a dependant to what it depends on:

- a failing CI is down; a CI reported degraded (and not down) is degraded;
- a CI with a failed (down) ``hard`` dependency is down;
- a pool is down when fewer than ``min_up`` of its members are up (a degraded
  member still counts as up; a pool with fewer members than ``min_up`` needs
  all of them);
- a CI with a down ``soft`` dependency, or a degraded dependency of either
  type, is degraded; a pool with any member down or degraded is degraded.

States only ever get worse while propagating, and each CI is settled at most
once per state, so cycles cannot make it loop. Every affected CI carries the
path from a failing (or reported degraded) CI that explains its state.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

UP, DEGRADED, DOWN = "up", "degraded", "down"


@dataclass(frozen=True)
class CI:
    id: int
    name: str
    kind: str
    team: str | None = None
    min_up: int | None = None
    tier: int = 3


@dataclass(frozen=True)
class Link:
    dependant: int
    dependency: int
    type: str  # "hard" or "soft"


class Graph:
    """Adjacency kept both ways; built once and reused for many analyses."""

    def __init__(self, cis: Iterable[CI], links: Iterable[Link]):
        self.cis: dict[int, CI] = {ci.id: ci for ci in cis}
        self.by_name: dict[str, int] = {ci.name: ci.id for ci in self.cis.values()}
        self.dependants: dict[int, list[tuple[int, str]]] = {}
        self.dependencies: dict[int, list[tuple[int, str]]] = {}
        for link in links:
            if link.dependant not in self.cis or link.dependency not in self.cis:
                continue
            self.dependants.setdefault(link.dependency, []).append((link.dependant, link.type))
            self.dependencies.setdefault(link.dependant, []).append((link.dependency, link.type))

    def members(self, pool_id: int) -> list[int]:
        return [dep for dep, _ in self.dependencies.get(pool_id, ())]


@dataclass(frozen=True)
class Affected:
    id: int
    name: str
    kind: str
    team: str | None
    state: str
    path: tuple[str, ...]  # names from a failing CI to this one
    reason: str


@dataclass
class ImpactResult:
    failing: list[str]
    affected: dict[int, Affected] = field(default_factory=dict)
    reported_degraded: list[str] = field(default_factory=list)

    def state_of(self, ci_id: int) -> str:
        found = self.affected.get(ci_id)
        return found.state if found else UP

    @property
    def down(self) -> list[Affected]:
        return sorted((a for a in self.affected.values() if a.state == DOWN), key=lambda a: a.name)

    @property
    def degraded(self) -> list[Affected]:
        return sorted(
            (a for a in self.affected.values() if a.state == DEGRADED), key=lambda a: a.name
        )

    @property
    def business_services(self) -> list[Affected]:
        return sorted(
            (a for a in self.affected.values() if a.kind == "business_service"),
            key=lambda a: (a.state != DOWN, a.name),
        )

    @property
    def teams(self) -> list[str]:
        return sorted({a.team for a in self.affected.values() if a.team})


def analyse(graph: Graph, failing: Sequence[int], degraded: Sequence[int] = ()) -> ImpactResult:
    """What ``failing`` CIs take down or degrade, and what ``degraded`` ones degrade.

    A CI both failing and reported degraded is down; unknown ids are ignored.
    """
    cis = graph.cis
    failing_ids = [ci_id for ci_id in dict.fromkeys(failing) if ci_id in cis]
    result = ImpactResult(failing=[cis[i].name for i in failing_ids])
    state: dict[int, str] = {}
    parent: dict[int, int | None] = {}
    reason: dict[int, str] = {}
    members_down: dict[int, int] = {}

    # Phase 1: everything that is down, breadth first from the failing CIs.
    queue: deque[int] = deque()
    for ci_id in failing_ids:
        state[ci_id] = DOWN
        parent[ci_id] = None
        reason[ci_id] = "reported failing"
        queue.append(ci_id)
    down_order: list[int] = []
    while queue:
        current = queue.popleft()
        down_order.append(current)
        for dependant, dep_type in graph.dependants.get(current, ()):
            if state.get(dependant) == DOWN:
                continue
            ci = cis[dependant]
            if ci.kind == "pool":
                members_down[dependant] = members_down.get(dependant, 0) + 1
                members = len(graph.members(dependant))
                needed = min(ci.min_up or 1, members)  # fewer members than min_up: all needed
                up = members - members_down[dependant]
                if up >= needed:
                    continue
                why = (f"pool has {up} of {members} members up, needs {needed}; "
                       f"{cis[current].name} is down")
            elif dep_type == "hard":
                why = f"hard dependency {cis[current].name} is down"
            else:
                continue
            state[dependant] = DOWN
            parent[dependant] = current
            reason[dependant] = why
            queue.append(dependant)

    # Phase 2: degradation spreads from every down CI, then from degraded ones (those
    # reported degraded first: they are settled before anything they degrade).
    queue = deque(down_order)
    for ci_id in dict.fromkeys(degraded):
        if ci_id in cis and ci_id not in state:
            state[ci_id] = DEGRADED
            parent[ci_id] = None
            reason[ci_id] = "reported degraded"
            result.reported_degraded.append(cis[ci_id].name)
            queue.append(ci_id)
    while queue:
        current = queue.popleft()
        current_state = state[current]
        for dependant, dep_type in graph.dependants.get(current, ()):
            if dependant in state:
                continue
            ci = cis[dependant]
            if ci.kind == "pool":
                why = f"pool member {cis[current].name} is {current_state}"
            elif current_state == DOWN:
                why = f"soft dependency {cis[current].name} is down"
            else:
                why = f"{dep_type} dependency {cis[current].name} is degraded"
            state[dependant] = DEGRADED
            parent[dependant] = current
            reason[dependant] = why
            queue.append(dependant)

    for ci_id, ci_state in state.items():
        ci = cis[ci_id]
        result.affected[ci_id] = Affected(
            id=ci_id,
            name=ci.name,
            kind=ci.kind,
            team=ci.team,
            state=ci_state,
            path=_path(ci_id, parent, cis),
            reason=reason[ci_id],
        )
    return result


def _path(ci_id: int, parent: dict[int, int | None], cis: dict[int, CI]) -> tuple[str, ...]:
    names: list[str] = []
    current: int | None = ci_id
    while current is not None:
        names.append(cis[current].name)
        current = parent[current]
    return tuple(reversed(names))


def result_as_dict(result: ImpactResult) -> dict[str, object]:
    def item(a: Affected) -> dict[str, object]:
        return {"service": a.name, "kind": a.kind, "team": a.team, "state": a.state,
                "path": list(a.path), "reason": a.reason}

    return {
        "failing": result.failing,
        "down": [item(a) for a in result.down],
        "degraded": [item(a) for a in result.degraded],
        "business_services": [item(a) for a in result.business_services],
        "teams": result.teams,
    }
