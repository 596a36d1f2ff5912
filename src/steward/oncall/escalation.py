"""Escalation: what happens next to an incident nobody has acknowledged. Pure.

A policy has levels (each with a timeout in minutes and the targets it pages) and a
repeat count. An escalation walks the levels in order; a *run* is one walk of the
levels, repeated ``repeat_count`` more times before it runs out. Each step is at a
position ``(cycle, level)``; cycles are numbered for the life of the incident, so a run
restarted by a reassignment or a reopening starts at a new cycle, and every step has a
key of its own (a timer key and the prefix of its notifications' dedup keys): a step
retried after a crash finds its pages already queued and queues nothing twice.

The rules, decided here once:

- A step pages everybody its level resolves to at that moment. If nobody is on call
  there (a gap), the step says so and the next one is due at once: waiting out the
  timeout of a level that paged nobody helps nobody. A whole cycle that paged nobody
  does not repeat: the escalation runs out, saying so.
- The next step is due after the level's timeout; after the last level of the last
  cycle, the escalation runs out at the end of that level's timeout, unacknowledged.
- A restart (a person reassigned the incident) pages the new assignee as the run's
  level 1, then continues with level 2 after level 1's timeout.
- The incident is assigned to the first person paged when it has nobody assigned.
- Acknowledging, mitigating, resolving or closing stops the escalation.

Urgency (``steward.notify.urgency``): P1 and P2 page at high urgency (every rule, any
hour), P3 and P4 notify at low urgency (quiet hours may hold it back). Both escalate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

STEP_KIND = "escalation.step"
HIGH = "high"

# States of an incident's escalation (``incident_escalations.state``).
ACTIVE = "active"        # a step is due
STOPPED = "stopped"      # acknowledged, mitigated, resolved or closed
RAN_OUT = "ran_out"      # every level of every cycle paged, nobody acknowledged
NO_POLICY = "no_policy"  # nobody to escalate to: no team, or a team without a policy
STATES = (ACTIVE, STOPPED, RAN_OUT, NO_POLICY)

# Business hours for the "out of hours" KPI: 08:00 to 18:00, Monday to Friday, local.
DAY_START_HOUR = 8
DAY_END_HOUR = 18


@dataclass(frozen=True)
class Level:
    number: int
    timeout_minutes: int
    # Whom the level names, in words ("schedule Payments primary", "user alice"), for the
    # timeline when nobody is found there.
    targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    name: str
    levels: tuple[Level, ...]
    repeat_count: int = 0

    def level(self, number: int) -> Level:
        for level in self.levels:
            if level.number == number:
                return level
        raise ValueError(f"level: the policy {self.name!r} has no level {number}")

    @property
    def first(self) -> int:
        return self.levels[0].number

    def after(self, number: int) -> int | None:
        later = [level.number for level in self.levels if level.number > number]
        return min(later) if later else None


@dataclass(frozen=True)
class Position:
    """Where an escalation is: ``cycle`` counts from 1 for the life of the incident,
    ``run_start`` is the cycle its current run began with."""

    cycle: int
    level: int
    run_start: int

    @property
    def repeat(self) -> int:
        """0 for the run's first walk of the levels, 1 for the first repeat, ..."""
        return self.cycle - self.run_start


@dataclass(frozen=True)
class Person:
    user_id: int
    username: str
    via: str  # "on call on Payments primary", "named in the policy", "assigned by carol"


@dataclass(frozen=True)
class Next:
    """What is due next, and when: a step at ``position``, or (``position`` None) the
    end of the escalation, nobody having acknowledged."""

    due_at: datetime
    position: Position | None


@dataclass(frozen=True)
class Step:
    """What one due step does. ``next`` None: the escalation ends with this step
    (``ran_out``); a ``next`` without a position: it runs out at ``next.due_at`` unless
    somebody acknowledges first."""

    position: Position
    page: tuple[Person, ...]
    assign: Person | None
    text: str
    next: Next | None
    paged_in_cycle: int
    ran_out: bool = False
    data: dict[str, object] = field(default_factory=dict)


def first_position(cycle: int = 1) -> Position:
    """The position a run starting at ``cycle`` begins with (level numbers come from the
    policy; a run begins at its first level, which :func:`start` fills in)."""
    return Position(cycle=cycle, level=1, run_start=cycle)


def start(policy: Policy, cycle: int = 1) -> Position:
    return Position(cycle=cycle, level=policy.first, run_start=cycle)


def following(policy: Policy, at: Position) -> Position | None:
    """The position after ``at``: the next level, else the first level of the next
    cycle while repeats are left, else None."""
    level = policy.after(at.level)
    if level is not None:
        return Position(at.cycle, level, at.run_start)
    if at.repeat < policy.repeat_count:
        return Position(at.cycle + 1, policy.first, at.run_start)
    return None


def _names(people: tuple[Person, ...]) -> str:
    parts = [f"{p.username} ({p.via})" if p.via else p.username for p in people]
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _minutes(value: int) -> str:
    return f"{value} min" if value < 120 or value % 60 else f"{value // 60} h"


def _verb(urgency: str) -> str:
    return "paged" if urgency == HIGH else "notified (low urgency)"


