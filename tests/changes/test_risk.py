"""Risk scoring: every factor alone, sums and clamping, levels, weights, off-hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from steward.changes.risk import (
    DEFAULT_WEIGHTS,
    LEVELS,
    RiskInput,
    RiskWeights,
    assess,
    is_off_hours,
    level_at_most,
    level_for,
)

CLEAN = RiskInput(
    model="standard", batch_size=3, blast_radius=0, business_services_affected=0,
    most_critical_tier=3, change_failure_rate=0.0, recent_deployments=20, open_incidents=0,
    freeze_windows=(), outside_maintenance=False, conflicts=(), off_hours=False,
    error_budget_remaining=0.9,
)


def only(**changes: object) -> tuple[int, str]:
    """Assess CLEAN with ``changes``; return the single factor's points and sentence."""
    result = assess(replace(CLEAN, **changes))
    assert len(result.factors) == 1, result.factors
    factor = result.factors[0]
    assert result.score == factor.points
    assert factor.sentence.endswith(f"(+{factor.points}).")
    assert factor.sentence[0].isupper() or factor.sentence[0].isdigit()
    return factor.points, factor.sentence


def test_clean_standard_change_is_low_with_no_factors():
    result = assess(CLEAN)
    assert (result.score, result.level, result.factors) == (0, "low", ())


def test_unknown_batch_size_and_no_slo_add_nothing():
    result = assess(replace(CLEAN, batch_size=None, change_failure_rate=None,
                            recent_deployments=0, error_budget_remaining=None))
    assert result.factors == ()


@pytest.mark.parametrize(("size", "points"), [
    (1, 0), (5, 0), (6, 4), (20, 4), (21, 8), (25, 8), (50, 8), (51, 20), (500, 20)])
def test_batch_size_bands(size, points):
    result = assess(replace(CLEAN, batch_size=size))
    assert result.score == points
    if points:
        assert result.factors[0].key == "batch_size"


def test_batch_size_sentence():
    points, sentence = only(batch_size=25)
    assert points == 8
    assert sentence.startswith("25 commits in one change: larger batches fail more often")


@pytest.mark.parametrize(("count", "business", "tier", "points"), [
    (1, 0, 3, 5), (3, 0, 2, 5), (4, 0, 3, 10), (10, 0, 3, 10), (11, 0, 3, 15),
    (51, 0, 3, 20), (2, 1, 3, 7), (2, 5, 3, 9), (2, 0, 1, 9), (40, 2, 1, 20),
    (0, 1, 3, 2), (0, 2, 1, 8)])
def test_blast_radius_scales_with_count_and_is_boosted(count, business, tier, points):
    assert only(blast_radius=count, business_services_affected=business,
                most_critical_tier=tier)[0] == points


def test_blast_radius_sentences_say_what_fails():
    _, sentence = only(blast_radius=12, business_services_affected=2, most_critical_tier=1)
    assert sentence.startswith("If the changed CIs failed, 12 other CIs would go down or degrade, "
                               "affecting 2 business services, and tier-1 CIs are among those "
                               "changed:")
    _, sentence = only(blast_radius=1)
    assert "1 other CI would go down" in sentence
    _, sentence = only(blast_radius=0, business_services_affected=1)
    assert sentence.startswith("The changed CIs directly support 1 business service:")


def test_tier_one_alone_adds_nothing():
    assert assess(replace(CLEAN, most_critical_tier=1)).factors == ()


@pytest.mark.parametrize(("rate", "deployments", "points"), [
    (0.1, 10, 3), (0.25, 5, 8), (0.5, 30, 15), (1.0, 30, 15),
    (0.5, 1, 3), (0.5, 2, 6), (0.5, 4, 12), (0.5, 0, 0)])
def test_change_failure_rate_scaled_and_damped_by_evidence(rate, deployments, points):
    result = assess(replace(CLEAN, change_failure_rate=rate, recent_deployments=deployments))
    assert result.score == points


def test_change_failure_rate_sentences():
    _, sentence = only(change_failure_rate=0.4, recent_deployments=10)
    assert sentence.startswith("The service's change failure rate over the last 30 days is 40% "
                               "across 10 deployments:")
    assert "weak evidence" not in sentence
    _, sentence = only(change_failure_rate=0.5, recent_deployments=2)
    assert "with only 2 deployments this is weak evidence" in sentence


@pytest.mark.parametrize(("count", "points"), [(1, 10), (2, 20), (7, 20)])
def test_open_incidents_per_incident_capped(count, points):
    points_seen, sentence = only(open_incidents=count)
    assert points_seen == points
    assert sentence.startswith(f"{count} open incident")
    assert ("incidents" in sentence) == (count > 1)


def test_freeze_alone_is_high():
    result = assess(replace(CLEAN, freeze_windows=("Year-end freeze",)))
    assert result.level == "high"
    factor = result.factors[0]
    assert (factor.key, factor.points) == ("freeze", 50)
    assert factor.sentence.startswith('The planned window overlaps the freeze window '
                                      '"Year-end freeze":')


