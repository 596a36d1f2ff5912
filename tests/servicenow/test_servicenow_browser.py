"""The import page in real Chromium against a real ``steward serve``: an admin uploads an
export, reads the summary, and finds the imported incident with its ServiceNow timeline.
Screenshots go to test-output/screenshots/servicenow-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from serving import database_env, served, steward

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "import history 2016"

pytestmark = [pytest.mark.ui, pytest.mark.e2e]


def test_admin_imports_an_export_in_the_browser(tmp_path, snow, browser):
    env = database_env(tmp_path / "steward.db")
    env.pop("STEWARD_SECURE_COOKIES", None)
    assert steward(env, "init").returncode == 0
    created = steward(env, "user", "create", "root", "--role", "admin", "--password-stdin",
                      stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    export = tmp_path / "history.csv"
    export.write_text(snow.csv([*snow.history(),
                                snow.row("INC0000048", opened_at="31/2/2016 10:00")]))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with served(env, tmp_path / "server.log") as base:
        page = browser.new_page(base_url=base, viewport={"width": 1300, "height": 900})
        try:
            page.set_default_timeout(15_000)
            page.goto("/login")
            page.fill("#username", "root")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/")
            page.click("nav.mainnav a:has-text('Import')")
            page.set_input_files("#i-export", str(export))
            page.fill("#i-timezone", "Europe/Amsterdam")
            page.click("#import button[type=submit]")
            summary = page.locator("#import-summary")
            summary.wait_for()
            assert page.locator("#sum-created").inner_text() == "1"
            assert page.locator("#sum-events").inner_text() == "4"
            assert page.locator("#skipped-lines").inner_text().count("31/2/2016") == 1
            page.screenshot(path=str(SCREENSHOTS / "servicenow-import.png"), full_page=True)
            page.click("text=See the incidents")
            page.locator("tr", has_text="INC0000045 (Category 55 / Subcategory 170)") \
                .locator("a").first.click()
            page.wait_for_url("**/incidents/*")
            timeline = page.locator("li.tl-servicenow")
            assert timeline.count() == 4
            assert "state Active \u2192 Resolved" in timeline.nth(2).inner_text()
            assert "2016-02-29 00:16:00 UTC" in page.content()  # 01:16 in Amsterdam
            page.screenshot(path=str(SCREENSHOTS / "servicenow-incident.png"), full_page=True)
        finally:
            page.close()
