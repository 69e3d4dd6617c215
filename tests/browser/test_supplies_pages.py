"""The Supplies page on the demo street, in real Chromium, on a desktop and a phone.

A leader records a receipt at a desktop in English and makes a suggested transfer on a
phone in Chinese; each page is drawn with its map, in both languages at 1920×1080 and
390×844, without an error and without sideways scrolling on the phone.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from sqlalchemy import func
from sqlmodel import Session, select

from gridcore.demo import DEMO_PASSWORD
from gridcore.i18n import t
from gridcore.models import StockMovement

from .browser_support import (
    DESKTOP,
    MAP_DRAWN,
    MAP_ELEMENT,
    PHONE,
    RENDER_TIMEOUT_MS,
    SCREENSHOTS,
    WAIT_FOR_IDLE,
    Driver,
    settle,
)

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
SUCCESS = ".gc-note.success"


def _movements(driver: Driver) -> int:
    with Session(driver.app.engine) as s:
        return int(s.exec(select(func.count()).select_from(StockMovement)).one())


def _open(driver: Driver, page: Page, lang: str) -> None:
    """Open the Supplies page signed out, sign in as the leader, wait for the map."""
    page.goto(f"{driver.base_url}/supplies?lang={lang}")
    driver.wait_for_render(page)
    page.locator(".st-key-signin_username input").fill("leader")
    page.locator(".st-key-signin_password input").fill(DEMO_PASSWORD)
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    page.locator('[data-testid="stMain"] h1', has_text=t("page.supplies", lang)).wait_for()
    page.locator(MAP_DRAWN).first.wait_for()
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    driver.wait_for_render(page)
    settle(page)


def _sideways(page: Page) -> int:
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def _shot(page: Page, name: str, at: str | None = None) -> None:
    """A screenshot of the viewport, scrolled to `at` (a selector) when given."""
    if at is not None:
        page.locator(at).first.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    page.screenshot(path=SCREENSHOTS / name)


def driver_idle(page: Page) -> None:
    """Wait for Streamlit to be idle (a resize reruns nothing; the map redraws itself)."""
    page.wait_for_function(WAIT_FOR_IDLE, timeout=RENDER_TIMEOUT_MS, polling=50)


def _resized(page: Page, size: dict[str, int], name: str) -> None:
    """The same page at another size: drawn without error, no sideways scrolling, shot."""
    page.set_viewport_size(size)
    page.wait_for_timeout(500)
    driver_idle(page)
    assert page.locator(EXCEPTION).count() == 0
    assert _sideways(page) <= 2
    _shot(page, name, '[data-testid="stMain"] h1')


def test_a_receipt_at_a_desktop_in_english_then_on_a_phone(driver: Driver) -> None:
    context = driver.new_context(DESKTOP)
    try:
        page = context.new_page()
        _open(driver, page, "en")
        assert page.locator(EXCEPTION).count() == 0
        _shot(page, "supplies-en-1920x1080.png")
        _shot(page, "supplies-map-en-1920x1080.png", MAP_ELEMENT)
        _shot(page, "supplies-forms-en-1920x1080.png", ".st-key-sp_receipt_qty")
        before = _movements(driver)
        page.locator(".st-key-sp_receipt_qty input").fill("40")
        page.get_by_role("button", name=t("stock.f_save_receipt", "en")).click()
        page.locator(SUCCESS).wait_for()
        driver.wait_for_render(page)
        assert _movements(driver) == before + 1
        assert page.locator(EXCEPTION).count() == 0
        _shot(page, "supplies-receipt-en-1920x1080.png", SUCCESS)
        _resized(page, PHONE, "supplies-en-390x844.png")
    finally:
        context.close()


def test_a_suggested_transfer_on_a_phone_in_chinese_then_at_a_desktop(driver: Driver) -> None:
    context = driver.new_context(PHONE, lang="zh")
    try:
        page = context.new_page()
        _open(driver, page, "zh")
        assert page.locator(EXCEPTION).count() == 0
        assert _sideways(page) <= 2
        _shot(page, "supplies-zh-390x844.png")
        _shot(page, "supplies-map-zh-390x844.png", MAP_ELEMENT)
        button = page.locator(".st-key-sp_move_0 button")
        button.scroll_into_view_if_needed()
        _shot(page, "supplies-suggestions-zh-390x844.png")
        box = button.bounding_box()
        assert box is not None and box["height"] >= 40, box
        before = _movements(driver)
        button.tap()
        page.locator(SUCCESS).wait_for()
        driver.wait_for_render(page)
        assert _movements(driver) == before + 2  # the transfer's two halves
        assert page.locator(EXCEPTION).count() == 0
        _shot(page, "supplies-transfer-zh-390x844.png", SUCCESS)
        _resized(page, DESKTOP, "supplies-zh-1920x1080.png")
    finally:
        context.close()
