"""Summarising an incident's alert entries (pure): runs, their wording, signatures and
page cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steward.incidents import timeline_summary as ts

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def count(minute: int, service: str | None, n: int, first_id: int, *, first: float = 0,
          last: float = 30) -> ts.AlertCount:
    start = T0 + timedelta(minutes=minute)
    return ts.AlertCount(bucket=int(start.timestamp()) // 60, service=service, count=n,
                         first_at=start + timedelta(seconds=first),
                         last_at=start + timedelta(seconds=last), first_id=first_id)


def test_signature_blanks_numbers_so_repeats_of_one_problem_match():
    assert ts.signature("latency high on pod-7 (5230 ms)") == "latency high on pod-# (# ms)"
    assert ts.signature("latency high on pod-12 (87 ms)") == "latency high on pod-# (# ms)"
    assert ts.signature("disk full") == "disk full"
    assert ts.signature("error 500 on v2") != ts.signature("error 500 on v2 checkout")


def test_a_cursor_names_the_exact_entry_it_follows():
    key = (T0 + timedelta(microseconds=123457), 98765)
    assert ts.key_of(ts.cursor_of(key)) == key
    for bad in ("", "abc", "12", "12.x", "1.2.3", "9" * 30 + ".1"):
        assert ts.key_of(bad) is None


def test_close_minutes_make_one_run_counting_each_service_once():
    runs = ts.runs([count(0, "api", 300, 1), count(0, "db", 200, 2),
                    count(1, "api", 100, 900), count(3, "web", 5, 1500)], [])
    assert len(runs) == 1
    [run] = runs
    assert run.count == 605 and run.services == {"api", "db", "web"}
    assert run.collapsed
    assert ts.summary_text(run, 0) == "+605 alerts on 3 services in 4 minutes."


def test_a_run_ends_at_another_entry_at_a_quiet_gap_and_after_ten_minutes():
    note_at = T0 + timedelta(minutes=2)
    runs = ts.runs([count(0, "api", 20, 1), count(3, "api", 20, 30),       # a note between
                    # a gap of 5 minutes, then 12 busy minutes
                    *[count(9 + m, "api", 20, 100 + m) for m in range(12)]], [note_at])
    assert [r.count for r in runs] == [20, 20, 20 * 10, 20 * 2]
    assert all(r.last_at - r.first_at <= ts.RUN_SPAN for r in runs)


def test_a_few_alert_entries_stay_as_they_are():
    [run] = ts.runs([count(0, "api", ts.COLLAPSE_FROM - 1, 1)], [])
    assert not run.collapsed


def test_a_collapsed_run_shows_the_first_alert_of_each_service_that_joined_in_it():
    counts = [count(0, f"svc-{n:02d}", 50, 100 + n, first=n) for n in range(15)]
    [run] = ts.runs(counts, [])
    joined = {f"svc-{n:02d}": T0 + timedelta(seconds=n) for n in range(15)}
    joined["svc-00"] = T0 - timedelta(hours=1)  # it was in the incident before this run
    shown = ts.shown_firsts(run, joined)
    assert shown == [101 + n for n in range(ts.FIRST_SHOWN)]
    assert ts.joined_in(run, joined) == 14
    assert ts.summary_text(run, 14) == \
        "+750 alerts on 15 services in 30 seconds (14 services joined)."


def test_spans_read_naturally():
    assert ts.span_words(timedelta(0)) == "1 second"
    assert ts.span_words(timedelta(seconds=40)) == "40 seconds"
    assert ts.span_words(timedelta(minutes=5, seconds=10)) == "5 minutes"
    assert ts.span_words(timedelta(hours=1, minutes=5)) == "1 hour 5 minutes"
    assert ts.span_words(timedelta(hours=2)) == "2 hours"


def test_entries_that_name_no_service_count_as_alerts_only():
    [run] = ts.runs([count(0, None, 12, 1), count(0, "api", 4000, 2)], [])
    assert ts.summary_text(run, 0) == "+4,012 alerts on 1 service in 30 seconds."


def test_a_page_ends_after_whole_runs_and_before_the_runs_it_has_no_room_for():
    from steward.incidents.detail_queries import cut_page

    def row(second: int, entry_id: int, end: int | None = None, kind: str = "entry"):
        at = T0 + timedelta(seconds=second)
        return {"type": kind, "_key": (at, entry_id, 0 if kind != "entry" else 1),
                "_end": (T0 + timedelta(seconds=end if end is not None else second),
                         entry_id + 100 if end is not None else entry_id)}

    summary, firsts = row(0, 1, end=50, kind="summary"), [row(n, 1 + n) for n in (0, 5, 9)]
    note, later = row(60, 500), row(70, 501)
    rows = [summary, *firsts, note, later]
    page, end = cut_page(rows, 2)
    assert page == [summary, *firsts] and end == summary["_end"]
    assert cut_page(rows, 10) == (rows, None)
    stop = {"type": "stop", "_key": (T0 + timedelta(seconds=65), 600, 0)}
    assert cut_page([*rows[:5], stop, later], 10) == (rows[:5], note["_end"])
