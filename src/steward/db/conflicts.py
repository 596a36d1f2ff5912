"""A write that lost a unique key to a concurrent transaction, tried once more.

Two processes recording the same event at once (a redelivered webhook, twin
alerts) both find no row and both insert; the database refuses the second.
Tried again, that write finds the winner's row and answers as a repeat would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

T = TypeVar("T")


def once_more_on_conflict(attempt: Callable[[], T]) -> T:
    try:
        return attempt()
    except IntegrityError:
        return attempt()


async def once_more_on_conflict_async(attempt: Callable[[], Awaitable[T]]) -> T:
    try:
        return await attempt()
    except IntegrityError:
        return await attempt()
