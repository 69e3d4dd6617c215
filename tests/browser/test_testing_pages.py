"""The roll call, the sampling desk and the Testing page on a phone, in real Chromium.

A grid worker opens the roll call of their grid from a link (?grid=&round=), signs in,
taps "Sampled" on one resident and sees them leave the list; the desk records a sample
after a search; the Testing page draws its map and charts without sideways scrolling.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page
from sqlmodel import Session, select

from gridcore.access import SYSTEM
from gridcore.demo import DEMO_PASSWORD
from gridcore.i18n import t
from gridcore.models import Area, TestRecord, User, UserGrid
from gridcore.queries import testing as tq

from .browser_support import (
    MAP_DRAWN,
    PHONE,
    SCREENSHOTS,
    Driver,
)

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
# The product's target is 1 s; a warm visit fails only past 5 s (a shared 2-core machine).
PAGE_TIME_LIMIT_S = 5.0
SAMPLED_BUTTON = '[class*="st-key-rc_s_"] button'


@dataclass(frozen=True)
class Beat:
    """The worker's grid and the round they are working on."""

    grid_code: str
    grid_id: int
    round_id: int


def _beat(driver: Driver) -> Beat:
    with Session(driver.app.engine) as s:
        user = s.exec(select(User).where(User.username == "worker")).one()
        grid_id = s.exec(select(UserGrid.grid_id).where(UserGrid.user_id == user.id)).one()
        grid = s.get(Area, grid_id)
        round_id = tq.current_round_id(session=s)
    assert grid is not None and round_id is not None
    return Beat(grid_code=grid.code, grid_id=int(grid_id), round_id=round_id)


def _sign_in_at(driver: Driver, page: Page, path: str, username: str = "worker") -> None:
    """Open a deep link signed out, sign in on the form it shows, and stay on that page."""
    page.goto(f"{driver.base_url}{path}")
    driver.wait_for_render(page)
    page.locator(".st-key-signin_username input").fill(username)
    page.locator(".st-key-signin_password input").fill(DEMO_PASSWORD)
    page.locator('[data-testid="stFormSubmitButton"] button').click()


def _no_sideways_scroll(page: Page) -> int:
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def _sampled(driver: Driver, round_id: int, resident_id: int) -> TestRecord | None:
    with Session(driver.app.engine) as s:
        return s.exec(
            select(TestRecord).where(
                TestRecord.round_id == round_id, TestRecord.resident_id == resident_id
            )
        ).first()


def test_a_grid_worker_clears_a_resident_from_the_roll_call_on_a_phone(driver: Driver) -> None:
    beat = _beat(driver)
    context = driver.new_context(PHONE)
    try:
        page = context.new_page()
        _sign_in_at(driver, page, f"/roll-call?grid={beat.grid_code}&round={beat.round_id}")
        title = t("tpage.rc_title", "en", grid="")
        page.locator('[data-testid="stMain"] h1', has_text=title.strip()).wait_for()
        buttons = page.locator(SAMPLED_BUTTON)
        buttons.first.wait_for(state="visible")
        driver.wait_for_render(page)  # the whole list, not the part drawn so far
        assert page.locator(EXCEPTION).count() == 0
        assert "grid=" + beat.grid_code in page.url
        page.screenshot(path=SCREENSHOTS / "roll-call-en-390x844.png", full_page=False)
        assert _no_sideways_scroll(page) <= 2

        # Big enough to hit with a thumb, as wide as the screen allows.
        box = buttons.first.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 300, box
        first = page.locator('[class*="st-key-rc_s_"]').first
        key = next(
            c for c in (first.get_attribute("class") or "").split() if c.startswith("st-key-rc_s_")
        )
        resident_id = int(key.removeprefix("st-key-rc_s_"))
        count_before = buttons.count()
        assert _sampled(driver, beat.round_id, resident_id) is None

        started = time.perf_counter()
        first.locator("button").tap()
        page.locator(f".{key}").wait_for(state="detached")
        seconds = time.perf_counter() - started
        page.locator('[data-testid="stAlertContentSuccess"]').first.wait_for(state="visible")
        driver.wait_for_render(page)
        page.screenshot(path=SCREENSHOTS / "roll-call-after-tap-en-390x844.png", full_page=False)
        record = _sampled(driver, beat.round_id, resident_id)
        assert record is not None and record.method == "door_to_door"
        assert page.locator(SAMPLED_BUTTON).count() == count_before - 1
        assert page.locator(EXCEPTION).count() == 0
        print(f"\nroll call: tap to gone {seconds:.2f} s")
        page.screenshot(path=SCREENSHOTS / "roll-call-full-en-390x844.png", full_page=True)
    finally:
        context.close()


