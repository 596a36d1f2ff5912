"""Priority from impact x urgency, and SLA targets with breach flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from steward.incidents.priority import (
    DEFAULT_SLA,
    PRIORITY_MATRIX,
    SlaTargets,
    impact_from,
    parse_duration,
    priority,
    sla_status,
    urgency_from,
)

T0 = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


# --- matrix ------------------------------------------------------------------------------


@pytest.mark.parametrize(("impact", "urgency", "expected"), [
    (1, 1, "P1"), (1, 2, "P2"), (2, 1, "P2"), (1, 3, "P3"), (2, 2, "P3"), (3, 1, "P3"),
    (2, 3, "P4"), (3, 2, "P4"), (3, 3, "P5"),
])
def test_matrix_is_the_one_in_the_product_spec(impact, urgency, expected):
    assert priority(impact, urgency) == expected
    assert PRIORITY_MATRIX[(impact, urgency)] == expected


def test_matrix_is_complete_and_symmetric():
    assert len(PRIORITY_MATRIX) == 9
    assert all(PRIORITY_MATRIX[(i, u)] == PRIORITY_MATRIX[(u, i)] for i, u in PRIORITY_MATRIX)


@pytest.mark.parametrize(("impact", "urgency", "field"), [
    (0, 1, "impact"), (4, 1, "impact"), (1, 0, "urgency"), (2, 9, "urgency"),
    (True, 1, "impact"), ("1", 1, "impact"),
])
def test_out_of_range_names_the_field(impact, urgency, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        priority(impact, urgency)


# --- impact ------------------------------------------------------------------------------


def test_business_service_down_is_high_impact():
    assert impact_from([3, 4], [], 2, 0) == (1, "high impact: 2 business services down")
    assert impact_from([3], [1], 1, 5) == (1, "high impact: 1 business service down")


def test_tier_one_down_is_high_impact():
    assert impact_from([3, 1], [], 0, 0) == (1, "high impact: a tier-1 service is down")


def test_tier_one_degraded_is_medium_impact():
    assert impact_from([3], [1], 0, 0) == (
        2, "medium impact: a tier-1 service is degraded, none is down")


def test_business_service_degraded_is_medium_impact():
    assert impact_from([3], [], 0, 1) == (
        2, "medium impact: 1 business service degraded, none down")


def test_tier_two_down_is_medium_impact_but_degraded_is_low():
    assert impact_from([4, 2, 3], [], 0, 0) == (
        2, "medium impact: a tier-2 service is down, no business service is hit")
    assert impact_from([3], [2], 0, 0) == (
        3, "low impact: the most critical service affected is tier 2 (degraded)")


def test_lower_tiers_are_low_impact():
    assert impact_from([3, 4], [], 0, 0) == (
        3, "low impact: the most critical service affected is tier 3 (down)")
    assert impact_from([], [3], 0, 0)[0] == 3
    assert impact_from([], [], 0, 0) == (3, "low impact: no affected service is known")


def test_info_alerts_only_affect_no_service():
    assert impact_from([], [], 0, 0, info_only=True) == (
        3, "low impact: no service is affected (info alerts only)")


def test_a_warning_on_a_tier_three_service_is_p5_never_p1():
    impact, _ = impact_from([], [3], 0, 0)
    urgency, _ = urgency_from(["warning"])
    assert priority(impact, urgency) == "P5"


def test_impact_rejects_nonsense():
    with pytest.raises(ValueError, match=r"^business_services_down:"):
        impact_from([3], [], -1, 0)
    with pytest.raises(ValueError, match=r"^business_services_degraded:"):
        impact_from([3], [], 0, -2)
    with pytest.raises(ValueError, match=r"^down_tiers:"):
        impact_from([0], [], 0, 0)
    with pytest.raises(ValueError, match=r"^degraded_tiers:"):
        impact_from([], [0], 0, 0)


# --- urgency -----------------------------------------------------------------------------


@pytest.mark.parametrize(("severities", "expected"), [
    (["critical"], 1), (["warning", "critical", "info"], 1), (["error", "warning"], 2),
    (["warning"], 3), (["info"], 3), (["Critical "], 1),
])
def test_urgency_follows_the_most_severe_alert(severities, expected):
    assert urgency_from(severities)[0] == expected


def test_urgency_reason_names_the_severity():
    assert urgency_from(["warning", "error"]) == (
        2, "medium urgency: the most severe alert is error")
    assert urgency_from([]) == (3, "low urgency: no alert severity to go by")


def test_unknown_severity_is_refused():
    with pytest.raises(ValueError, match=r"^severities: unknown severity 'fatal'"):
        urgency_from(["fatal"])


def test_impact_and_urgency_compose_into_a_priority():
    impact, _ = impact_from([2], [], 1, 0)
    urgency, _ = urgency_from(["critical", "warning"])
    assert priority(impact, urgency) == "P1"


# --- SLA targets -------------------------------------------------------------------------


def test_default_targets():
    assert DEFAULT_SLA.respond == {
        "P1": timedelta(minutes=15), "P2": timedelta(minutes=30), "P3": timedelta(hours=4),
        "P4": timedelta(days=1), "P5": timedelta(days=3)}
    assert DEFAULT_SLA.resolve == {
        "P1": timedelta(hours=4), "P2": timedelta(hours=8), "P3": timedelta(days=3),
        "P4": timedelta(days=7), "P5": timedelta(days=30)}


def test_overrides_replace_only_what_they_name():
    targets = SlaTargets.from_mapping({"P1": {"respond": "5m"}, "P4": {"resolve": "14d"}})
    assert targets.respond["P1"] == timedelta(minutes=5)
    assert targets.resolve["P1"] == timedelta(hours=4)
    assert targets.resolve["P4"] == timedelta(days=14)
    assert targets.respond["P2"] == DEFAULT_SLA.respond["P2"]
    assert DEFAULT_SLA.respond["P1"] == timedelta(minutes=15)  # defaults untouched


@pytest.mark.parametrize(("text", "expected"), [
    ("30s", timedelta(seconds=30)), ("15m", timedelta(minutes=15)), ("4h", timedelta(hours=4)),
    ("3d", timedelta(days=3)), ("1h30m", timedelta(minutes=90)), (" 2H ", timedelta(hours=2)),
    (timedelta(hours=1), timedelta(hours=1)),
])
def test_durations(text, expected):
    assert parse_duration(text, field="x") == expected


@pytest.mark.parametrize(("overrides", "message"), [
    ({"P1": {"respond": "soon"}}, "^P1.respond: expected a duration"),
    ({"P1": {"respond": "15"}}, "^P1.respond: expected a duration"),
    ({"P2": {"resolve": 30}}, "^P2.resolve: expected a duration"),
    ({"P3": {"resolve": "0m"}}, "^P3.resolve: must be longer than zero"),
    ({"P6": {"respond": "1h"}}, "^P6: unknown priority"),
    ({"P1": {"acknowledge": "1h"}}, "^P1.acknowledge: unknown target"),
    ({"P1": "1h"}, "^P1: expected respond and resolve targets"),
    ({"P1": {"respond": "5h"}}, "^P1.respond: must not be longer than P1.resolve"),
])
def test_bad_overrides_name_the_key(overrides, message):
    with pytest.raises(ValueError, match=message):
        SlaTargets.from_mapping(overrides)


# --- SLA status --------------------------------------------------------------------------


def test_deadlines_follow_the_priority():
    status = sla_status("P1", T0, None, None, minutes(1))
    assert status.respond_by == minutes(15)
    assert status.resolve_by == minutes(240)
    assert not status.respond_breached and not status.resolve_breached


def test_open_incident_breaches_once_now_passes_the_target():
    status = sla_status("P1", T0, None, None, minutes(16))
    assert status.respond_breached and not status.resolve_breached
    assert sla_status("P1", T0, None, None, minutes(241)).resolve_breached


def test_met_exactly_on_time_is_not_a_breach():
    status = sla_status("P1", T0, minutes(15), minutes(240), minutes(500))
    assert not status.respond_breached and not status.resolve_breached


def test_late_acknowledgement_stays_breached_after_the_fact():
    status = sla_status("P2", T0, minutes(31), minutes(60), minutes(600))
    assert status.respond_breached and not status.resolve_breached


def test_done_in_time_is_not_breached_however_late_now_is():
    status = sla_status("P2", T0, minutes(5), minutes(60), minutes(100_000))
    assert not status.respond_breached and not status.resolve_breached


def test_resolving_without_acknowledging_counts_as_the_response():
    assert not sla_status("P1", T0, None, minutes(10), minutes(60)).respond_breached
    assert sla_status("P1", T0, None, minutes(20), minutes(60)).respond_breached


def test_custom_targets_apply():
    targets = SlaTargets.from_mapping({"P3": {"respond": "1h"}})
    assert sla_status("P3", T0, None, None, minutes(61), targets).respond_breached
    assert not sla_status("P3", T0, None, None, minutes(61)).respond_breached


def test_unknown_priority_is_refused():
    with pytest.raises(ValueError, match=r"^priority:"):
        sla_status("P9", T0, None, None, T0)
