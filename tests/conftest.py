"""Fixtures: a fresh database per test on SQLite, and on PostgreSQL when configured.

``STEWARD_TEST_POSTGRES_URL`` names a PostgreSQL server database to connect to
(for example ``postgresql://postgres@127.0.0.1:5432/postgres``); each test run
creates its own database there and drops it at the end. Under
``STEWARD_REQUIRE_ALL=1`` any skipped test counts as a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import route_cache
import snapshots
from demo_templates import DemoTemplates
from steward.config import Settings, normalise_database_url
from steward.db import Database, migrate
from steward.models import ensure_seed_rows

# Routes prepared once for all the applications the tests make (see route_cache).
route_cache.install()

REQUIRE_ALL = os.environ.get("STEWARD_REQUIRE_ALL") == "1"
POSTGRES_URL = os.environ.get("STEWARD_TEST_POSTGRES_URL", "")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under STEWARD_REQUIRE_ALL=1: {reason}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "demo(kpi_history=False): the test's ``db`` starts "
                            "with the demo organisation (and its twelve weeks of KPI history)")


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with the least work it allows: the same hashes in the same format, made in
    milliseconds instead of a good part of a second (the cost a server pays on purpose).
    Hashes carry their parameters, so a server process verifies them just as cheaply."""
    from argon2 import PasswordHasher

    from steward.auth import passwords

    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", hasher)
        patch.setattr(passwords, "_DUMMY_HASH", hasher.hash("steward-dummy-password"))
        yield


@pytest.fixture(scope="session", autouse=True)
def server_secret_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One key file for the whole run, as every server of one PostgreSQL database shares
    one (on PostgreSQL Steward needs a key it is given); subprocesses inherit it."""
    from steward.auth.secret_key import create_key_file, generate_key

    configured = os.environ.get("STEWARD_SECRET_KEY_FILE")
    if configured:
        yield Path(configured)
        return
    path = tmp_path_factory.mktemp("secret") / "secret.key"
    create_key_file(path, generate_key())
    os.environ["STEWARD_SECRET_KEY_FILE"] = str(path)
    try:
        yield path
    finally:
        os.environ.pop("STEWARD_SECRET_KEY_FILE", None)


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here (it lives beside the repository in ../shared)")
    return path


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """The system's Chromium driven by Playwright, one for every UI test of the run (a
    second Playwright cannot start while one runs in the same process)."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium "
                    "(apt-get install chromium); the UI tests never download a browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Tests of other subjects send many requests a second with one token or key; request
# rates are tested on their own (tests/api/test_throttling.py) with the limits set there.
UNTHROTTLED = {"rate_limit_api": "", "rate_limit_ingest": ""}


def _migrated(url: str) -> Database:
    db = Database(Settings(database_url=url))
    migrate.upgrade(db)
    ensure_seed_rows(db)
    return db


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = _migrated(f"sqlite:///{path}")
    db.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("STEWARD_TEST_POSTGRES_URL is not set")
    admin_url = make_url(normalise_database_url(POSTGRES_URL))
    name = f"steward_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A database for tests: a commit need not wait for the disk.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    db = _migrated(url)
    snapshots.no_autovacuum(db)
    snapshots.remember_migrated(db)  # what each test's database starts from
    db.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database of its own (no schema), for tests whose real
    processes work on it; dropped afterwards, whatever they left connected."""
    if not POSTGRES_URL:
        pytest.skip("STEWARD_TEST_POSTGRES_URL is not set")
    admin_url = make_url(normalise_database_url(POSTGRES_URL))
    name = f"steward_processes_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory,
                   sqlite_template: Path) -> DemoTemplates:
    return DemoTemplates(tmp_path_factory.mktemp("demo"), sqlite_template, snapshots.reset)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated Steward database (each backend in turn): empty, or for a test marked
    ``demo`` a copy of the demo organisation seeded once (``demo_templates``)."""
    demo = request.node.get_closest_marker("demo")
    if demo is not None:
        yield from _demo_copy(request, tmp_path, **demo.kwargs)
        return
    if request.param == "sqlite":
        path = tmp_path / "steward.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(Settings(database_url=f"sqlite:///{path}", **UNTHROTTLED))
    else:
        url = request.getfixturevalue("postgres_database")
        database = Database(Settings(database_url=url, **UNTHROTTLED))
        snapshots.reset(database)
    try:
        yield database
    finally:
        database.dispose()


def _demo_copy(request: pytest.FixtureRequest, tmp_path: Path, *,
               kpi_history: bool = False) -> Iterator[Database]:
    templates: DemoTemplates = request.getfixturevalue("demo_templates")
    if request.param == "sqlite":
        path = tmp_path / "steward.db"
        templates.sqlite_copy(path, kpi_history=kpi_history)
        database = Database(Settings(database_url=f"sqlite:///{path}", **UNTHROTTLED))
        try:
            yield database
        finally:
            database.dispose()
        return
    url = request.getfixturevalue("postgres_database")
    snapshot = templates.postgres_snapshot(url, kpi_history=kpi_history)
    database = Database(Settings(database_url=url, **UNTHROTTLED))
    snapshots.restore(database, snapshot)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def empty_db(db: Database, tmp_path: Path) -> Iterator[Database]:
    """A second database on ``db``'s backend with no schema at all (to upgrade, to restore
    into); on PostgreSQL a scratch database of its own, dropped afterwards."""
    if db.settings.is_sqlite:
        database = Database(Settings(database_url=f"sqlite:///{tmp_path / 'empty' / 'steward.db'}"))
        try:
            yield database
        finally:
            database.dispose()
        return
    admin_url = make_url(normalise_database_url(POSTGRES_URL))
    name = f"steward_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(Settings(
        database_url=admin_url.set(database=name).render_as_string(hide_password=False)))
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """SQLite only, for tests whose subject is not the storage."""
    path = tmp_path / "steward.db"
    shutil.copy(sqlite_template, path)
    database = Database(Settings(database_url=f"sqlite:///{path}", **UNTHROTTLED))
    yield database
    database.dispose()
