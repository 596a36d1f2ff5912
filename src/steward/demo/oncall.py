"""On-call for the demo: every team's weekly rotation of three people, a two-level
escalation policy, and every person paged on the demo pager (``demo.pager``), written
through the same use cases as anyone's."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from steward.auth.actor import Actor
from steward.demo import organisation as org
from steward.demo.pager import pager_url
from steward.notify.schemas import ContactMethodIn, RuleIn
from steward.notify.use_cases import contacts
from steward.oncall.schemas import LayerIn, LevelIn, PolicyIn, ScheduleCreate, TargetIn
from steward.oncall.use_cases import policies, schedules
from steward.timeutil import utcnow


def schedule_name(team: str) -> str:
    return f"{team} weekly"


def rotation_start(now: datetime, weeks_back: int = 3) -> datetime:
    """Monday 09:00 in the demo's zone, ``weeks_back`` weeks before this week's."""
    local = now.astimezone(ZoneInfo(org.ONCALL_ZONE))
    monday = local.date() - timedelta(days=local.weekday(), weeks=weeks_back)
    return datetime(monday.year, monday.month, monday.day, 9, 0)


def seed_oncall(session: Session, actor: Actor, base_url: str) -> str:
    start = rotation_start(utcnow())
    first, second = org.ONCALL_TIMEOUTS
    for team, members in org.ONCALL.items():
        schedules.create_schedule(session, actor, ScheduleCreate(
            team=team, name=schedule_name(team), time_zone=org.ONCALL_ZONE,
            description="Weekly hand-off on Monday at 09:00.",
            layers=[LayerIn(name="weekly", starts=start, handoff_interval_hours=168,
                            members=list(members))]))
        policies.put_policy(session, actor, team, PolicyIn(
            name=f"{team} escalation", repeat_count=1, levels=[
                LevelIn(timeout_minutes=first, targets=[
                    TargetIn(kind="schedule", schedule=schedule_name(team))]),
                LevelIn(timeout_minutes=second, targets=[
                    TargetIn(kind="user", user=org.ONCALL_MANAGER)])]))
    people = sorted({p for members in org.ONCALL.values() for p in members}
                    | {org.ONCALL_MANAGER})
    for username in people:
        method = contacts.add_contact_method(session, actor, username, ContactMethodIn(
            kind="webhook", target=pager_url(base_url), label="demo pager"))
        contacts.add_rule(session, actor, username, RuleIn(
            contact_method_id=method["id"], urgency="any", delay_minutes=0))
    return (f"{len(org.ONCALL)} weekly rotations and escalation policies, "
            f"{len(people)} people paged on the demo pager")
