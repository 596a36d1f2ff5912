"""Schedules, overrides and escalation policies written through their use cases (SQLite
and PostgreSQL): rights, bad input refused naming the field with nothing written, audit
entries, and who is on call as a result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from helpers import make_service, make_team, make_user
from sqlalchemy import func, select, update

from steward.audit.models import AuditEntry
from steward.auth.models import User
from steward.auth.use_cases import accounts as auth
from steward.errors import Conflict, NotFound, PermissionDenied, StewardError, ValidationError
from steward.oncall import queries, views
from steward.oncall.models import EscalationTarget, Schedule, ScheduleLayer, ScheduleOverride
from steward.oncall.schemas import (
    LayerIn,
    OverrideCreate,
    PolicyIn,
    ScheduleCreate,
    ScheduleUpdate,
)
from steward.oncall.use_cases import overrides, policies, schedules


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def org(db):
    make_team(db, "payments")
    make_team(db, "platform")
    make_service(db, "checkout", owner="payments")
    for name in ("alice", "bob", "carol"):
        make_user(db, name, teams=["payments"])
    make_user(db, "pat", teams=["platform"])
    make_user(db, "vic", role="viewer", teams=["payments"])
    make_user(db, "root", role="admin")
    return db


def actor(db, username):
    with db.read_session() as session:
        return auth.actor_for_user(session, auth.get_user(session, username))


def weekly(members: list[str], **kw: Any) -> LayerIn:
    return LayerIn(name=kw.pop("name", "weekly"), starts=kw.pop("starts", datetime(2026, 1, 5, 9)),
                   handoff_interval_hours=kw.pop("hours", 168), members=members, **kw)


def create(db, who: str = "alice", **kw: Any) -> int:
    data = {"team": "payments", "name": "primary", "time_zone": "Europe/Amsterdam",
            "layers": [weekly(["alice", "bob"])], **kw}
    with db.session() as session:
        return schedules.create_schedule(session, actor(db, who), ScheduleCreate(**data)).id


def refused(db, error: type[StewardError], call) -> StewardError:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as caught, db.session() as session:
        call(session)
    return caught.value


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def audit_actions(db) -> list[str]:
    with db.read_session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_a_member_creates_a_schedule_and_it_answers_who_is_on_call(org) -> None:
    schedule_id = create(org)
    with org.read_session() as session:
        out = views.schedule_out(session, schedule_id)
        team_id = session.scalar(select(Schedule.team_id).where(Schedule.id == schedule_id))
        now = queries.oncall_for_team(session, team_id, utc(2026, 1, 13))
    assert out["team"] == "payments" and out["layers"][0]["members"] == ["alice", "bob"]
    assert out["layers"][0]["starts"] == "2026-01-05T09:00"
    assert [(o.username, o.level, o.schedule) for o in now] == [("bob", 1, "primary")]
    assert "schedule.create" in audit_actions(org)


def test_a_deactivated_account_is_never_on_call(org) -> None:
    schedule_id = create(org)
    with org.session() as session:
        session.execute(update(User).where(User.username == "bob").values(active=False))
    with org.read_session() as session:
        team_id = session.scalar(select(Schedule.team_id).where(Schedule.id == schedule_id))
        # bob's week: nobody to page (a gap), rather than an account nobody reads
        assert queries.oncall_for_team(session, team_id, utc(2026, 1, 13)) == []
        assert [o.username for o in queries.oncall_for_team(
            session, team_id, utc(2026, 1, 6))] == ["alice"]


def test_starts_with_an_offset_is_read_in_the_schedule_time_zone(org) -> None:
    schedule_id = create(org, layers=[weekly(["alice"], starts=datetime(
        2026, 1, 5, 8, tzinfo=UTC))])
    with org.read_session() as session:
        assert views.schedule_out(session, schedule_id)["layers"][0]["starts"] == \
            "2026-01-05T09:00"


@pytest.mark.parametrize(("changes", "field"), [
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"layers": [weekly([])]}, "layers.0.members"),
    ({"layers": [weekly(["alice"]), weekly(["nobody"], name="second")]}, "layers.1.members.0"),
    ({"layers": [weekly(["alice"], restrict_start="09:00")]}, "layers.0.restrict_end"),
    ({"layers": [weekly(["alice"], restrict_start="09:00", restrict_end="25:00")]},
     "layers.0.restrict_end"),
    ({"layers": [weekly(["alice"], position=2), weekly(["bob"], position=2, name="b")]},
     "layers.1.position"),
    ({"team": "nowhere"}, "team"),
])
def test_bad_schedules_are_refused_naming_the_field_and_nothing_is_written(
        org, changes: dict[str, Any], field: str) -> None:
    error = refused(org, ValidationError, lambda s: create(org, **changes))
    assert error.field == field and error.message.startswith(field)
    assert count(org, Schedule) == 0 and count(org, ScheduleLayer) == 0


def test_empty_rotation_message_says_so(org) -> None:
    error = refused(org, ValidationError, lambda s: create(org, layers=[weekly([])]))
    assert "empty rotation" in error.message


def test_rights_members_and_admins_write_viewers_and_other_teams_do_not(org) -> None:
    refused(org, PermissionDenied, lambda s: create(org, who="vic"))
    refused(org, PermissionDenied, lambda s: create(org, who="pat"))
    schedule_id = create(org, who="root")
    with pytest.raises(PermissionDenied), org.session() as session:
        overrides.create_override(session, actor(org, "pat"), schedule_id, OverrideCreate(
            user="pat", starts_at=utc(2026, 1, 6), ends_at=utc(2026, 1, 7)))
    with org.read_session() as session:  # anyone signed in reads
        assert views.schedule_out(session, schedule_id)["name"] == "primary"


def test_duplicate_name_in_a_team_is_a_conflict(org) -> None:
    create(org)
    error = refused(org, Conflict, lambda s: create(org))
    assert error.field == "name"
    create(org, team="platform", who="root")  # another team may use the name


def test_update_replaces_layers_and_audits_before_and_after(org) -> None:
    schedule_id = create(org)
    with org.session() as session:
        schedules.update_schedule(session, actor(org, "bob"), schedule_id, ScheduleUpdate(
            time_zone="America/New_York", layers=[weekly(["carol"], hours=24)]))
    with org.read_session() as session:
        out = views.schedule_out(session, schedule_id)
        before, after = session.execute(select(AuditEntry.before, AuditEntry.after).where(
            AuditEntry.action == "schedule.update")).one()
    assert out["time_zone"] == "America/New_York"
    assert [la["members"] for la in out["layers"]] == [["carol"]]
    assert before["layers"][0]["members"] == ["alice", "bob"]
    assert after["layers"][0]["members"] == ["carol"]


def test_overrides_who_asked_and_why_overlap_refused_naming_the_other(org) -> None:
    schedule_id = create(org)
    with org.session() as session:
        first = overrides.create_override(session, actor(org, "alice"), schedule_id,
                                          OverrideCreate(user="carol", starts_at=utc(2026, 1, 6),
                                                         ends_at=utc(2026, 1, 7),
                                                         reason="alice at the dentist"))
        first_id = first.id
    error = refused(org, Conflict, lambda s: overrides.create_override(
        s, actor(org, "bob"), schedule_id, OverrideCreate(
            user="bob", starts_at=utc(2026, 1, 6, 12), ends_at=utc(2026, 1, 8))))
    assert f"override {first_id}" in error.message and "carol" in error.message
    end_first = refused(org, ValidationError, lambda s: overrides.create_override(
        s, actor(org, "bob"), schedule_id, OverrideCreate(
            user="bob", starts_at=utc(2026, 1, 9), ends_at=utc(2026, 1, 8))))
    assert end_first.field == "ends_at"
    unknown = refused(org, ValidationError, lambda s: overrides.create_override(
        s, actor(org, "bob"), schedule_id, OverrideCreate(
            user="ghost", starts_at=utc(2026, 1, 9), ends_at=utc(2026, 1, 10))))
    assert unknown.field == "user"
    # Touching, not overlapping: allowed.
    with org.session() as session:
        overrides.create_override(session, actor(org, "bob"), schedule_id, OverrideCreate(
            user="bob", starts_at=utc(2026, 1, 7), ends_at=utc(2026, 1, 8)))
    with org.read_session() as session:
        listed = views.overrides_out(session, schedule_id)
        team_id = session.scalar(select(Schedule.team_id).where(Schedule.id == schedule_id))
        during = queries.oncall_for_team(session, team_id, utc(2026, 1, 6, 12))
    assert [(o["user"], o["requested_by"], o["reason"]) for o in listed] == [
        ("carol", "alice", "alice at the dentist"), ("bob", "bob", "")]
    assert [o.username for o in during] == ["carol"]
    with org.session() as session:
        overrides.delete_override(session, actor(org, "alice"), schedule_id, first_id)
    assert count(org, ScheduleOverride) == 1
    actions = audit_actions(org)
    assert actions.count("schedule.override.create") == 2
    assert "schedule.override.delete" in actions


def policy(*levels: list[dict[str, Any]], timeout: int = 5, repeat: int = 1) -> PolicyIn:
    return PolicyIn(name="payments", repeat_count=repeat, levels=[
        {"timeout_minutes": timeout, "targets": targets} for targets in levels])


def test_policy_levels_resolve_schedule_user_and_team_targets(org) -> None:
    create(org)
    with org.session() as session:
        schedules.create_schedule(session, actor(org, "root"), ScheduleCreate(
            team="platform", name="platform", time_zone="UTC",
            layers=[weekly(["pat"])]))
        policies.put_policy(session, actor(org, "alice"), "payments", policy(
            [{"kind": "schedule", "schedule": "primary"}],
            [{"kind": "user", "user": "carol"}, {"kind": "team", "team": "platform"}]))
    with org.read_session() as session:
        answer = views.oncall_out(session, team="payments", at=utc(2026, 1, 6))
        by_service = views.oncall_out(session, service="checkout", at=utc(2026, 1, 6))
        out = views.policy_out(session, "payments")
    assert answer == {"team": "payments", "at": "2026-01-06T00:00:00Z", "oncall": [
        {"user": "alice", "email": "", "level": 1, "schedule": "primary"},
        {"user": "carol", "email": "", "level": 2, "schedule": None},
        {"user": "pat", "email": "", "level": 2, "schedule": "platform"}]}
    assert by_service == answer
    assert [len(level["targets"]) for level in out["levels"]] == [1, 2]
    assert "escalation_policy.create" in audit_actions(org)


@pytest.mark.parametrize(("levels", "field"), [
    ([[]], "levels.0.targets"),
    ([[{"kind": "user", "user": "carol"}], [{"kind": "schedule", "schedule": "nope"}]],
     "levels.1.targets.0.schedule"),
    ([[{"kind": "schedule", "schedule_id": 999999}]], "levels.0.targets.0.schedule_id"),
    ([[{"kind": "user", "user": "ghost"}]], "levels.0.targets.0.user"),
    ([[{"kind": "team", "team": "ghosts"}]], "levels.0.targets.0.team"),
    ([[{"kind": "team"}]], "levels.0.targets.0.team"),
    ([[{"kind": "user", "user": "carol", "team": "platform"}]], "levels.0.targets.0.team"),
    ([], "levels"),
])
def test_bad_policies_are_refused_naming_the_field(org, levels, field: str) -> None:
    error = refused(org, ValidationError, lambda s: policies.put_policy(
        s, actor(org, "alice"), "payments", policy(*levels)))
    assert error.field == field and error.message.startswith(field)
    assert count(org, EscalationTarget) == 0


def test_timeout_under_a_minute_is_refused_by_the_shape() -> None:
    from pydantic import ValidationError as ShapeError

    with pytest.raises(ShapeError, match="timeout_minutes"):
        policy([{"kind": "user", "user": "carol"}], timeout=0)


def test_replacing_a_policy_keeps_one_policy_and_deleting_a_paged_schedule_is_refused(
        org) -> None:
    schedule_id = create(org)
    for targets in ([{"kind": "schedule", "schedule": "primary"}],
                    [{"kind": "schedule", "schedule_id": schedule_id},
                     {"kind": "user", "user": "bob"}]):
        with org.session() as session:
            policies.put_policy(session, actor(org, "alice"), "payments", policy(targets))
    assert count(org, EscalationTarget) == 2
    error = refused(org, Conflict, lambda s: schedules.delete_schedule(
        s, actor(org, "alice"), schedule_id))
    assert "payments" in error.message and "level 1" in error.message
    with org.session() as session:
        policies.delete_policy(session, actor(org, "alice"), "payments")
        schedules.delete_schedule(session, actor(org, "alice"), schedule_id)
    assert count(org, Schedule) == 0
    refused(org, NotFound, lambda s: policies.delete_policy(s, actor(org, "alice"), "payments"))
    assert {"escalation_policy.update", "escalation_policy.delete", "schedule.delete"} <= set(
        audit_actions(org))


def test_policy_steps_for_the_escalation_engine(org) -> None:
    create(org)
    with org.session() as session:
        policies.put_policy(session, actor(org, "alice"), "payments", policy(
            [{"kind": "schedule", "schedule": "primary"}], [{"kind": "user", "user": "carol"}],
            timeout=7, repeat=2))
    with org.read_session() as session:
        team_id = session.scalar(select(Schedule.team_id))
        steps = queries.policy_steps(session, team_id)
        first = queries.level_targets(session, steps.policy_id, 1, utc(2026, 1, 6))
        second = queries.level_targets(session, steps.policy_id, 2, utc(2026, 1, 6))
        third = queries.level_targets(session, steps.policy_id, 3, utc(2026, 1, 6))
        none = queries.policy_steps(session, team_id + 1000)
    assert (steps.repeat_count, steps.levels) == (2, ((1, 7), (2, 7)))
    assert [o.username for o in first] == ["alice"] and [o.level for o in first] == [1]
    assert [o.username for o in second] == ["carol"] and third == [] and none is None


def test_viewer_may_not_write_a_policy(org) -> None:
    refused(org, PermissionDenied, lambda s: policies.put_policy(
        s, actor(org, "vic"), "payments", policy([{"kind": "user", "user": "carol"}])))


def test_team_targets_that_page_each_other_stop(org) -> None:
    with org.session() as session:
        policies.put_policy(session, actor(org, "root"), "payments", policy(
            [{"kind": "team", "team": "platform"}]))
        policies.put_policy(session, actor(org, "root"), "platform", policy(
            [{"kind": "team", "team": "payments"}, {"kind": "user", "user": "pat"}]))
    with org.read_session() as session:
        answer = views.oncall_out(session, team="payments", at=utc(2026, 1, 6))
    assert [(o["user"], o["level"]) for o in answer["oncall"]] == [("pat", 1)]


def test_now_and_next_per_schedule(org) -> None:
    schedule_id = create(org)
    with org.session() as session:
        overrides.create_override(session, actor(org, "alice"), schedule_id, OverrideCreate(
            user="carol", starts_at=utc(2026, 1, 12, 8), ends_at=utc(2026, 1, 13, 8)))
    with org.read_session() as session:
        out = views.now_next_out(session, "payments", utc(2026, 1, 7))
    [entry] = out["schedules"]
    assert entry["now"] == {"user": "alice", "email": "", "start": "2026-01-05T08:00:00Z",
                            "end": "2026-01-12T08:00:00Z", "override": False}
    assert entry["next"]["user"] == "carol" and entry["next"]["override"] is True


def test_shifts_over_a_range_mark_gaps(org) -> None:
    schedule_id = create(org)
    with org.read_session() as session:
        out = views.shifts_out(session, schedule_id, utc(2026, 1, 1), utc(2026, 1, 20))
        with pytest.raises(ValidationError):
            views.shifts_out(session, schedule_id, utc(2026, 1, 2), utc(2026, 1, 1))
    assert out["gaps"] == [{"start": "2026-01-01T00:00:00Z", "end": "2026-01-05T08:00:00Z"}]
    assert [s["user"] for s in out["shifts"]] == ["alice", "bob", "alice"]
    assert list(out["layers"]) == ["weekly"]
