"""The status page's rules on plain data: statuses, the indicator, uptime, maintenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steward.status.cache import TimedCache
from steward.status.maintenance import PlannedChange, maintenance_status
from steward.status.public import component_status, indicator, parse_public_id
from steward.status.uptime import Outage, daily_uptime, overall_uptime

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_component_status_from_health_updates_and_maintenance() -> None:
    assert component_status("up") == "operational"
    assert component_status("unknown") == "operational"
    assert component_status("degraded") == "degraded_performance"
    assert component_status("down") == "major_outage"
    assert component_status("up", ["partial_outage"]) == "partial_outage"
    assert component_status("down", ["degraded_performance"]) == "major_outage"
    assert component_status("up", in_maintenance=True) == "under_maintenance"
    assert component_status("down", in_maintenance=True) == "major_outage"
    assert component_status("degraded", in_maintenance=True) == "degraded_performance"


def test_indicator_words_as_statuspage() -> None:
    assert indicator(["operational"]) == ("none", "All Systems Operational")
    assert indicator(["degraded_performance"]) == ("minor", "Minor Service Outage")
    assert indicator(["partial_outage", "operational"]) == ("major", "Partial System Outage")
    assert indicator(["major_outage"]) == ("critical", "Major System Outage")
    assert indicator(["operational"], ["major"]) == ("major", "Partial System Outage")
    assert indicator(["under_maintenance"]) == ("maintenance", "Service Under Maintenance")
    assert indicator([]) == ("none", "All Systems Operational")


def test_uptime_down_counts_fully_degraded_at_30_percent() -> None:
    day = NOW.replace(hour=0) - timedelta(days=1)
    down = [Outage(day, day + timedelta(hours=2.4), "down")]  # a tenth of the day
    degraded = [Outage(day, day + timedelta(hours=2.4), "degraded")]
    days = daily_uptime(down, NOW)
    assert len(days) == 90 and days[-1]["date"] == NOW.date().isoformat()
    assert abs(days[-2]["uptime"] - 0.9) < 1e-9 and days[-2]["worst"] == "down"
    assert abs(daily_uptime(degraded, NOW)[-2]["uptime"] - 0.97) < 1e-9
    assert days[-3]["worst"] == "none" and days[-3]["uptime"] == 1.0
    # Overlaps count once, at the worst.
    both = down + degraded + [Outage(day, day + timedelta(hours=1), "down")]
    assert abs(daily_uptime(both, NOW)[-2]["uptime"] - 0.9) < 1e-9
    assert overall_uptime([], NOW) == 1.0
    assert 0.99 < overall_uptime(down, NOW) < 1.0


def test_an_open_outage_lasts_until_now() -> None:
    days = daily_uptime([Outage(NOW - timedelta(hours=6), None, "down")], NOW)
    assert days[-1]["uptime"] == 0.5 and days[-1]["outage_minutes"] == 360.0


def change(state: str, start: timedelta, end: timedelta, **kw: datetime) -> PlannedChange:
    return PlannedChange(id=1, state=state, planned_start=NOW + start, planned_end=NOW + end,
                         **kw)


def test_maintenance_follows_the_change() -> None:
    hour = timedelta(hours=1)
    assert maintenance_status(change("scheduled", hour, 2 * hour), NOW) == "scheduled"
    assert maintenance_status(change("scheduled", -hour, hour), NOW) == "in_progress"
    assert maintenance_status(change("implement", hour, 2 * hour), NOW) == "in_progress"
    assert maintenance_status(change("review", -2 * hour, -hour), NOW) == "verifying"
    assert maintenance_status(change("scheduled", -2 * hour, -hour), NOW) == "completed"
    assert maintenance_status(change("closed", -2 * hour, -hour), NOW) == "completed"
    old = change("closed", -timedelta(days=9), -timedelta(days=8))
    assert maintenance_status(old, NOW) is None
    for state in ("new", "assess", "authorize", "rejected", "canceled"):
        assert maintenance_status(change(state, hour, 2 * hour), NOW) is None


def test_public_ids() -> None:
    assert parse_public_id("c12", "c") == 12
    for bad in ("c", "x12", "c1a", "c-1", "c" + "9" * 20):
        assert parse_public_id(bad, "c") is None


def test_the_cache_keeps_an_answer_for_its_ttl() -> None:
    clock = [0.0]
    calls = []
    cache = TimedCache(2.0, clock=lambda: clock[0])

    def compute() -> int:
        calls.append(1)
        return len(calls)
    assert cache.get("k", compute) == 1
    clock[0] = 1.9
    assert cache.get("k", compute) == 1
    clock[0] = 2.1
    assert cache.get("k", compute) == 2
    cache.clear()
    assert cache.get("k", compute) == 3
