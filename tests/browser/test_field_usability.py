"""Maps by touch, in real Chromium: on a 390×844 phone a swipe over the map scrolls the page
and a tap on a grid opens its detail page. (At a desk a click on a map opens a grid through the
same code: tests/browser/test_testing_pages.py clicks the testing page's map.)

On a phone without a GPU the map is the light (SVG) map: it fills its box and a tap on a grid
opens it. (At a desk the light map is checked in tests/browser/test_multi_server.py, whose
servers leave the choice of map to the browser.)

Screenshots (tests/artifacts/screenshots): field-map-zh-390x844.png, field-map-scrolled-zh-
390x844.png, field-grid-zh-390x844.png, field-light-map-zh-390x844.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page

from gridcore.demo import DEMO_PASSWORD

from .browser_support import (
    GPU_STAND_IN,
    PHONE,
    RENDER_TIMEOUT_MS,
    SCREENSHOTS,
    Driver,
    settle,
)

pytestmark = pytest.mark.browser

CANVAS = '[data-testid="stDeckGlJsonChart"] canvas'
# A phone says so in its User-Agent; the app then keeps its maps still under one finger.
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


def _phone(driver: Driver, *, webgl: bool) -> BrowserContext:
    """A phone's browser profile; with `webgl` one standing in for a phone with a GPU."""
    context = driver.browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=PHONE_AGENT,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(RENDER_TIMEOUT_MS)
    if webgl:
        context.add_init_script(GPU_STAND_IN)
    return context


@pytest.fixture
def phone(driver: Driver) -> Iterator[BrowserContext]:
    context = _phone(driver, webgl=True)  # the WebGL map's touch handling is tested here
    yield context
    context.close()


@pytest.fixture
def phone_without_gpu(driver: Driver) -> Iterator[BrowserContext]:
    context = _phone(driver, webgl=False)
    yield context
    context.close()


def _open_map(driver: Driver, page: Page, drawn: str = CANVAS) -> None:
    """The map page by its link, signed in on the way (a deep link keeps its page)."""
    page.goto(f"{driver.base_url}/map?lang=zh")
    driver.wait_for_render(page)
    page.locator(".st-key-signin_username input").fill("leader")
    page.locator(".st-key-signin_password input").fill(DEMO_PASSWORD)
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    page.locator(drawn).first.wait_for(state="visible")
    driver.wait_for_render(page)
    settle(page)


def _touch(page: Page, context: BrowserContext, points: list[tuple[float, float]]) -> None:
    """One finger: down at the first point, through the others, up (a tap when one point)."""
    cdp = context.new_cdp_session(page)
    x, y = points[0]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for x, y in points[1:]:
        page.wait_for_timeout(16)
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    page.wait_for_timeout(80)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def _errors(page: Page) -> list[str]:
    """What the page throws from now on (a late message from the map page once blanked the
    grid page this way)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _lands_on_a_grid(driver: Driver, page: Page, errors: list[str]) -> None:
    page.wait_for_url("**/grid?grid=*", timeout=RENDER_TIMEOUT_MS)
    driver.wait_for_render(page)
    heading = page.locator('[data-testid="stMain"] h1').first.inner_text()
    assert "网格" in heading
    # The page stays drawn: anything still arriving from the map page would break it.
    page.wait_for_timeout(1500)
    driver.wait_for_render(page)
    assert page.locator('[data-testid="stMain"] h1').first.inner_text() == heading
    assert errors == []


def test_on_a_phone_a_swipe_scrolls_past_the_map_and_a_tap_opens_a_grid(
    driver: Driver, phone: BrowserContext
) -> None:
    page = phone.new_page()
    errors = _errors(page)
    _open_map(driver, page)
    canvas = page.locator(CANVAS).first
    box = canvas.bounding_box()
    assert box is not None
    # The whole street fits the phone's width: the map is no wider than the screen.
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.screenshot(path=SCREENSHOTS / "field-map-zh-390x844.png")
    # A one-finger swipe up that starts on the map scrolls the page, not the map.
    x, y = box["x"] + box["width"] / 2, box["y"] + 60
    _touch(page, phone, [(x, y - step * 30) for step in range(11)])
    page.wait_for_timeout(600)
    moved = canvas.bounding_box()
    assert moved is not None and moved["y"] < box["y"] - 150, (box["y"], moved)
    page.screenshot(path=SCREENSHOTS / "field-map-scrolled-zh-390x844.png")
    # A tap in the middle of the map (a grid there) opens that grid.
    _touch(page, phone, [(moved["x"] + moved["width"] / 2, moved["y"] + moved["height"] / 2)])
    _lands_on_a_grid(driver, page, errors)
    page.screenshot(path=SCREENSHOTS / "field-grid-zh-390x844.png")


# The light map's box and the box around every grid drawn in it, in the page's pixels; and a
# point on a grid where nothing else (a testing site's ring) lies over it.
LIGHT_MAP_BOXES = """() => {
    const box = document.querySelector(".gc-light-box").getBoundingClientRect();
    let top = Infinity, bottom = -Infinity, left = Infinity, right = -Infinity, tap = null;
    for (const grid of document.querySelectorAll(".gc-light-map .gc-grid")) {
        const r = grid.getBoundingClientRect();
        top = Math.min(top, r.top); bottom = Math.max(bottom, r.bottom);
        left = Math.min(left, r.left); right = Math.max(right, r.right);
        const x = r.left + r.width / 2, y = r.top + r.height / 2;
        if (!tap && document.elementFromPoint(x, y) === grid) {
            tap = {x, y, code: grid.dataset.code};
        }
    }
    return {box: {top: box.top, bottom: box.bottom, left: box.left, right: box.right},
            grids: {top, bottom, left, right}, tap};
}"""


def test_on_a_phone_without_a_gpu_the_light_map_fills_its_box_and_a_tap_opens_a_grid(
    driver: Driver, phone_without_gpu: BrowserContext
) -> None:
    page = phone_without_gpu.new_page()
    errors = _errors(page)
    _open_map(driver, page, drawn=".gc-light-map .gc-grid")
    assert page.locator(CANVAS).count() == 0
    page.locator(".gc-light-box").first.scroll_into_view_if_needed()
    found = page.evaluate(LIGHT_MAP_BOXES)
    box, grids = found["box"], found["grids"]
    # The street fills its box: no empty band above or below it, and it fits the phone.
    assert box["left"] >= 0 and box["right"] <= PHONE["width"], box
    assert grids["top"] - box["top"] <= 24 and box["bottom"] - grids["bottom"] <= 24, found
    assert grids["left"] - box["left"] <= 24 and box["right"] - grids["right"] <= 24, found
    page.screenshot(path=SCREENSHOTS / "field-light-map-zh-390x844.png")
    tap = found["tap"]
    assert tap is not None, "no grid of the light map can be tapped in its middle"
    _touch(page, phone_without_gpu, [(tap["x"], tap["y"])])
    _lands_on_a_grid(driver, page, errors)
    assert page.url.split("grid=")[-1] == tap["code"]
