"""The first working answer of who is on call, straight from the tables."""

from __future__ import annotations

from datetime import UTC, datetime

from helpers import make_service, make_team, make_user
from sqlalchemy import select

from steward.auth.models import User
from steward.catalog.models import Service, Team
from steward.oncall import queries
from steward.oncall.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    LayerMember,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
)


def test_weekly_rotation_policy_and_override_answer_by_level(db) -> None:
    make_team(db, "payments")
    make_service(db, "checkout", owner="payments")
    for name in ("alice", "bob", "carol"):
        make_user(db, name, teams=["payments"])
    with db.session() as session:
        team = session.scalar(select(Team).where(Team.name == "payments"))
        users = {u.username: u.id for u in session.scalars(select(User))}
        schedule = Schedule(team_id=team.id, name="primary", time_zone="Europe/Amsterdam")
        session.add(schedule)
        session.flush()
        layer = ScheduleLayer(schedule_id=schedule.id, name="weekly", position=1,
                              starts=datetime(2026, 1, 5, 9, 0), handoff_interval_hours=168)
        session.add(layer)
        session.flush()
        for i, name in enumerate(("alice", "bob")):
            session.add(LayerMember(layer_id=layer.id, position=i, user_id=users[name]))
        session.add(ScheduleOverride(schedule_id=schedule.id, user_id=users["carol"],
                                     starts_at=datetime(2026, 1, 14, tzinfo=UTC),
                                     ends_at=datetime(2026, 1, 15, tzinfo=UTC)))
        policy = EscalationPolicy(team_id=team.id, name="payments", repeat_count=1)
        session.add(policy)
        session.flush()
        one = EscalationLevel(policy_id=policy.id, level=1, timeout_minutes=5)
        two = EscalationLevel(policy_id=policy.id, level=2, timeout_minutes=10)
        session.add_all([one, two])
        session.flush()
        session.add(EscalationTarget(level_id=one.id, kind="schedule", schedule_id=schedule.id))
        session.add(EscalationTarget(level_id=two.id, kind="user", user_id=users["carol"]))
        session.flush()
        service_id = session.scalar(select(Service.id).where(Service.name == "checkout"))

        first_week = queries.oncall_for_team(session, team.id, datetime(2026, 1, 6, tzinfo=UTC))
        assert [(o.username, o.level, o.schedule) for o in first_week] == [
            ("alice", 1, "primary"), ("carol", 2, None)]
        second = queries.oncall_for_service(session, service_id,
                                            datetime(2026, 1, 13, tzinfo=UTC))
        assert [(o.username, o.level) for o in second] == [("bob", 1), ("carol", 2)]
        overridden = queries.level_targets(session, policy.id, 1,
                                           datetime(2026, 1, 14, 12, tzinfo=UTC))
        assert [(o.username, o.schedule) for o in overridden] == [("carol", "primary")]
        before = queries.level_targets(session, policy.id, 1, datetime(2026, 1, 1, tzinfo=UTC))
        assert before == []
