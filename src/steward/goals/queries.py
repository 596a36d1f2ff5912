"""Reads of shared goals for pages: every goal's progress, one goal's progress.

Plain data only (the dicts of :func:`steward.goals.service.goal_progress`), so a
page can render after its session is closed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from steward.goals.service import get_goal, goal_progress, list_goals


def progress_of_goals(session: Session, *, now: datetime | None = None,
                      weekly: bool = False) -> list[dict[str, Any]]:
    """Every goal (latest period end first) with the organisation's and each team's value
    so far; week by week too when ``weekly``."""
    return [goal_progress(session, goal, now=now, weekly=weekly)
            for goal in list_goals(session)]


def progress_of_goal(session: Session, goal_id: int, *,
                     now: datetime | None = None) -> dict[str, Any]:
    """One goal with its progress and weekly trends; NotFound (field ``id``) if none."""
    return goal_progress(session, get_goal(session, goal_id), now=now)
