"""The home page in real Chromium against ``steward serve`` on the demo: signing in lands
on it, it shows what is on fire during the core-db cascade, it reads on a phone without
sideways scrolling, and it links on to the pages behind each part. Screenshots go to
test-output/screenshots/ (overview-desktop, overview-phone)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.ui
CASCADE = "core-db: too many connections, primary refusing clients"


def test_the_home_page_shows_what_is_on_fire(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("alice")  # lands on the home page
    assert page.locator("h1").inner_text() == "What is on fire"
    shot("overview-desktop")
    assert page.locator('nav.mainnav a[aria-current="page"]').inner_text() == "Overview"
    urgent = page.locator("#ov-urgent li")
    assert urgent.count() >= 2
    first = urgent.first
    assert CASCADE in first.inner_text() and "P1" in first.inner_text()
    assert "open for" in first.inner_text()
    down = page.locator('#ov-health [data-health="down"]')
    assert down.count() >= 1 and down.first.is_visible()
    assert "down" in down.first.inner_text()  # the state in words, not colour alone
    # The demo server is shared with other browser tests, which may approve or close
    # changes: the page lists what the API says waits for alice, and for her the demo
    # has at least one change in flight and unauthorised deployments.
    overview = page.request.get("/api/v1/overview").json()
    assert page.locator("#ov-approvals li").count() == len(overview["my_approvals"])
    for approval in overview["my_approvals"]:
        assert f"CHG-{approval['id']}" in page.inner_text("#ov-approvals")
    assert page.locator("#ov-changes li").count() >= 1
    assert page.locator("#ov-unauthorised li").count() >= 1
    assert page.locator("#ov-oncall dd").count() >= 1

    page.locator("#ov-urgent li").first.locator("a.inc-number").click()
    page.wait_for_url(re.compile(r"/incidents/\d+$"))
    assert CASCADE in page.locator("h1").inner_text()
    page.click("nav.mainnav >> text=Overview")
    page.wait_for_url(re.compile(r"/$"))


def test_the_home_page_reads_on_a_phone(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("viewer")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    shot("overview-phone")
    sideways = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert sideways <= 1, f"the page scrolls sideways by {sideways}px on a phone"
    for part in ("#ov-incidents", "#ov-health", "#ov-changes", "#ov-approvals",
                 "#ov-unauthorised", "#ov-oncall"):
        box = page.locator(part).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 391, part
    assert "Nothing waits for your approval" in page.inner_text("#ov-approvals")
