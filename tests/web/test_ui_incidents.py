"""The incident pages in real Chromium against ``steward serve`` with the demo.

The live server seeds the demo, so the live cascade is there: core-db failing under
Order-to-Cash, Banking WebApp and Identity, acknowledged, with the core-db deployment
shortly before as the top suspect, beside the demo's other open incidents. The tests
read it, confirm the cause and resolve it as carol (platform), and declare a manual
incident. Every page is saved as a screenshot.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.ui
CASCADE = "core-db: too many connections, primary refusing clients"


def open_cascade(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/incidents?status=all")
    page.locator("#incidents tr", has_text=CASCADE).locator("a.inc-number").click()
    page.wait_for_url(re.compile(r"/incidents/\d+$"))


def test_incident_list_and_the_cascade(page, sign_in, shot):  # type: ignore[no-untyped-def]
    page.clock.install()  # the list's refresh timer runs on a clock the test moves
    sign_in("viewer")
    page.click("nav.mainnav a:has-text('Incidents')")
    page.wait_for_url(re.compile(r"/incidents$"))
    assert re.fullmatch(r"\(\d+ open\)", page.text_content("#nav-open-incidents") or "")
    opened = page.locator("#incidents tbody tr").count()
    assert opened >= 4
    row = page.locator("#incidents tbody tr", has_text=CASCADE)
    assert row.count() == 1
    cells = row.inner_text()
    assert "P1" in cells and "acknowledged" in cells and "core-db" in cells
    assert "online-banking" in cells and "order-to-cash-process" in cells
    assert "min ago" in cells and "UTC" in cells
    p1 = row.locator(".prio-p1").evaluate("e => getComputedStyle(e).backgroundColor")
    assert p1 not in ("rgba(0, 0, 0, 0)", "transparent")
    assert page.locator("#incidents tbody tr", has_text="Help-centre").count() == 0
    shot("incidents-list")

    # the table reloads itself, but not while paused or while a field has the focus
    with page.expect_request(lambda r: r.resource_type == "fetch" and "/incidents" in r.url):
        page.clock.run_for(31_000)
    page.wait_for_function("() => !!document.querySelector('#incidents tbody tr')")
    assert page.locator("#incidents tbody tr", has_text=CASCADE).count() == 1
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if r.resource_type == "fetch" else None)
    page.click("#live-toggle")
    assert page.inner_text("#live-toggle") == "Resume auto-refresh"
    page.clock.run_for(65_000)
    page.click("#live-toggle")
    page.focus("#f-q")
    page.clock.run_for(65_000)
    assert fetched == []

    page.select_option("#f-status", "all")
    page.click("form[aria-label='Filter incidents'] button[type=submit]")
    page.wait_for_url(re.compile(r"status=all"))
    assert page.locator("#incidents tbody tr").count() == opened + 2  # resolved, closed
    assert page.locator("#incidents .pill[data-status='closed']").count() == 1
    shot("incidents-list-all")

    page.locator("#incidents tr", has_text=CASCADE).locator("a.inc-number").click()
    page.wait_for_url(re.compile(r"/incidents/\d+$"))
    assert "core-db" in page.inner_text("#origin")
    assert "most upstream alerting service" in page.inner_text("#origin")
    business = page.inner_text("#business-services")
    assert "online-banking" in business and "order-to-cash-process" in business
    suspect = page.locator("#suspects-table tbody tr").first
    assert "core-db" in suspect.inner_text() and "15.8-config-42" in suspect.inner_text()
    assert "before the incident started" in suspect.inner_text()
    alerts = page.inner_text("#alerts-table")
    for service in ("core-db", "orders-service", "accounts-service", "auth-service"):
        assert service in alerts, service
    assert page.locator("#timeline-list li").count() >= 5
    origin = page.locator("#affected svg g.node[data-service='core-db']")
    assert "highlight" in origin.get_attribute("class")
    assert page.locator("#affected svg g.node[data-service='online-banking']").get_attribute(
        "data-state") == "down"
    assert page.locator("#respond form").count() == 0  # a viewer only follows
    shot("incident-cascade-viewer")
    page.click("#map-link")
    page.wait_for_url(re.compile(r"/map\?failing=.*core-db"))
    assert "online-banking" in page.inner_text(".impact-strip")


def test_carol_confirms_the_cause_and_resolves(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("carol")
    open_cascade(page)
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm questions
    shot("incident-cascade-responder")
    top = page.locator("#suspects-table tbody tr").first
    assert "core-db" in top.inner_text()
    top.locator("button", has_text="Confirm as cause").click()
    page.wait_for_url(re.compile(r"done=cause"))
    assert "Cause confirmed" in page.inner_text("[role=status]")
    confirmed = page.locator("#suspects-table tr.suspect-confirmed")
    assert confirmed.count() == 1 and "confirmed cause" in confirmed.inner_text()
    assert "15.8-config-42" in page.inner_text("#cause")
    assert "Cause confirmed" in page.inner_text("#timeline-list")
    shot("incident-cause-confirmed")

    future = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#a-at", future)
    with page.expect_response(re.compile(r"/act$")) as answer:
        page.click("#act button[value=resolve]")
    assert answer.value.status == 422
    assert "at: cannot record a time in the future" in page.inner_text("[role=alert]")
    shot("incident-future-time-refused")

    page.fill("#a-at", "")
    page.fill("#a-note", "Pool size back to 200; connections recovered.")
    page.click("#act button[value=resolve]")
    page.wait_for_url(re.compile(r"done=resolve"))
    assert "resolved" in page.inner_text("#incident-badges")
    assert "Pool size back to 200" in page.inner_text("#timeline-list")
    assert page.locator("#act button[value=close]").count() == 1
    assert page.locator("#act button[value=resolve]").count() == 0
    assert "met" in page.inner_text("#sla-respond")
    page.fill("#n-text", "Postmortem on Friday.")
    page.click("#add-note button[type=submit]")
    page.wait_for_url(re.compile(r"done=note"))
    assert page.locator("#timeline-list li").last.inner_text().endswith("Postmortem on Friday.")
    shot("incident-resolved")
    page.emulate_media(color_scheme="dark")
    shot("incident-resolved-dark")


def test_declare_a_manual_incident(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("alice")
    page.goto("/incidents")
    page.click("a.btn:has-text('Declare incident')")
    page.fill("#d-title", "Invoices go out without a PDF")
    page.select_option("#d-service", "invoicing-service")
    page.select_option("#d-urgency", "3")
    page.fill("#d-description", "Customers receive empty invoice mails.")
    shot("incident-declare-form")
    page.click("#declare button[type=submit]")
    page.wait_for_url(re.compile(r"/incidents/\d+\?done=declared"))
    assert "Incident declared." in page.inner_text("[role=status]")
    assert "declared by hand" in page.inner_text("#incident-badges")
    assert "invoicing-service" in page.inner_text("#origin")
    assert "order-to-cash" in page.inner_text("#incident-badges")
    assert page.locator("#alerts-table tbody tr").inner_text().startswith("No alerts")
    assert page.locator("#act button[value=acknowledge]").count() == 1
    shot("incident-declared")
    page.click("#act button[value=acknowledge]")
    page.wait_for_url(re.compile(r"done=acknowledge"))
    assert "acknowledged" in page.inner_text("#incident-badges")
    page.click("nav.mainnav a:has-text('Incidents')")
    assert page.locator("#incidents tbody tr", has_text="Invoices go out without a PDF"
                        ).count() == 1
    shot("incidents-list-after-declare")
