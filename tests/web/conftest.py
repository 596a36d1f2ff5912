"""Fixtures for the web UI: a real ``steward serve`` process with the demo
organisation, and the system's Chromium driven by Playwright.

The browser (``browser``, in the root conftest) is never downloaded: Playwright
launches ``/usr/bin/chromium`` (Debian's package). Without it the UI tests skip,
which the root conftest turns into a failure under ``STEWARD_REQUIRE_ALL=1``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving import served

from demo_templates import DemoTemplates
from steward.demo.seed import DEMO_PASSWORD

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "screenshots"



def pytest_itemcollected(item: pytest.Item) -> None:
    # ``web`` is a client on the demo organisation: the test's ``db`` starts with it.
    if "web" in getattr(item, "fixturenames", ()) and item.get_closest_marker("demo") is None:
        item.add_marker(pytest.mark.demo)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory,
                demo_templates: DemoTemplates) -> Iterator[str]:
    """Base URL of a real server on 127.0.0.1 serving the seeded demo organisation."""
    folder = tmp_path_factory.mktemp("live")
    demo_templates.sqlite_copy(folder / "steward.db")
    url = f"sqlite:///{folder / 'steward.db'}"

    env = {**os.environ, "STEWARD_DATABASE_URL": url}
    env.pop("STEWARD_SECURE_COOKIES", None)  # plain http on 127.0.0.1
    with served(env, folder / "server.log") as base:
        yield base


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) per test, pointed at the live server."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Console errors catch what the page's Content-Security-Policy blocks; a refused
    # request (403, 404) the tests make on purpose also logs one, so those are let through.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
            and "Failed to load resource" not in msg.text else None)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def shot(page):  # type: ignore[no-untyped-def]
    """``shot(name)`` saves a full-page screenshot to test-output/screenshots/<name>.png."""

    def take(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def sign_in(page):  # type: ignore[no-untyped-def]
    """``sign_in(username)`` signs in through the login form as a demo user."""

    def login(username: str, password: str = DEMO_PASSWORD) -> None:
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/$"))

    return login


@pytest.fixture
def web(db):  # type: ignore[no-untyped-def]
    """A TestClient on the demo organisation (``web.db`` is its database, which the
    ``demo`` mark, given to every test using this fixture, fills)."""
    from fastapi.testclient import TestClient

    from steward.app import create_app

    client = TestClient(create_app(db.settings, database=db))
    client.db = db  # type: ignore[attr-defined]
    return client
