"""The Backstage import page in real Chromium against ``steward serve``: an admin uploads a
repository as a zip and reads what was imported, skipped and left unresolved. Saved as
screenshots."""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import make_user
from serving import served

from steward.config import Settings
from steward.db import Database, migrate
from steward.demo.seed import DEMO_PASSWORD
from steward.models import ensure_seed_rows

pytestmark = pytest.mark.ui
REPO = Path(__file__).resolve().parents[1] / "fixtures" / "backstage-repo"


@pytest.fixture(scope="module")
def import_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty Steward with one admin: the import is the only thing in its catalog."""
    folder = tmp_path_factory.mktemp("backstage-live")
    url = f"sqlite:///{folder / 'steward.db'}"
    db = Database(Settings(database_url=url))
    migrate.upgrade(db)
    ensure_seed_rows(db)
    make_user(db, "root", role="admin", password=DEMO_PASSWORD)
    db.dispose()
    env = {**os.environ, "STEWARD_DATABASE_URL": url}
    env.pop("STEWARD_SECURE_COOKIES", None)
    with served(env, folder / "server.log") as base:
        yield base


def repository_zip(folder: Path) -> Path:
    path = folder / "payments-main.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(p for p in REPO.rglob("*") if p.is_file()):
            archive.write(file, f"payments-main/{file.relative_to(REPO).as_posix()}")
    return path


def test_upload_a_repository_and_read_the_report(browser, import_server, tmp_path, shot_dir):
    context = browser.new_context(base_url=import_server, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/login")
        page.fill("#username", "root")
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/$"))
        page.click("nav.mainnav >> text=Import")
        page.click("text=Backstage catalog")
        page.wait_for_url(re.compile(r"/imports/backstage$"))
        page.set_input_files("#b-files", str(repository_zip(tmp_path)))
        page.click("#import button[type=submit]")
        page.wait_for_selector("#import-report")
        assert page.inner_text("#report-h") == "Imported"
        assert page.inner_text("#skipped-total") == "9"
        assert page.inner_text("#unresolved-total") == "8"
        kinds = page.inner_text("#skipped-kinds")
        assert all(kind in kinds for kind in ("AiResource", "Environment", "Location", "Template"))
        assert page.locator("#unresolved tbody tr").count() == 8
        assert "group:finance/ledger-team" in page.inner_text("#unresolved")
        page.click("text=Every skipped file and document")
        assert "payments-main/templates/new-service/skeleton/catalog-info.yaml" in \
            page.inner_text("#skipped-items")
        page.screenshot(path=str(shot_dir / "imports-backstage-report.png"), full_page=True)
    finally:
        context.close()
    assert not errors


@pytest.fixture
def shot_dir() -> Path:
    folder = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
