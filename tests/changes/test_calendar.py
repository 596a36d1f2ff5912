"""Change calendar: window validation, occurrences across DST, scopes, conflicts, week grid."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from steward.changes.calendar import (
    PlannedChange,
    Scope,
    Target,
    Window,
    applies,
    conflicts,
    freezes_overlapping,
    occurrences,
    outside_maintenance,
    overlaps,
    week_grid,
)

BERLIN = ZoneInfo("Europe/Berlin")
ALL = Scope("all")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekly(weekdays: tuple[int, ...], start_time: str, minutes: int, tz: str = "UTC",
           kind: str = "freeze", scope: Scope = ALL, id: int = 1) -> Window:
    return Window(id=id, name=f"window {id}", kind=kind, scope=scope, weekdays=weekdays,
                  start_time=start_time, duration_minutes=minutes, timezone=tz)


def one_off(start: datetime, end: datetime, kind: str = "freeze", scope: Scope = ALL,
            id: int = 1, name: str = "Year-end freeze") -> Window:
    return Window(id=id, name=name, kind=kind, scope=scope, starts_at=start, ends_at=end)


# --- validation -----------------------------------------------------------

VALID_WEEKLY = weekly((4,), "16:00", 60, "Europe/Berlin")
VALID_ONE_OFF = one_off(utc(2024, 12, 20), utc(2025, 1, 6))


def test_valid_windows_pass():
    VALID_WEEKLY.validate()
    VALID_ONE_OFF.validate()
    replace(VALID_WEEKLY, scope=Scope("tier", ("1", "2"))).validate()
    replace(VALID_WEEKLY, duration_minutes=7 * 24 * 60, weekdays=(0, 6)).validate()
    # naive datetimes are UTC by convention (values read back from SQLite)
    one_off(datetime(2024, 1, 1), datetime(2024, 1, 2)).validate()


@pytest.mark.parametrize(("window", "field"), [
    (replace(VALID_ONE_OFF, ends_at=utc(2024, 12, 19)), "ends_at"),
    (replace(VALID_ONE_OFF, ends_at=utc(2024, 12, 20)), "ends_at"),
    (replace(VALID_ONE_OFF, ends_at=None), "ends_at"),
    (replace(VALID_ONE_OFF, starts_at=None), "starts_at"),
    (replace(VALID_ONE_OFF, weekdays=(1,)), "weekdays"),
    (replace(VALID_WEEKLY, starts_at=utc(2024, 1, 1)), "weekdays"),
    (Window(1, "w", "freeze", ALL), "starts_at"),
    (replace(VALID_WEEKLY, start_time="25:00"), "start_time"),
    (replace(VALID_WEEKLY, start_time="9:00"), "start_time"),
    (replace(VALID_WEEKLY, start_time="09:60"), "start_time"),
    (replace(VALID_WEEKLY, start_time="nine"), "start_time"),
    (replace(VALID_WEEKLY, start_time=None), "start_time"),
    (replace(VALID_WEEKLY, duration_minutes=0), "duration_minutes"),
    (replace(VALID_WEEKLY, duration_minutes=-5), "duration_minutes"),
    (replace(VALID_WEEKLY, duration_minutes=7 * 24 * 60 + 1), "duration_minutes"),
    (replace(VALID_WEEKLY, duration_minutes=None), "duration_minutes"),
    (replace(VALID_WEEKLY, timezone="Europe/Atlantis"), "timezone"),
    (replace(VALID_WEEKLY, timezone=""), "timezone"),
    (replace(VALID_WEEKLY, scope=Scope("region", ("eu",))), "scope.kind"),
    (replace(VALID_WEEKLY, scope=Scope("team")), "scope.values"),
    (replace(VALID_WEEKLY, scope=Scope("tier", ("5",))), "scope.values"),
    (replace(VALID_WEEKLY, scope=Scope("all", ("x",))), "scope.values"),
    (replace(VALID_WEEKLY, weekdays=(7,)), "weekdays"),
    (replace(VALID_WEEKLY, weekdays=(-1,)), "weekdays"),
    (replace(VALID_WEEKLY, weekdays=()), "weekdays"),
    (replace(VALID_WEEKLY, kind="blackout"), "kind"),
    (replace(VALID_WEEKLY, name=" "), "name"),
])
def test_invalid_windows_name_the_field(window, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        window.validate()


# --- occurrences ----------------------------------------------------------

def test_overlap_is_half_open():
    assert overlaps(utc(2024, 1, 1, 10), utc(2024, 1, 1, 12), utc(2024, 1, 1, 11),
                    utc(2024, 1, 1, 13))
    assert not overlaps(utc(2024, 1, 1, 10), utc(2024, 1, 1, 12), utc(2024, 1, 1, 12),
                        utc(2024, 1, 1, 13))
    assert not overlaps(utc(2024, 1, 1, 12), utc(2024, 1, 1, 13), utc(2024, 1, 1, 10),
                        utc(2024, 1, 1, 12))


def test_one_off_occurrence():
    window = one_off(utc(2024, 12, 20), utc(2025, 1, 6))
    assert occurrences(window, utc(2024, 12, 24), utc(2024, 12, 25)) == [
        (utc(2024, 12, 20), utc(2025, 1, 6))]
    assert occurrences(window, utc(2025, 1, 6), utc(2025, 1, 7)) == []  # touches the end
    assert occurrences(window, utc(2024, 12, 19), utc(2024, 12, 20)) == []  # touches the start
    assert occurrences(window, utc(2024, 12, 19, 23, 59), utc(2024, 12, 20, 0, 1)) != []


def test_empty_or_reversed_range_has_no_occurrences():
    assert occurrences(VALID_ONE_OFF, utc(2024, 12, 24), utc(2024, 12, 24)) == []
    assert occurrences(VALID_ONE_OFF, utc(2024, 12, 25), utc(2024, 12, 24)) == []


def test_one_off_given_with_an_offset_comes_back_in_utc():
    start = datetime(2024, 12, 20, 18, tzinfo=BERLIN)
    window = one_off(start, start + timedelta(hours=2))
    assert occurrences(window, utc(2024, 12, 1), utc(2025, 1, 1)) == [
        (utc(2024, 12, 20, 17), utc(2024, 12, 20, 19))]


def test_friday_afternoon_berlin_follows_daylight_saving():
    window = weekly((4,), "16:00", 60, "Europe/Berlin")
    summer = occurrences(window, utc(2024, 7, 1), utc(2024, 7, 8))
    winter = occurrences(window, utc(2024, 1, 1), utc(2024, 1, 8))
    assert summer == [(utc(2024, 7, 5, 14), utc(2024, 7, 5, 15))]
    assert winter == [(utc(2024, 1, 5, 15), utc(2024, 1, 5, 16))]


def test_sunday_night_window_across_spring_forward():
    # Clocks jump from 02:00 CET to 03:00 CEST on Sunday 31 March 2024.
    window = weekly((6,), "01:00", 120, "Europe/Berlin")
    found = occurrences(window, utc(2024, 3, 23), utc(2024, 4, 8))
    assert found == [
        (utc(2024, 3, 24, 0), utc(2024, 3, 24, 2)),  # CET: 01:00-03:00 = 00:00-02:00 UTC
        (utc(2024, 3, 31, 0), utc(2024, 3, 31, 1)),  # 01:00 CET to 03:00 CEST: one real hour
        (utc(2024, 4, 6, 23), utc(2024, 4, 7, 1)),  # CEST: 23:00-01:00 UTC
    ]
    for start, end in found:  # the local clock always reads 01:00-03:00
        assert (start.astimezone(BERLIN).hour, end.astimezone(BERLIN).hour) == (1, 3)


def test_sunday_night_window_across_fall_back():
    # Clocks go back from 03:00 CEST to 02:00 CET on Sunday 27 October 2024.
    window = weekly((6,), "01:00", 120, "Europe/Berlin")
    found = occurrences(window, utc(2024, 10, 19), utc(2024, 11, 4))
    assert found == [
        (utc(2024, 10, 19, 23), utc(2024, 10, 20, 1)),
        (utc(2024, 10, 26, 23), utc(2024, 10, 27, 2)),  # 01:00 CEST to 03:00 CET: three hours
        (utc(2024, 11, 3, 0), utc(2024, 11, 3, 2)),
    ]
    for start, end in found:
        assert (start.astimezone(BERLIN).hour, end.astimezone(BERLIN).hour) == (1, 3)


def test_start_in_the_spring_forward_gap_keeps_its_length():
    # 02:30 does not exist on 31 March 2024 in Berlin: it resolves to 03:30 CEST.
    window = weekly((6,), "02:30", 60, "Europe/Berlin")
    assert occurrences(window, utc(2024, 3, 30), utc(2024, 4, 1)) == [
        (utc(2024, 3, 31, 1, 30), utc(2024, 3, 31, 2, 30))]


def test_ambiguous_start_on_fall_back_uses_the_first_one():
    window = weekly((6,), "02:30", 30, "Europe/Berlin")
    [(start, end)] = occurrences(window, utc(2024, 10, 26), utc(2024, 10, 28))
    assert start == utc(2024, 10, 27, 0, 30)  # 02:30 CEST, the first 02:30 that night
    assert end > start


def test_new_york_window_follows_its_own_dst_dates():
    # US clocks changed on 10 March 2024, Europe's on 31 March.
    window = weekly((0,), "09:00", 30, "America/New_York")
    found = occurrences(window, utc(2024, 3, 4), utc(2024, 3, 12))
    assert [start for start, _ in found] == [utc(2024, 3, 4, 14), utc(2024, 3, 11, 13)]


def test_occurrence_that_started_before_the_range_is_included():
    window = weekly((4,), "22:00", 3 * 24 * 60)  # Friday 22:00 to Monday 22:00
    assert occurrences(window, utc(2024, 6, 16, 12), utc(2024, 6, 16, 13)) == [
        (utc(2024, 6, 14, 22), utc(2024, 6, 17, 22))]
    week_long = weekly((0,), "00:00", 7 * 24 * 60)
    assert occurrences(week_long, utc(2024, 6, 16, 12), utc(2024, 6, 16, 13)) == [
        (utc(2024, 6, 10), utc(2024, 6, 17))]


def test_recurring_touching_boundaries_do_not_overlap():
    window = weekly((2,), "10:00", 60)  # Wednesday 10:00-11:00 UTC
    assert occurrences(window, utc(2024, 6, 12, 11), utc(2024, 6, 12, 12)) == []
    assert occurrences(window, utc(2024, 6, 12, 9), utc(2024, 6, 12, 10)) == []
    assert len(occurrences(window, utc(2024, 6, 12, 10, 59), utc(2024, 6, 12, 12))) == 1


def test_several_weekdays_come_back_in_order():
    window = weekly((0, 2, 4), "12:00", 30)
    found = occurrences(window, utc(2024, 6, 10), utc(2024, 6, 17))
    assert [start.day for start, _ in found] == [10, 12, 14]


def test_occurrences_rejects_an_invalid_window():
    with pytest.raises(ValueError, match=r"^start_time:"):
        occurrences(replace(VALID_WEEKLY, start_time="x"), utc(2024, 1, 1), utc(2024, 1, 2))


# --- scopes ----------------------------------------------------------------

TARGETS = (Target("payments-api", "payments", 1), Target("ledger-db", "ledger", 2))


@pytest.mark.parametrize(("scope", "expected"), [
    (Scope("all"), True),
    (Scope("team", ("payments",)), True),
    (Scope("team", ("search", "ledger")), True),
    (Scope("team", ("search",)), False),
    (Scope("tier", ("1",)), True),
    (Scope("tier", ("3", "4")), False),
    (Scope("services", ("ledger-db",)), True),
    (Scope("services", ("ledger",)), False),
])
def test_scope_matching(scope, expected):
    assert applies(replace(VALID_ONE_OFF, scope=scope), TARGETS) is expected


def test_scope_of_everything_applies_even_without_targets():
    assert applies(VALID_ONE_OFF, [])
    assert not applies(replace(VALID_ONE_OFF, scope=Scope("team", ("payments",))), [])


def test_targets_without_team_never_match_team_scopes():
    assert not applies(replace(VALID_ONE_OFF, scope=Scope("team", ("payments",))),
                       [Target("orphan", None, 3)])


def test_freezes_overlapping_filters_kind_scope_and_time():
    windows = [
        one_off(utc(2024, 12, 20), utc(2025, 1, 6), id=1),
        one_off(utc(2024, 12, 20), utc(2025, 1, 6), id=2, kind="maintenance"),
        one_off(utc(2024, 12, 20), utc(2025, 1, 6), id=3, scope=Scope("team", ("search",))),
        one_off(utc(2024, 11, 1), utc(2024, 11, 2), id=4),
        weekly((1,), "09:00", 120, id=5, scope=Scope("tier", ("1",))),  # Tuesdays
    ]
    found = freezes_overlapping(windows, utc(2024, 12, 24, 8), utc(2024, 12, 24, 10), TARGETS)
    assert [window.id for window in found] == [1, 5]
    assert freezes_overlapping(windows, utc(2024, 12, 24, 11), utc(2024, 12, 24, 12),
                               TARGETS) == [windows[0]]


def test_outside_maintenance():
    nightly = [weekly(tuple(range(7)), "22:00", 240, kind="maintenance", id=1,
                      scope=Scope("services", ("ledger-db",)))]
    # fully inside
    assert not outside_maintenance(nightly, utc(2024, 6, 12, 22), utc(2024, 6, 13, 2), TARGETS)
    assert not outside_maintenance(nightly, utc(2024, 6, 12, 23), utc(2024, 6, 13, 1), TARGETS)
    # partly or entirely outside
    assert outside_maintenance(nightly, utc(2024, 6, 12, 21), utc(2024, 6, 12, 23), TARGETS)
    assert outside_maintenance(nightly, utc(2024, 6, 13, 1), utc(2024, 6, 13, 3), TARGETS)
    assert outside_maintenance(nightly, utc(2024, 6, 13, 10), utc(2024, 6, 13, 11), TARGETS)
    # not applicable: no maintenance windows for these targets, or none at all
    search = [Target("search-api", "search", 3)]
    assert not outside_maintenance(nightly, utc(2024, 6, 13, 10), utc(2024, 6, 13, 11), search)
    assert not outside_maintenance([], utc(2024, 6, 13, 10), utc(2024, 6, 13, 11), TARGETS)
    freeze_only = [one_off(utc(2024, 1, 1), utc(2024, 1, 2))]
    assert not outside_maintenance(freeze_only, utc(2024, 6, 13), utc(2024, 6, 14), TARGETS)


def test_inside_one_of_several_maintenance_windows_is_enough():
    windows = [weekly((0,), "06:00", 60, kind="maintenance", id=1),
               weekly((3,), "20:00", 120, kind="maintenance", id=2)]
    assert not outside_maintenance(windows, utc(2024, 6, 13, 20, 30), utc(2024, 6, 13, 21),
                                   TARGETS)


def test_back_to_back_maintenance_windows_count_as_one():
    windows = [one_off(utc(2024, 6, 1, 0), utc(2024, 6, 1, 2), kind="maintenance", id=1),
               one_off(utc(2024, 6, 1, 2), utc(2024, 6, 1, 4), kind="maintenance", id=2)]
    assert not outside_maintenance(windows, utc(2024, 6, 1, 1), utc(2024, 6, 1, 3), TARGETS)
    assert outside_maintenance(windows, utc(2024, 6, 1, 1), utc(2024, 6, 1, 5), TARGETS)


# --- conflicts -------------------------------------------------------------

def change(id: int, services: tuple[str, ...], start: datetime, hours: int = 2) -> PlannedChange:
    return PlannedChange(id, f"CHG-{id}", services, start, start + timedelta(hours=hours))


# payments-api depends on ledger-db; web depends on payments-api.
DEPENDS_ON = {"payments-api": {"ledger-db"}, "web": {"payments-api"}}


def related_mapping(name: str) -> dict[str, str]:
    result = {dep: "dependency" for dep in DEPENDS_ON.get(name, set())}
    result.update({other: "dependant" for other, deps in DEPENDS_ON.items() if name in deps})
    return result


def related_set(name: str) -> set[str]:
    return set(related_mapping(name))


T0 = utc(2024, 6, 12, 10)
MINE = change(1, ("ledger-db",), T0)


def test_conflict_on_the_same_service():
    other = change(7, ("ledger-db", "reports"), T0 + timedelta(hours=1))
    assert conflicts(MINE, [other], related_set) == [
        (other, "CHG-7 overlaps and also changes ledger-db")]


def test_conflict_with_a_dependant_service():
    other = change(9, ("payments-api",), T0 - timedelta(hours=1))
    assert conflicts(MINE, [other], related_mapping) == [
        (other, "CHG-9 overlaps and changes payments-api, which depends on ledger-db")]


def test_conflict_with_a_dependency():
    mine = change(2, ("payments-api",), T0)
    other = change(3, ("ledger-db",), T0)
    assert conflicts(mine, [other], related_mapping) == [
        (other, "CHG-3 overlaps and changes ledger-db, which payments-api depends on")]


def test_conflict_with_a_plain_set_of_relations_is_worded_neutrally():
    other = change(9, ("payments-api",), T0)
    [(_, reason)] = conflicts(MINE, [other], related_set)
    assert reason == ("CHG-9 overlaps and changes payments-api, a direct dependency or "
                      "dependant of ledger-db")


def test_only_direct_relations_conflict():
    other = change(4, ("web",), T0)  # web -> payments-api -> ledger-db: two hops away
    assert conflicts(MINE, [other], related_mapping) == []


def test_several_relations_are_all_named():
    mine = change(2, ("payments-api",), T0)
    other = change(3, ("ledger-db", "web"), T0)
    [(_, reason)] = conflicts(mine, [other], related_mapping)
    assert reason == ("CHG-3 overlaps and changes ledger-db, which payments-api depends on; "
                      "and web, which depends on payments-api")


def test_no_conflict_without_overlap_or_with_touching_windows():
    later = change(5, ("ledger-db",), T0 + timedelta(hours=2))  # starts when mine ends
    earlier = change(6, ("ledger-db",), T0 - timedelta(hours=2))  # ends when mine starts
    far = change(8, ("ledger-db",), T0 + timedelta(days=1))
    assert conflicts(MINE, [later, earlier, far], related_set) == []


def test_unrelated_overlapping_change_does_not_conflict():
    assert conflicts(MINE, [change(5, ("search",), T0)], related_set) == []


def test_a_change_never_conflicts_with_itself():
    moved = replace(MINE, start=T0 + timedelta(minutes=30))  # same id, e.g. an edited copy
    assert conflicts(MINE, [MINE, moved], related_set) == []


def test_conflicts_are_ordered_by_start_and_relations_looked_up_once():
    calls: list[str] = []

    def counting(name: str) -> set[str]:
        calls.append(name)
        return related_set(name)

    a = change(20, ("payments-api",), T0 + timedelta(hours=1))
    b = change(10, ("ledger-db",), T0 - timedelta(hours=1))
    c = change(30, ("payments-api",), T0)
    assert [o.id for o, _ in conflicts(MINE, [a, b, c], counting)] == [10, 30, 20]
    assert calls == ["ledger-db"]


# --- week grid --------------------------------------------------------------

def test_week_grid_across_spring_forward():
    # The week of Monday 25 March 2024 in Berlin; Sunday 31 March has 23 hours.
    nightly = weekly(tuple(range(7)), "23:00", 120, "Europe/Berlin", id=1)
    chg = change(3, ("ledger-db",), datetime(2024, 3, 27, 22, tzinfo=BERLIN).astimezone(UTC),
                 hours=4)
    grid = week_grid([nightly], [chg], datetime(2024, 3, 25, 12, tzinfo=BERLIN),
                     "Europe/Berlin")
    assert grid["week_start"] == date(2024, 3, 25)
    days = grid["days"]
    assert [day["date"] for day in days] == [date(2024, 3, 25) + timedelta(days=i)
                                             for i in range(7)]
    # Monday: the Sunday-night occurrence spills in until 01:00, Monday's starts at 23:00.
    monday = days[0]["windows"]
    assert [(w["start"].hour, w["end"].hour) for w in monday] == [(0, 1), (23, 0)]
    assert monday[0]["continues_before"] and not monday[0]["continues_after"]
    assert monday[1]["continues_after"] and monday[1]["end"] == datetime(2024, 3, 26,
                                                                         tzinfo=BERLIN)
    # The change runs Wednesday 22:00 to Thursday 02:00 local: split over two days.
    wed, thu = days[2]["changes"], days[3]["changes"]
    assert [(c["label"], c["start"].hour, c["continues_after"]) for c in wed] == [
        ("CHG-3", 22, True)]
    assert [(c["start"].hour, c["end"].hour, c["continues_before"]) for c in thu] == [
        (0, 2, True)]
    assert days[0]["changes"] == []
    # Sunday ends at local midnight, 22:00 UTC after the switch to CEST.
    sunday = days[6]["windows"]
    assert sunday[-1]["end"].astimezone(UTC) == utc(2024, 3, 31, 22)
    assert all(w["start"].tzinfo is not None for day in days for w in day["windows"])


def test_week_grid_accepts_a_date_and_skips_other_weeks():
    chg = change(4, ("x",), utc(2024, 1, 1, 12))
    grid = week_grid([VALID_ONE_OFF], [chg], date(2024, 6, 10), "UTC")
    assert all(day["windows"] == [] and day["changes"] == [] for day in grid["days"])


def test_week_grid_rejects_an_unknown_time_zone():
    with pytest.raises(ValueError, match=r"^timezone:"):
        week_grid([], [], date(2024, 6, 10), "Nowhere/Land")
