"""An incident's escalation in real Chromium against ``steward serve`` with the demo: a
P1 declared on payments-gateway is paged to Order-to-Cash's on-call by the server's own
timer loop within seconds; the incident page says where the escalation stands and its
timeline shows the step; acknowledging stops it. Screenshots of each."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.ui
TITLE = "Card payments declined for every issuer"


def test_a_declared_p1_escalates_and_acknowledging_stops_it(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("alice")
    page.goto("/incidents")
    page.click("a.btn:has-text('Declare incident')")
    page.fill("#d-title", TITLE)
    page.select_option("#d-service", "payments-gateway")
    page.select_option("#d-impact", "1")
    page.select_option("#d-urgency", "1")
    page.click("#declare button[type=submit]")
    page.wait_for_url(re.compile(r"/incidents/\d+\?done=declared"))
    url = page.url.split("?")[0]

    for _ in range(60):  # the server's loop fires the first step within a second or two
        if page.locator("#escalation").count():
            break
        page.wait_for_timeout(500)
        page.goto(url)
    line = page.inner_text("#escalation")
    assert re.fullmatch(r"level 1 of 2, next step \d\d:\d\d UTC \(order-to-cash escalation\)",
                        line), line
    timeline = page.inner_text("#timeline")
    assert re.search(r"Escalated to level 1 of 2: paged (alice|erin|frank) \(on call on "
                     r"order-to-cash weekly\)", timeline), timeline
    assert "\u21d1" in timeline
    shot("incident-escalated")

    page.click("#act button[value=acknowledge]")
    page.wait_for_url(re.compile(r"done=acknowledge"))
    assert page.inner_text("#escalation") == (
        "stopped: acknowledged by alice (order-to-cash escalation)")
    shot("incident-escalation-stopped")
