"""The Zones page in real Chromium: a leader issues an order, steps it down and lifts it.

On the demo street, once at 1920×1080 in English and once at 390×844 in Chinese, each on a
grid with no order (or a precaution one) today; a few case addresses are added first so that
the map shows places with cases. Each run ends with a screenshot at the other size, so both
sizes in both languages are in SCREENSHOTS.
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

from .browser_support import DESKTOP, PHONE, SCREENSHOTS, Driver

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
FORM = '[data-testid="stForm"]'
DATE = f'{FORM} [data-testid="stDateInput"] input'


@pytest.fixture(scope="module", autouse=True)
def served_once(driver: Driver) -> None:
    """Spend a fresh server's first request (it ignores the page in the URL) on the front page."""
    context = driver.new_context(PHONE)
    try:
        page = context.new_page()
        page.goto(driver.base_url)
        driver.wait_for_render(page)
    finally:
        context.close()


@pytest.fixture(scope="module")
def free_grids(driver: Driver) -> list[str]:
    """Two grids with no order (or a precaution one) today; case addresses near some grids."""
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
    assert len(ranked) >= 2, "the demo street has fewer than two grids without a strict order"
    return [code for _, code in ranked[:2]]


def _open(driver: Driver, page: Page, lang: str) -> None:
    page.goto(f"{driver.base_url}/zones?lang={lang}")
    driver.wait_for_render(page)
    page.locator(".st-key-signin_username input").fill("leader")
    page.locator(".st-key-signin_password input").fill(DEMO_PASSWORD)
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    page.locator('[data-testid="stMain"] h1', has_text=t("page.zones", lang)).wait_for()
    page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.wait_for()
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


@pytest.mark.parametrize(("lang", "size"), [("en", DESKTOP), ("zh", PHONE)])
def test_issue_step_down_and_lift_an_order(
    driver: Driver, free_grids: list[str], lang: str, size: dict[str, int]
) -> None:
    code = free_grids[0] if lang == "en" else free_grids[1]
    today = local_today()
    tag = f"{lang}-{size['width']}x{size['height']}"
    context = driver.new_context(size, lang=lang)
    started = time.perf_counter()
    try:
        page = context.new_page()
        _open(driver, page, lang)
        assert page.locator(EXCEPTION).count() == 0
        page.screenshot(path=SCREENSHOTS / f"zones-{tag}.png", full_page=True)

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
        page.screenshot(path=SCREENSHOTS / f"zones-issued-{tag}.png", full_page=True)

        # Step down: controlled from today; the sealed order ends yesterday.
        _action(driver, page, "step_down", lang)
        _choose(page, code)
        _submit(driver, page)
        orders = _orders(driver, code, after)
        assert [(o.level, o.end_date) for o in orders] == [
            ("sealed", today - timedelta(days=1)),
            ("controlled", None),
        ]

        # Lift from tomorrow: the controlled order's last day is today.
        _action(driver, page, "lift", lang)
        _choose(page, code)
        lift = page.locator(DATE).first
        lift.fill((today + timedelta(days=1)).isoformat())
        lift.press("Enter")
        lift.press("Escape")
        _submit(driver, page)
        assert _orders(driver, code, after)[-1].end_date == today
        assert page.locator(EXCEPTION).count() == 0
        assert _sideways(page) <= 2
        page.screenshot(path=SCREENSHOTS / f"zones-lifted-{tag}.png", full_page=True)
        # The same language at the other size (no second sign-in: it costs a page load).
        other = PHONE if size == DESKTOP else DESKTOP
        page.set_viewport_size(other)
        page.wait_for_timeout(500)
        assert _sideways(page) <= 2
        page.screenshot(
            path=SCREENSHOTS / f"zones-lifted-{lang}-{other['width']}x{other['height']}.png"
        )
    finally:
        context.close()
    print(f"\nzones {tag}: issue, step down, lift in {time.perf_counter() - started:.1f} s")
