"""The pure side of shared goals: reading a metric from a KPI answer, judging a target,
the weekly trend and the progress bar."""

from __future__ import annotations

import pytest

from steward.goals.metrics import (
    METRICS,
    check_target,
    format_value,
    meets,
    progress_fraction,
    trend,
)

DORA = {"deployment_frequency": {"per_day": 1.5, "deploy_days_per_week": 4.0},
        "lead_time_hours": {"median": 20.5, "p90": 70.0},
        "change_failure_rate": {"value": 0.075}, "recovery_time_hours": {"median": None},
        "rework_rate": {"value": 0}}
ITSM = {"mttr_hours": {"median": 3.0}, "mtta_hours": {"median": 0.2},
        "sla_compliance": 0.93, "reopen_rate": None,
        "changes": {"success_rate": 0.9, "auto_approval_rate": True}}


def test_each_metric_reads_its_own_answer() -> None:
    read = {key: m.read(DORA if m.source == "dora" else ITSM) for key, m in METRICS.items()}
    assert read == {"deploy_days_per_week": 4.0, "deployments_per_day": 1.5,
                    "lead_time_median_hours": 20.5, "change_failure_rate": 0.075,
                    "recovery_time_median_hours": None, "rework_rate": 0.0,
                    "mttr_median_hours": 3.0, "mtta_median_hours": 0.2,
                    "sla_compliance": 0.93, "reopen_rate": None,
                    "change_success_rate": 0.9,
                    "auto_approval_rate": None}  # a boolean is not a value
    assert METRICS["change_failure_rate"].read(None) is None
    assert METRICS["change_failure_rate"].read({"change_failure_rate": 0.1}) is None


def test_targets_and_judging() -> None:
    cfr, days, hours = (METRICS[k] for k in ("change_failure_rate", "deploy_days_per_week",
                                             "mttr_median_hours"))
    assert check_target(cfr, "<=", 0.1) is None
    assert check_target(cfr, "<=", 10).startswith("target: a rate is a fraction")
    assert check_target(cfr, "<", 0.1).startswith("comparator:")
    assert check_target(days, ">=", 8) == "target: a week has 7 days"
    assert check_target(hours, "<=", float("nan")) == "target: expected a number"
    assert check_target(hours, "<=", -2) == "target: must not be negative"
    assert meets(0.1, "<=", 0.1) is True and meets(0.11, "<=", 0.1) is False
    assert meets(3, ">=", 3) is True and meets(None, ">=", 3) is None
    assert progress_fraction(0.2, "<=", 0.1) == 0.5
    assert progress_fraction(2, ">=", 4) == 0.5 and progress_fraction(5, ">=", 4) == 1.0
    assert progress_fraction(None, "<=", 1) is None
    assert cfr.default_comparator == "<=" and days.default_comparator == ">="
    assert format_value(cfr, 0.075) == "7.5 %" and format_value(hours, 0.25) == "0.25 h"
    assert format_value(hours, 20.5) == "20.5 h" and format_value(days, 1) == "1 day/week"
    assert format_value(days, None) == "no data"


@pytest.mark.parametrize(("values", "better", "expected"), [
    ([0.5, 0.25, 0.0], "lower", "improving"),
    ([0.5, 0.25, 0.0], "higher", "worsening"),
    ([1, 2, 3, 5], "higher", "improving"),
    ([2.0, 2.02, 1.99, 2.01], "lower", "flat"),
    ([None, 3.0, None, 1.0], "lower", "improving"),  # weeks without data are skipped
    ([None, 3.0, None], "lower", None),
    ([], "lower", None),
    ([0.0, 0.0, 0.0], "lower", "flat"),
])
def test_trend(values: list[float | None], better: str, expected: str | None) -> None:
    assert trend(values, better) == expected
