"""Which pages wake someone, and when quiet hours hold a notification back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from steward.notify.quiet_hours import parse_clock, quiet_until, zone
from steward.notify.urgency import rule_applies, urgency_for


@pytest.mark.parametrize(("priority", "urgency"), [
    ("P1", "high"), ("P2", "high"), ("P3", "low"), ("P4", "low"), ("p1", "high"), ("", "low")])
def test_priority_decides_urgency(priority: str, urgency: str) -> None:
    assert urgency_for(priority) == urgency


def test_rules_for_any_urgency_cover_both() -> None:
    assert rule_applies("any", "high") and rule_applies("any", "low")
    assert rule_applies("high", "high") and not rule_applies("high", "low")
    assert rule_applies("low", "low") and not rule_applies("low", "high")


def test_quiet_hours_across_midnight_end_the_next_morning_in_the_persons_zone() -> None:
    # 23:30 in Amsterdam (CET, UTC+1) on 10 January: quiet until 07:00 local = 06:00 UTC.
    at = datetime(2026, 1, 10, 22, 30, tzinfo=UTC)
    assert quiet_until(at, "Europe/Amsterdam", "22:00", "07:00") == datetime(
        2026, 1, 11, 6, 0, tzinfo=UTC)
    # 03:00 local: the same morning's 07:00.
    early = datetime(2026, 1, 11, 2, 0, tzinfo=UTC)
    assert quiet_until(early, "Europe/Amsterdam", "22:00", "07:00") == datetime(
        2026, 1, 11, 6, 0, tzinfo=UTC)
    # Noon: not quiet.
    assert quiet_until(datetime(2026, 1, 11, 11, 0, tzinfo=UTC), "Europe/Amsterdam",
                       "22:00", "07:00") is None


def test_quiet_hours_end_at_local_wall_clock_time_across_daylight_saving() -> None:
    # The night of 28-29 March 2026 Amsterdam moves to CEST (UTC+2): 07:00 local = 05:00 UTC.
    at = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert quiet_until(at, "Europe/Amsterdam", "22:00", "07:00") == datetime(
        2026, 3, 29, 5, 0, tzinfo=UTC)


def test_a_daytime_window_and_no_window() -> None:
    at = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)  # 09:00 in New York (EDT)
    assert quiet_until(at, "America/New_York", "08:00", "10:00") == datetime(
        2026, 6, 1, 14, 0, tzinfo=UTC)
    assert quiet_until(at, "America/New_York", None, None) is None
    assert quiet_until(at, "America/New_York", "08:00", "08:00") is None


def test_bad_clock_times_and_zones_are_named() -> None:
    with pytest.raises(ValueError, match="quiet_start"):
        parse_clock("25:00", "quiet_start")
    with pytest.raises(ValueError, match="time_zone: unknown time zone 'Mars/Base'"):
        zone("Mars/Base")
    with pytest.raises(ValueError, match="unknown time zone"):
        zone("../etc/passwd")
    assert parse_clock("07:05", "x").minute == 5
