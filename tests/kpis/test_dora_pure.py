"""DORA figures and tiers as plain arithmetic: no database."""

from __future__ import annotations

import pytest

from steward.kpis import dora


@pytest.mark.parametrize(("per_week", "deploy_days", "days", "tier"), [
    (5.0, 20, 28, "elite"), (4.5, 18, 28, "high"), (1.0, 4, 28, "high"),
    (0.5, 1, 28, "medium"), (0.0, 1, 30, "medium"), (0.0, 1, 31, "low"), (None, 0, 3, "low"),
])
def test_frequency_tiers(per_week, deploy_days, days, tier) -> None:
    assert dora.frequency_tier(per_week, deploy_days, days) == tier


def test_tier_boundaries_follow_the_2023_benchmarks() -> None:
    assert [dora.lead_time_tier(h) for h in (23.9, 24, 167.9, 168, 719.9, 720)] == \
        ["elite", "high", "high", "medium", "medium", "low"]
    assert [dora.failure_rate_tier(r) for r in (0.05, 0.0501, 0.10, 0.15, 0.1501)] == \
        ["elite", "high", "high", "medium", "low"]
    assert [dora.recovery_tier(h) for h in (0.99, 1, 23.9, 24, 168)] == \
        ["elite", "high", "high", "medium", "low"]
    assert dora.lead_time_tier(None) is None
    assert dora.overall_tier(["elite", None, "medium", "high"]) == "medium"
    assert dora.overall_tier([None, None]) is None


def test_assemble_turns_counts_into_the_answer() -> None:
    lead = {"n": 4, "mean": 36.75 * 3600, 0.5: 13 * 3600, 0.9: 91.2 * 3600}
    out = dora.assemble(win_days=14, count=4, failed=2, rework=1, deploy_days=3,
                        weekly_days=[1, 2], lead=lead, recovery={"n": 1, 0.5: 7200.0},
                        mttr=None)
    assert out["deployment_frequency"] == {"per_day": 0.2857, "deploy_days_per_week": 1.5,
                                           "deploy_days": 3, "tier": "high"}
    assert out["lead_time_hours"] == {"median": 13.0, "p90": 91.2, "commits": 4,
                                      "tier": "elite"}
    assert out["change_failure_rate"] == {"value": 0.5, "failed_deployments": 2,
                                          "tier": "low"}
    assert out["recovery_time_hours"]["median"] == 2.0
    assert out["rework_rate"]["value"] == 0.25
    assert out["mttr_hours"] == {"median": None, "p90": None, "mean": None, "incidents": 0}
    assert out["tier"] == "low"


def test_an_empty_scope_has_nulls_and_a_low_frequency() -> None:
    out = dora.empty(28, 4)
    assert out["deployments"] == 0
    assert out["deployment_frequency"]["per_day"] == 0.0
    assert out["deployment_frequency"]["tier"] == "low"
    assert out["lead_time_hours"]["median"] is None
    assert out["change_failure_rate"]["value"] is None
    assert out["tier"] == "low"
