"""What changed? Deployments ranked as suspect causes of an incident.

Pure logic. Most incidents follow a change, and the change that broke things
usually landed shortly before, on the failing service or on something it
needs. So the suspects are deployments on the incident's services (the
probable origin and every other alerting service: the origin may be revised,
and a change on any of them may be the cause) and on the services they depend
on (following dependency edges only: a deployment on a dependant cannot break
what it depends on), finished within a lookback before the incident started.
Each is scored out of 100:

- time proximity, up to 50: halves every eighth of the lookback (3 hours for
  the default 24 h), so minutes-old deployments dominate while a day-old one
  still counts a little; a straight line would rate a deployment two hours
  old almost as high as one two minutes old;
- graph distance, up to 30: 30 on a service of the incident, halved per hop
  away from the nearest of them, since each
  hop is one more thing that had to go wrong for the failure to travel;
- change risk, up to 20: the change's own risk score divided by 5;
- a failed or rolled-back deployment adds 5 (capped at 100): it already
  showed trouble.

Every point comes with a sentence, so a responder can disagree with a reason
rather than with a number.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from steward.catalog.impact import Graph

TIME_POINTS = 50.0
DISTANCE_POINTS = 30.0
RISK_POINTS = 20.0
TROUBLED_DEPLOYMENT_POINTS = 5.0
# Time points halve every this fraction of the lookback.
TIME_HALF_LIFE_FRACTION = 1 / 8
TROUBLED_STATUSES = {"failed": "the deployment itself failed",
                     "rolled_back": "the deployment was rolled back"}
# The change risk levels (mirrors steward.changes.risk, kept here so this
# module stays free of other domains): low < 25, moderate < 50, high < 75.
RISK_LEVELS = ((25, "low"), (50, "moderate"), (75, "high"))
DEFAULT_LOOKBACK = timedelta(hours=24)


@dataclass(frozen=True)
class Candidate:
    deployment_id: int
    change_id: int | None
    service_id: int
    service: str
    version: str
    finished_at: datetime
    risk_score: int | None
    status: str
    environment: str


@dataclass(frozen=True)
class Suspect:
    deployment_id: int
    change_id: int | None
    service: str
    score: float  # 0..100, one decimal
    reasons: tuple[str, ...]


def candidate_services(graph: Graph, origin_id: int, max_depth: int = 3) -> dict[int, int]:
    """The origin (distance 0) and what it depends on, transitively, with hop counts."""
    return {sid: hops for sid, (hops, _) in nearest_services(graph, [origin_id],
                                                             max_depth).items()}


def nearest_services(graph: Graph, sources: Sequence[int],
                     max_depth: int = 3) -> dict[int, tuple[int, int]]:
    """The ``sources`` (distance 0) and what they depend on, transitively: each with its
    hop count from the nearest source and that source. On equal distance the source
    given first wins (give the probable origin first).

    Breadth first, so each service gets its shortest distance; each service is
    visited once, so dependency cycles end the walk instead of looping.
    """
    if max_depth < 0:
        raise ValueError(f"max_depth: must be 0 or more, got {max_depth}")
    found: dict[int, tuple[int, int]] = {}
    for source in sources:
        found.setdefault(source, (0, source))
    queue = deque(s for s in dict.fromkeys(sources))
    while queue:
        current = queue.popleft()
        hops, source = found[current]
        if hops >= max_depth:
            continue
        for dependency, _ in graph.dependencies.get(current, ()):
            if dependency not in found:
                found[dependency] = (hops + 1, source)
                queue.append(dependency)
    return found


def rank_suspects(candidates: Sequence[Candidate], distances: dict[int, int],
                  incident_started_at: datetime,
                  lookback: timedelta = DEFAULT_LOOKBACK,
                  *, origin: str | None = None,
                  near: dict[int, str] | None = None) -> list[Suspect]:
    """Deployments that could have caused the incident, most likely first.

    ``distances`` comes from :func:`candidate_services` or :func:`nearest_services`.
    ``origin`` is the probable origin's name and ``near`` names, by service id, the
    incident's service each candidate service is nearest to (default: the origin);
    both are used only to word the reasons. Deployments
    finished after the start, before the lookback, or on other services are
    not suspects. Ties on the (rounded) score go to the most recent deployment.
    """
    if lookback <= timedelta(0):
        raise ValueError(f"lookback: must be longer than zero, got {lookback}")
    earliest = incident_started_at - lookback
    ranked: list[tuple[Suspect, datetime]] = []
    for candidate in candidates:
        hops = distances.get(candidate.service_id)
        if hops is None or not earliest <= candidate.finished_at <= incident_started_at:
            continue
        nearest = (near or {}).get(candidate.service_id, origin)
        ranked.append((_assess(candidate, hops, incident_started_at - candidate.finished_at,
                               lookback, origin, nearest), candidate.finished_at))
    ranked.sort(key=lambda pair: (-pair[0].score, -pair[1].timestamp(),
                                  -pair[0].deployment_id))
    return [suspect for suspect, _ in ranked]


def _assess(candidate: Candidate, hops: int, age: timedelta, lookback: timedelta,
            origin: str | None, nearest: str | None) -> Suspect:
    half_life = lookback.total_seconds() * TIME_HALF_LIFE_FRACTION
    time_points = TIME_POINTS * math.pow(0.5, age.total_seconds() / half_life)
    distance_points = DISTANCE_POINTS * math.pow(0.5, hops)
    reasons = [f"deployed {_ago(age)} before the incident started",
               _where(candidate.service, hops, origin, nearest)]

    risk_points = 0.0
    if candidate.risk_score is not None:
        risk = max(0, min(100, candidate.risk_score))
        risk_points = RISK_POINTS * risk / 100
        subject = f"its change CHG-{candidate.change_id}" if candidate.change_id else "it"
        reasons.append(f"{subject} was assessed {_risk_level(risk)} risk ({risk})")
    elif candidate.change_id is None:
        reasons.append("it has no change record, so its risk is unknown")

    trouble_points = 0.0
    if candidate.status in TROUBLED_STATUSES:
        trouble_points = TROUBLED_DEPLOYMENT_POINTS
        reasons.append(TROUBLED_STATUSES[candidate.status])

    total = min(100.0, time_points + distance_points + risk_points + trouble_points)
    return Suspect(deployment_id=candidate.deployment_id, change_id=candidate.change_id,
                   service=candidate.service, score=round(total, 1), reasons=tuple(reasons))


def _where(service: str, hops: int, origin: str | None, nearest: str | None) -> str:
    if hops == 0:
        if origin is None or service == origin:
            return f"on {service}, the probable origin"
        return f"on {service}, a service of the incident"
    distance = "1 hop" if hops == 1 else f"{hops} hops"
    if nearest is None:
        return f"on {service}, which the probable origin depends on ({distance})"
    how = "" if hops == 1 else " indirectly"
    whose = "the origin" if nearest == origin else nearest
    return f"on {service}, which {nearest} depends on{how} ({distance} from {whose})"


def _risk_level(score: int) -> str:
    for ceiling, level in RISK_LEVELS:
        if score < ceiling:
            return level
    return "very high"


def _ago(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return _plural(minutes, "minute")
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _plural(hours, "hour") + (f" {_plural(minutes, 'minute')}" if minutes else "")
    days, hours = divmod(hours, 24)
    return _plural(days, "day") + (f" {_plural(hours, 'hour')}" if hours else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
