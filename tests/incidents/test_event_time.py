"""The time an event counts from: its reported time, never in the future, never earlier
than the bound before it was received."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steward.incidents import event_time

RECEIVED = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_plausible_time_counts_as_reported() -> None:
    reported = RECEIVED - timedelta(minutes=59)
    assert event_time.plausible(reported, RECEIVED, HOUR) == (reported, None)


def test_no_time_counts_from_receipt() -> None:
    assert event_time.plausible(None, RECEIVED, HOUR) == (RECEIVED, None)


def test_a_time_years_ago_counts_from_the_bound_and_says_so() -> None:
    counted, note = event_time.plausible(datetime(2015, 3, 1, tzinfo=UTC), RECEIVED, HOUR)
    assert counted == RECEIVED - HOUR
    assert note == ("reported 2015-03-01T00:00:00Z, 11 years before it was received; "
                    "counted from 60 min before receipt")


def test_a_time_in_the_future_counts_from_receipt_and_says_so() -> None:
    counted, note = event_time.plausible(RECEIVED + timedelta(minutes=6), RECEIVED, HOUR)
    assert counted == RECEIVED
    assert note == ("reported 2026-12-07T12:06:00Z, 6 min after it was received; "
                    "counted from its receipt")


def test_a_naive_time_is_utc() -> None:
    naive = datetime(2026, 12, 7, 11, 30)
    assert event_time.plausible(naive, RECEIVED, HOUR)[0] == naive.replace(tzinfo=UTC)
