"""When a timer whose handler failed is tried again: pure, no database."""

from __future__ import annotations

from datetime import timedelta

LONGEST = timedelta(hours=1)


def retry_delay(attempts: int, base_seconds: float, longest: timedelta = LONGEST) -> timedelta:
    """The wait after the ``attempts``-th failure (1 for the first): ``base_seconds``, then
    twice as long after each further failure, never more than ``longest``."""
    if attempts < 1:
        raise ValueError("attempts: the first failure is attempt 1")
    # Bounded in seconds first: a timedelta of 2**63 seconds cannot be made.
    seconds = base_seconds * (2.0 ** min(attempts - 1, 64))
    return timedelta(seconds=min(seconds, longest.total_seconds()))


def gives_up(attempts: int, max_attempts: int) -> bool:
    """Whether a timer that has failed ``attempts`` times is left failed."""
    return attempts >= max_attempts
