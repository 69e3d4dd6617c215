"""A projector whose kiosk link ends (revoked or expired) shows a message at its next refresh.

A panel refresh reruns only the kiosk's fragment, never app.py, so this is what AppTest
cannot show: the app runs on the tiny world, rotating every KIOSK_ROTATE_SECONDS, and the
link ends while Chromium is showing figures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, Playwright
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
    KIOSK_ROTATE_SECONDS,
    SCREENSHOTS,
    SECRET,
    Driver,
    StreetApp,
    serve,
)

pytestmark = pytest.mark.browser

FIGURES = (
    '[data-testid="stMetricValue"], [data-testid="stDeckGlJsonChart"], .main-svg, '
    '[data-testid="stTable"], [data-testid="stDataFrame"]'
)
ALERT = '[data-testid="stAlertContainer"]'
EXCEPTION = '[data-testid="stException"]'
# "Within about two refreshes": two rotations, plus time for a run on a busy shared machine.
ENDS_WITHIN_S = 2 * KIOSK_ROTATE_SECONDS + 8


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
            s, hours=hours, secret=app.secret, actor=SYSTEM, label="browser test"
        )
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


def _wait_for_the_message(page: Page, lang: str, started: float) -> float:
    """Seconds from `started` until the page shows only the ended-link message."""
    message = t("frame.kiosk_invalid", lang)
    page.locator(ALERT, has_text=message).wait_for(state="visible", timeout=ENDS_WITHIN_S * 1000)
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("how", "lang"),
    [("revoked", "en"), ("expired", "zh")],
)
def test_a_projector_stops_showing_figures_when_its_link_ends(
    kiosk_driver: Driver,
    tiny_app: TinyApp,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
    lang: str,
) -> None:
    # Long enough for the tiny world's kiosk to draw its figures on a busy machine.
    lifetime_s = 12.0
    link_id, kiosk_url = _new_link(
        tiny_app.app, hours=2, lifetime_s=None if how == "revoked" else lifetime_s
    )
    created = time.monotonic()
    context = kiosk_driver.new_context(DESKTOP, lang=lang)
    try:
        page = context.new_page()
        requests = _count_rerun_requests(page)
        page.goto(kiosk_url)
        page.locator(FIGURES).first.wait_for(state="visible")
        ended_message = page.locator(ALERT, has_text=t("frame.kiosk_invalid", lang))
        assert ended_message.count() == 0
        if how == "revoked":
            # One refresh with the link still working: the page asks for it, figures stay.
            asked = len(requests)
            page.wait_for_timeout(KIOSK_ROTATE_SECONDS * 1000 + 1000)
            assert len(requests) > asked, "no refresh seen: the counter below would prove nothing"
            page.locator(FIGURES).first.wait_for(state="visible")
            _revoke_on_the_command_line(tiny_app.url, link_id, monkeypatch, capsys)
            ended = time.monotonic()
        else:
            assert time.monotonic() - created < lifetime_s, "the page took the link's whole life"
            ended = created + lifetime_s
            page.wait_for_timeout(max(0.0, ended - time.monotonic()) * 1000)
        took = _wait_for_the_message(page, lang, ended)
        print(f"kiosk link {how}: the message after {took:.1f} s")
        assert took <= ENDS_WITHIN_S
        assert page.locator(FIGURES).count() == 0, "figures still shown"
        assert page.locator(EXCEPTION).count() == 0
        page.screenshot(path=SCREENSHOTS / f"kiosk-link-{how}-{lang}.png")

        # The panels have stopped: a whole rotation and more brings no refresh and no figures.
        page.wait_for_timeout(1000)
        asked = len(requests)
        page.wait_for_timeout(KIOSK_ROTATE_SECONDS * 1000 + 2000)
        assert len(requests) == asked, "the page still asks the server for refreshes"
        assert page.locator(FIGURES).count() == 0
        assert ended_message.count() == 1

        # A reload meets the same message.
        page.reload()
        ended_message.wait_for(state="visible")
        kiosk_driver.wait_for_render(page)
        assert page.locator(FIGURES).count() == 0
    finally:
        context.close()