def test_several_freezes_count_once_and_are_named():
    points, sentence = only(freeze_windows=("Black Friday", "Payroll run", "Year end"))
    assert points == 50
    assert 'freeze windows "Black Friday", "Payroll run" and "Year end"' in sentence


def test_outside_maintenance():
    points, sentence = only(outside_maintenance=True)
    assert points == 10
    assert sentence.startswith("The planned window is outside the service's maintenance windows")


@pytest.mark.parametrize(("names", "points"), [
    (("CHG-12 on ledger-db",), 10), (("CHG-12 on ledger-db", "CHG-13 on api"), 20),
    (("CHG-1", "CHG-2", "CHG-3"), 20)])
def test_conflicts_per_change_capped(names, points):
    points_seen, sentence = only(conflicts=names)
    assert points_seen == points
    assert all(name in sentence for name in names)


def test_conflict_sentence_grammar():
    assert only(conflicts=("CHG-12 on ledger-db",))[1].startswith(
        "1 other change overlaps on the same or dependent CIs (CHG-12 on ledger-db):")
    assert only(conflicts=("a", "b"))[1].startswith("2 other changes overlap on")


def test_off_hours():
    points, sentence = only(off_hours=True)
    assert points == 5
    assert "outside the team's working hours" in sentence


def test_emergency():
    points, sentence = only(model="emergency")
    assert points == 15
    assert sentence.startswith("This is an emergency change")


def test_normal_model_adds_nothing():
    assert assess(replace(CLEAN, model="normal")).factors == ()


@pytest.mark.parametrize(("left", "points", "start"), [
    (0.0, 20, "The service's error budget is spent"),
    (0.1, 10, "Only 10% of the service's error budget is left"),
    (0.249, 10, "Only 24% of")])
def test_error_budget(left, points, start):
    points_seen, sentence = only(error_budget_remaining=left)
    assert points_seen == points
    assert sentence.startswith(start)


def test_error_budget_with_a_quarter_left_adds_nothing():
    assert assess(replace(CLEAN, error_budget_remaining=0.25)).factors == ()


def test_score_is_the_sum_and_factors_are_sorted_by_points():
    result = assess(replace(CLEAN, batch_size=25, off_hours=True, open_incidents=1))
    assert result.score == 8 + 5 + 10
    assert [f.key for f in result.factors] == ["open_incidents", "batch_size", "off_hours"]
    assert result.level == "low"


def test_score_is_clamped_to_100():
    result = assess(replace(CLEAN, model="emergency", batch_size=80, blast_radius=100,
                            change_failure_rate=0.9, open_incidents=3,
                            freeze_windows=("Freeze",), outside_maintenance=True,
                            conflicts=("CHG-1", "CHG-2"), off_hours=True,
                            error_budget_remaining=0.0))
    assert result.score == 100
    assert result.level == "very high"
    assert len(result.factors) == 10
    assert sum(f.points for f in result.factors) == 20 + 20 + 15 + 20 + 50 + 10 + 20 + 5 + 15 + 20
    points = [f.points for f in result.factors]
    assert points == sorted(points, reverse=True)


@pytest.mark.parametrize(("score", "level"), [
    (0, "low"), (24, "low"), (25, "moderate"), (49, "moderate"), (50, "high"),
    (74, "high"), (75, "very high"), (100, "very high")])
def test_level_boundaries(score, level):
    assert level_for(score) == level


def test_levels_through_assess_at_boundaries():
    # off-hours weight set to the exact score, so nothing else interferes
    for score, level in ((24, "low"), (25, "moderate"), (50, "high"), (75, "very high")):
        weights = RiskWeights.from_mapping({"off_hours": score})
        assert assess(replace(CLEAN, off_hours=True), weights).level == level


def test_level_at_most():
    assert level_at_most("low", "moderate")
    assert level_at_most("moderate", "moderate")
    assert not level_at_most("high", "moderate")
    assert all(level_at_most(level, "very high") for level in LEVELS)
    with pytest.raises(ValueError, match="ceiling"):
        level_at_most("low", "medium")
    with pytest.raises(ValueError, match="level"):
        level_at_most("extreme", "high")


def test_as_dict():
    data = assess(replace(CLEAN, off_hours=True)).as_dict()
    assert data["score"] == 5 and data["level"] == "low"
    assert data["factors"] == [{"key": "off_hours", "points": 5,
                                "sentence": data["factors"][0]["sentence"]}]


def test_weights_override_known_keys_only():
    weights = RiskWeights.from_mapping({"freeze": 70, "off_hours": 2.5})
    assert weights.freeze == 70 and weights.off_hours == 2.5
    assert weights.emergency == DEFAULT_WEIGHTS.emergency
    result = assess(replace(CLEAN, freeze_windows=("F",), off_hours=True), weights)
    assert [(f.key, f.points) for f in result.factors] == [("freeze", 70), ("off_hours", 3)]
    assert result.factors[1].sentence.endswith("(+3).")


