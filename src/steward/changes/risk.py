"""Explainable change risk: a 0-100 score, a level, and the factors behind it.

Pure logic: the service layer gathers the facts (batch size, impact analysis,
change failure rate, calendar, ...) into a :class:`RiskInput`; :func:`assess`
turns them into points. Every factor that adds points carries a full sentence
saying what was observed and why it matters, because a score nobody can
explain is a score nobody trusts. Factors worth nothing are left out so the
list only shows what actually moved the score.

Weights are points, not percentages: they are tuned by operators through
configuration (``RiskWeights.from_mapping``) without touching the rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MODELS = ("standard", "normal", "emergency")
LEVELS = ("low", "moderate", "high", "very high")
# Lower bound of each level after "low"; a score below 25 is low.
LEVEL_THRESHOLDS = (25, 50, 75)

# CFR is a rate: with fewer deployments than this a single failure swings it
# wildly, so its points are scaled down in proportion.
CFR_MIN_EVIDENCE = 5
# A change failure rate at or above this earns all the CFR points (DORA's
# "low performers" sit around here).
CFR_SATURATION = 0.5
ERROR_BUDGET_LOW = 0.25
# (up to this many, fraction of the factor's weight); anything above the last
# band earns the full weight. Bands rather than a curve, so a reader can check
# the points against the sentence.
BATCH_SIZE_BANDS = ((5, 0.0), (20, 0.2), (50, 0.4))
BLAST_RADIUS_BANDS = ((0, 0.0), (3, 0.25), (10, 0.5), (50, 0.75))


@dataclass(frozen=True)
class RiskInput:
    """What is known about a change when its risk is assessed."""

    model: str  # "standard" | "normal" | "emergency"
    batch_size: int | None  # commits in the change; None = unknown
    blast_radius: int  # CIs down or degraded if the affected CIs failed, excluding themselves
    business_services_affected: int
    most_critical_tier: int  # 1..4 among affected CIs
    change_failure_rate: float | None  # service CFR over 30 days (0..1); None = no deployments
    recent_deployments: int  # deployments in those 30 days
    open_incidents: int  # open incidents on the affected services or their dependencies
    freeze_windows: tuple[str, ...]  # names of freeze windows the planned window overlaps
    outside_maintenance: bool  # maintenance windows exist and the change is outside all
    conflicts: tuple[str, ...]  # e.g. ("CHG-12 on ledger-db",)
    off_hours: bool  # planned start outside the team's working hours
    error_budget_remaining: float | None = None  # fraction 0..1 left; None = no SLO


@dataclass(frozen=True)
class RiskWeights:
    """Points each factor can add. Defaults are a starting point, not gospel.

    ``freeze`` defaults to 50 so that a freeze alone makes a change "high"
    risk, which the default policy sends to peer review.
    """

    batch_size: float = 20  # maximum, reached above 50 commits
    blast_radius: float = 20  # maximum, for a wide radius or business/tier-1 impact
    change_failure_rate: float = 15  # maximum, reached at a 50% failure rate
    open_incidents: float = 10  # per open incident ...
    open_incidents_max: float = 20  # ... up to this
    freeze: float = 50
    outside_maintenance: float = 10
    conflicts: float = 10  # per conflicting change ...
    conflicts_max: float = 20  # ... up to this
    off_hours: float = 5
    emergency: float = 15
    error_budget_exhausted: float = 20
    error_budget_low: float = 10  # less than 25% of the budget left

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, Any]) -> RiskWeights:
        """Defaults with ``overrides`` applied, as read from configuration.

        Rejects unknown keys (a typo must not silently keep the default) and
        values that are not finite non-negative numbers.
        """
        if not isinstance(overrides, Mapping):
            raise ValueError("risk weights: expected a mapping of factor name to points")
        known = {f.name for f in fields(cls)}
        values: dict[str, float] = {}
        for key, value in overrides.items():
            if key not in known:
                raise ValueError(
                    f"{key}: unknown risk weight; known weights are {', '.join(sorted(known))}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key}: risk weight must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{key}: risk weight must be a finite number >= 0, got {value!r}")
            values[key] = float(value)
        return replace(cls(), **values)


DEFAULT_WEIGHTS = RiskWeights()


@dataclass(frozen=True)
class RiskFactor:
    key: str
    points: int
    sentence: str


@dataclass(frozen=True)
class RiskAssessment:
    score: int  # 0..100
    level: str  # one of LEVELS
    factors: tuple[RiskFactor, ...]  # points > 0 only, largest first

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "level": self.level,
                "factors": [asdict(factor) for factor in self.factors]}


def level_for(score: int) -> str:
    """The level of a score: low <25, moderate <50, high <75, very high otherwise."""
    for level, threshold in zip(LEVELS, LEVEL_THRESHOLDS, strict=False):
        if score < threshold:
            return level
    return LEVELS[-1]


def level_at_most(level: str, ceiling: str) -> bool:
    """Whether ``level`` is no riskier than ``ceiling`` (standard change templates)."""
    for name, value in (("level", level), ("ceiling", ceiling)):
        if value not in LEVELS:
            raise ValueError(f"{name}: unknown risk level {value!r}; expected one of {LEVELS}")
    return LEVELS.index(level) <= LEVELS.index(ceiling)


def is_off_hours(moment: datetime, tz: str = "UTC", start_hour: int = 8, end_hour: int = 18,
                 workdays: tuple[int, ...] = (0, 1, 2, 3, 4)) -> bool:
    """Whether ``moment`` falls outside working hours [start_hour, end_hour) on workdays.

    Judged on the team's wall clock, because "off-hours" means fewer people
    awake to notice and fix a failure. A naive ``moment`` is taken as UTC.
    """
    if not 0 <= start_hour < end_hour <= 24:
        raise ValueError(f"start_hour: need 0 <= start_hour < end_hour <= 24, "
                         f"got {start_hour}..{end_hour}")
    if any(day not in range(7) for day in workdays):
        raise ValueError(f"workdays: weekdays are 0 (Monday) to 6, got {workdays!r}")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"tz: unknown time zone {tz!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    return local.weekday() not in workdays or not start_hour <= local.hour < end_hour


def assess(inp: RiskInput, weights: RiskWeights = DEFAULT_WEIGHTS) -> RiskAssessment:
    """Score a change: the sum of its factors' points, clamped to 0..100."""
    _validate(inp)
    candidates = (
        _batch_size(inp, weights),
        _blast_radius(inp, weights),
        _change_failure_rate(inp, weights),
        _open_incidents(inp, weights),
        _freeze(inp, weights),
        _outside_maintenance(inp, weights),
        _conflicts(inp, weights),
        _off_hours(inp, weights),
        _emergency(inp, weights),
        _error_budget(inp, weights),
    )
    factors = [factor for factor in candidates if factor is not None and factor.points > 0]
    # Stable sort keeps the declaration order among equal points, so the list is deterministic.
    factors.sort(key=lambda factor: -factor.points)
    score = max(0, min(100, sum(factor.points for factor in factors)))
    return RiskAssessment(score=score, level=level_for(score), factors=tuple(factors))


