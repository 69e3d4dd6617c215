"""The kiosk on a projector: every panel in turn, fitting the screen, in type a room can read,
without personal data, and still signed in after a reload."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page
from sqlmodel import Session, select

from gridcore.access import SYSTEM
from gridcore.i18n import catalogues
from gridcore.models import KIOSK_PANELS as KIOSK_PANEL_NAMES
from gridcore.models import Contact, Resident
from gridcore.services.access import create_kiosk_link

from .browser_support import DESKTOP, SCREENSHOTS, Driver
from .every_page import EXCEPTION, FIGURES, NAV_LINK, outside_hosts, record_requests

pytestmark = pytest.mark.browser

# The projector test's link turns its panels this often, quicker than the deployment's setting,
# so that one rotation through every panel stays short.
KIOSK_LINK_SECONDS = 3
KIOSK_ROTATION_S = len(KIOSK_PANEL_NAMES) * KIOSK_LINK_SECONDS
PROJECTOR = {"width": 1280, "height": 720}


def _kiosk_url(driver: Driver) -> str:
    with Session(driver.app.engine, expire_on_commit=False) as s:
        _, token = create_kiosk_link(
            s, hours=2, secret=driver.app.secret, actor=SYSTEM, label="browser test",
            interval_seconds=KIOSK_LINK_SECONDS,
        )  # fmt: skip
    return f"{driver.base_url}/?kiosk=1&token={token}"


def _personal_data(driver: Driver) -> tuple[set[str], set[str]]:
    """Every resident's and contact's name and phone number in the database."""
    with Session(driver.app.engine) as s:
        names = set(s.exec(select(Resident.name)).all())
        names |= set(s.exec(select(Contact.person_name)).all())
        phones = {p for p in s.exec(select(Resident.phone)).all() if p}
    return {n for n in names if len(n) >= 2}, phones


# How far the drawn page reaches below the window (any scrolling element), in px; null while
# a panel is being drawn (the old panel's elements are still there, greyed, until replaced).
OVERFLOW = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning'
        || document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]')) return null;
    return Math.max(0, ...[document.scrollingElement,
        ...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
        .filter(e => e).map(e => e.scrollHeight - e.clientHeight));
}"""


def _kiosk_texts(
    page: Page, seconds: float, *, until_every_panel: bool = False
) -> tuple[list[str], int]:
    """The page's text twice a second for `seconds` (the kiosk rotates through its panels),
    or until every panel has come round, and the most the page ever reached below the window.

    A panel counts once the footer of the one before it has named it as coming next and it
    has been drawn: the footers announce all of them within one rotation and a panel more."""
    texts, overflow = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        texts.append(page.locator("body").inner_text())
        overflow = max(overflow, int(page.evaluate(OVERFLOW) or 0))
        if until_every_panel and _panels_announced(texts[:-1]) == set(KIOSK_PANEL_NAMES):
            break
        page.wait_for_timeout(500)
    return texts, overflow


def _panels_announced(texts: list[str]) -> set[str]:
    """The panels the footers named as coming next."""
    names = {catalogues()["en"][f"kiosk.panel.{p}"]: p for p in KIOSK_PANEL_NAMES}
    return {p for text in texts for name, p in names.items() if f"next: {name} at" in text}


def test_kiosk_on_a_projector(driver: Driver) -> None:
    """At 1280×720, the commonest projector: every panel fits with no scrolling, in type a room
    can read, and shows no personal data; then at 1920×1080 too."""
    context = driver.new_context(PROJECTOR)
    requested = record_requests(context)
    try:
        page = context.new_page()
        page.goto(_kiosk_url(driver))
        driver.wait_for_render(page)
        assert page.locator(EXCEPTION).count() == 0
        assert page.locator(".st-key-signin_username").count() == 0, "kiosk asks to sign in"
        assert not page.locator('[data-testid="stSidebar"]').is_visible(), "kiosk has a sidebar"
        assert (
            not page.locator(NAV_LINK).first.is_visible()
            if page.locator(NAV_LINK).count()
            else True
        )

        # A panel of big figures comes round within one rotation of all panels.
        value = page.locator('[data-testid="stMetricValue"]').first
        value.wait_for(state="visible", timeout=(KIOSK_ROTATION_S + 15) * 1000)
        page.wait_for_timeout(300)
        size = page.evaluate(
            """() => parseFloat(getComputedStyle(
                document.querySelector('[data-testid="stMetricValue"]')).fontSize)"""
        )
        assert size >= 48, f"headline numbers are {size}px high; a projector needs 48px or more"
        page.screenshot(path=SCREENSHOTS / "kiosk-en-1280x720.png")

        # Every panel in turn; longer than one rotation only when the browser stalls (the
        # software-drawn map can hold a loaded machine's browser for seconds).
        texts, overflow = _kiosk_texts(page, KIOSK_ROTATION_S + 30, until_every_panel=True)
        assert overflow <= 2, f"a panel reaches {overflow}px below a 1280×720 screen"
        assert _panels_announced(texts) == set(KIOSK_PANEL_NAMES), "a panel never came round"
        names, phones = _personal_data(driver)
        assert len(names) > 1000, "the demo street should have many named residents"
        seen = "\n".join(texts)
        assert [n for n in names if n in seen][:10] == []
        assert [p for p in phones if p in seen][:10] == []
        assert page.locator(EXCEPTION).count() == 0

        page.reload()
        driver.wait_for_render(page)
        assert page.locator(".st-key-signin_username").count() == 0, "signed out by a reload"
        # The testing panel has its own forecast alert: only the link's refusal may not show.
        for lang in ("en", "zh"):
            refusal = catalogues()[lang]["frame.kiosk_invalid"]
            assert page.get_by_text(refusal).count() == 0, "the link was refused after a reload"
        page.locator(FIGURES).first.wait_for(state="visible")
        assert "kiosk=1" in page.url

        # A bigger projector: the panels follow the window's size.
        page.set_viewport_size(DESKTOP)
        _, overflow = _kiosk_texts(page, KIOSK_LINK_SECONDS + 2)
        assert overflow <= 2, f"a panel reaches {overflow}px below a 1920×1080 screen"
        page.screenshot(path=SCREENSHOTS / "kiosk-en-1920x1080.png")
    finally:
        context.close()
    assert outside_hosts(requested) == []
