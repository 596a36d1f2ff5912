"""Properties of any schedule: its shifts and gaps cover the range exactly, without
overlap, and the answer at an instant agrees with the shifts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from steward.oncall import rotation
from steward.oncall.rotation import Layer, Override

ZONES = ["Europe/Amsterdam", "America/New_York", "UTC", "Australia/Lord_Howe",
         "Asia/Kolkata", "America/Sao_Paulo"]
BASE = datetime(2026, 1, 1, tzinfo=UTC)

clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def layers(draw: st.DrawFn, position: int) -> Layer:
    restricted = draw(st.booleans())
    start, end = (draw(clock), draw(clock)) if restricted else (None, None)
    if start is not None and start == end:
        end = None
        start = None
    weekdays = draw(st.none() | st.frozensets(st.integers(0, 6), min_size=1))
    return Layer(
        name=f"layer{position}",
        position=position,
        starts=datetime(2026, 1, 1) + timedelta(minutes=15 * draw(st.integers(-2000, 30000))),
        time_zone=draw(st.sampled_from(ZONES)),
        interval_hours=draw(st.sampled_from([1, 5, 8, 12, 24, 36, 48, 72, 168, 336])),
        members=tuple(draw(st.lists(st.integers(1, 5), min_size=0, max_size=4))),
        restrict_start=start,
        restrict_end=end if start is not None else None,
        restrict_weekdays=weekdays,
    )


@st.composite
def overrides(draw: st.DrawFn) -> list[Override]:
    """Non-overlapping overrides (overlapping ones are refused when written)."""
    out: list[Override] = []
    cursor = BASE + timedelta(hours=draw(st.integers(0, 400)))
    for i in range(draw(st.integers(0, 4))):
        start = cursor + timedelta(minutes=30 * draw(st.integers(0, 300)))
        end = start + timedelta(minutes=30 * draw(st.integers(1, 200)))
        out.append(Override(draw(st.integers(1, 5)), start, end, id=i + 1))
        cursor = end
    return out


@st.composite
def schedules(draw: st.DrawFn) -> tuple[list[Layer], list[Override], datetime, datetime]:
    count = draw(st.integers(0, 3))
    stack = [draw(layers(position)) for position in range(1, count + 1)]
    start = BASE + timedelta(minutes=15 * draw(st.integers(0, 30000)))
    end = start + timedelta(hours=draw(st.integers(1, 24 * 35)))
    return stack, draw(overrides()), start, end


@settings(max_examples=150, deadline=None)
@given(schedules())
def test_shifts_and_gaps_cover_the_range_without_overlap(case) -> None:  # type: ignore[no-untyped-def]
    stack, extra, start, end = case
    line = rotation.timeline(stack, extra, start, end)
    pieces = sorted([*line.shifts, *line.gaps], key=lambda p: p.start)
    assert pieces, "a non-empty range has at least a gap"
    assert pieces[0].start == start and pieces[-1].end == end
    for before, after in itertools.pairwise(pieces):
        assert before.end == after.start  # no hole, no overlap
    assert all(p.start < p.end for p in pieces)
    for shift in line.shifts:
        assert shift.override == (shift.layer is None)


@settings(max_examples=150, deadline=None)
@given(schedules(), st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=12))
def test_the_answer_at_an_instant_agrees_with_the_shifts(case, fractions) -> None:  # type: ignore[no-untyped-def]
    stack, extra, start, end = case
    line = rotation.timeline(stack, extra, start, end)
    span = end - start
    instants = [start + span * f for f in fractions]
    instants += [s.start for s in line.shifts] + [g.start for g in line.gaps]
    for at in instants:
        if not start <= at < end:
            continue
        covering = [s for s in line.shifts if s.start <= at < s.end]
        answer = rotation.on_call_at(stack, extra, at)
        if answer is None:
            assert covering == []
            assert any(g.start <= at < g.end for g in line.gaps)
        else:
            assert len(covering) == 1
            shift = covering[0]
            assert (answer.user_id, answer.layer, answer.override) == (
                shift.user_id, shift.layer, shift.override)


@settings(max_examples=100, deadline=None)
@given(layers(1), st.integers(0, 400))
def test_day_based_handoffs_keep_their_local_time(layer: Layer, k: int) -> None:
    if layer.interval_hours % 24:
        return
    tz = rotation.zone(layer.time_zone)
    moment = rotation.handoff(layer, k).astimezone(tz)
    wanted = layer.starts + timedelta(days=k * layer.interval_hours // 24)
    # Equal, unless the wall-clock time does not exist that day (moved by the skipped hour).
    if moment.replace(tzinfo=None) != wanted:
        skipped = wanted.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
        assert skipped.replace(tzinfo=None) != wanted
        assert moment.replace(tzinfo=None) - wanted <= timedelta(hours=1)
