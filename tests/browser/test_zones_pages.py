"""The Zones page in real Chromium: a leader issues an order, steps it down and lifts it.

On the demo street, on a grid with no order (or a precaution one) today, in one sign-in (each
page load with a map costs seconds of software WebGL here): issued and stepped down at
1920×1080, lifted at 390×844, then the page again in Chinese. A few case addresses are added
first so that the map shows places with cases. Screenshots of both sizes in both languages go
to SCREENSHOTS.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from playwright.sync_api import Page
from sqlmodel import Session, col, select

from gridcore.config import local_today
from gridcore.demo import DEMO_PASSWORD
from gridcore.i18n import t
from gridcore.models import Area, AreaLevel, CaseAddress, ZoneOrder
from gridcore.queries import zones as zq

from .browser_support import DESKTOP, MAP_DRAWN, PHONE, SCREENSHOTS, Driver, clear_of_local_midnight

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
FORM = '[data-testid="stForm"]'
DATE = f'{FORM} [data-testid="stDateInput"] input'


@pytest.fixture(scope="module")
def free_grids(driver: Driver) -> list[str]:
    """A grid with no order (or a precaution one) today; case addresses near some grids."""
    today = local_today()
    with Session(driver.app.engine) as s:
        status = zq.grid_zone_status(session=s, as_of=today)
        grids = s.exec(select(Area).where(Area.level == AreaLevel.grid)).all()
        for n, grid in enumerate(grids[::5]):
            if grid.center_lng is None or grid.center_lat is None:
                continue
            for k in range(3):
                s.add(
                    CaseAddress(
                        day=today - timedelta(days=(n + k) % 12),
                        address=f"{grid.name} 小区 {k + 1} 号",
                        area_id=int(grid.id or 0),
                        lng=grid.center_lng + 0.0006 * (k - 1),
                        lat=grid.center_lat + 0.0004 * (k - 1),
                        source="browser test",
                    )
                )
        s.commit()
    # Grids without an order first, then precaution ones (a new order replaces theirs).
    ranked = sorted(
        (("", "precaution").index(level), str(code))
        for code, level in zip(status["code"], status["level"], strict=True)
        if level in ("", "precaution")
    )
    assert ranked, "every grid of the demo street has a sealed or controlled order"
    return [code for _, code in ranked[:1]]


def _open(driver: Driver, page: Page, lang: str) -> None:
    page.goto(f"{driver.base_url}/zones?lang={lang}")
    driver.wait_for_render(page)
    page.locator(".st-key-signin_username input").fill("leader")
    page.locator(".st-key-signin_password input").fill(DEMO_PASSWORD)
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    page.locator('[data-testid="stMain"] h1', has_text=t("page.zones", lang)).wait_for()
    page.locator(MAP_DRAWN).first.wait_for()
    driver.wait_for_render(page)


def _choose(page: Page, text: str) -> None:
    """Pick the option containing `text` in the form's first select box (grid or order)."""
    box = page.locator(f'{FORM} [data-testid="stSelectbox"] input').first
    box.click()
    page.keyboard.type(text)
    page.locator('[role="option"]', has_text=text).first.click()


def _submit(driver: Driver, page: Page) -> None:
    page.locator(f'{FORM} [data-testid="stFormSubmitButton"] button').click()
    page.locator('[data-testid="stAlertContentSuccess"]').first.wait_for(state="visible")
    driver.wait_for_render(page)


def _action(driver: Driver, page: Page, action: str, lang: str) -> None:
    label = t(f"zpage.do_{action}", lang)
    page.locator(".st-key-zn_action button", has_text=label).first.click()
    driver.wait_for_render(page)


def _orders(driver: Driver, code: str, after: int = 0) -> list[ZoneOrder]:
    """The grid's orders with an id above `after`, oldest first."""
    with Session(driver.app.engine) as s:
        grid_id = s.exec(select(Area.id).where(Area.code == code)).one()
        return list(
            s.exec(
                select(ZoneOrder)
                .where(ZoneOrder.area_id == grid_id, col(ZoneOrder.id) > after)
                .order_by(col(ZoneOrder.id))
            ).all()
        )


def _sideways(page: Page) -> int:
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def _shot(page: Page, name: str, lang: str, size: dict[str, int]) -> None:
    page.set_viewport_size(size)
    page.wait_for_timeout(300)
    assert _sideways(page) <= 2, f"{name} scrolls sideways at {size}"
    page.screenshot(path=SCREENSHOTS / f"zones-{name}-{lang}-{size['width']}x{size['height']}.png")


def _switch_to_chinese(driver: Driver, page: Page) -> None:
    page.locator(".st-key-lang input").click()
    page.locator('[role="option"]', has_text="简体中文").first.click()
    page.locator('[data-testid="stMain"] h1', has_text=t("page.zones", "zh")).wait_for()
    driver.wait_for_render(page)


def test_issue_step_down_and_lift_an_order(driver: Driver, free_grids: list[str]) -> None:
    """One sign-in: issue and step down at 1920×1080, lift at 390×844, then the same in Chinese."""
    code = free_grids[0]
    clear_of_local_midnight()  # the test's days are worked out before the page's writes
    today = local_today()
    context = driver.new_context(DESKTOP)
    started = time.perf_counter()
    try:
        page = context.new_page()
        _open(driver, page, "en")
        assert page.locator(EXCEPTION).count() == 0
        _shot(page, "page", "en", DESKTOP)
        earlier = _orders(driver, code)
        after = int(earlier[-1].id or 0) if earlier else 0

        # Issue: sealed from yesterday, so that it may step down today.
        _choose(page, code)
        start = page.locator(DATE).first
        start.fill((today - timedelta(days=1)).isoformat())
        start.press("Enter")
        start.press("Escape")
        _submit(driver, page)
        orders = _orders(driver, code, after)
        assert [(o.level, o.start_date, o.end_date) for o in orders] == [
            ("sealed", today - timedelta(days=1), None)
        ]
        _shot(page, "issued", "en", DESKTOP)

        # Step down: controlled from today; the sealed order ends yesterday.
        _action(driver, page, "step_down", "en")
        _choose(page, code)
        _submit(driver, page)
        orders = _orders(driver, code, after)
        assert [(o.level, o.end_date) for o in orders] == [
            ("sealed", today - timedelta(days=1)),
            ("controlled", None),
        ]

        # Lift from tomorrow, on a phone: the controlled order's last day is today.
        page.set_viewport_size(PHONE)
        _action(driver, page, "lift", "en")
        _choose(page, code)
        lift = page.locator(DATE).first
        lift.fill((today + timedelta(days=1)).isoformat())
        lift.press("Enter")
        lift.press("Escape")
        _submit(driver, page)
        assert _orders(driver, code, after)[-1].end_date == today
        assert page.locator(EXCEPTION).count() == 0
        _shot(page, "lifted", "en", PHONE)
        page.locator('[data-testid="stMain"] h1').scroll_into_view_if_needed()
        _shot(page, "page", "en", PHONE)

        # The same page in Chinese at both sizes.
        page.set_viewport_size(DESKTOP)
        _switch_to_chinese(driver, page)
        assert page.locator(EXCEPTION).count() == 0
        _shot(page, "page", "zh", DESKTOP)
        _shot(page, "page", "zh", PHONE)
        page.locator('[data-testid="stForm"]').scroll_into_view_if_needed()
        _shot(page, "form", "zh", PHONE)
    finally:
        context.close()
    print(
        f"\nzones: issue, step down, lift, both languages in {time.perf_counter() - started:.1f} s"
    )
