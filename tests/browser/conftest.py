"""Real-browser fixtures: the demo street in a SQLite file, the app on a free port, Chromium.

Debian's Chromium (/usr/bin/chromium) is driven through Playwright's sync API; Playwright's
own browser download is never used.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright
from sqlalchemy.engine import Engine

from gridcore import migrate
from gridcore.db import make_engine
from gridcore.demo import seed

from .browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    SCREENSHOTS,
    SECRET,
    Driver,
    StreetApp,
    serve,
)


def _built_street(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo street, built once per run: the first test process to need it builds it into
    the run's shared folder, the others wait for it and copy it."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    built = shared / "street-built.db"
    with open(shared / "street-built.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.exists():
            building = shared / "street-building.db"
            engine = make_engine(f"sqlite:///{building}")
            migrate.upgrade(engine)
            seed(engine=engine, scale="street")
            with engine.begin() as connection:  # everything into the file that is copied
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            building.rename(built)
    return built


@pytest.fixture(scope="session")
def street_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    """A migrated SQLite file with the demo street (about 50,000 residents), this process's own."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    path = tmp_path_factory.mktemp("street") / "gridcore.db"
    shutil.copy(_built_street(tmp_path_factory), path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="session")
def street_app(street_database: tuple[str, Engine]) -> Iterator[StreetApp]:
    """`streamlit run server.py` on a free loopback port, on the demo street."""
    url, engine = street_database
    with serve(url, log_name="streamlit-server.log") as base_url:
        yield StreetApp(base_url=base_url, engine=engine, secret=SECRET)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright, street_app: StreetApp) -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    _BROWSERS.append(browser)
    yield browser
    _BROWSERS.remove(browser)
    browser.close()


# The browser of this test process, for pictures of a failed test's pages.
_BROWSERS: list[Browser] = []
FAILURES = SCREENSHOTS.parent / "failures"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """When a browser test fails, keep a picture and the text of every page it had open."""
    report = yield
    if report.when == "call" and report.failed and _BROWSERS:
        FAILURES.mkdir(parents=True, exist_ok=True)
        name = item.nodeid.split("::")[-1][:80]
        pages = [page for context in _BROWSERS[0].contexts for page in context.pages]
        for number, page in enumerate(pages):
            stem = FAILURES / f"{name}-{number}"
            try:
                page.screenshot(path=f"{stem}.png", timeout=10_000)
                stem.with_suffix(".txt").write_text(f"{page.url}\n\n{page.inner_text('body')}")
                stem.with_suffix(".html").write_text(page.content())
            except Exception as error:  # a page that cannot be captured says why
                stem.with_suffix(".txt").write_text(f"{page.url}\n\nnot captured: {error}")
    return report


@pytest.fixture(scope="session", autouse=True)
def clean_screenshots(pytestconfig: pytest.Config) -> None:
    """This run's screenshots and failure pictures only: the first test process clears them."""
    run = getattr(pytestconfig, "workerinput", {}).get("testrunuid", str(os.getpid()))
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    with open(SCREENSHOTS.parent / ".screenshots.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = SCREENSHOTS / ".run"
        if not marker.exists() or marker.read_text() != run:
            for folder in (SCREENSHOTS, FAILURES):
                if folder.exists():
                    shutil.rmtree(folder)
            SCREENSHOTS.mkdir(parents=True)
            marker.write_text(run)


@pytest.fixture(scope="session")
def driver(browser: Browser, street_app: StreetApp) -> Driver:
    """The browser on the street's app, whose first request is already spent: a fresh
    server's first run ignores the page a URL names (test_pages_in_chromium checks that it
    still meets sign-in), so the tests that open a deep link find a server past it."""
    found = Driver(browser=browser, app=street_app)
    context = found.new_context(PHONE)
    try:
        page = context.new_page()
        page.goto(found.base_url)
        found.wait_for_render(page)
    finally:
        context.close()
    return found
