"""Signed-in sessions in a real browser: the HttpOnly cookie, a reload, and a session ended
while its tab refreshes itself; residents' text shown as text (Markdown in a name).

What AppTest cannot show: cookies, a reload (a new Streamlit session in the same browser),
and a fragment's own refresh. The app (server.py, with the cookie routes) runs on the tiny
world and refreshes every REFRESH_SECONDS.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from gridcore import migrate
from gridcore.access import SYSTEM
from gridcore.db import make_engine
from gridcore.demo import seed
from gridcore.i18n import t
from gridcore.models import Area, Building
from gridcore.services.access import set_password
from gridcore.services.residents import register_resident

from .browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    SECRET,
    Driver,
    StreetApp,
    serve,
)

pytestmark = pytest.mark.browser

REFRESH_SECONDS = 3
# "At the next refresh": a few refreshes, with room for a run on a busy shared machine.
ENDS_WITHIN_S = 10 * REFRESH_SECONDS
NAV = '[data-testid="stSidebarNavLink"]'
SIGNIN = ".st-key-signin_username input"


@pytest.fixture(scope="module")
def session_driver(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Driver]:
    url = f"sqlite:///{tmp_path_factory.mktemp('sessions') / 'tiny.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    seed(engine=engine, scale="tiny")
    browser: Browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    with serve(
        url, log_name="streamlit-sessions.log", GRIDCORE_REFRESH_SECONDS=str(REFRESH_SECONDS)
    ) as base_url:
        yield Driver(
            browser=browser, app=StreetApp(base_url=base_url, engine=engine, secret=SECRET)
        )
    browser.close()
    engine.dispose()


def _session_cookie(page: Page) -> dict:
    found = [c for c in page.context.cookies() if c["name"] == "gridcore_session"]
    assert len(found) == 1, page.context.cookies()
    return dict(found[0])


def _wait_for_cookie(page: Page, timeout_s: float = 10) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(c["name"] == "gridcore_session" for c in page.context.cookies()):
            return _session_cookie(page)
        page.wait_for_timeout(100)
    raise AssertionError("the session cookie was never set")


@pytest.mark.parametrize(("viewport", "lang"), [(DESKTOP, "en"), (PHONE, "zh")])
def test_a_reload_stays_signed_in_through_an_http_only_cookie(
    session_driver: Driver, viewport: dict[str, int], lang: str
) -> None:
    context = session_driver.new_context(viewport, lang)
    page = context.new_page()
    try:
        session_driver.sign_in(page, lang=lang, username="leader")
        cookie = _wait_for_cookie(page)
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        assert "gridcore_session" not in page.evaluate("document.cookie")
        page.reload()
        session_driver.wait_for_render(page)
        page.locator(NAV).first.wait_for(state="attached")
        assert page.locator(SIGNIN).count() == 0
        size = "desktop" if viewport is DESKTOP else "phone"
        page.screenshot(path=str(SCREENSHOTS / f"sessions_after_reload_{lang}_{size}.png"))
        if viewport is not DESKTOP:
            return
        # A restored tab: a new page in the same profile (the same cookie jar).
        again = context.new_page()
        again.goto(f"{session_driver.base_url}/data?lang={lang}")
        session_driver.wait_for_render(again)
        again.locator(NAV).first.wait_for(state="attached")
        assert again.locator(SIGNIN).count() == 0
    finally:
        context.close()


def test_a_new_password_signs_the_open_tab_out_at_its_next_refresh(session_driver: Driver) -> None:
    context = session_driver.new_context(DESKTOP, "en")
    page = context.new_page()
    try:
        session_driver.sign_in(page, lang="en", username="admin")
        _wait_for_cookie(page)
        with Session(session_driver.app.engine, expire_on_commit=False) as s:
            set_password(s, username="admin", password="a-new-password", actor=SYSTEM)
        started = time.monotonic()
        # No click, no reload: the overview's own refresh finds the session ended.
        page.get_by_text(t("security.session_ended", "en")).wait_for(
            state="visible", timeout=ENDS_WITHIN_S * 1000
        )
        took = time.monotonic() - started
        assert took < ENDS_WITHIN_S
        assert page.locator(NAV).count() == 0
        page.screenshot(path=str(SCREENSHOTS / "sessions_ended_by_new_password_en_desktop.png"))
        page.reload()
        session_driver.wait_for_render(page)
        page.locator(SIGNIN).wait_for(state="visible")
        assert page.locator(NAV).count() == 0
    finally:
        context.close()


# Residents whose names are Markdown: shown as typed, and the image address never fetched.
MARKDOWN_NAMES = ("![t](http://127.0.0.1:9/x.png)", "**bold**")


def _register_markdown_residents(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        grid = s.exec(select(Area).where(Area.code == "T-C1-G1")).one()
        building = s.exec(
            select(Building).where(Building.grid_id == grid.id).order_by(col(Building.code))
        ).first()
        assert building is not None
        for name in MARKDOWN_NAMES:
            register_resident(
                session=s,
                data={"name": name, "building_id": building.id, "unit": "0-001"},
                actor=SYSTEM,
            )


def test_markdown_in_a_name_is_shown_as_typed_and_fetches_nothing(session_driver: Driver) -> None:
    _register_markdown_residents(session_driver.app.engine)
    context = session_driver.new_context(DESKTOP, "en")
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(session_driver.base_url) else None,
    )
    try:
        session_driver.sign_in(page, lang="en", username="worker")
        _wait_for_cookie(page)  # the next address is a new session: it needs the cookie
        page.goto(f"{session_driver.base_url}/roll-call?lang=en")
        session_driver.wait_for_render(page)
        buttons = page.locator('[data-testid="stButton"] button')
        buttons.filter(has_text="bold").first.wait_for(state="visible")
        text = page.inner_text("body")
        for name in MARKDOWN_NAMES:
            # In the list (HTML) and on the "Sampled" button (a Markdown label), as typed.
            assert text.count(name) >= 2, name
        assert page.locator("strong", has_text="bold").count() == 0
        assert page.locator('img[src*="127.0.0.1:9"]').count() == 0
        page.screenshot(path=str(SCREENSHOTS / "sessions_markdown_names_en_desktop.png"))
        assert outside == []
    finally:
        context.close()


@pytest.mark.parametrize(
    ("username", "landing", "other"),
    [("leader", "overview", "my-tasks"), ("worker", "my-tasks", "overview")],
)
def test_every_page_opens_at_its_own_address_and_the_root_at_the_landing_page(
    session_driver: Driver, username: str, landing: str, other: str
) -> None:
    """A link to the landing page by its own address (a bookmark, a link from a colleague of
    another role) opens it, with no "Page not found" (Streamlit's own, in English); the root
    address lands on the role's page and shows its address."""
    context = session_driver.new_context(DESKTOP, "zh")
    page = context.new_page()
    try:
        session_driver.sign_in(page, lang="zh", username=username)
        page.wait_for_url(f"**/{landing}?lang=zh")
        _wait_for_cookie(page)
        for path in (landing, other, ""):
            page.goto(f"{session_driver.base_url}/{path}?lang=zh")
            session_driver.wait_for_render(page)
            page.locator(NAV).first.wait_for(state="attached")
            page.wait_for_url(f"**/{path or landing}?lang=zh")
            title = {"overview": "page.overview", "my-tasks": "page.my_tasks"}[path or landing]
            page.get_by_role("heading", name=t(title, "zh")).first.wait_for()
            current = page.locator(f'{NAV}[aria-current="page"]')
            assert current.count() == 1 and current.inner_text().strip() == t(title, "zh")
            body = page.inner_text("body")
            assert "Page not found" not in body and "does not seem to exist" not in body
    finally:
        context.close()
