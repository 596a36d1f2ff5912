"""The KPI dashboard in real Chromium against ``steward serve`` with the demo as
``steward demo`` seeds it (twelve weeks of KPI history, SLOs and two shared goals).

Every chart on the organisation, team and goal pages must have data points; the
window form, the team and goal links and the downloads work; the dashboard reads
the same with JavaScript off. Every page is saved as a screenshot.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving import served

from steward.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.ui
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture(scope="module")
def kpi_server(tmp_path_factory: pytest.TempPathFactory, demo_templates) -> Iterator[str]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("kpi-live")
    demo_templates.sqlite_copy(folder / "steward.db", kpi_history=True)
    url = f"sqlite:///{folder / 'steward.db'}"
    env = {**os.environ, "STEWARD_DATABASE_URL": url}
    env.pop("STEWARD_SECURE_COOKIES", None)
    with served(env, folder / "server.log") as base:
        yield base


def open_page(browser, base: str, *, javascript: bool = True):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base, viewport={"width": 1400, "height": 900},
                                  java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    return context, context.new_page()


@pytest.fixture
def kpage(browser, kpi_server):  # type: ignore[no-untyped-def]
    context, page = open_page(browser, kpi_server)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
            and "Failed to load resource" not in msg.text else None)
    # a refused form (422) is expected; a missing resource or a server error is not
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if (r.status >= 500 or r.status == 404) and not r.url.endswith("/favicon.ico")
            else None)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def every_chart_has_points(page) -> int:  # type: ignore[no-untyped-def]
    """Checks each chart on the page draws marks with values; returns how many charts."""
    charts = page.locator("svg.kpi-chart")
    count = charts.count()
    assert count > 0
    for i in range(count):
        chart = charts.nth(i)
        name = chart.get_attribute("id")
        marks = chart.locator(".mark")
        assert marks.count() > 0, f"{name} has no data points"
        assert int(chart.get_attribute("data-points") or 0) == marks.count()
        box = marks.first.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, name
        assert marks.first.get_attribute("data-value") is not None
    return int(count)


def test_organisation_team_and_goal_dashboards(kpage):  # type: ignore[no-untyped-def]
    page = kpage
    sign_in(page, "viewer")
    page.click("nav.mainnav a:has-text('KPIs')")
    page.wait_for_url(re.compile(r"/kpis$"))
    assert "KPIs of the organisation" in page.inner_text("h1")
    charts = every_chart_has_points(page)
    assert charts >= 4 + 6  # four trend charts and the demo's error budgets
    assert page.locator("#chart-deployments .bar").count() == 12
    overall = page.locator("#tiers h2 .tier-badge")
    assert overall.inner_text() in ("Elite", "High", "Medium", "Low")
    colour = overall.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    assert page.locator("#teams-table tbody tr").count() == 5
    assert page.locator("#by-priority tbody tr").count() >= 3
    assert page.locator("#goals .goal").count() == 2
    fill = page.locator("#goals .goal-fill").first.bounding_box()
    assert fill is not None and fill["width"] > 0
    shot(page, "kpis-organisation")
    page.emulate_media(color_scheme="dark")
    shot(page, "kpis-organisation-dark")
    page.emulate_media(color_scheme="light")

    href = page.locator("#downloads a", has_text="DORA CSV").get_attribute("href")
    download = page.request.get(href)
    assert download.status == 200 and download.headers["content-type"].startswith("text/csv")
    assert download.text().startswith("team,window_start,window_end,window_days")

    page.select_option("#w-days", "28")
    page.click("#window-form button[type=submit]")
    page.wait_for_url(re.compile(r"/kpis\?days=28$"))
    assert page.locator("#chart-deployments .bar").count() == 4
    every_chart_has_points(page)
    shot(page, "kpis-organisation-28-days")

    page.click("#teams-table a:has-text('order-to-cash')")
    page.wait_for_url(re.compile(r"/kpis/teams/order-to-cash\?days=28$"))
    assert "KPIs of order-to-cash" in page.inner_text("h1")
    every_chart_has_points(page)
    assert page.locator("#slos svg.kpi-chart").count() >= 2
    shot(page, "kpis-team-order-to-cash")

    page.click("#goals a:has-text('Change failure rate at most 10 %')")
    page.wait_for_url(re.compile(r"/kpis/goals/\d+$"))
    assert every_chart_has_points(page) == 1
    assert page.locator("#chart-goal .point").count() == 12
    assert page.locator("#chart-goal .target").count() == 1
    assert page.locator("#goal-teams tbody tr").count() == 5
    shot(page, "kpis-goal")


def test_dashboard_reads_without_javascript(browser, kpi_server):  # type: ignore[no-untyped-def]
    context, page = open_page(browser, kpi_server, javascript=False)
    try:
        sign_in(page, "alice")
        page.goto("/kpis/teams/customer-experience")
        every_chart_has_points(page)
        assert page.locator("#tiers .tier-badge").count() >= 5
        shot(page, "kpis-team-without-javascript")
    finally:
        context.close()


def test_admin_sets_a_goal_in_the_browser(kpage):  # type: ignore[no-untyped-def]
    page = kpage
    sign_in(page, "admin")
    page.goto("/kpis")
    page.click("#new-goal")
    page.wait_for_url(re.compile(r"/kpis/goals/new$"))
    page.fill("#g-name", "Acknowledge within 15 minutes")
    page.select_option("#g-metric", "mtta_median_hours")
    page.fill("#g-target", "quick")
    shot(page, "kpis-goal-form")
    with page.expect_response(re.compile(r"/kpis/goals$")) as answer:
        page.click("#goal-form button[type=submit]")
    assert answer.value.status == 422
    assert "target: expected a number" in page.inner_text("[role=alert]")
    assert page.input_value("#g-name") == "Acknowledge within 15 minutes"
    page.fill("#g-target", "0.25")
    page.click("#goal-form button[type=submit]")
    page.wait_for_url(re.compile(r"/kpis/goals/\d+\?done=created$"))
    assert "Goal set." in page.inner_text("[role=status]")
    assert page.locator("#goal-teams tbody tr").count() == 5
    every_chart_has_points(page)
    shot(page, "kpis-goal-created")
