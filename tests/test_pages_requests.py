"""The Requests & tasks page and My tasks, run headless with AppTest on a copy of the tiny world.

The app reads the real clock, so every tiny request and task is long past its target
(gridcore/demo/tiny.py): open requests 9 (new 5, assigned 2, in progress 2), all overdue.
The demo account "worker" serves T-C1-G1, whose open tasks are a door-to-door task and a
survey in progress; the grid depot holds 20 RICE.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from apptest_support import no_exception, open_page, page_text, signed_in
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from gridcore.db import make_engine
from gridcore.i18n import catalogues, t
from gridcore.models import Depot, ResidentRequest, StockMovement, SupplyItem, Task
from gridcore.ui.tasks import ALL as EVERYONE

LANGS = ("en", "zh")
PAGE = "pages/requests.py"


@dataclass(frozen=True)
class World:
    engine: Engine

    def count(self, model: type, *where: Any) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(func.count()).select_from(model).where(*where)).one())

    def item_id(self, code: str) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(SupplyItem.id).where(SupplyItem.code == code)).one() or 0)


@pytest.fixture
def world(tiny_app: str) -> Iterator[World]:
    engine = make_engine(tiny_app)
    yield World(engine)
    engine.dispose()


def _widget(widgets: Any, label: str) -> Any:
    return next(w for w in widgets if w.label == label)


def _tab(at: AppTest, key: str, lang: str = "en") -> AppTest:
    """Open a tab of the page (only the open tab runs)."""
    at.session_state["req_tab"] = t(key, lang)
    at.run()
    no_exception(at, f"the {key} tab")
    return at


def _submit(at: AppTest, label: str) -> AppTest:
    _widget(at.button, label).click().run()
    no_exception(at, f"submitting {label}")
    return at


@pytest.mark.parametrize("lang", LANGS)
def test_the_board_counts_by_status_and_marks_the_overdue(world: World, lang: str) -> None:
    at = open_page("leader", PAGE, lang)
    text = page_text(at)
    assert at.title[0].value == t("page.requests", lang)
    for status, n in (("new", 5), ("assigned", 2), ("in_progress", 2)):
        assert f"{t(f'request_status.{status}', lang)}** · {n}" in text
    assert t("req.duplicate_of", lang, id=1) in text
    _tab(at, "req.tab_overdue", lang)
    assert t("req.n_overdue", lang, n=9) in [e.value for e in at.error]
    if lang == "zh":
        assert "Overdue" not in text and "Request" not in text.replace("Request R", "")


def _take(at: AppTest, *, category: str, item: str | None = None, quantity: int = 0) -> AppTest:
    _widget(at.selectbox, t("req.f_category")).set_value(category)
    if item is not None:
        items = _widget(at.selectbox, t("req.f_item"))
        items.set_value(next(o for o in items.options if o.startswith(item)))
    _widget(at.number_input, t("req.f_quantity")).set_value(quantity)
    _widget(at.text_area, t("req.f_description")).input("Insulin, 2 pens")
    return _submit(at, t("req.f_take"))


def test_taking_a_request_writes_once_and_a_bad_one_nothing(world: World) -> None:
    at = _tab(open_page("leader", PAGE), "req.tab_take")
    before = world.count(ResidentRequest)
    token = at.session_state["_token_req_take"]
    # A quantity without an item: said next to the field, nothing written.
    _take(at, category="medicine", quantity=2)
    assert world.count(ResidentRequest) == before
    assert t("requests.error.item_needed") in [e.value for e in at.error]
    at = _take(at, category="medicine")
    assert world.count(ResidentRequest) == before + 1
    assert at.session_state["_token_req_take"] != token
    # The second click of a double click carries the first one's token: written once.
    at.session_state["_token_req_take"] = token
    _take(at, category="medicine")
    assert world.count(ResidentRequest) == before + 1


def test_delivering_more_than_the_depot_holds_is_refused_with_the_reason(world: World) -> None:
    at = _tab(open_page("leader", PAGE), "req.tab_take")
    at = _take(at, category="food", item="Rice", quantity=50)
    with Session(world.engine) as s:
        request_id = s.exec(select(func.max(ResidentRequest.id))).one()
    _widget(at.selectbox, t("req.f_request")).set_value(request_id).run()
    _widget(at.radio, t("req.f_action")).set_value("assign")
    at = _submit(at, t("req.f_apply"))
    assert t("req.assigned", id=request_id) in [s.value for s in at.success]
    _widget(at.selectbox, t("req.f_request")).set_value(request_id).run()
    _widget(at.radio, t("req.f_action")).set_value("deliver")
    depots = _widget(at.selectbox, t("req.f_depot"))
    holds = t("req.depot_holds", depot="Grid 1-1 depot", n=20)
    assert holds in depots.options
    with Session(world.engine) as s:
        grid_depot = s.exec(select(Depot.id).where(Depot.name == "Grid 1-1 depot")).one()
    depots.set_value(grid_depot)
    movements = world.count(StockMovement)
    at = _submit(at, t("req.f_apply"))
    assert t("services.error.stock_below_zero") in [e.value for e in at.error]
    assert world.count(StockMovement) == movements
    assert world.count(ResidentRequest, ResidentRequest.status == "done") == 1  # R04 only


@pytest.mark.parametrize("lang", LANGS)
def test_a_grid_worker_lands_on_my_tasks_and_starts_finishes_and_undoes(
    world: World, lang: str
) -> None:
    at = signed_in("worker", lang)
    assert at.title[0].value == catalogues()[lang]["page.my_tasks"]
    # The account is 王丽's (the demo links it): her task first, the survey she has started.
    assert at.selectbox(key="mt_worker").format_func(at.selectbox(key="mt_worker").value) == "王丽"
    starts = [b for b in at.button if b.key and b.key.startswith("mt_go_")]
    assert [b.label for b in starts] == [t("mt.finish", lang)]
    # Everyone in her grid: 李强's door-to-door round too.
    at.selectbox(key="mt_worker").select(EVERYONE).run()
    starts = [b for b in at.button if b.key and b.key.startswith("mt_go_")]
    labels = sorted(b.label for b in starts)
    assert labels == sorted([t("mt.finish", lang), t("mt.start", lang)])  # survey, door to door
    start = next(b for b in starts if b.label == t("mt.start", lang))
    task_id = int(start.key.removeprefix("mt_go_"))
    start.click().run()
    no_exception(at, "starting a task")
    assert world.count(Task, Task.id == task_id, Task.status == "in_progress") == 1
    at.button(key=f"mt_undo_{task_id}").click().run()
    assert world.count(Task, Task.id == task_id, Task.status == "open") == 1
    assert [b for b in at.button if b.key == f"mt_undo_{task_id}"] == []  # nothing more to undo
    at.button(key=f"mt_go_{task_id}").click().run()
    at.button(key=f"mt_go_{task_id}").click().run()
    assert world.count(Task, Task.id == task_id, Task.status == "done") == 1
    assert t("mt.done_today", lang) in page_text(at)
