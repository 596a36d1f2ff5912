"""What a responder sees of the demo's open incidents, in real Chromium against
``steward serve``: an origin revised before acknowledgement in the timeline, the
responding teams of the core-db cascade, and the system map coloured by live health.

Screenshots go to /tmp/steward-shots/ (``STEWARD_SHOTS`` elsewhere) for a person to
look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui
SHOTS = Path(os.environ.get("STEWARD_SHOTS", "/tmp/steward-shots"))
CASCADE = "core-db: too many connections, primary refusing clients"
LEDGER = "billing-api: 12% of invoice lookups fail"


def save(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def open_incident(page, title: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/incidents")
    page.locator("#incidents tbody tr", has_text=title).locator("a.inc-number").click()
    page.wait_for_url(re.compile(r"/incidents/\d+$"))


def test_an_origin_revised_before_acknowledgement(page, sign_in):  # type: ignore[no-untyped-def]
    sign_in("viewer")
    open_incident(page, LEDGER)
    save(page, "incident-origin-revised")  # before the checks: there to look at either way
    assert "ledger-db" in page.inner_text("#origin")
    revised = page.locator("#timeline li", has_text="Probable origin revised")
    assert revised.count() == 1
    entry = revised.first
    assert "tl-origin" in (entry.get_attribute("class") or "")
    text = entry.inner_text()
    assert "billing-api" in text and "ledger-db" in text
    assert entry.is_visible()


def test_the_cascade_shows_its_responding_teams(page, sign_in):  # type: ignore[no-untyped-def]
    sign_in("viewer")
    open_incident(page, CASCADE)
    save(page, "incident-responding-teams")
    assert "core-db" in page.inner_text("#origin")
    label = page.get_by_text(re.compile(r"^\s*Responding teams")).first
    assert label.is_visible()
    shown = label.inner_text()
    if "identity" not in shown:  # a label (dt, heading) followed by the teams
        shown = label.locator("xpath=following-sibling::*[1]").inner_text()
    assert "identity" in shown
    assert "platform" in page.inner_text("#incident-badges")  # the owning team stays
    added = page.locator("#timeline li", has_text="identity added as a responding team")
    assert added.count() == 1 and "owns auth-service" in added.first.inner_text()


def test_the_system_map_shows_live_health(page, sign_in):  # type: ignore[no-untyped-def]
    sign_in("viewer")
    page.goto("/map")
    save(page, "map-live-health")
    core_db = page.locator("svg g.node[data-service='core-db']")
    assert core_db.get_attribute("data-state") == "down"
    assert "state-down" in (core_db.get_attribute("class") or "")
    assert "DOWN" in (core_db.text_content() or "")
    for dependant in ("orders-service", "accounts-service", "online-banking"):
        state = page.locator(f"svg g.node[data-service='{dependant}']").get_attribute(
            "data-state")
        assert state in ("down", "degraded"), (dependant, state)
    assert page.locator("svg g.node[data-service='web-pool']").get_attribute(
        "data-state") == "degraded"
    assert page.locator("svg g.node[data-state='down']").count() > 1

    def fill(service: str) -> str:
        return page.locator(f"svg g.node[data-service='{service}'] rect").evaluate(
            "e => getComputedStyle(e).fill")

    assert fill("core-db") != fill("smtp-relay")  # down is coloured, unlike the untouched
    legend = page.locator("svg .legend .state-down")
    assert legend.is_visible() and "DOWN" in (legend.text_content() or "")