def test_zero_weight_removes_the_factor():
    weights = RiskWeights.from_mapping({"emergency": 0})
    assert assess(replace(CLEAN, model="emergency"), weights).factors == ()


def test_caps_can_be_configured():
    weights = RiskWeights.from_mapping({"open_incidents": 5, "open_incidents_max": 100})
    assert assess(replace(CLEAN, open_incidents=7), weights).score == 35


def test_empty_mapping_gives_defaults():
    assert RiskWeights.from_mapping({}) == DEFAULT_WEIGHTS


@pytest.mark.parametrize(("mapping", "message"), [
    ({"freze": 50}, "freze: unknown risk weight"),
    ({"freeze": -1}, "freeze: risk weight must be a finite number >= 0"),
    ({"freeze": "50"}, "freeze: risk weight must be a number"),
    ({"freeze": None}, "freeze: risk weight must be a number"),
    ({"freeze": True}, "freeze: risk weight must be a number"),
    ({"freeze": float("nan")}, "freeze: risk weight must be a finite number"),
    ({"freeze": float("inf")}, "freeze: risk weight must be a finite number"),
])
def test_bad_weights_are_rejected(mapping, message):
    with pytest.raises(ValueError, match=message):
        RiskWeights.from_mapping(mapping)


def test_weights_must_be_a_mapping():
    with pytest.raises(ValueError, match="mapping"):
        RiskWeights.from_mapping([("freeze", 50)])  # type: ignore[arg-type]


@pytest.mark.parametrize(("field", "value"), [
    ("model", "routine"), ("most_critical_tier", 0), ("most_critical_tier", 5),
    ("blast_radius", -1), ("open_incidents", -2), ("batch_size", -1),
    ("change_failure_rate", 1.5), ("error_budget_remaining", -0.1)])
def test_invalid_input_names_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field}:"):
        assess(replace(CLEAN, **{field: value}))


# 2024-06-12 is a Wednesday; 2024-06-15 a Saturday.
@pytest.mark.parametrize(("moment", "tz", "expected"), [
    (datetime(2024, 6, 12, 10, 0, tzinfo=UTC), "UTC", False),
    (datetime(2024, 6, 12, 7, 59, tzinfo=UTC), "UTC", True),
    (datetime(2024, 6, 12, 8, 0, tzinfo=UTC), "UTC", False),
    (datetime(2024, 6, 12, 17, 59, tzinfo=UTC), "UTC", False),
    (datetime(2024, 6, 12, 18, 0, tzinfo=UTC), "UTC", True),
    (datetime(2024, 6, 15, 12, 0, tzinfo=UTC), "UTC", True),
    # 17:00 UTC is 19:00 in Berlin (CEST) and 13:00 in New York (EDT)
    (datetime(2024, 6, 12, 17, 0, tzinfo=UTC), "Europe/Berlin", True),
    (datetime(2024, 6, 12, 17, 0, tzinfo=UTC), "America/New_York", False),
    # 06:30 UTC is 08:30 in Berlin in summer (CEST) but 07:30 in winter (CET)
    (datetime(2024, 6, 12, 6, 30, tzinfo=UTC), "Europe/Berlin", False),
    (datetime(2024, 1, 10, 6, 30, tzinfo=UTC), "Europe/Berlin", True),
    # Friday 23:30 UTC is already Saturday in Tokyo; Monday 01:00 UTC is Sunday in LA
    (datetime(2024, 6, 14, 23, 30, tzinfo=UTC), "Asia/Tokyo", True),
    (datetime(2024, 6, 17, 1, 0, tzinfo=UTC), "America/Los_Angeles", True),
    # Sunday 23:30 UTC is Monday 09:30 in Sydney
    (datetime(2024, 6, 16, 23, 30, tzinfo=UTC), "Australia/Sydney", False),
    # an aware moment with another offset is converted, a naive one is UTC
    (datetime(2024, 6, 12, 12, 0, tzinfo=timezone(timedelta(hours=-9))), "UTC", True),
    (datetime(2024, 6, 12, 12, 0), "UTC", False),
])
def test_off_hours_across_time_zones_and_weekends(moment, tz, expected):
    assert is_off_hours(moment, tz) is expected


def test_off_hours_custom_hours_and_workdays():
    sunday_noon = datetime(2024, 6, 16, 12, 0, tzinfo=UTC)
    assert is_off_hours(sunday_noon)
    assert not is_off_hours(sunday_noon, workdays=(6, 0, 1, 2, 3))  # a Sunday-Thursday week
    wednesday = datetime(2024, 6, 12, 21, 0, tzinfo=UTC)
    assert not is_off_hours(wednesday, start_hour=12, end_hour=22)
    assert is_off_hours(wednesday, start_hour=12, end_hour=21)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"tz": "Mars/Olympus"}, "tz"), ({"start_hour": 18, "end_hour": 8}, "start_hour"),
    ({"end_hour": 25}, "start_hour"), ({"workdays": (7,)}, "workdays")])
def test_off_hours_rejects_bad_settings(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        is_off_hours(datetime(2024, 6, 12, tzinfo=UTC), **kwargs)
