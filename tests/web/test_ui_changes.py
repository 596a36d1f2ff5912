"""The change pages in real Chromium against ``steward serve`` with the demo history.

The live server seeds the demo, so there is a change history, a high-risk core-db
change waiting for approval, a conflict, a freeze window a few days ahead and some
unauthorised production deployments. Every page is saved as a screenshot.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from steward.demo.changes import FREEZE_NAME, PENDING_TITLE

pytestmark = pytest.mark.ui
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def open_pending_change(page) -> str:  # type: ignore[no-untyped-def]
    """From the list, filtered to changes awaiting approval, to the pending core-db change."""
    page.goto("/changes?state=authorize")
    page.locator("#changes tr", has_text=PENDING_TITLE).locator("a.chg-number").click()
    page.wait_for_url(re.compile(r"/changes/\d+$"))
    return page.url


def test_change_list_filters_and_links(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("admin")
    page.click("nav.mainnav a:has-text('Changes')")
    page.wait_for_url(re.compile(r"/changes$"))
    rows = page.locator("#changes tbody tr")
    assert rows.count() > 20
    assert page.locator("#changes tbody .pill[data-outcome='failed']").count() >= 1
    assert page.locator("#changes tbody .pill[data-outcome='rolled_back']").count() >= 1
    assert page.locator("#new-change").is_visible()
    shot("changes-list")

    page.select_option("#f-state", "authorize")
    page.click("form[aria-label='Filter changes'] button[type=submit]")
    page.wait_for_url(re.compile(r"state=authorize"))
    assert rows.count() == 1
    assert PENDING_TITLE in rows.first.inner_text()
    assert "high" in rows.first.inner_text()
    shot("changes-list-awaiting-approval")

    page.goto("/changes?state=closed&q=address+check")
    page.locator("#changes tr", has_text="move the address check").locator("a.chg-number").click()
    page.wait_for_url(re.compile(r"/changes/\d+$"))
    assert "failed" in page.inner_text("#change-badges")
    assert page.locator("#change-deployments tbody tr").count() == 1
    assert "failed" in page.inner_text("#change-deployments")
    assert "closed" in page.inner_text("#gate")
    shot("change-closed-failed")

    page.goto("/changes?team=platform&risk=high")
    texts = page.locator("#changes tbody td:nth-child(6)").all_inner_texts()
    assert texts and set(texts) == {"platform"}


def test_change_page_explains_risk_and_refuses_the_author(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("carol")
    open_pending_change(page)
    assert PENDING_TITLE in page.inner_text("h1")
    assert "authorize" in page.inner_text("#change-badges")
    chart = page.locator("#risk svg.risk-chart")
    assert chart.is_visible()
    factors = chart.locator("g.factor")
    assert factors.count() >= 3
    names = chart.locator("text.name").all_text_contents()
    assert {"Batch size", "Blast radius", "Conflicting changes"} <= set(names)
    assert "64 commits" in (chart.text_content() or "")
    # the bars are drawn, longest for the most points
    widths = [float(w) for w in chart.locator("rect.bar").evaluate_all(
        "bars => bars.map(b => b.getAttribute('width'))")]
    assert widths == sorted(widths, reverse=True) and widths[0] > 50
    assert "high-risk-peer-review" in page.inner_text("#policy")
    assert "pending" in page.inner_text("#gate")
    assert "CHG-" in page.inner_text("#conflicts")
    # the author sees why, instead of the buttons
    assert page.locator("#decide").count() == 0
    assert "the author of a change cannot approve it" in page.inner_text("#cannot-approve")
    shot("change-pending-as-author")
    page.emulate_media(color_scheme="dark")
    shot("change-pending-as-author-dark")


def test_peers_approve_the_pending_change(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("alice")
    url = open_pending_change(page)
    assert page.locator("#decide").is_visible()
    shot("change-pending-as-peer")
    page.fill("#d-comment", "Fine for order-to-cash; we pause the exports.")
    page.click("#decide button[value=approve]")
    page.wait_for_url(re.compile(r"done=approve"))
    assert "Your approval is recorded" in page.inner_text("[role=status]")
    table = page.inner_text("#approvals-table")
    assert "alice" in table and "we pause the exports" in table
    assert "1 of 2 approvals" in page.inner_text("#gate-reasons")
    assert "already" in page.inner_text("#cannot-approve")
    shot("change-approved-by-one-peer")

    page.click("form[action='/logout'] button")
    page.wait_for_url(re.compile(r"/login"))
    sign_in("bob")
    page.goto(url)
    page.click("#decide button[value=approve]")
    page.wait_for_url(re.compile(r"done=approve"))
    assert "scheduled" in page.inner_text("#change-badges")
    assert "allowed" in page.inner_text("#gate")
    assert page.locator("#approvals-table tbody tr").count() == 2
    shot("change-approved-and-scheduled")


def test_calendar_week_with_freeze_and_conflict(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("admin")
    page.goto("/changes")
    page.click("nav.tabs a:has-text('Calendar')")
    page.wait_for_url(re.compile(r"/changes/calendar$"))
    assert page.locator(".cal-day").count() == 7
    shot("calendar-this-week")
    freeze_start = page.locator("#windows-table tr", has_text=FREEZE_NAME).inner_text()
    start = re.search(r"\d{4}-\d{2}-\d{2}", freeze_start).group(0)  # type: ignore[union-attr]
    page.goto(f"/changes/calendar?week={start}&tz=Europe/Berlin")
    freeze = page.locator(".cal-window.cal-freeze")
    assert freeze.count() >= 1
    assert FREEZE_NAME in freeze.first.inner_text()
    background = freeze.first.evaluate("e => getComputedStyle(e).backgroundImage")
    assert "repeating-linear-gradient" in background
    assert "Europe/Berlin" in page.inner_text("#week-label")
    day = date.fromisoformat(start)
    monday = day - timedelta(days=day.weekday())
    assert page.locator(".cal-day").first.get_attribute("data-date") == monday.isoformat()
    shot("calendar-freeze-week")
    page.emulate_media(color_scheme="dark")
    shot("calendar-freeze-week-dark")
    page.emulate_media(color_scheme="light")

    # the conflicting changes are planned on the next weekday: this week or the next
    page.goto("/changes/calendar")
    if page.locator(".cal-conflict").count() == 0:
        page.click("#next-week")
        page.wait_for_url(re.compile(r"week="))
    assert page.locator(".cal-conflict").count() >= 2
    assert "overlaps and changes orders-service" in page.inner_text("#week-conflicts")
    shot("calendar-conflict-week")
    page.locator(".cal-conflict a").first.click()
    page.wait_for_url(re.compile(r"/changes/\d+$"))


def test_policy_tab_shows_the_rules_in_order(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("viewer")
    page.goto("/changes")
    page.click("nav.tabs a:has-text('Policy')")
    page.wait_for_url(re.compile(r"/changes/policy$"))
    names = page.locator("#policy-rules tbody th").all_inner_texts()
    assert names[0] == "standard-preapproved" and names[-1] == "very-high-risk-cab"
    assert "auto approve" in page.locator("#policy-rules tbody tr").nth(2).inner_text()
    assert "error budget" in page.inner_text("#policy-guards")
    shot("change-policy")


def test_admin_adds_and_removes_a_window(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("admin")
    page.goto("/changes/calendar?tz=Europe/Berlin")
    page.fill("#a-name", "Release train pause")
    page.check("input[name=kind][value=freeze]")
    page.select_option("#a-scope", "team")
    page.fill("#a-values", "banking-webapp")
    page.check("input[name=schedule][value=weekly]")
    page.check("input[name=weekdays][value='4']")
    page.fill("#a-time", "16:00")
    page.fill("#a-duration", "120")
    page.click("#add-window button[type=submit]")
    page.wait_for_url(re.compile(r"done=window-added"))
    row = page.locator("#windows-table tr", has_text="Release train pause")
    assert "every Friday at 16:00 for 2 h (Europe/Berlin)" in row.inner_text()
    assert page.locator(".cal-window", has_text="Release train pause").count() == 1
    shot("calendar-window-added")

    page.fill("#a-name", "Broken")
    page.check("input[name=schedule][value=weekly]")
    page.fill("#a-time", "16:00")
    page.fill("#a-duration", "60")
    with page.expect_response(re.compile(r"/changes/calendar/windows$")) as answer:
        page.click("#add-window button[type=submit]")
    assert answer.value.status == 422
    assert "weekdays" in page.inner_text("[role=alert]")
    assert page.input_value("#a-name") == "Broken"
    shot("calendar-window-error")

    page.goto("/changes/calendar?tz=Europe/Berlin")
    page.on("dialog", lambda dialog: dialog.accept())
    row = page.locator("#windows-table tr", has_text="Release train pause")
    row.locator("button:has-text('Remove')").click()
    page.wait_for_url(re.compile(r"done=window-removed"))
    assert page.locator("#windows-table tr", has_text="Release train pause").count() == 0


def test_unauthorised_deployments_from_the_nav(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("viewer")
    page.click("nav.mainnav a:has-text('Deployments')")
    page.wait_for_url(re.compile(r"/deployments$"))
    assert page.locator("#deployments tbody tr").count() > 20
    assert page.locator("#deployments .pill[data-deployment='in_progress']").count() >= 1
    assert "unauthorised" in page.inner_text("#unauthorised-banner")
    shot("deployments")

    page.click("nav.mainnav a:has-text('Unauthorised changes')")
    page.wait_for_url(re.compile(r"/deployments/unauthorised$"))
    rows = page.locator("#deployments tbody tr")
    count = int(page.inner_text("#unauthorised-count"))
    assert count >= 3 and rows.count() == count
    for text in rows.all_inner_texts():
        assert "no change" in text and "unauthorised" in text and "production" in text
    assert page.locator("#new-change, form[method=post]:not([action='/logout'])").count() == 0
    shot("deployments-unauthorised")


def test_member_records_a_change_through_the_form(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("alice")
    page.goto("/changes")
    page.click("a.btn:has-text('New change')")
    form = page.locator("#new-change")
    form.scroll_into_view_if_needed()
    page.fill("#n-title", "Credit check: new score provider")
    page.select_option("#n-services", ["credit-check"])
    page.fill("#n-batch", "3")
    page.fill("#n-description", "Switch to the new bureau API.")
    form.screenshot(path=str(SCREENSHOTS / "changes-new-form.png"))
    page.click("#new-change button[type=submit]")
    page.wait_for_url(re.compile(r"/changes/\d+\?done=created$"))
    assert "Credit check: new score provider" in page.inner_text("h1")
    assert "Change recorded" in page.inner_text("[role=status]")
    assert "alice" in page.inner_text("#facts")
    shot("change-created-from-form")

    page.goto("/changes")
    page.fill("#n-title", "Not mine")
    page.select_option("#n-services", ["core-db"])
    with page.expect_response(re.compile(r"/changes$")) as answer:
        page.click("#new-change button[type=submit]")
    assert answer.value.status == 403
    assert "only members of the owning team" in page.inner_text("[role=alert]")
    assert page.input_value("#n-title") == "Not mine"