def test_the_sampling_desk_records_after_a_search_on_a_phone(driver: Driver) -> None:
    beat = _beat(driver)
    with Session(driver.app.engine) as s:
        missing = tq.roll_call(
            session=s, round_id=beat.round_id, grid_id=beat.grid_id, actor=SYSTEM
        )
    person = missing.iloc[-1]
    context = driver.new_context(PHONE, lang="zh")
    try:
        page = context.new_page()
        _sign_in_at(driver, page, "/desk?lang=zh")
        page.locator(".st-key-desk_query input").wait_for()
        page.locator(".st-key-desk_query input").fill(str(person["name"]))
        page.locator(".st-key-desk_query input").press("Enter")
        button = page.locator(f".st-key-desk_r_{int(person['resident_id'])} button")
        button.wait_for(state="visible")
        page.screenshot(path=SCREENSHOTS / "desk-search-zh-390x844.png")
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44, box
        button.tap()
        page.locator('[data-testid="stAlertContentSuccess"]').first.wait_for(state="visible")
        driver.wait_for_render(page)
        page.screenshot(path=SCREENSHOTS / "desk-recorded-zh-390x844.png")
        assert _sampled(driver, beat.round_id, int(person["resident_id"])) is not None
        assert page.locator(".st-key-desk_query input").input_value() == ""
        assert _no_sideways_scroll(page) <= 2
        assert page.locator(EXCEPTION).count() == 0
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_testing_page_on_a_phone(driver: Driver, lang: str) -> None:
    context = driver.new_context(PHONE, lang=lang)
    try:
        page = context.new_page()
        _sign_in_at(driver, page, f"/testing?lang={lang}", username="leader")
        page.locator(MAP_DRAWN).first.wait_for()
        page.locator(".main-svg").first.wait_for()
        page.locator('[data-testid="stMetricValue"]').first.wait_for()
        page.wait_for_timeout(500)
        assert page.locator(EXCEPTION).count() == 0
        assert _no_sideways_scroll(page) <= 2
        page.screenshot(path=SCREENSHOTS / f"testing-{lang}-390x844.png", full_page=True)
    finally:
        context.close()


def test_no_sampled_button_is_shown_to_a_viewer(driver: Driver) -> None:
    beat = _beat(driver)
    context = driver.new_context(PHONE)
    try:
        page = context.new_page()
        _sign_in_at(
            driver, page, f"/roll-call?grid={beat.grid_code}&round={beat.round_id}", "viewer"
        )
        # A viewer gets the counts and a plain notice, never the list of people.
        notice = t("security.viewer_no_personal", "en")
        page.locator('[data-testid="stAlertContainer"]', has_text=notice).wait_for()
        driver.wait_for_render(page)
        assert page.locator(SAMPLED_BUTTON).count() == 0
        assert page.locator(".gc-person").count() == 0
    finally:
        context.close()


def test_clicking_a_grid_on_the_map_opens_its_roll_call(driver: Driver) -> None:
    context = driver.new_context({"width": 1920, "height": 1080}, webgl=True)
    try:
        page = context.new_page()
        _sign_in_at(driver, page, "/testing", username="leader")
        canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
        canvas.wait_for()
        driver.wait_for_render(page)
        page.wait_for_timeout(1000)  # deck.gl picks only after its first frame
        box = canvas.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_url("**/roll-call?*grid=*")
        title = t("tpage.rc_title", "en", grid="").strip()
        page.locator('[data-testid="stMain"] h1', has_text=title).wait_for()
        assert "round=" in page.url
        assert page.locator(EXCEPTION).count() == 0
    finally:
        context.close()
