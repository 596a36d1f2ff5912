"""Finding the records a request names, with the error that names its field."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import User
from steward.catalog.models import Team
from steward.errors import NotFound, ValidationError
from steward.oncall.models import Schedule


def users_by_name(session: Session, names: Iterable[str]) -> dict[str, User]:
    wanted = sorted(set(names))
    if not wanted:
        return {}
    return {u.username: u for u in session.scalars(select(User).where(User.username.in_(wanted)))}


def user_field(users: dict[str, User], name: str, *, field: str) -> User:
    user = users.get(name)
    if user is None:
        raise ValidationError(f"{field}: user {name!r} does not exist", field=field)
    if not user.active:
        raise ValidationError(f"{field}: user {name!r} is deactivated", field=field)
    return user


def schedule_by_id(session: Session, schedule_id: int, *, lock: bool = False) -> Schedule:
    query = select(Schedule).where(Schedule.id == schedule_id)
    if lock:
        query = query.with_for_update()
    schedule = session.scalar(query)
    if schedule is None:
        raise NotFound(f"schedule {schedule_id} does not exist", field="schedule")
    return schedule


def lock_team(session: Session, team_id: int) -> None:
    """Writers of one team's schedules or policy take turns (PostgreSQL; SQLite writers
    take turns anyway): a name checked free stays free until the insert."""
    session.scalar(select(Team.id).where(Team.id == team_id).with_for_update())
