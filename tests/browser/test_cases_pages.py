"""The Cases & contacts page in real Chromium, on a desktop in English and a phone in Chinese.

A leader opens a deep link, signs in, enters a case for someone not registered, adds a
contact, records the contact's test on its first day and ends the quarantine; each step is
checked in the database. Screenshots of both sizes in both languages are kept.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import pytest
from playwright.sync_api import Page
from sqlmodel import Session, select

from gridcore.demo import DEMO_PASSWORD
from gridcore.i18n import fmt_date, t
from gridcore.models import Case, Contact, ContactTest

from .browser_support import DESKTOP, PHONE, SCREENSHOTS, Driver

pytestmark = pytest.mark.browser
T = TypeVar("T")

EXCEPTION = '[data-testid="stException"]'


def _open(driver: Driver, page: Page, lang: str) -> None:
    """Open /cases signed out, sign in on the form it shows, and wait for the page."""
    page.goto(f"{driver.base_url}/cases?lang={lang}")
    driver.wait_for_render(page)
    page.locator(".st-key-signin_username input").fill("leader")
    page.locator(".st-key-signin_password input").fill(DEMO_PASSWORD)
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    page.locator('[data-testid="stMain"] h1', has_text=t("page.cases", lang)).wait_for()
    page.locator(".main-svg").first.wait_for()
    driver.wait_for_render(page)
    assert page.locator(EXCEPTION).count() == 0


def _tab(driver: Driver, page: Page, key: str, lang: str) -> None:
    page.get_by_role("tab", name=t(key, lang)).click()
    driver.wait_for_render(page)


def _choose_first(driver: Driver, page: Page, key: str) -> None:
    box = page.locator(f".st-key-{key} [role='combobox']")
    box.click()
    # On a touch screen a tap may only focus the box after another field had the focus.
    if box.get_attribute("aria-expanded") != "true":
        box.press("ArrowDown")
    page.locator("[role='option']").first.click()
    driver.wait_for_render(page)


def _press(driver: Driver, page: Page, key: str, lang: str) -> None:
    page.get_by_role("button", name=t(key, lang)).click()
    driver.wait_for_render(page)
    assert page.locator(EXCEPTION).count() == 0


def _said(driver: Driver, page: Page, text: str) -> None:
    """Wait for the page's message after a save (the rerun has finished drawing)."""
    page.get_by_text(text).first.wait_for()
    driver.wait_for_render(page)
    assert page.locator(EXCEPTION).count() == 0


def _eventually(find: Callable[[Session], T | None], driver: Driver, seconds: float = 30) -> T:
    """What `find` returns from the database once it is there (the write follows the click)."""
    deadline = time.monotonic() + seconds
    while True:
        with Session(driver.app.engine) as s:
            found = find(s)
        if found is not None or time.monotonic() > deadline:
            assert found is not None, "not written"
            return found
        time.sleep(0.2)


def _no_sideways_scroll(page: Page) -> int:
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


@pytest.mark.parametrize(("size", "lang"), [(DESKTOP, "en"), (PHONE, "zh")])
def test_a_case_is_entered_traced_tested_and_released(
    driver: Driver, size: dict[str, int], lang: str
) -> None:
    name = f"{size['width']}x{size['height']}"
    address = f"Test Lane {uuid.uuid4().hex[:6]}"
    person = f"测试{uuid.uuid4().hex[:4]}"
    context = driver.new_context(size, lang)
    try:
        page = context.new_page()
        _open(driver, page, lang)
        page.screenshot(path=SCREENSHOTS / f"cases-{lang}-{name}.png", full_page=False)
        if size is PHONE:
            assert _no_sideways_scroll(page) <= 2

        _tab(driver, page, "cpage.tab_new_case", lang)
        _choose_first(driver, page, "cs_nc_grid")
        page.locator(".st-key-cs_nc_address input").fill(address)
        _press(driver, page, "cpage.f_save_case", lang)
        case = _eventually(
            lambda s: s.exec(select(Case).where(Case.address == address)).first(), driver
        )
        _said(driver, page, t("cpage.case_saved", lang, case=case.id))
        page.screenshot(path=SCREENSHOTS / f"cases-new-{lang}-{name}.png", full_page=False)

        _tab(driver, page, "cpage.tab_contacts", lang)
        page.locator(".st-key-cs_ct_name input").fill(person)
        page.locator(".st-key-cs_ct_phone input").fill("13800001234")
        _choose_first(driver, page, "cs_ct_grid")
        _press(driver, page, "cpage.f_save_contact", lang)
        contact = _eventually(
            lambda s: s.exec(select(Contact).where(Contact.person_name == person)).first(), driver
        )
        assert contact.case_id == case.id
        _said(
            driver,
            page,
            t("cpage.contact_saved", lang, end=fmt_date(contact.planned_end_date, lang)),
        )

        _tab(driver, page, "cpage.tab_board", lang)
        page.locator(f".st-key-cs_test_{contact.id}_day").wait_for()
        page.locator(f".st-key-cs_test_{contact.id}_day").scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOTS / f"cases-board-{lang}-{name}.png", full_page=False)
        _press(driver, page, "cpage.f_save_test", lang)
        test = _eventually(
            lambda s: s.exec(
                select(ContactTest).where(ContactTest.contact_id == contact.id)
            ).first(),
            driver,
        )
        assert (test.day, test.result) == (contact.start_date, "negative")
        _said(driver, page, t("cpage.test_saved", lang, day=fmt_date(test.day, lang)))
        page.locator(f".st-key-cs_end_{contact.id}_action").wait_for()
        _press(driver, page, "cpage.f_save_end", lang)
        _eventually(
            lambda s: s.exec(
                select(Contact.id).where(Contact.id == contact.id, Contact.status == "released")
            ).first(),
            driver,
        )
        _said(driver, page, t("cpage.released", lang))
        page.screenshot(path=SCREENSHOTS / f"cases-released-{lang}-{name}.png", full_page=False)
    finally:
        context.close()
