"""Reading ServiceNow rows and turning one incident's rows into Steward fields (no database)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from steward.servicenow.export import (
    Header,
    RowError,
    TimeReader,
    parse_row,
    plan_incident,
    slug,
    zone_named,
)


def parsed(text: str, zone: str = "UTC"):  # type: ignore[no-untyped-def]
    records = list(csv.reader(io.StringIO(text)))
    header = Header.parse(records[0])
    times = TimeReader(zone_named(zone))
    return header, [parse_row(r, header, times, line) for line, r in enumerate(records[1:], 2)]


def plan_of(text: str, zone: str = "UTC"):  # type: ignore[no-untyped-def]
    header, rows = parsed(text, zone)
    return plan_incident(rows, event_log=header.has_mod_count)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_event_log_final_state_comes_from_the_highest_mod_count(snow):
    rows = snow.history()
    rows.insert(0, rows.pop())  # file order must not matter
    plan = plan_of(snow.csv(rows))
    f = plan.fields
    assert f["status"] == "closed"
    assert f["started_at"] == utc(2016, 2, 29, 1, 16)
    assert f["acknowledged_at"] == utc(2016, 2, 29, 2, 0)  # the first row that left New
    assert f["resolved_at"] == utc(2016, 2, 29, 11, 29)
    assert f["closed_at"] == utc(2016, 3, 5, 12, 0)
    assert (f["priority"], f["impact"], f["urgency"]) == ("P3", 2, 2)
    assert f["category"] == "Category 55 / Subcategory 170"
    assert f["title"] == "INC0000045 (Category 55 / Subcategory 170)"
    assert plan.team == "Group 56" and plan.service is None and plan.problem is None


def test_every_row_is_a_timeline_event_naming_what_changed(snow):
    plan = plan_of(snow.csv(snow.history()))
    assert [e.key for e in plan.events] == ["m0.0", "m1.0", "m2.0", "m3.0"]
    assert plan.events[0].text.startswith("ServiceNow update 0: opened as New")
    assert "state New \u2192 Active" in plan.events[1].text
    assert "assigned to none \u2192 Resolver 12" in plan.events[1].text
    assert plan.events[1].data["changes"]["state"] == ["New", "Active"]
    assert plan.events[1].at == utc(2016, 2, 29, 2, 0)
    assert plan.events[3].data["state"] == "closed" and plan.events[3].data["active"] is False
    # People stay in the timeline's data only, with ServiceNow's double spaces tidied.
    assert plan.events[0].data["opened_by"] == "Opened by 8"
    assert plan.events[3].data["sys_updated_by"] == "Updated by 908"
    assert "Caller" not in plan.fields["description"]
    assert "Resolver" not in plan.fields["description"]


def test_same_mod_count_is_decided_by_updated_at_and_keeps_both_events(snow):
    rows = [snow.row("INC1", incident_state="Resolved", sys_mod_count="4",
                     sys_updated_at="2/3/2016 10:00"),
            snow.row("INC1", incident_state="Active", sys_mod_count="4",
                     sys_updated_at="1/3/2016 10:00")]
    plan = plan_of(snow.csv(rows))
    assert plan.fields["status"] == "resolved"
    assert sorted(e.key for e in plan.events) == ["m4.0", "m4.1"]


def test_one_row_per_incident_export_without_mod_count(snow):
    header = [h for h in snow.HEADER if h != "sys_mod_count"] + ["short_description"]
    values = dict(zip(snow.HEADER, snow.row(
        "INC9", incident_state="Closed", active="false", priority="1 - Critical",
        impact="1 - High", urgency="1 - High", cmdb_ci="cmdb_ci 3", problem_id="Problem ID  2",
        rfc="CHG0000011", caused_by="CHG0000009", made_sla="false", reassignment_count="3",
        reopen_count="1", resolved_at="1/3/2016 10:00", closed_at="2/3/2016 10:00",
        sys_updated_at="2/3/2016 10:00"), strict=True))
    values["short_description"] = "Payroll export fails"
    text = snow.csv([[values[h] for h in header]], header=header)
    header_info, rows = parsed(text)
    assert not header_info.has_mod_count
    plan = plan_incident(rows, event_log=False)
    f = plan.fields
    assert f["title"] == "Payroll export fails"
    assert (f["status"], f["priority"], f["impact"], f["urgency"]) == ("closed", "P1", 1, 1)
    assert f["acknowledged_at"] is None  # a single row does not say when work started
    assert (f["made_sla"], f["reassignment_count"], f["reopen_count"]) == (False, 3, 1)
    assert (f["change_ref"], f["caused_by_ref"]) == ("CHG0000011", "CHG0000009")
    assert (plan.service, plan.problem) == ("cmdb_ci 3", "Problem ID 2")
    assert len(plan.events) == 1 and plan.events[0].key == "t20160302100000.0"


def test_question_marks_become_empty_not_text(snow):
    rows = [snow.row("INC2", made_sla="?", assignment_group="?", category="?",
                     subcategory="?", priority="?", impact="?", urgency="?", active="?",
                     reassignment_count="?")]
    plan = plan_of(snow.csv(rows))
    f = plan.fields
    assert f["made_sla"] is None and plan.team is None
    assert f["category"] == "" and f["title"] == "INC2 (imported from ServiceNow)"
    assert (f["priority"], f["impact"], f["urgency"]) == ("P3", 2, 2)
    assert f["reassignment_count"] == 0
    assert "?" not in str(plan.events[0].data) and "?" not in plan.events[0].text


@pytest.mark.parametrize("label, expected", [
    ("1 - Critical", "P1"), ("2 - High", "P2"), ("3 - Moderate", "P3"), ("4 - Low", "P4"),
    ("5 - Planning", "P5")])
def test_priority_labels(snow, label, expected):
    assert plan_of(snow.csv([snow.row("INC3", priority=label)])).fields["priority"] == expected


def test_missing_priority_follows_the_itil_matrix(snow):
    rows = [snow.row("INC4", priority="?", impact="1 - High", urgency="3 - Low")]
    fields = plan_of(snow.csv(rows)).fields
    assert fields["priority"] == "P3"
    assert fields["priority_reasons"] == [
        "imported from ServiceNow: priority none (from impact and urgency)"]


def test_local_times_are_converted_to_utc_across_a_dst_change(snow):
    # Amsterdam is UTC+1 in winter; on 27 March 2016 at 02:00 it moved to UTC+2.
    rows = [snow.row("INC5", incident_state="Resolved", opened_at="26/3/2016 23:00",
                     sys_updated_at="27/3/2016 04:00", resolved_at="27/3/2016 04:00")]
    f = plan_of(snow.csv(rows), zone="Europe/Amsterdam").fields
    assert f["started_at"] == utc(2016, 3, 26, 22, 0)
    assert f["resolved_at"] == utc(2016, 3, 27, 2, 0)
    assert (f["resolved_at"] - f["started_at"]).total_seconds() == 4 * 3600  # not 5


def test_the_documented_example_time_in_amsterdam(snow):
    f = plan_of(snow.csv([snow.row("INC6")]), zone="Europe/Amsterdam").fields
    assert f["started_at"] == utc(2016, 2, 29, 0, 16)


def test_servicenow_default_format_and_seconds_are_read_too():
    times = TimeReader(zone_named("UTC"))
    assert times.read("2016-02-29 01:16:30", "opened_at") == utc(2016, 2, 29, 1, 16, 30)
    assert times.read("29/2/2016 01:16:30", "opened_at") == utc(2016, 2, 29, 1, 16, 30)


def test_the_repeated_autumn_hour_is_read_as_its_first_occurrence():
    times = TimeReader(zone_named("Europe/Amsterdam"))
    # 30 October 2016: 02:30 happened twice (CEST, then CET); the first is 00:30 UTC.
    assert times.read("30/10/2016 02:30", "opened_at") == utc(2016, 10, 30, 0, 30)


@pytest.mark.parametrize("value, reason", [
    ("31/2/2016 10:00", "opened_at: not a valid date"),
    ("29.02.2016 10:00", "opened_at: not a time in the form D/M/YYYY HH:MM"),
    ("2016-02-30 10:00:00", "opened_at: not a valid date"),
    ("?", "opened_at: missing"),
])
def test_bad_dates_are_rejected_with_the_field_and_reason(snow, value, reason):
    with pytest.raises(RowError) as caught:
        parsed(snow.csv([snow.row("INC7", opened_at=value)]))
    assert caught.value.reason == reason
    assert caught.value.field == "opened_at"


@pytest.mark.parametrize("field, value, reason", [
    ("impact", "4 - Tiny", "impact: not a level 1..3 (like '1 - High')"),
    ("made_sla", "maybe", "made_sla: not true or false"),
    ("reopen_count", "-1", "reopen_count: must not be negative"),
    ("sys_mod_count", "x", "sys_mod_count: not a whole number"),
])
def test_bad_values_are_rejected_with_the_field_and_reason(snow, field, value, reason):
    with pytest.raises(RowError) as caught:
        parsed(snow.csv([snow.row("INC8", **{field: value})]))
    assert caught.value.reason == reason


def test_a_row_with_the_wrong_number_of_fields(snow):
    text = snow.csv([snow.row("INC8")[:-1]])
    with pytest.raises(RowError, match="expected 36 fields, found 35"):
        parsed(text)


def test_an_unknown_state_keeps_the_last_known_one(snow):
    rows = [*snow.history()[:2], snow.row("INC0000045", incident_state="-100",
                                          sys_mod_count="2", sys_updated_at="29/2/2016 03:00")]
    plan = plan_of(snow.csv(rows))
    assert plan.fields["status"] == "acknowledged"
    assert plan.unknown_states == ["-100"]
    assert plan.events[-1].data["servicenow_state"] == "-100"


@pytest.mark.parametrize("active, resolved, expected", [
    ("false", "?", "closed"), ("true", "1/3/2016 10:00", "resolved"),
    ("true", "?", "acknowledged")])
def test_an_unknown_state_alone_is_read_from_active_and_resolved(snow, active, resolved,
                                                                 expected):
    rows = [snow.row("INC10", incident_state="-100", active=active, resolved_at=resolved,
                     closed_at="2/3/2016 10:00")]
    assert plan_of(snow.csv(rows)).fields["status"] == expected


def test_awaiting_states_are_acknowledged_and_open_incidents_have_no_end_times(snow):
    rows = [snow.row("INC11", incident_state="Awaiting User Info", sys_mod_count="1",
                     resolved_at="1/3/2016 10:00", closed_at="2/3/2016 10:00")]
    f = plan_of(snow.csv(rows)).fields
    assert f["status"] == "acknowledged"
    assert f["resolved_at"] is None and f["closed_at"] is None


def test_header_must_name_number_and_opened_at():
    with pytest.raises(ValueError, match="no number column"):
        Header.parse(["incident_state", "opened_at"])


def test_unknown_timezone():
    with pytest.raises(ValueError, match="timezone: 'Mars/Olympus' is not an IANA"):
        zone_named("Mars/Olympus")


def test_slugs():
    assert slug("Group 56") == "group-56"
    assert slug("cmdb_ci 3") == "cmdb_ci-3"
