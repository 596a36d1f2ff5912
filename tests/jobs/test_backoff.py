"""When a failed timer is tried again."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from steward.jobs.backoff import LONGEST, gives_up, retry_delay


def test_the_wait_doubles_after_each_failure_up_to_an_hour() -> None:
    waits = [retry_delay(n, 10) for n in range(1, 11)]
    assert waits[:4] == [timedelta(seconds=s) for s in (10, 20, 40, 80)]
    assert waits[-1] == LONGEST == timedelta(hours=1)
    assert all(a <= b for a, b in itertools.pairwise(waits))
    assert retry_delay(10_000, 10) == LONGEST  # no overflow however many failures


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError):
        retry_delay(0, 10)


def test_a_timer_gives_up_at_the_maximum() -> None:
    assert not gives_up(7, 8)
    assert gives_up(8, 8)
    assert gives_up(1, 1)
