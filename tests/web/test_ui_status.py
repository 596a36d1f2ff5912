"""The public status page in real Chromium against ``steward serve`` on the demo's
core-db cascade: components degraded and down, the public update, maintenance, a
component's history, and the page with JavaScript turned off. Screenshots go to
test-output/screenshots/ for a person to look at."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving import served

from demo_templates import DemoTemplates
from status_data import PUBLIC_BODY, PUBLIC_TITLE, add_public_data
from steward.config import Settings
from steward.db import Database

pytestmark = pytest.mark.ui
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture(scope="module")
def status_server(tmp_path_factory: pytest.TempPathFactory,
                  demo_templates: DemoTemplates) -> Iterator[tuple[str, dict[str, int]]]:
    """A server on a copy of the demo with public updates, two published services and
    maintenance (the shared live server stays as the demo seeds it)."""
    folder = tmp_path_factory.mktemp("status-live")
    demo_templates.sqlite_copy(folder / "steward.db")
    url = f"sqlite:///{folder / 'steward.db'}"
    db = Database(Settings(database_url=url))
    try:
        ids = add_public_data(db)
    finally:
        db.dispose()
    env = {**os.environ, "STEWARD_DATABASE_URL": url}
    env.pop("STEWARD_SECURE_COOKIES", None)
    with served(env, folder / "server.log") as base:
        yield base, ids


def _open(browser, base: str, *, javascript: bool = True, dark: bool = False):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base, viewport={"width": 1200, "height": 900},
                                  java_script_enabled=javascript,
                                  color_scheme="dark" if dark else "light")
    context.set_default_timeout(15_000)
    return context, context.new_page()


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_the_status_page_during_the_cascade(browser, status_server) -> None:  # type: ignore[no-untyped-def]
    base, ids = status_server
    context, page = _open(browser, base)
    try:
        page.goto("/status")
        _shot(page, "status-page-cascade")
        assert page.inner_text("#indicator") == "Major System Outage"
        incident = page.locator(f"#i{ids['cascade']}")
        assert PUBLIC_TITLE in incident.inner_text() and PUBLIC_BODY in incident.inner_text()
        banking = page.locator(f"#c{ids['banking']}")
        assert "Major outage" in banking.inner_text()
        assert banking.locator("svg.sp-bars rect").count() == 90
        assert "Degraded performance" in page.locator("#components").inner_text()
        assert "Under maintenance" in page.locator(f"#c{ids['search']}").inner_text()
        assert page.locator("#maintenance article").count() == 2
        subscribe = page.get_by_role("link", name="Subscribe to updates")
        assert subscribe.get_attribute("href") == "/status/subscribe"
        body = page.inner_text("body")
        assert "core-db" not in body and "carol" not in body
        # Its history: the bars, the day of the outage, the public incident.
        banking.get_by_role("link", name="online-banking").click()
        page.wait_for_url(re.compile(rf"/status/components/c{ids['banking']}$"))
        _shot(page, "status-component-history")
        assert "Uptime, last 90 days" in page.inner_text("#uptime")
        assert page.locator(".sp-days tbody tr").count() >= 1
        page.get_by_role("link", name=PUBLIC_TITLE).click()
        page.wait_for_url(re.compile(rf"/status/incidents/i{ids['cascade']}$"))
        _shot(page, "status-incident")
        assert page.locator(".sp-updates li").count() == 2
    finally:
        context.close()


def test_the_status_page_without_javascript(browser, status_server) -> None:  # type: ignore[no-untyped-def]
    base, ids = status_server
    context, page = _open(browser, base, javascript=False, dark=True)
    try:
        page.goto("/status")
        _shot(page, "status-page-no-javascript-dark")
        assert page.inner_text("#indicator") == "Major System Outage"
        assert PUBLIC_TITLE in page.inner_text("#incidents")
        assert page.locator(f"#c{ids['banking']} svg.sp-bars rect").count() == 90
        page.goto(f"/status/components/c{ids['banking']}")
        assert "Uptime, last 90 days" in page.inner_text("#uptime")
    finally:
        context.close()
