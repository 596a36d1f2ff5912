"""Budget and burn-rate arithmetic and the burn rules, worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from steward.slos import burn

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.mark.parametrize(("objective", "bad", "consumed", "left", "exhausted"), [
    (0.999, 0.0005, 0.5, 0.5, False),   # half of 0.1 % spent
    (0.99, 0.0025, 0.25, 0.75, False),
    (0.999, 0.001, 1.0, 0.0, True),      # exactly spent
    (0.999, 0.0015, 1.5, -0.5, True),    # overspent
    (0.999, 0.01, 10.0, -1.0, True),     # clamped at -1
    (0.95, None, 0.0, 1.0, False),       # no data: nothing spent
])
def test_budget(objective, bad, consumed, left, exhausted):
    result = burn.budget(objective, bad)
    assert result.total == pytest.approx(1 - objective)
    assert result.consumed == pytest.approx(consumed)
    assert result.left == pytest.approx(left)
    assert result.exhausted is exhausted


def test_burn_rate_is_error_rate_over_budget():
    # 30 bad of 1,000 requests against 99.9 %: 3 % / 0.1 % = 30x
    assert burn.burn_rate(burn.bad_fraction(970, 1000), 0.999) == pytest.approx(30)
    # 1 bad in 2,000 against 99 %: 0.05 % / 1 % = 0.05x
    assert burn.burn_rate(burn.bad_fraction(1999, 2000), 0.99) == pytest.approx(0.05)
    assert burn.burn_rate(burn.bad_fraction(0, 0), 0.99) is None


@pytest.mark.parametrize("objective", [0, 1, 1.5, -0.1, True])
def test_objective_must_lie_strictly_between_0_and_1(objective):
    with pytest.raises(ValueError, match=r"^objective:"):
        burn.error_budget(objective)


def test_rules_are_the_workbook_ones():
    by_name = {r.name: r for r in burn.RULES}
    assert (by_name["fast-burn"].long_window, by_name["fast-burn"].short_window,
            by_name["fast-burn"].threshold, by_name["fast-burn"].severity) == (
        "1h", "5m", 14.4, "critical")
    assert (by_name["slow-burn"].long_window, by_name["slow-burn"].short_window,
            by_name["slow-burn"].threshold, by_name["slow-burn"].action) == (
        "6h", "30m", 6.0, "page")
    assert (by_name["ticket-burn"].long_window, by_name["ticket-burn"].short_window,
            by_name["ticket-burn"].threshold, by_name["ticket-burn"].severity) == (
        "3d", "6h", 1.0, "warning")


def test_a_rule_needs_both_windows_above_its_threshold():
    rates = {"5m": 20.0, "30m": 7.0, "1h": 15.0, "6h": 6.5, "3d": 0.5}
    assert [r.name for r in burn.firing_rules(rates)] == ["fast-burn", "slow-burn"]
    # the long window burnt, but it stopped: no page
    assert burn.firing_rules({"5m": 10.0, "30m": 0.0, "1h": 20.0, "6h": 20.0,
                              "3d": 0.9}) == []
    # exactly at the threshold is not above it
    assert [r.name for r in burn.firing_rules(
        {"5m": 14.4, "30m": 2, "1h": 14.4, "6h": 1.5, "3d": 1.2})] == ["ticket-burn"]
    # no data in a window: nothing fires
    assert burn.firing_rules({"5m": None, "30m": None, "1h": 30.0, "6h": None,
                              "3d": 30.0}) == []


def test_union_counts_overlaps_once_and_clips_to_the_window():
    intervals = [(minutes(0), minutes(10)), (minutes(5), minutes(15)),
                 (minutes(20), minutes(30))]
    # [8, 15) and [20, 25): 7 + 5 minutes
    assert burn.union_seconds(intervals, minutes(8), minutes(25)) == 12 * 60
    assert burn.union_seconds(intervals, minutes(40), minutes(50)) == 0
    # nested and touching intervals
    assert burn.union_seconds([(minutes(0), minutes(30)), (minutes(10), minutes(20)),
                               (minutes(30), minutes(40))], minutes(0), minutes(60)) == 40 * 60


def test_prorated_report_counts_the_share_inside():
    assert burn.prorated(minutes(0), minutes(60), 90, 120, minutes(30), minutes(90)) == (
        pytest.approx(45), pytest.approx(60))
    assert burn.prorated(minutes(0), minutes(60), 90, 120, minutes(60), minutes(90)) == (0, 0)


def test_summary_names_the_slo_rates_and_windows():
    text = burn.summary("checkout availability", "checkout", burn.RULES[0],
                        {"1h": 15.04, "5m": 30.0})
    assert "checkout availability" in text and "15.0x over 1h" in text
    assert "30.0x over 5m" in text and "14.4x" in text