def _validate(inp: RiskInput) -> None:
    if inp.model not in MODELS:
        raise ValueError(f"model: unknown change model {inp.model!r}; expected one of {MODELS}")
    if inp.most_critical_tier not in (1, 2, 3, 4):
        raise ValueError(f"most_critical_tier: expected 1..4, got {inp.most_critical_tier!r}")
    for name in ("blast_radius", "business_services_affected", "recent_deployments",
                 "open_incidents"):
        if getattr(inp, name) < 0:
            raise ValueError(f"{name}: cannot be negative, got {getattr(inp, name)!r}")
    if inp.batch_size is not None and inp.batch_size < 0:
        raise ValueError(f"batch_size: cannot be negative, got {inp.batch_size!r}")
    for name in ("change_failure_rate", "error_budget_remaining"):
        value = getattr(inp, name)
        if value is not None and not 0 <= value <= 1:
            raise ValueError(f"{name}: expected a fraction between 0 and 1, got {value!r}")


def _points(value: float) -> int:
    """Round half up: weights are small numbers and banker's rounding would surprise."""
    return math.floor(value + 0.5)


def _band(value: int, bands: tuple[tuple[int, float], ...]) -> float:
    for upper, fraction in bands:
        if value <= upper:
            return fraction
    return 1.0


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _names(items: tuple[str, ...]) -> str:
    quoted = [f'"{item}"' for item in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _batch_size(inp: RiskInput, w: RiskWeights) -> RiskFactor | None:
    size = inp.batch_size
    if size is None or size <= 5:
        return None
    fraction = _band(size, BATCH_SIZE_BANDS)
    points = _points(w.batch_size * fraction)
    return RiskFactor("batch_size", points,
                      f"{size} commits in one change: larger batches fail more often and are "
                      f"harder to diagnose and roll back (+{points}).")


def _blast_radius(inp: RiskInput, w: RiskWeights) -> RiskFactor | None:
    count, business = inp.blast_radius, inp.business_services_affected
    if count == 0 and business == 0:
        return None
    fraction = _band(count, BLAST_RADIUS_BANDS)
    # Business services and tier-1 CIs are what customers notice first.
    fraction += 0.1 * min(business, 2)
    if inp.most_critical_tier == 1:
        fraction += 0.2
    points = _points(w.blast_radius * min(fraction, 1.0))
    if count:
        observed = (f"If the changed CIs failed, {_plural(count, 'other CI')} would go down or "
                    f"degrade")
        if business:
            observed += f", affecting {_plural(business, 'business service')}"
    else:
        observed = f"The changed CIs directly support {_plural(business, 'business service')}"
    if inp.most_critical_tier == 1:
        observed += ", and tier-1 CIs are among those changed"
    return RiskFactor("blast_radius", points,
                      f"{observed}: the more that depends on a change, the more people a "
                      f"failure hurts (+{points}).")


def _change_failure_rate(inp: RiskInput, w: RiskWeights) -> RiskFactor | None:
    rate = inp.change_failure_rate
    if rate is None or rate == 0:
        return None
    evidence = min(inp.recent_deployments, CFR_MIN_EVIDENCE) / CFR_MIN_EVIDENCE
    points = _points(w.change_failure_rate * min(rate / CFR_SATURATION, 1.0) * evidence)
    deployments = _plural(inp.recent_deployments, "deployment")
    caveat = "" if evidence >= 1 else (
        f"; with only {deployments} this is weak evidence, so it counts for less")
    return RiskFactor("change_failure_rate", points,
                      f"The service's change failure rate over the last 30 days is "
                      f"{rate:.0%} across {deployments}: services whose changes failed recently "
                      f"tend to fail again{caveat} (+{points}).")


def _open_incidents(inp: RiskInput, w: RiskWeights) -> RiskFactor | None:
    if inp.open_incidents == 0:
        return None
    points = _points(min(w.open_incidents * inp.open_incidents, w.open_incidents_max))
    return RiskFactor("open_incidents", points,
                      f"{_plural(inp.open_incidents, 'open incident')} on the affected services "
                      f"or their dependencies: changing a system that is already unstable can "
                      f"make things worse and muddies the diagnosis (+{points}).")


def _freeze(inp: RiskInput, w: RiskWeights) -> RiskFactor | None:
    if not inp.freeze_windows:
        return None
    points = _points(w.freeze)
    windows = "freeze window" if len(inp.freeze_windows) == 1 else "freeze windows"
    return RiskFactor("freeze", points,
                      f"The planned window overlaps the {windows} {_names(inp.freeze_windows)}: "
                      f"changes are paused then because a failure would be especially costly "
                      f"(+{points}).")


def _outside_maintenance(inp: RiskInput, w: RiskWeights) -> RiskFactor | None:
    if not inp.outside_maintenance:
        return None
    points = _points(w.outside_maintenance)
    return RiskFactor("outside_maintenance", points,
                      f"The planned window is outside the service's maintenance windows: users "
                      f"have not been told to expect disruption at that time (+{points}).")


def _conflicts(inp: RiskInput, w: RiskWeights) -> RiskFactor | None:
    if not inp.conflicts:
        return None
    count = len(inp.conflicts)
    points = _points(min(w.conflicts * count, w.conflicts_max))
    return RiskFactor("conflicts", points,
                      f"{_plural(count, 'other change')} overlap{'s' if count == 1 else ''} on "
                      f"the same or dependent CIs ({'; '.join(inp.conflicts)}): simultaneous "
                      f"changes interfere and make a failure hard to attribute (+{points}).")


def _off_hours(inp: RiskInput, w: RiskWeights) -> RiskFactor | None:
    if not inp.off_hours:
        return None
    points = _points(w.off_hours)
    return RiskFactor("off_hours", points,
                      f"The change starts outside the team's working hours: fewer people are "
                      f"around to notice and fix a failure (+{points}).")


def _emergency(inp: RiskInput, w: RiskWeights) -> RiskFactor | None:
    if inp.model != "emergency":
        return None
    points = _points(w.emergency)
    return RiskFactor("emergency", points,
                      f"This is an emergency change: it is made under time pressure and skips "
                      f"the usual assessment (+{points}).")


def _error_budget(inp: RiskInput, w: RiskWeights) -> RiskFactor | None:
    left = inp.error_budget_remaining
    if left is None or left >= ERROR_BUDGET_LOW:
        return None
    if left <= 0:
        points = _points(w.error_budget_exhausted)
        return RiskFactor("error_budget", points,
                          f"The service's error budget is spent: its users have already had "
                          f"more unreliability than its SLO allows (+{points}).")
    points = _points(w.error_budget_low)
    return RiskFactor("error_budget", points,
                      f"Only {math.floor(left * 100)}% of the service's error budget is left: "
                      f"another failure could break its SLO (+{points}).")
