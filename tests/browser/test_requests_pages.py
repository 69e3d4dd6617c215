"""Requests & tasks and My tasks in real Chromium on the demo street.

A leader takes a supply request, assigns it and delivers it from a depot that holds the
item (the ledger gets the issue); a grid worker on a phone starts a task, undoes it, and
starts and finishes it. Screenshots at 1920×1080 and 390×844 in English and Chinese.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from playwright.sync_api import Page
from sqlmodel import Session, col, func, select

from gridcore.access import SYSTEM
from gridcore.i18n import t
from gridcore.models import (
    Depot,
    ResidentRequest,
    StockMovement,
    SupplyItem,
    Task,
    User,
    UserGrid,
    utcnow,
)
from gridcore.services.tasks import create_task

from .browser_support import DESKTOP, PHONE, SCREENSHOTS, Driver, next_local_midnight

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'


def _sign_in_at(driver: Driver, page: Page, path: str, username: str) -> None:
    """Open a deep link signed out and sign in on the form it shows."""
    page.goto(f"{driver.base_url}{path}")
    driver.wait_for_render(page)
    page.locator(".st-key-signin_username input").fill(username)
    page.locator(".st-key-signin_password input").fill("gridcore-demo")
    page.locator('[data-testid="stFormSubmitButton"] button').click()


def _choose(page: Page, key: str, text: str) -> None:
    """Pick the option of the select box `key` that starts with `text` (typed to filter)."""
    box = page.locator(f'[class*="st-key-{key}"] input[role="combobox"]').first
    box.click()
    box.fill(text)
    page.locator('[role="option"]', has_text=text).first.click()


def _open_tab(driver: Driver, page: Page, name: str) -> None:
    """Open a tab of the page (the page reruns: only the open tab's content runs)."""
    page.get_by_role("tab", name=name).click()
    driver.wait_for_render(page)


def _depot_with_stock(driver: Driver) -> tuple[int, str, str]:
    """A depot, and an item it holds at least 5 of: (depot id, depot name, item name)."""
    with Session(driver.app.engine) as s:
        held = func.sum(StockMovement.quantity)
        row = s.exec(
            select(StockMovement.depot_id, StockMovement.item_id, held)
            .group_by(col(StockMovement.depot_id), col(StockMovement.item_id))
            .having(held >= 5)
            .order_by(col(StockMovement.depot_id), col(StockMovement.item_id))
        ).first()
        assert row is not None, "the street has no stock anywhere"
        depot, item = s.get(Depot, row[0]), s.get(SupplyItem, row[1])
        assert depot is not None and item is not None
        return int(row[0]), depot.name, item.name


def test_a_request_is_taken_assigned_and_delivered_from_a_depot(driver: Driver) -> None:
    depot_id, depot_name, item_name = _depot_with_stock(driver)
    context = driver.new_context(DESKTOP)
    try:
        page = context.new_page()
        _sign_in_at(driver, page, "/requests", "leader")
        page.locator('[data-testid="stMain"] h1', has_text=t("page.requests")).wait_for()
        driver.wait_for_render(page)
        page.screenshot(path=SCREENSHOTS / "requests-board-en-1920x1080.png")
        _open_tab(driver, page, t("req.tab_take"))
        started = time.perf_counter()
        _choose(page, "req_take_category", t("request_category.food"))
        _choose(page, "req_take_item", item_name)
        page.locator(".st-key-req_take_quantity input").fill("2")
        page.locator(".st-key-req_take_submit button").click()
        page.locator('[data-testid="stAlertContentSuccess"]').first.wait_for()
        driver.wait_for_render(page)
        with Session(driver.app.engine) as s:
            request = s.exec(
                select(ResidentRequest).order_by(col(ResidentRequest.id).desc())
            ).first()
        assert request is not None and request.quantity == 2 and request.status == "new"
        rid = int(request.id or 0)
        _choose(page, "req_act_request", f"#{rid} ·")
        driver.wait_for_render(page)
        page.locator(".st-key-req_act_action label", has_text=t("req.action_assign")).click()
        page.locator(".st-key-req_act_submit button").click()
        page.get_by_text(t("req.assigned", id=rid)).wait_for()
        driver.wait_for_render(page)
        _choose(page, "req_act_request", f"#{rid} ·")
        driver.wait_for_render(page)
        page.locator(".st-key-req_act_action label", has_text=t("req.action_deliver")).click()
        _choose(page, f"req_act_depot_{rid}", f"{depot_name} —")
        page.locator(".st-key-req_act_submit button").click()
        page.get_by_text(f"Request #{rid} delivered").wait_for()
        seconds = time.perf_counter() - started
        driver.wait_for_render(page)
        page.screenshot(path=SCREENSHOTS / "requests-delivered-en-1920x1080.png")
        with Session(driver.app.engine) as s:
            done = s.get(ResidentRequest, rid)
            assert done is not None and done.status == "done" and done.assigned_worker_id
            movement = s.get(StockMovement, done.stock_movement_id)
            assert movement is not None
            assert (movement.depot_id, movement.kind, movement.quantity) == (depot_id, "issue", -2)
        assert page.locator(EXCEPTION).count() == 0
        print(f"\nrequest taken, assigned and delivered in {seconds:.1f} s")
    finally:
        context.close()


@pytest.fixture(scope="module")
def worker_task(driver: Driver) -> int:
    """A task due within the hour, and before the local midnight (My tasks lists today's), for
    the demo account "worker" (its grid, its worker), made before any page of this module
    lists tasks (lists are cached for a few seconds)."""
    now = utcnow()
    midnight = next_local_midnight()
    due = min(now + timedelta(minutes=30), now + (midnight - now) / 2)
    with Session(driver.app.engine) as s:
        user = s.exec(select(User).where(User.username == "worker")).one()
        assert user.worker_id is not None, "the demo links the worker account to a worker"
        grid_id = s.exec(select(UserGrid.grid_id).where(UserGrid.user_id == user.id)).one()
        task = create_task(
            session=s,
            data={"grid_id": grid_id, "kind": "disinfection", "title": "3号楼楼道 1-6层",
                  "due_at": due,
                  "assigned_worker_id": user.worker_id},
            actor=SYSTEM,
        )  # fmt: skip
        return int(task.id or 0)


def _status(driver: Driver, task_id: int) -> str:
    with Session(driver.app.engine) as s:
        task = s.get(Task, task_id)
        assert task is not None
        return str(task.status)


def _wait_status(driver: Driver, task_id: int, status: str) -> None:
    deadline = time.monotonic() + 20
    while _status(driver, task_id) != status and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _status(driver, task_id) == status


def test_my_tasks_start_undo_and_finish_on_a_phone(driver: Driver, worker_task: int) -> None:
    task_id = worker_task
    context = driver.new_context(PHONE, lang="zh")
    try:
        page = context.new_page()
        _sign_in_at(driver, page, "/?lang=zh", "worker")
        page.locator('[data-testid="stMain"] h1', has_text=t("page.my_tasks", "zh")).wait_for()
        go = page.locator(f".st-key-mt_go_{task_id} button")
        go.wait_for()
        driver.wait_for_render(page)
        box = go.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 300, box
        page.screenshot(path=SCREENSHOTS / "my-tasks-zh-390x844.png")
        go.tap()
        _wait_status(driver, task_id, "in_progress")
        undo = page.locator(f".st-key-mt_undo_{task_id} button")
        undo.wait_for()
        driver.wait_for_render(page)
        page.locator(f".st-key-mt_go_{task_id}").scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOTS / "my-tasks-started-zh-390x844.png")
        undo.tap()
        _wait_status(driver, task_id, "open")
        page.locator(f".st-key-mt_undo_{task_id}").wait_for(state="detached")
        page.locator(f".st-key-mt_go_{task_id} button", has_text=t("mt.start", "zh")).tap()
        _wait_status(driver, task_id, "in_progress")
        page.locator(f".st-key-mt_go_{task_id} button", has_text=t("mt.finish", "zh")).tap()
        _wait_status(driver, task_id, "done")
        driver.wait_for_render(page)
        assert page.locator(EXCEPTION).count() == 0
        assert _sideways(page) <= 2
    finally:
        context.close()


