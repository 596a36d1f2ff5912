"""The escalation state machine: which level pages whom, what is due next and when,
repeats, gaps, restarts, running out; out-of-hours and the incident page's line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from steward.oncall import escalation as esc
from steward.oncall.escalation import Level, Person, Policy, Position

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
TWO = Policy("Payments", (Level(1, 5, ("schedule Payments primary",)),
                          Level(2, 10, ("user carol",))), repeat_count=0)
ALICE = Person(1, "alice", "on call on Payments primary")
BOB = Person(2, "bob", "on call on Payments primary")
CAROL = Person(3, "carol", "named in the policy")


def test_first_level_pages_assigns_and_schedules_the_second_after_its_timeout() -> None:
    step = esc.step(TWO, esc.start(TWO), [ALICE], now=T0, urgency="high", assigned=False)
    assert step.page == (ALICE,)
    assert step.assign == ALICE
    assert step.next == esc.Next(T0 + timedelta(minutes=5), Position(1, 2, 1))
    assert step.text == ("Escalated to level 1 of 2: paged alice (on call on Payments "
                         "primary). Assigned to alice. Next level in 5 min.")
    assert not step.ran_out


def test_second_level_says_how_long_it_waited_and_keeps_the_assignee() -> None:
    step = esc.step(TWO, Position(1, 2, 1), [CAROL], now=T0, urgency="high", assigned=True,
                    paged_in_cycle=1, waited_minutes=5)
    assert step.assign is None
    assert step.text.startswith("Escalated to level 2 of 2: paged carol (named in the "
                                "policy) after 5 min without acknowledgement.")
    # The last level of the last cycle: it runs out after its own timeout.
    assert step.next == esc.Next(T0 + timedelta(minutes=10), None)
    assert "If nobody acknowledges within 10 min, the escalation has run out." in step.text


def test_repeats_walk_the_levels_again_then_run_out() -> None:
    policy = Policy("P", TWO.levels, repeat_count=2)
    at = esc.start(policy)
    walked = []
    while at is not None:
        walked.append((at.cycle, at.level, at.repeat))
        at = esc.following(policy, at)
    assert walked == [(1, 1, 0), (1, 2, 0), (2, 1, 1), (2, 2, 1), (3, 1, 2), (3, 2, 2)]
    last = esc.step(policy, Position(2, 2, 1), [CAROL], now=T0, urgency="high",
                    assigned=True, paged_in_cycle=1)
    assert last.next == esc.Next(T0 + timedelta(minutes=10), Position(3, 1, 1))
    assert "level 2 of 2, repeat 1 of 2" in last.text
    assert "Repeats from the first level in 10 min." in last.text
    assert last.paged_in_cycle == 0  # a new cycle counts afresh


def test_a_restarted_run_counts_its_repeats_from_its_own_start() -> None:
    policy = Policy("P", TWO.levels, repeat_count=1)
    at = esc.start(policy, esc.restart_cycle(4))
    assert at == Position(6, 1, 6)
    assert esc.restart_cycle(None) == 2
    assert esc.following(policy, Position(6, 2, 6)) == Position(7, 1, 6)
    assert esc.following(policy, Position(7, 2, 6)) is None


def test_a_gap_is_said_and_the_next_level_is_due_at_once() -> None:
    step = esc.step(TWO, esc.start(TWO), [], now=T0, urgency="high", assigned=False)
    assert step.page == () and step.assign is None
    assert step.next == esc.Next(T0, Position(1, 2, 1))
    assert "nobody is on call there (schedule Payments primary), a gap" in step.text


def test_a_cycle_that_paged_nobody_is_not_repeated() -> None:
    policy = Policy("P", TWO.levels, repeat_count=3)
    step = esc.step(policy, Position(1, 2, 1), [], now=T0, urgency="high", assigned=False,
                    paged_in_cycle=0)
    assert step.next is None and step.ran_out
    assert step.text.endswith("Nobody was paged in this cycle: the escalation stops here.")


def test_a_gap_after_somebody_was_paged_repeats_at_once() -> None:
    policy = Policy("P", TWO.levels, repeat_count=1)
    step = esc.step(policy, Position(1, 2, 1), [], now=T0, urgency="high", assigned=True,
                    paged_in_cycle=1)
    assert step.next == esc.Next(T0, Position(2, 1, 1))


def test_a_gap_at_the_very_last_level_runs_out_then_and_there() -> None:
    step = esc.step(TWO, Position(1, 2, 1), [], now=T0, urgency="high", assigned=True,
                    paged_in_cycle=1)
    assert step.next is None and step.ran_out
    assert step.text.endswith("The escalation has run out.")


def test_a_restart_pages_the_new_assignee_as_level_one() -> None:
    at = esc.start(TWO, 3)
    step = esc.step(TWO, at, [Person(2, "bob", "assigned by carol")], now=T0,
                    urgency="high", assigned=True, restarted_by="carol")
    assert step.assign is None  # a person chose the assignee
    assert step.text == ("Escalation restarted (level 1 of 2): paged bob (assigned by carol)."
                         " Next level in 5 min.")
    assert step.next == esc.Next(T0 + timedelta(minutes=5), Position(3, 2, 3))


def test_low_urgency_notifies_and_still_escalates() -> None:
    step = esc.step(TWO, esc.start(TWO), [ALICE, BOB, ALICE], now=T0, urgency="low",
                    assigned=False)
    assert step.page == (ALICE, BOB)  # each person once
    assert "notified (low urgency) alice (on call on Payments primary) and bob" in step.text
    assert step.next is not None and step.next.position == Position(1, 2, 1)


def test_single_level_policy() -> None:
    policy = Policy("Solo", (Level(1, 120, ("team Core",)),), repeat_count=0)
    step = esc.step(policy, esc.start(policy), [ALICE], now=T0, urgency="high",
                    assigned=False)
    assert "the only level" in step.text
    assert "within 2 h" in step.text
    assert step.next == esc.Next(T0 + timedelta(hours=2), None)


def test_keys_are_per_step_and_an_incident_prefix_covers_them_all() -> None:
    at = Position(2, 1, 2)
    assert esc.timer_key(17, at) == "escalation:17:2:1"
    assert esc.dedup_prefix(17, at) == "escalation:17:2:1"
    assert esc.ran_out_key(17, 2) == "escalation:17:2:out"
    assert esc.timer_key(17, at).startswith(esc.incident_prefix(17))
    assert not esc.timer_key(170, at).startswith(esc.incident_prefix(17))


def test_ran_out_text() -> None:
    assert esc.ran_out_text(TWO, Position(1, 2, 1), "alice") == (
        "Escalation ran out: nobody acknowledged after 1 cycle of Payments. "
        "alice stays assigned.")
    assert "after 3 cycles" in esc.ran_out_text(TWO, Position(5, 2, 3), None)


@pytest.mark.parametrize(("at", "zone", "expected"), [
    # Monday 2 March 2026
    (datetime(2026, 3, 2, 8, 0, tzinfo=UTC), "UTC", False),
    (datetime(2026, 3, 2, 7, 59, tzinfo=UTC), "UTC", True),
    (datetime(2026, 3, 2, 17, 59, tzinfo=UTC), "UTC", False),
    (datetime(2026, 3, 2, 18, 0, tzinfo=UTC), "UTC", True),
    # 17:30 UTC is 18:30 in Amsterdam (out), 12:30 in New York (in)
    (datetime(2026, 3, 2, 17, 30, tzinfo=UTC), "Europe/Amsterdam", True),
    (datetime(2026, 3, 2, 17, 30, tzinfo=UTC), "America/New_York", False),
    # Saturday
    (datetime(2026, 3, 7, 12, 0, tzinfo=UTC), "UTC", True),
    # Friday 23:30 UTC is Saturday 00:30 in Amsterdam
    (datetime(2026, 3, 6, 23, 30, tzinfo=UTC), "Europe/Amsterdam", True),
    # An unknown zone counts in UTC
    (datetime(2026, 3, 2, 12, 0, tzinfo=UTC), "Mars/Olympus", False),
    (datetime(2026, 3, 2, 12, 0, tzinfo=UTC), None, False),
])
def test_out_of_hours(at: datetime, zone: str | None, expected: bool) -> None:
    assert esc.out_of_hours(at, zone) is expected


def test_describe() -> None:
    assert esc.describe(esc.ACTIVE, level=2, levels=2,
                        next_step_at=datetime(2026, 3, 2, 14, 5, 30, tzinfo=UTC)) == (
        "level 2 of 2, next step 14:05 UTC")
    assert esc.describe(esc.STOPPED, level=2, levels=2, reason="acknowledged",
                        by="alice") == "stopped: acknowledged by alice"
    assert esc.describe(esc.RAN_OUT, level=2, levels=2, repeat=1) == (
        "ran out after 2 cycles, unacknowledged")
    assert esc.describe(esc.NO_POLICY, level=1, levels=0,
                        reason="team Core has no escalation policy") == (
        "team Core has no escalation policy")
