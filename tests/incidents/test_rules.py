"""The rules both ways of recording alerts follow: a repeat, and a join."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steward.incidents.commands import RecordAlert
from steward.incidents.rules import Repeat, joining

T0 = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(summary: str = "", severity: str = "error",
          labels: dict[str, str] | None = None) -> RecordAlert:
    return RecordAlert(dedup_key="k", status="firing", summary=summary, severity=severity,
                       labels=labels or {})


def test_a_repeat_counts_moves_last_seen_forward_and_keeps_what_it_lacks():
    stored = Repeat(3, at(10), "disk 90%", "warning", {"host": "a"})
    stored.add(event("disk 95%", "critical"), at(12))
    stored.add(event(), at(11))  # earlier, no summary, no labels
    assert stored == Repeat(5, at(12), "disk 95%", "error", {"host": "a"})


def test_repeats_gathered_for_a_stored_row_leave_unknown_values_to_it():
    gathered = Repeat()
    gathered.add(event(labels={"x": "1"}), at(1))
    assert gathered == Repeat(1, at(1), None, "error", {"x": "1"})


def facts(**changes: object) -> dict[str, object]:
    base: dict[str, object] = dict(
        status="triggered", urgency=2, urgency_overridden=False, started_at=at(0),
        group_keys=("g1",), service_first_alert=at(1), severity="error", seen=at(5),
        group_key=None)
    return {**base, **changes}


def test_another_alert_on_a_known_service_changes_only_itself():
    effects = joining(**facts())  # type: ignore[arg-type]
    assert effects.only_alert and not effects.recompute


def test_what_makes_a_join_more_than_an_alert():
    cases = {
        "new service": facts(service_first_alert=None),
        "earlier on its service": facts(seen=at(0.5)),
        "earlier than the start": facts(seen=at(-1), service_first_alert=at(1)),
        "new group": facts(group_key="g2"),
        "more urgent": facts(severity="critical"),
        "mitigated": facts(status="mitigated"),
    }
    for name, case in cases.items():
        assert not joining(**case).only_alert, name  # type: ignore[arg-type]
    assert joining(**cases["new service"]).recompute  # type: ignore[arg-type]
    assert joining(**cases["more urgent"]).recompute  # type: ignore[arg-type]
    assert not joining(**cases["new group"]).recompute  # type: ignore[arg-type]
    # urgency set by hand: a more urgent alert does not change it
    assert joining(**facts(severity="critical", urgency_overridden=True)).only_alert  # type: ignore[arg-type]