def step(policy: Policy, at: Position, people: list[Person] | tuple[Person, ...], *,
         now: datetime, urgency: str, assigned: bool, paged_in_cycle: int = 0,
         waited_minutes: int | None = None, restarted_by: str = "") -> Step:
    """The step at ``at``: page ``people`` (whom the level resolves to now, or for a
    restart the new assignee), assign the first of them if nobody is assigned, and say
    what is due next.

    ``paged_in_cycle``: people paged earlier in this cycle (a whole cycle that paged
    nobody does not repeat). ``waited_minutes``: how long the previous level waited
    unacknowledged (None for a run's first step).
    """
    level = policy.level(at.level)
    people = tuple(dict.fromkeys(people))  # each person once, in order
    count = len(policy.levels)
    index = [lv.number for lv in policy.levels].index(at.level) + 1
    where = f"level {index} of {count}" if count > 1 else "the only level"
    if at.repeat:
        where += f", repeat {at.repeat} of {policy.repeat_count}"
    after = following(policy, at)
    paged_total = paged_in_cycle + len(people)
    if people:
        due = now + timedelta(minutes=level.timeout_minutes)
        text = (f"Escalation restarted ({where}): {_verb(urgency)} {_names(people)}."
                if restarted_by else
                f"Escalated to {where}: {_verb(urgency)} {_names(people)}" + (
                    f" after {_minutes(waited_minutes)} without acknowledgement."
                    if waited_minutes is not None else "."))
        assign = people[0] if not assigned else None
        if assign is not None:
            text += f" Assigned to {assign.username}."
    else:
        due = now
        named = ", ".join(level.targets) or "no target"
        text = f"Escalation at {where}: nobody is on call there ({named}), a gap."
        assign = None
    following_cycle = after is not None and after.cycle != at.cycle
    if after is not None and following_cycle and paged_total == 0:
        after = None  # a cycle that paged nobody would page nobody again
    nxt: Next | None = Next(due_at=due, position=after)
    if after is None and not people:
        nxt = None  # nobody left to wait for: it ends with this step
        text += (" Nobody was paged in this cycle: the escalation stops here."
                 if paged_total == 0 else " The escalation has run out.")
    elif after is None:
        text += (f" If nobody acknowledges within {_minutes(level.timeout_minutes)}, "
                 "the escalation has run out.")
    elif people and following_cycle:
        text += f" Repeats from the first level in {_minutes(level.timeout_minutes)}."
    elif people:
        text += f" Next level in {_minutes(level.timeout_minutes)}."
    return Step(position=at, page=people, assign=assign, text=text, next=nxt,
                paged_in_cycle=0 if following_cycle else paged_total,
                ran_out=nxt is None,
                data={"cycle": at.cycle, "level": at.level, "urgency": urgency,
                      "user_ids": [p.user_id for p in people]})


def ran_out_text(policy: Policy, at: Position, assignee: str | None) -> str:
    cycles = at.repeat + 1
    walked = f"{cycles} cycle{'s' if cycles != 1 else ''} of {policy.name}"
    held = f" {assignee} stays assigned." if assignee else ""
    return f"Escalation ran out: nobody acknowledged after {walked}.{held}"


def restart_cycle(current_cycle: int | None) -> int:
    """The cycle a restarted run begins with: after the current one and the next (which
    may already be scheduled), so its steps' keys are new. Without a current cycle (the
    first step has not run yet), cycle 2."""
    return 2 if current_cycle is None else current_cycle + 2


def timer_key(incident_id: int, at: Position) -> str:
    return f"escalation:{incident_id}:{at.cycle}:{at.level}"


def ran_out_key(incident_id: int, cycle: int) -> str:
    return f"escalation:{incident_id}:{cycle}:out"


def incident_prefix(incident_id: int) -> str:
    """Every timer of the incident's escalation starts with this."""
    return f"escalation:{incident_id}:"


def dedup_prefix(incident_id: int, at: Position) -> str:
    """The dedup keys of one step's notifications start with this: a step that runs
    twice queues its notifications once."""
    return f"escalation:{incident_id}:{at.cycle}:{at.level}"


def out_of_hours(at: datetime, time_zone: str | None) -> bool:
    """Whether ``at`` falls outside 08:00-18:00, Monday to Friday, in ``time_zone`` (UTC
    when the zone is unknown or not given)."""
    zone: ZoneInfo | None = None
    if time_zone:
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
    local = at.astimezone(zone or ZoneInfo("UTC"))
    return local.weekday() >= 5 or not DAY_START_HOUR <= local.hour < DAY_END_HOUR


def describe(state: str, *, level: int, levels: int, repeat: int = 0, repeat_count: int = 0,
             next_step_at: datetime | None = None, reason: str = "", by: str = "") -> str:
    """One line for the incident page: "level 2 of 2, next step 14:05 UTC", "stopped:
    acknowledged by alice", "ran out after 2 cycles"."""
    if state == ACTIVE and not levels:
        when = (f", next step {next_step_at.astimezone(ZoneInfo('UTC')):%H:%M} UTC"
                if next_step_at is not None else "")
        return f"starting{when}"
    if state == ACTIVE:
        where = f"level {level} of {levels}"
        if repeat:
            where += f" (repeat {repeat} of {repeat_count})"
        if next_step_at is not None:
            where += f", next step {next_step_at.astimezone(ZoneInfo('UTC')):%H:%M} UTC"
        return where
    if state == STOPPED:
        return f"stopped: {reason or 'stopped'}" + (f" by {by}" if by else "")
    if state == RAN_OUT:
        cycles = repeat + 1
        return f"ran out after {cycles} cycle{'s' if cycles != 1 else ''}, unacknowledged"
    return reason or "nobody to escalate to"