def _sideways(page: Page) -> int:
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def test_the_other_language_and_size_of_each_page(driver: Driver) -> None:
    """Requests in Chinese on a desktop (board, time to resolve); My tasks in English on a
    phone. (The map tab draws the grid map of ui/maps.py, which the map pages' tests cover.)"""
    desktop = driver.new_context(DESKTOP, lang="zh")
    try:
        page = desktop.new_page()
        _sign_in_at(driver, page, "/requests?lang=zh", "leader")
        page.locator('[data-testid="stMain"] h1', has_text=t("page.requests", "zh")).wait_for()
        driver.wait_for_render(page)
        page.screenshot(path=SCREENSHOTS / "requests-board-zh-1920x1080.png")
        _open_tab(driver, page, t("req.tab_resolution", "zh"))
        page.screenshot(path=SCREENSHOTS / "requests-resolution-zh-1920x1080.png")
        assert page.locator(EXCEPTION).count() == 0
    finally:
        desktop.close()
    phone = driver.new_context(PHONE, lang="en")
    try:
        page = phone.new_page()
        _sign_in_at(driver, page, "/?lang=en", "worker")
        page.locator('[data-testid="stMain"] h1', has_text=t("page.my_tasks", "en")).wait_for()
        driver.wait_for_render(page)
        page.screenshot(path=SCREENSHOTS / "my-tasks-en-390x844.png")
        assert page.locator(EXCEPTION).count() == 0
        assert _sideways(page) <= 2
    finally:
        phone.close()
