"""Stored-XSS probe in Chromium: hostile URLs in every URL field, as a browser sees them.

The same probes as test_stored_links, served by a real ``steward serve``; on each page
the browser resolves every link, form and source, and none may use a scheme other than
http(s) (or mailto), nor may any dialog open.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from serving import served

from conftest import OUTPUT
from link_probes import build_org, store_probes
from steward.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.ui

RESOLVED_URLS = """() => Array.from(document.querySelectorAll(
    'a, area, form, [src], [formaction]')).map(el => {
  const raw = el.getAttribute('href') ?? el.getAttribute('xlink:href') ?? el.getAttribute('src')
    ?? el.getAttribute('action') ?? el.getAttribute('formaction');
  if (raw === null) return null;
  try { return [raw, new URL(raw, location.href).protocol]; }
  catch (e) { return [raw, 'unparsable']; }
}).filter(x => x !== null)"""
ALLOWED = {"http:", "https:", "mailto:"}


def test_chromium_follows_no_stored_link_that_is_not_http(  # type: ignore[no-untyped-def]
        browser, sqlite_db, tmp_path: Path):
    client, admin, keys = build_org(sqlite_db)
    pages = store_probes(client, sqlite_db, admin, keys)
    url = sqlite_db.settings.database_url
    sqlite_db.dispose()
    env = {**os.environ, "STEWARD_DATABASE_URL": url}
    env.pop("STEWARD_SECURE_COOKIES", None)
    with served(env, tmp_path / "server.log") as base:
        context = browser.new_context(base_url=base, viewport={"width": 1400, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        try:
            page.goto("/login")
            page.fill("#username", "root")
            page.fill("#password", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/")
            checked = 0
            for path in pages:
                response = page.goto(path)
                assert response is not None and response.status == 200, path
                found = page.evaluate(RESOLVED_URLS)
                bad = [(raw, scheme) for raw, scheme in found if scheme not in ALLOWED]
                assert not bad, f"{path}: {bad}"
                checked += len(found)
            page.goto("/services/api")
            assert page.locator(".not-linked").count() == 5
            assert page.locator("a[href='https://grafana.example/d/1']").count() == 1
            shots = OUTPUT / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "stored-links-service.png"), full_page=True)
        finally:
            context.close()
    assert checked > 100
    assert not dialogs, dialogs
