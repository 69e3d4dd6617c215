"""A projector whose kiosk link ends (revoked or expired) shows a message at its next refresh.

A panel refresh reruns only the kiosk's fragment, never app.py, so this is what AppTest
cannot show: the app runs on the tiny world, rotating every LINK_SECONDS, and the
link ends while Chromium is showing figures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright
from sqlmodel import Session

from gridcore import migrate
from gridcore.access import SYSTEM
from gridcore.cli import main
from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.demo import seed
from gridcore.i18n import t
from gridcore.models import utcnow
from gridcore.services.access import create_kiosk_link

from .browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    SCREENSHOTS,
    SECRET,
    Driver,
    StreetApp,
    serve,
)

pytestmark = pytest.mark.browser

FIGURES = (
    '[data-testid="stMetricValue"], [data-testid="stDeckGlJsonChart"], .gc-light-map, .main-svg, '
    '[data-testid="stTable"], [data-testid="stDataFrame"]'
)
ALERT = '[data-testid="stAlertContainer"]'
EXCEPTION = '[data-testid="stException"]'
# The links turn their panels at the shortest interval a link may have.
LINK_SECONDS = 3
# "Within about two refreshes": two rotations, plus time for a run on a busy shared machine.
ENDS_WITHIN_S = 2 * LINK_SECONDS + 8


@dataclass(frozen=True)
class TinyApp:
    app: StreetApp
    url: str


@pytest.fixture(scope="module")
def tiny_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyApp]:
    """`streamlit run app.py` on the tiny world (quick to seed; the kiosk has figures)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('kiosk-links') / 'tiny.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    seed(engine=engine, scale="tiny")
    with serve(url, log_name="streamlit-kiosk-links.log") as base_url:
        yield TinyApp(StreetApp(base_url=base_url, engine=engine, secret=SECRET), url)
    engine.dispose()


@pytest.fixture(scope="module")
def kiosk_driver(playwright: Playwright, tiny_app: TinyApp) -> Iterator[Driver]:
    browser: Browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield Driver(browser=browser, app=tiny_app.app)
    browser.close()


def _new_link(app: StreetApp, hours: float, lifetime_s: float | None = None) -> tuple[int, str]:
    """A link of `hours`; with `lifetime_s`, one that ends sooner than any link may be made."""
    with Session(app.engine, expire_on_commit=False) as s:
        link, token = create_kiosk_link(
            s, hours=hours, secret=app.secret, actor=SYSTEM, label="browser test",
            interval_seconds=LINK_SECONDS,
        )  # fmt: skip
        if lifetime_s is not None:
            link.expires_at = utcnow() + timedelta(seconds=lifetime_s)
            s.add(link)
            s.commit()
    assert link.id is not None
    return link.id, f"{app.base_url}/?kiosk=1&token={token}"


def _revoke_on_the_command_line(
    url: str, link_id: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m gridcore kiosk-link --revoke ID` against the app's database."""
    with monkeypatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.setenv("GRIDCORE_SECRET_KEY", SECRET)
        mp.setenv("GRIDCORE_LANGUAGE", "en")
        get_settings.cache_clear()
        try:
            capsys.readouterr()
            code = main(["kiosk-link", "--revoke", str(link_id)])
            out = capsys.readouterr()
        finally:
            get_settings.cache_clear()
    assert code == 0, out.err
    assert f"Kiosk link {link_id}" in out.out


def _count_rerun_requests(page: Page) -> list[float]:
    """The times at which the page asks the server for a run (each refresh is one)."""
    sent: list[float] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.append(time.monotonic())))
    return sent


def _ended_message(page: Page, lang: str) -> Locator:
    return page.locator(ALERT, has_text=t("frame.kiosk_invalid", lang))


def test_a_projector_stops_showing_figures_when_its_link_ends(
    kiosk_driver: Driver,
    tiny_app: TinyApp,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two projectors at once: one in English whose link is revoked on the command line, one in
    Chinese whose link expires. Each shows only the ended-link message within about two
    refreshes, then stops asking the server for anything, and a reload meets the message."""
    # Long enough for the tiny world's kiosk to draw on a busy machine (a fresh server's first
    # page is the revoked one, opened before this link is made).
    lifetime_s = 15.0
    revoked_id, revoked_url = _new_link(tiny_app.app, hours=2)
    created = time.monotonic()  # set again when the expiring link is made
    contexts = [kiosk_driver.new_context(DESKTOP, lang=lang) for lang in ("en", "zh")]
    try:
        projectors: list[Projector] = []
        for context, how, lang in zip(contexts, ("revoked", "expired"), ("en", "zh"), strict=True):
            if how == "revoked":
                url = revoked_url
            else:
                _, url = _new_link(tiny_app.app, hours=2, lifetime_s=lifetime_s)
                created = time.monotonic()
            page = context.new_page()
            requests = _count_rerun_requests(page)
            page.goto(url)
            page.locator(FIGURES).first.wait_for(state="visible")
            assert _ended_message(page, lang).count() == 0
            projectors.append(Projector(page, requests, how, lang))
        revoked, expired = projectors
        assert time.monotonic() - created < lifetime_s, "the page took the link's whole life"
        expired.ended = created + lifetime_s

        # One refresh with the link still working: the page asks for it, figures stay.
        asked = len(revoked.requests)
        revoked.page.wait_for_timeout(LINK_SECONDS * 1000 + 1000)
        assert len(revoked.requests) > asked, "no refresh seen: the counter would prove nothing"
        revoked.page.locator(FIGURES).first.wait_for(state="visible")
        _revoke_on_the_command_line(tiny_app.url, revoked_id, monkeypatch, capsys)
        revoked.ended = time.monotonic()

        # Both watched together, each timed from its own end.
        deadline = max(p.ended for p in projectors) + ENDS_WITHIN_S + 2
        while any(p.took is None for p in projectors) and time.monotonic() < deadline:
            for p in projectors:
                if p.took is None and _ended_message(p.page, p.lang).count():
                    p.took = time.monotonic() - p.ended
            time.sleep(0.2)
        for p in projectors:
            print(f"kiosk link {p.how}: the message after {p.took} s")
            assert p.took is not None and p.took <= ENDS_WITHIN_S, (p.how, p.took)
            assert p.page.locator(FIGURES).count() == 0, f"{p.how}: figures still shown"
            assert p.page.locator(EXCEPTION).count() == 0
            p.page.screenshot(path=SCREENSHOTS / f"kiosk-link-{p.how}-{p.lang}.png")

        # The panels have stopped: a whole rotation and more brings no refresh and no figures.
        revoked.page.wait_for_timeout(1000)
        asked_now = [len(p.requests) for p in projectors]
        revoked.page.wait_for_timeout(LINK_SECONDS * 1000 + 2000)
        for p, asked in zip(projectors, asked_now, strict=True):
            assert len(p.requests) == asked, f"{p.how}: the page still asks for refreshes"
            assert p.page.locator(FIGURES).count() == 0
            assert _ended_message(p.page, p.lang).count() == 1

        # A reload meets the same message.
        for p in projectors:
            p.page.reload()
            _ended_message(p.page, p.lang).wait_for(state="visible")
            kiosk_driver.wait_for_render(p.page)
            assert p.page.locator(FIGURES).count() == 0
    finally:
        for context in contexts:
            context.close()


@dataclass
class Projector:
    """One projector's page: what it asked the server for, when its link ended, and how long
    the message took after that."""

    page: Page
    requests: list[float]
    how: str
    lang: str
    ended: float = 0.0
    took: float | None = None
