"""The integrations page in real Chromium against ``steward serve`` with the demo:
an admin creates an Alertmanager key for core-db, sees it once with its snippet, and
it is gone after a reload."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.ui


def test_create_an_alertmanager_key(page, sign_in, shot):  # type: ignore[no-untyped-def]
    sign_in("admin")
    page.click("nav.mainnav a:has-text('Integrations')")
    page.wait_for_url(re.compile(r"/integrations$"))
    page.select_option("#i-type", "alertmanager")
    page.select_option("#i-service", "core-db")
    page.fill("#i-name", "prod alertmanager")
    page.click("#create button[type=submit]")
    page.wait_for_selector("#new-key")

    key = page.text_content("#new-key-value") or ""
    assert key.startswith("stk_")
    assert "only time it is shown" in page.inner_text("#new-key")
    snippet = page.inner_text("#new-key-snippet")
    assert "webhook_configs:" in snippet and "/ingest/alertmanager" in snippet
    assert f"credentials: {key}" in snippet
    row = page.locator("#integrations tbody tr", has_text="prod alertmanager")
    assert row.count() == 1 and "core-db" in row.inner_text()
    assert page.locator("#new-key").evaluate(
        "e => getComputedStyle(e).borderLeftWidth") == "5px"
    # one click selects the whole key, ready to copy
    page.click("#new-key-value")
    assert page.evaluate("() => window.getSelection().toString().trim()") == key
    shot("integrations-created")

    page.goto("/integrations")
    assert page.locator("#new-key").count() == 0
    assert key not in page.content()
    assert page.locator("#integrations tbody tr", has_text="prod alertmanager").count() == 1
