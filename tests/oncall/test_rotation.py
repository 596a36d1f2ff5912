"""Rotations turned into shifts: hand-offs across daylight-saving changes, layers,
restrictions, overrides and gaps (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from steward.oncall import rotation
from steward.oncall.rotation import Gap, Layer, Override, Shift

AMS = "Europe/Amsterdam"
NY = "America/New_York"
ALICE, BOB, CAROL, DAVE = 1, 2, 3, 4


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def hours(shift: Shift | Gap) -> float:
    return (shift.end - shift.start).total_seconds() / 3600


def weekly(zone: str, starts: datetime, members: tuple[int, ...] = (ALICE, BOB),
           **kw: object) -> Layer:
    return Layer(name="weekly", position=1, starts=starts, time_zone=zone,
                 interval_hours=168, members=members, **kw)  # type: ignore[arg-type]


# --- daylight saving: day-based hand-offs keep their local wall-clock time ----------


def test_weekly_amsterdam_handoff_stays_at_nine_across_spring_forward() -> None:
    # 2026-03-29 02:00 CET the clocks go to 03:00 CEST.
    layer = weekly(AMS, datetime(2026, 3, 23, 9, 0))
    shifts = rotation.layer_shifts(layer, utc(2026, 3, 23, 8), utc(2026, 4, 6, 7))
    assert [(s.user_id, s.start, s.end) for s in shifts] == [
        (ALICE, utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)),  # 09:00 CET -> 09:00 CEST
        (BOB, utc(2026, 3, 30, 7), utc(2026, 4, 6, 7)),
    ]
    assert [hours(s) for s in shifts] == [167, 168]


def test_weekly_amsterdam_handoff_stays_at_nine_across_fall_back() -> None:
    # 2026-10-25 03:00 CEST the clocks go back to 02:00 CET.
    layer = weekly(AMS, datetime(2026, 10, 19, 9, 0))
    shifts = rotation.layer_shifts(layer, utc(2026, 10, 19, 7), utc(2026, 11, 2, 8))
    assert [(s.user_id, s.start, s.end) for s in shifts] == [
        (ALICE, utc(2026, 10, 19, 7), utc(2026, 10, 26, 8)),
        (BOB, utc(2026, 10, 26, 8), utc(2026, 11, 2, 8)),
    ]
    assert hours(shifts[0]) == 169


def test_who_is_on_call_around_the_amsterdam_handoff_after_spring_forward() -> None:
    layer = weekly(AMS, datetime(2026, 3, 23, 9, 0))
    # Monday 30 March 08:59 local (CEST) is 06:59 UTC: still Alice; 09:00 local is Bob.
    assert rotation.layer_at(layer, utc(2026, 3, 30, 6, 59)) == ALICE
    assert rotation.layer_at(layer, utc(2026, 3, 30, 7, 0)) == BOB
    # Under a naive count of 168 real hours the hand-off would be at 10:00 local.
    assert rotation.layer_at(layer, utc(2026, 3, 30, 7, 30)) == BOB


def test_weekly_new_york_across_spring_forward_and_fall_back() -> None:
    # 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    spring = weekly(NY, datetime(2026, 3, 2, 9, 0))
    shifts = rotation.layer_shifts(spring, utc(2026, 3, 2, 14), utc(2026, 3, 16, 13))
    assert [(s.start, s.end) for s in shifts] == [
        (utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)), (utc(2026, 3, 9, 13), utc(2026, 3, 16, 13))]
    assert hours(shifts[0]) == 167
    fall = weekly(NY, datetime(2026, 10, 26, 9, 0))
    shifts = rotation.layer_shifts(fall, utc(2026, 10, 26, 13), utc(2026, 11, 9, 14))
    assert [(s.start, s.end) for s in shifts] == [
        (utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)), (utc(2026, 11, 2, 14), utc(2026, 11, 9, 14))]
    assert hours(shifts[0]) == 169


def test_daily_handoff_inside_the_skipped_hour_moves_forward_by_the_gap_new_york() -> None:
    # 02:30 does not exist on 2026-03-08 in New York: it is read as 03:30 EDT (RFC 5545).
    layer = Layer("daily", 1, datetime(2026, 3, 6, 2, 30), NY, 24, (ALICE, BOB, CAROL))
    assert rotation.handoff(layer, 1) == utc(2026, 3, 7, 7, 30)   # 02:30 EST
    assert rotation.handoff(layer, 2) == utc(2026, 3, 8, 7, 30)   # "02:30" = 03:30 EDT
    assert rotation.handoff(layer, 3) == utc(2026, 3, 9, 6, 30)   # 02:30 EDT
    shifts = rotation.layer_shifts(layer, utc(2026, 3, 7, 7, 30), utc(2026, 3, 9, 6, 30))
    assert [(s.user_id, hours(s)) for s in shifts] == [(BOB, 24), (CAROL, 23)]
    assert rotation.layer_at(layer, utc(2026, 3, 8, 7, 29)) == BOB
    assert rotation.layer_at(layer, utc(2026, 3, 8, 7, 30)) == CAROL


def test_daily_handoff_inside_the_repeated_hour_is_its_first_occurrence_new_york() -> None:
    # 01:30 happens twice on 2026-11-01 in New York (EDT, then EST): the first counts.
    layer = Layer("daily", 1, datetime(2026, 10, 31, 1, 30), NY, 24, (ALICE, BOB, CAROL))
    assert rotation.handoff(layer, 1) == utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert rotation.handoff(layer, 2) == utc(2026, 11, 2, 6, 30)  # 01:30 EST
    shifts = rotation.layer_shifts(layer, utc(2026, 10, 31, 5, 30), utc(2026, 11, 2, 6, 30))
    assert [(s.user_id, hours(s)) for s in shifts] == [(ALICE, 24), (BOB, 25)]
    # The second 01:30 (06:30 UTC) is within Bob's shift, not another hand-off.
    assert rotation.layer_at(layer, utc(2026, 11, 1, 6, 30)) == BOB


def test_amsterdam_skipped_and_repeated_hour_handoffs() -> None:
    spring = Layer("daily", 1, datetime(2026, 3, 28, 2, 30), AMS, 24, (ALICE, BOB))
    assert rotation.handoff(spring, 1) == utc(2026, 3, 29, 1, 30)  # "02:30" = 03:30 CEST
    assert rotation.handoff(spring, 2) == utc(2026, 3, 30, 0, 30)
    fall = Layer("daily", 1, datetime(2026, 10, 24, 2, 30), AMS, 24, (ALICE, BOB))
    assert rotation.handoff(fall, 1) == utc(2026, 10, 25, 0, 30)   # first 02:30 (CEST)
    assert rotation.handoff(fall, 2) == utc(2026, 10, 26, 1, 30)   # 02:30 CET
    shifts = rotation.layer_shifts(fall, utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30))
    assert [(s.user_id, hours(s)) for s in shifts] == [(BOB, 25)]


def test_sub_day_interval_counts_real_hours_across_the_change() -> None:
    # Twelve-hour shifts from 20:00 EST; after spring forward they hand off at 09:00/21:00.
    layer = Layer("follow-the-sun", 1, datetime(2026, 3, 7, 20, 0), NY, 12, (ALICE, BOB))
    shifts = rotation.layer_shifts(layer, utc(2026, 3, 8, 1), utc(2026, 3, 9, 13))
    assert all(hours(s) == 12 for s in shifts)
    assert [s.start for s in shifts] == [utc(2026, 3, 8, 1), utc(2026, 3, 8, 13),
                                         utc(2026, 3, 9, 1)]
    tz = rotation.zone(NY)
    assert shifts[1].start.astimezone(tz).hour == 9  # was 08:00 before the change


# --- layers, restrictions, overrides, gaps -------------------------------------------


def test_before_the_first_handoff_is_a_gap_not_a_guess() -> None:
    layer = weekly(AMS, datetime(2026, 1, 5, 9, 0))
    line = rotation.timeline([layer], [], utc(2026, 1, 1), utc(2026, 1, 6))
    assert line.gaps == [Gap(utc(2026, 1, 1), utc(2026, 1, 5, 8))]
    assert [(s.user_id, s.start) for s in line.shifts] == [(ALICE, utc(2026, 1, 5, 8))]
    assert rotation.on_call_at([layer], [], utc(2026, 1, 2)) is None


def test_business_hours_layer_wins_over_the_round_the_clock_layer_where_it_covers() -> None:
    base = Layer("24x7", 1, datetime(2026, 1, 5, 9, 0), AMS, 168, (ALICE,))
    day = Layer("office", 2, datetime(2026, 1, 5, 0, 0), AMS, 24, (BOB, CAROL),
                restrict_start=time(9, 0), restrict_end=time(17, 0),
                restrict_weekdays=frozenset({0, 1, 2, 3, 4}))
    # Monday 5 Jan 2026 is a weekday; Saturday 10 Jan is not.
    line = rotation.timeline([day, base], [], utc(2026, 1, 5, 8), utc(2026, 1, 6, 8))
    assert [(s.user_id, s.layer, s.start, s.end) for s in line.shifts] == [
        (BOB, "office", utc(2026, 1, 5, 8), utc(2026, 1, 5, 16)),
        (ALICE, "24x7", utc(2026, 1, 5, 16), utc(2026, 1, 6, 8)),
    ]
    assert line.gaps == []
    assert rotation.on_call_at([base, day], [], utc(2026, 1, 10, 12)).user_id == ALICE
    assert rotation.on_call_at([base, day], [], utc(2026, 1, 6, 12)).user_id == CAROL


def test_night_window_wraps_midnight_and_leaves_days_as_gaps() -> None:
    night = Layer("nights", 1, datetime(2026, 1, 5, 18, 0), NY, 24, (ALICE, BOB),
                  restrict_start=time(18, 0), restrict_end=time(8, 0))
    line = rotation.timeline([night], [], utc(2026, 1, 5, 23), utc(2026, 1, 7, 23))
    assert [(s.user_id, s.start, s.end) for s in line.shifts] == [
        (ALICE, utc(2026, 1, 5, 23), utc(2026, 1, 6, 13)),
        (BOB, utc(2026, 1, 6, 23), utc(2026, 1, 7, 13)),
    ]
    assert line.gaps == [Gap(utc(2026, 1, 6, 13), utc(2026, 1, 6, 23)),
                         Gap(utc(2026, 1, 7, 13), utc(2026, 1, 7, 23))]


def test_window_keeps_local_time_across_daylight_saving() -> None:
    office = Layer("office", 1, datetime(2026, 3, 27, 0, 0), AMS, 24, (ALICE,),
                   restrict_start=time(9, 0), restrict_end=time(17, 0))
    shifts = rotation.layer_shifts(office, utc(2026, 3, 27), utc(2026, 3, 31))
    assert [s.start.hour for s in shifts] == [8, 8, 7, 7]  # 09:00 CET, then CEST
    assert all(hours(s) == 8 for s in shifts)


def test_override_wins_over_layers_and_splits_the_shift() -> None:
    layer = weekly(AMS, datetime(2026, 1, 5, 9, 0))
    cover = Override(CAROL, utc(2026, 1, 6, 18), utc(2026, 1, 7, 6), id=7)
    line = rotation.timeline([layer], [cover], utc(2026, 1, 5, 8), utc(2026, 1, 12, 8))
    assert [(s.user_id, s.override, s.start, s.end) for s in line.shifts] == [
        (ALICE, False, utc(2026, 1, 5, 8), utc(2026, 1, 6, 18)),
        (CAROL, True, utc(2026, 1, 6, 18), utc(2026, 1, 7, 6)),
        (ALICE, False, utc(2026, 1, 7, 6), utc(2026, 1, 12, 8)),
    ]
    assert line.shifts[1].override_id == 7
    at = rotation.on_call_at([layer], [cover], utc(2026, 1, 7))
    assert at is not None and (at.user_id, at.override) == (CAROL, True)


def test_override_fills_a_gap() -> None:
    layer = weekly(AMS, datetime(2026, 1, 5, 9, 0))
    cover = Override(DAVE, utc(2026, 1, 4), utc(2026, 1, 5))
    line = rotation.timeline([layer], [cover], utc(2026, 1, 3), utc(2026, 1, 5, 12))
    assert line.gaps == [Gap(utc(2026, 1, 3), utc(2026, 1, 4)),
                         Gap(utc(2026, 1, 5), utc(2026, 1, 5, 8))]


def test_one_member_rotation_is_one_long_shift() -> None:
    layer = Layer("solo", 1, datetime(2026, 1, 1, 0, 0), AMS, 24, (ALICE,))
    line = rotation.timeline([layer], [], utc(2026, 1, 2), utc(2026, 1, 9))
    assert [(s.user_id, s.start, s.end) for s in line.shifts] == [
        (ALICE, utc(2026, 1, 2), utc(2026, 1, 9))]


def test_now_and_next() -> None:
    layer = weekly(AMS, datetime(2026, 1, 5, 9, 0), members=(ALICE, BOB, CAROL))
    cover = Override(DAVE, utc(2026, 1, 12, 8), utc(2026, 1, 13, 8))
    both = rotation.now_and_next([layer], [cover], utc(2026, 1, 7))
    assert both.now is not None and both.now.user_id == ALICE
    assert (both.since, both.until) == (utc(2026, 1, 5, 8), utc(2026, 1, 12, 8))
    assert both.next is not None and (both.next.user_id, both.next.override) == (DAVE, True)
    assert both.next.end == utc(2026, 1, 13, 8)
    gap = rotation.now_and_next([layer], [], utc(2026, 1, 1))
    assert gap.now is None and gap.until == utc(2026, 1, 5, 8) and gap.since is None
    assert gap.next is not None and gap.next.user_id == ALICE
    # A person who covers past their own shift goes on: "next" is whoever comes after.
    own = Override(ALICE, utc(2026, 1, 12, 8), utc(2026, 1, 12, 20))
    run = rotation.now_and_next([layer], [own], utc(2026, 1, 7))
    assert run.until == utc(2026, 1, 12, 20)
    assert run.next is not None and (run.next.user_id, run.next.start) == (
        BOB, utc(2026, 1, 12, 20))
    # Nobody at all within the horizon.
    empty = rotation.now_and_next([], [], utc(2026, 1, 1))
    assert (empty.now, empty.since, empty.until, empty.next) == (None, None, None, None)


def test_empty_layers_answer_nobody() -> None:
    empty = Layer("empty", 1, datetime(2026, 1, 1), AMS, 24, ())
    line = rotation.timeline([empty], [], utc(2026, 1, 1), utc(2026, 1, 2))
    assert line.shifts == [] and line.gaps == [Gap(utc(2026, 1, 1), utc(2026, 1, 2))]


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", " Europe/Amsterdam"])
def test_unknown_time_zones_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        rotation.zone(name)


def test_clock_and_weekday_parsing() -> None:
    assert rotation.parse_clock("09:30") == time(9, 30)
    for bad in ("9:30", "24:00", "12:60", "noon"):
        with pytest.raises(ValueError):
            rotation.parse_clock(bad)
    assert rotation.parse_weekdays(["Mon", "fri"]) == frozenset({0, 4})
    with pytest.raises(ValueError):
        rotation.parse_weekdays(["someday"])


def test_a_year_of_weekly_shifts_covers_the_year_exactly() -> None:
    layer = weekly(NY, datetime(2025, 1, 6, 9, 0), members=(ALICE, BOB, CAROL))
    shifts = rotation.layer_shifts(layer, utc(2026, 1, 1), utc(2027, 1, 1))
    assert len(shifts) == 53
    assert sum((s.end - s.start for s in shifts), timedelta()) == timedelta(days=365)
