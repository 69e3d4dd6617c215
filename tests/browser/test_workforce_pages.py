"""The Workforce page in real Chromium on the demo street: desktop and phone, both languages.

A leader applies the first suggested reassignment on a desktop (English) and adds a
volunteer on a phone (Chinese); each session is then looked at on the other screen size
too. The page draws its map and chart without sideways scrolling on either screen.
Screenshots go to tests/artifacts/screenshots/workforce-*.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page
from sqlmodel import Session, select

from gridcore.demo import DEMO_PASSWORD
from gridcore.i18n import t
from gridcore.models import Task, Worker, WorkerGrid

from .browser_support import DESKTOP, MAP_DRAWN, PHONE, SCREENSHOTS, Driver

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
APPLY = '[class*="st-key-wf_apply_"] button'
SUCCESS = '[data-testid="stAlertContentSuccess"]'


def _open(driver: Driver, page: Page, lang: str) -> None:
    """Open /workforce signed out, sign in as the leader on the form it shows, wait for it."""
    page.goto(f"{driver.base_url}/workforce?lang={lang}")
    driver.wait_for_render(page)
    page.locator(".st-key-signin_username input").fill("leader")
    page.locator(".st-key-signin_password input").fill(DEMO_PASSWORD)
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    page.locator('[data-testid="stMain"] h1', has_text=t("page.workforce", lang)).wait_for()
    page.locator(MAP_DRAWN).first.wait_for()
    page.locator(".main-svg").first.wait_for()
    driver.wait_for_render(page)
    assert page.locator(EXCEPTION).count() == 0


def _sideways(page: Page) -> int:
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def _resized(driver: Driver, page: Page, size: dict[str, int]) -> None:
    """The page at another screen size, scrolled to the top, without sideways scrolling."""
    page.set_viewport_size(size)
    page.locator('[data-testid="stMain"] h1').first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    driver.wait_for_render(page)
    assert _sideways(page) <= 2
    assert page.locator(EXCEPTION).count() == 0


def test_a_leader_applies_a_suggested_reassignment_on_a_desktop(driver: Driver) -> None:
    context = driver.new_context(DESKTOP)
    try:
        page = context.new_page()
        _open(driver, page, "en")
        page.screenshot(path=SCREENSHOTS / "workforce-en-1920x1080.png", full_page=True)
        button = page.locator(APPLY).first
        key = next(
            c
            for c in (
                page.locator('[class*="st-key-wf_apply_"]').first.get_attribute("class") or ""
            ).split()
            if c.startswith("st-key-wf_apply_")
        )
        task_id = int(key.removeprefix("st-key-wf_apply_"))
        line = page.locator(f".st-key-wf_move_{task_id}").inner_text()
        taker = re.search(r"→ ([^,(]+)", line)
        assert taker is not None, line
        button.click()
        page.locator(SUCCESS).first.wait_for(state="visible")
        driver.wait_for_render(page)
        said = page.locator(SUCCESS).first.inner_text()
        assert f"Task {task_id}" in said and taker.group(1).strip() in said, said
        with Session(driver.app.engine) as s:
            task = s.get(Task, task_id)
            assert task is not None and task.assigned_worker_id is not None
            worker = s.get(Worker, task.assigned_worker_id)
        assert worker is not None and worker.name == taker.group(1).strip()
        assert page.locator(f".st-key-wf_apply_{task_id}").count() == 0
        assert page.locator(EXCEPTION).count() == 0
        page.screenshot(path=SCREENSHOTS / "workforce-after-reassign-en-1920x1080.png")
        # The same session on a phone-sized screen (one sign-in, one page load fewer).
        _resized(driver, page, PHONE)
        page.screenshot(path=SCREENSHOTS / "workforce-en-390x844.png")
    finally:
        context.close()


def test_a_leader_adds_a_volunteer_on_a_phone_in_chinese(driver: Driver) -> None:
    context = driver.new_context(PHONE, lang="zh")
    try:
        page = context.new_page()
        _open(driver, page, "zh")
        assert _sideways(page) <= 2
        page.screenshot(path=SCREENSHOTS / "workforce-zh-390x844.png", full_page=False)
        form = page.locator('[data-testid="stForm"]').first
        form.scroll_into_view_if_needed()
        page.locator('[class*="st-key-wf_f_name_"] input').fill("欧阳志愿")
        page.locator('[class*="st-key-wf_f_phone_"] input').fill("139 0000 7777")
        page.locator(".st-key-wf_f_group").click()
        page.get_by_role("option", name=t("service_group.medical", "zh")).click()
        grids = page.locator('[class*="st-key-wf_f_grids_"] input')
        grids.click()
        grids.fill("C01-G01")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        # Leaving the field shrinks it and moves the button up: let that happen first.
        grids.blur()
        page.wait_for_timeout(300)
        page.locator(
            '[data-testid="stFormSubmitButton"] button', has_text=t("wf.f_add", "zh")
        ).click()
        page.locator(SUCCESS, has_text="欧阳志愿").wait_for(state="visible")
        driver.wait_for_render(page)
        with Session(driver.app.engine) as s:
            added = s.exec(select(Worker).where(Worker.name == "欧阳志愿")).one()
            links = s.exec(select(WorkerGrid).where(WorkerGrid.worker_id == added.id)).all()
        assert (added.employment, added.service_group, added.phone) == (
            "volunteer", "medical", "139 0000 7777")  # fmt: skip
        assert len(links) == 1
        assert page.locator(EXCEPTION).count() == 0
        page.locator(SUCCESS, has_text="欧阳志愿").scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOTS / "workforce-volunteer-added-zh-390x844.png")
        assert page.locator('[class*="st-key-wf_f_name_"] input').input_value() == ""
        _resized(driver, page, DESKTOP)
        page.screenshot(path=SCREENSHOTS / "workforce-zh-1920x1080.png")
    finally:
        context.close()
