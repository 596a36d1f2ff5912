"""Alert correlation: which incident a new alert joins, and where an incident started.

Pure logic over the catalog's dependency graph (edges point from a dependant to
what it depends on). Two questions, each answered with a sentence a responder
can check against the system map, because an alert silently glued to the wrong
incident costs more than one left on its own:

- :func:`place_alert` puts a new alert into an open incident or asks for a new
  one. Rules, first match wins: the same Alertmanager group; the same service
  within the grouping window; a service close in the dependency graph (either
  direction, up to ``max_distance`` hops) of an incident that is triggered or
  acknowledged, for as long as it stays so (an outage lasts as long as it
  lasts: its later alerts belong to it), or of a mitigated incident within the
  topology window of its last alert activity.
- :func:`probable_origin` names the most upstream alerting service of an
  incident: the one the others depend on and which depends on none of them.

Times are timezone-aware UTC (naive values are read as UTC). Alerts arrive a
little out of order from real sources, so windows compare absolute gaps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from steward.catalog.impact import Graph

Neighbours = Callable[[int], Iterable[int]]

# Beyond this many names a sentence lists a few and counts the rest.
MAX_NAMES_IN_SENTENCE = 5
# Open incidents that related alerts join for as long as they stay in these states; a
# mitigated one only within the topology window of its last alert activity.
ACTIVE_STATES = ("triggered", "acknowledged")


@dataclass(frozen=True)
class CorrelationSettings:
    group_window: timedelta = timedelta(minutes=5)
    # Alerts within this time of a mitigated incident's last alert activity can join
    # it through the dependency graph (a triggered or acknowledged one, at any time).
    topology_window: timedelta = timedelta(minutes=5)
    max_distance: int = 2  # hops through dependencies, either direction
    topology: bool = True

    def __post_init__(self) -> None:
        for name in ("group_window", "topology_window"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"{name}: must not be negative")
        if self.max_distance < 0:
            raise ValueError("max_distance: must be 0 or more")


@dataclass(frozen=True)
class OpenIncident:
    id: int
    services: tuple[int, ...]  # service ids of its alerts
    last_alert_at: datetime
    started_at: datetime
    group_keys: tuple[str, ...] = ()
    status: str = "triggered"  # triggered, acknowledged or mitigated

    @property
    def active(self) -> bool:
        """Triggered or acknowledged: related alerts join it whenever they come."""
        return self.status in ACTIVE_STATES


@dataclass(frozen=True)
class Placement:
    incident_id: int | None  # None: open a new incident
    reason: str


@dataclass(frozen=True)
class Origin:
    service_id: int
    reasoning: str


def place_alert(
    graph: Graph,
    service_id: int,
    at: datetime,
    open_incidents: Sequence[OpenIncident],
    settings: CorrelationSettings = CorrelationSettings(),
    group_key: str | None = None,
) -> Placement:
    """Where an alert on ``service_id`` seen at ``at`` belongs.

    Where several incidents qualify under one rule, the one with the most
    recent alert activity wins: it is the one responders are looking at.
    """
    name = service_name(graph, service_id)

    if group_key is not None:
        grouped = [i for i in open_incidents if group_key in i.group_keys]
        if grouped:
            chosen = _most_recent(grouped)
            return Placement(chosen.id, f"same alert group ({group_key}) as {_number(chosen)}")

    same_service = [i for i in open_incidents
                    if service_id in i.services
                    and _within(at, i.last_alert_at, settings.group_window)]
    if same_service:
        chosen = _most_recent(same_service)
        return Placement(chosen.id, f"same service ({name}) as {_number(chosen)} "
                                    f"within {format_duration(settings.group_window)}")

    if settings.topology:
        placement = _place_by_topology(graph, service_id, at, open_incidents, settings)
        if placement is not None:
            return placement

    group_window = format_duration(settings.group_window)
    if not settings.topology:
        return Placement(None, f"new incident: no open incident on {name} within "
                               f"{group_window} (topology correlation is off)")
    topology_window = format_duration(settings.topology_window)
    return Placement(None, f"new incident: no triggered or acknowledged incident on {name} "
                           f"or within {_hops(settings.max_distance)} of it, nor a mitigated "
                           f"one active within {topology_window}")


def nearby_services(graph: Graph, service_id: int,
                    settings: CorrelationSettings = CorrelationSettings()) -> frozenset[int]:
    """The services whose open incidents an alert on ``service_id`` could join by service
    or topology: itself and, with topology on, those within ``max_distance`` hops either
    way. Lets a caller hand :func:`place_alert` only the incidents that can matter (and
    those sharing the alert's group key) and get the same answer."""
    if not settings.topology:
        return frozenset((service_id,))
    return frozenset(_bfs(service_id, settings.max_distance, _neighbours_either_way(graph)))


def mitigated_reach(settings: CorrelationSettings = CorrelationSettings()) -> timedelta:
    """How far from a mitigated incident's last alert activity an alert can still join it
    (by service or topology); triggered and acknowledged incidents have no such limit.
    Lets a caller read only the open incidents that can matter."""
    return max(settings.group_window, settings.topology_window)


def _place_by_topology(graph: Graph, service_id: int, at: datetime,
                       open_incidents: Sequence[OpenIncident],
                       settings: CorrelationSettings) -> Placement | None:
    joinable = [i for i in open_incidents
                if i.active or _within(at, i.last_alert_at, settings.topology_window)]
    if not joinable:
        return None
    distances = _bfs(service_id, settings.max_distance, _neighbours_either_way(graph))
    related: list[tuple[int, int, OpenIncident]] = []  # (distance, nearest service, incident)
    for incident in joinable:
        reachable = [(distances[s], s) for s in incident.services if s in distances]
        if reachable:
            distance, nearest = min(reachable)
            related.append((distance, nearest, incident))
    if not related:
        return None
    # The closest incident; on a tie, the one with the latest alert activity.
    distance, nearest, chosen = min(
        related, key=lambda r: (r[0], -_timestamp(r[2].last_alert_at), -r[2].id))
    if chosen.active:
        why = f"{chosen.status}, open since {_clock(chosen.started_at)}"
    else:
        why = f"mitigated, alert activity within {format_duration(settings.topology_window)}"
    if distance == 0:
        return Placement(chosen.id, f"same service ({service_name(graph, service_id)}) as "
                                    f"{_number(chosen)} ({why})")
    relation = describe_relation(graph, service_id, nearest, distance)
    return Placement(chosen.id, f"{relation}, which is in {_number(chosen)} ({why})")


def describe_relation(graph: Graph, source: int, target: int, distance: int) -> str:
    """How ``source`` relates to ``target``, ``distance`` hops apart (either way).

    Says who depends on whom when a one-way path of that length exists; for
    services that only share a dependency (or a dependant) it says so instead.
    """
    a, b = service_name(graph, source), service_name(graph, target)
    hops = _hops(distance)
    if _bfs(source, distance, _dependencies_of(graph)).get(target) == distance:
        return f"{a} depends on {b} ({hops})"
    if _bfs(target, distance, _dependencies_of(graph)).get(source) == distance:
        return f"{b} depends on {a} ({hops})"
    tree = _bfs_tree(source, distance, _neighbours_either_way(graph))
    between: list[str] = []
    step = tree[target][1] if target in tree else None
    while step is not None and step != source:
        between.append(service_name(graph, step))
        step = tree[step][1]
    via = f", via {join_names(list(reversed(between)))}" if between else ""
    return f"{a} is related to {b} through their dependencies ({hops}{via})"


def probable_origin(graph: Graph, alerting: Sequence[tuple[int, datetime]]) -> Origin:
    """The most upstream alerting service, with the reasoning behind the choice.

    ``alerting`` holds (service id, first alert time) for each alerting service
    of one incident; repeated services keep their earliest time. Dependencies
    count transitively through any service, alerting or not: a database failing
    under a quiet connection pool is still upstream of the web tier.

    Alerting services that depend on each other (a cycle) are one group; the
    group's earliest alert speaks for it. Among groups that depend on no other
    alerting group, the one most alerting services depend on wins, then the
    earliest alert, the lowest (most critical) tier, and the name.
    """
    first_alert: dict[int, datetime] = {}
    for service_id, at in alerting:
        if service_id not in first_alert or _utc(at) < first_alert[service_id]:
            first_alert[service_id] = _utc(at)
    if not first_alert:
        raise ValueError("alerting: at least one alerting service is needed")
    name = {s: service_name(graph, s) for s in first_alert}
    if len(first_alert) == 1:
        (only,) = first_alert
        return Origin(only, f"{name[only]} is the only alerting service.")

    def precedence(service: int) -> tuple[datetime, int, str, int]:
        ci = graph.cis.get(service)
        return (first_alert[service], ci.tier if ci else 99, name[service], service)

    # Which alerting services each alerting service depends on, transitively.
    needs: dict[int, set[int]] = {}
    dependencies = _dependencies_of(graph)
    for service in first_alert:
        reached = _bfs(service, None, dependencies)
        needs[service] = {s for s in first_alert if s in reached and s != service}

    groups = _cycle_groups(first_alert, needs)
    group_of = {s: i for i, members in enumerate(groups) for s in members}
    # A group is upstream when none of its members needs a service outside it.
    upstream = [i for i, members in enumerate(groups)
                if all(group_of[n] == i for s in members for n in needs[s])]
    dependants: dict[int, set[int]] = {
        i: {s for s in first_alert if group_of[s] != i and needs[s] & groups[i]}
        for i in upstream}
    representative = {i: min(groups[i], key=precedence) for i in upstream}
    ranked = sorted(upstream, key=lambda i: (-len(dependants[i]),
                                              precedence(representative[i])))
    winner = ranked[0]
    origin = representative[winner]

    def lost_because(group: int) -> str:
        rival = representative[group]
        if len(dependants[group]) < len(dependants[winner]):
            return "fewer alerting dependants"
        if first_alert[rival] > first_alert[origin]:
            return "alerted later"
        if precedence(rival)[1] > precedence(origin)[1]:
            return "a less critical tier"
        return "same time and tier, later by name"

    rivals = [f"{name[representative[i]]} ({lost_because(i)})" for i in ranked[1:]]
    return Origin(origin, _origin_reasoning(
        graph, origin, groups[winner], dependants[winner], first_alert, name, rivals))


def _origin_reasoning(graph: Graph, origin: int, group: set[int], dependants: set[int],
                      first_alert: dict[int, datetime], name: dict[int, str],
                      rivals: list[str]) -> str:
    def by_alert(services: Iterable[int]) -> list[str]:
        return [name[s] for s in sorted(services, key=lambda s: (first_alert[s], name[s]))]

    subject = name[origin]
    earliest = min(first_alert.values())
    if not dependants:
        # Every upstream group stands alone: the dependency graph cannot decide.
        if len(group) == len(first_alert):
            why = (f"{join_names(by_alert(group))} all depend on each other "
                   "(a dependency cycle)")
        else:
            why = "none of the alerting services depends on another"
        return (f"{subject} is taken as the probable origin: {why}, so the earliest alert "
                f"decides; it alerted first at {_clock(first_alert[origin])}.")

    parts = [f"{subject} is the most upstream alerting service: "
             f"{join_names(by_alert(dependants))} "
             f"{'depends' if len(dependants) == 1 else 'depend'} on it"
             f"{_directness(graph, dependants, group)} and it depends on no other "
             "alerting service"]
    if len(group) > 1:
        parts.append(f"it is in a dependency cycle with {join_names(by_alert(group - {origin}))} "
                     "and alerted first among them")
    if first_alert[origin] == earliest:
        parts.append(f"it alerted first at {_clock(first_alert[origin])}")
    else:
        firsts = [s for s, at in first_alert.items() if at == earliest]
        parts.append(f"it alerted at {_clock(first_alert[origin])}, after "
                     f"{join_names(by_alert(firsts))} ({_clock(earliest)})")
    if rivals:
        parts.append(f"also upstream: {join_names(rivals)}")
    return "; ".join(parts) + "."


def _directness(graph: Graph, dependants: set[int], group: set[int]) -> str:
    """Whether the dependants need the origin's group directly, through others, or both."""
    direct = [s for s in dependants
              if any(d in group for d, _ in graph.dependencies.get(s, ()))]
    if len(direct) == len(dependants):
        return " directly"
    if not direct:
        return " through others"
    return " (directly or through others)"


def _cycle_groups(services: dict[int, datetime], needs: dict[int, set[int]]) -> list[set[int]]:
    """Alerting services that (transitively) need each other, grouped together.

    ``needs`` is already transitive, so mutual membership is exactly strong
    connectivity; no separate SCC pass is needed.
    """
    groups: list[set[int]] = []
    placed: set[int] = set()
    for service in sorted(services):
        if service in placed:
            continue
        members = {service} | {other for other in needs[service] if service in needs[other]}
        placed |= members
        groups.append(members)
    return groups


def service_name(graph: Graph, service_id: int) -> str:
    ci = graph.cis.get(service_id)
    return ci.name if ci else f"service {service_id}"


def join_names(names: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'; long lists name a few and count the rest."""
    names = list(names)
    if len(names) > MAX_NAMES_IN_SENTENCE:
        shown = MAX_NAMES_IN_SENTENCE - 1
        rest = len(names) - shown
        names = [*names[:shown], f"{rest} others"]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def format_duration(value: timedelta) -> str:
    """A window as people say it: '30 s', '5 min', '2 h', '1 d', '90 min'."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _neighbours_either_way(graph: Graph) -> Neighbours:
    def neighbours(node: int) -> Iterator[int]:
        yield from (other for other, _ in graph.dependencies.get(node, ()))
        yield from (other for other, _ in graph.dependants.get(node, ()))
    return neighbours


def _dependencies_of(graph: Graph) -> Neighbours:
    def neighbours(node: int) -> Iterator[int]:
        return (other for other, _ in graph.dependencies.get(node, ()))
    return neighbours


def _bfs(start: int, max_depth: int | None, neighbours: Neighbours) -> dict[int, int]:
    """Hop counts from ``start``, iterative and cycle-safe (each node visited once)."""
    return {node: depth for node, (depth, _) in _bfs_tree(start, max_depth, neighbours).items()}


def _bfs_tree(start: int, max_depth: int | None,
              neighbours: Neighbours) -> dict[int, tuple[int, int | None]]:
    """Each reached node with its hop count and the node it was reached from."""
    reached: dict[int, tuple[int, int | None]] = {start: (0, None)}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        depth = reached[current][0]
        if max_depth is not None and depth >= max_depth:
            continue
        for other in neighbours(current):
            if other not in reached:
                reached[other] = (depth + 1, current)
                queue.append(other)
    return reached


def _within(at: datetime, other: datetime, window: timedelta) -> bool:
    return abs(_utc(at) - _utc(other)) <= window


def _most_recent(incidents: Sequence[OpenIncident]) -> OpenIncident:
    # The id breaks exact ties so the answer never depends on input order.
    return max(incidents, key=lambda i: (_utc(i.last_alert_at), i.id))


def _number(incident: OpenIncident) -> str:
    return f"INC-{incident.id}"


def _hops(distance: int) -> str:
    return "1 hop" if distance == 1 else f"{distance} hops"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _timestamp(value: datetime) -> float:
    return _utc(value).timestamp()


def _clock(value: datetime) -> str:
    # Seconds only when present: alerts a few seconds apart must not read as simultaneous.
    value = _utc(value)
    return value.strftime("%H:%M:%S UTC" if value.second else "%H:%M UTC")
