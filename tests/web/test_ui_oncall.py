"""On-call in real Chromium against ``steward serve`` with the demo: carol (platform) sets
up a schedule whose rotation starts next Monday (this week is a gap), covers the present
with an override, writes an escalation policy, and the incident page of the platform
team's core-db cascade shows who is on call. Every page is saved as a screenshot."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from steward.timeutil import utcnow

pytestmark = pytest.mark.ui
AMS = ZoneInfo("Europe/Amsterdam")
CASCADE = "core-db: too many connections, primary refusing clients"


def local(moment: datetime) -> str:
    return moment.astimezone(AMS).strftime("%Y-%m-%dT%H:%M")


def test_schedule_view_policy_and_oncall_on_the_incident_page(page, sign_in, shot):  # type: ignore[no-untyped-def]
    now = utcnow()
    today = now.astimezone(AMS).date()
    next_monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
    sign_in("carol")
    page.goto("/teams/platform/oncall")
    page.click("text=New schedule")
    page.wait_for_url(re.compile(r"/teams/platform/schedules/new$"))
    page.fill("#s-name", "platform-primary")
    page.fill("#s-zone", "Europe/Amsterdam")
    page.fill("#s-desc", "Databases and the web tier, first line")
    page.fill("#l0-name", "weekly")
    page.fill("#l0-starts", f"{next_monday.isoformat()}T09:00")
    page.fill("#l0-interval", "168")
    page.fill("#l0-members", "carol\ndan")
    shot("oncall-schedule-form")
    page.click("#schedule-form button[type=submit]")
    page.wait_for_url(re.compile(r"/schedules/\d+\?done=created"))
    schedule_path = "/" + page.url.split("?")[0].split("/", 3)[3]

    # Somebody covers the present, which the rotation does not yet.
    page.fill("#o-user", "dan")
    page.fill("#o-start", local(now - timedelta(hours=1)))
    page.fill("#o-end", local(now + timedelta(hours=3)))
    page.fill("#o-reason", "until the rotation starts on Monday")
    page.click("#override-form button[type=submit]")
    page.wait_for_url(re.compile(r"done=override"))
    assert "Override added." in page.inner_text(".message-ok")

    chart = page.locator(".oncall-chart")
    assert chart.count() == 1
    assert page.locator(".oncall-chart .oc-final .oc-gap").count() >= 1
    assert page.locator(".oncall-chart .oc-override").count() >= 1
    gap_row = page.locator("#shift-table tr.row-gap").first
    assert "nobody on call" in gap_row.inner_text()
    colour = gap_row.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    assert "gap" in page.inner_text("#gap-count")
    override_row = page.locator("#shift-table tr.row-override")
    assert override_row.count() == 1 and "dan" in override_row.inner_text()
    assert "until the rotation starts on Monday" in page.inner_text("#override-table")
    assert "Now: dan" in page.inner_text("#now-next")
    shot("oncall-schedule-view")

    # The escalation policy (the demo's has two levels): the new schedule first, then
    # admin after 5 minutes.
    page.goto("/teams/platform/escalation-policy")
    assert page.locator("#lv1-timeout").count() == 1
    page.select_option("#lv0-schedules", label="platform-primary")
    page.fill("#lv0-timeout", "5")
    page.select_option("#lv1-users", value="admin")
    page.fill("#lv1-timeout", "10")
    page.fill("#p-repeat", "1")
    shot("oncall-policy-editor")
    page.click("#policy-form button[type=submit]")
    page.wait_for_url(re.compile(r"/teams/platform/oncall\?done=policy"))
    levels = page.inner_text("#policy-levels")
    assert "platform-primary" in levels and "admin" in levels and "10 min" in levels
    now_panel = page.text_content("#oncall") or ""
    assert "Level 1" in now_panel and "dan" in now_panel
    assert "Level 2" in now_panel and "admin" in now_panel
    shot("oncall-team")

    # The incident page of the platform team's cascade shows who is on call for it.
    page.goto("/incidents?status=all")
    page.locator("#incidents tr", has_text=CASCADE).locator("a.inc-number").click()
    page.wait_for_url(re.compile(r"/incidents/\d+$"))
    panel = page.locator("#oncall")
    text = panel.inner_text()
    assert "On call for this incident" in text and "team platform" in text
    assert "dan" in text and "override" in text and "carol" in text  # next: carol, Monday
    assert panel.locator(f"a[href='{schedule_path}']").count() == 1
    panel.scroll_into_view_if_needed()
    shot("oncall-on-the-incident-page")

    page.goto("/catalog?team=platform")
    headers = page.locator("#services thead th").all_text_contents()
    column = next(i for i, h in enumerate(headers, 1) if h.strip() == "On call now")
    cells = page.locator(f"#services tbody tr td:nth-child({column})").all_inner_texts()
    assert cells and all(c.strip() == "dan" for c in cells)
    shot("oncall-catalog-column")
