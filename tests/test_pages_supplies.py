"""The Supplies page, run headless with AppTest on a copy of the tiny world per test.

The page's clock is set to the tiny world's "now" (gridcore/demo/tiny.py, "Supplies"):
depot 1 "Tiny Street depot" (微街道物资仓库), depot 2 "Grid 1-1 depot" (第一社区1号网格物资点;
T-C1-G1, the demo worker's grid);
items 1 MASK, 2 KIT, 3 RICE. Grid KIT is 18 against a minimum of 20 (3.1 days of cover);
the street holds 140 kits it does not use, so the one suggestion is 2 kits street → grid.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pytest
from apptest_support import no_exception, open_page, page_text
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from gridcore.access import Actor
from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.demo import tiny as tiny_demo
from gridcore.i18n import t
from gridcore.models import StockBalance, StockMovement, UserRole
from gridcore.services.stock import transfer_stock
from gridcore.ui import data
from tests.tiny_world import TINY_ANCHOR

PAGE = "pages/supplies.py"
LANGS = ("en", "zh")
STREET, GRID = 1, 2
MASK, KIT, RICE = 1, 2, 3
DEPOTS = {
    "en": ("Tiny Street depot", "Grid 1-1 depot"),
    "zh": ("微街道物资仓库", "第一社区1号网格物资点"),
}


@dataclass(frozen=True)
class World:
    engine: Engine

    def movements(self) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(func.count()).select_from(StockMovement)).one())

    def stock(self, depot: int, item: int) -> int:
        with Session(self.engine) as s:
            found = s.exec(
                select(StockBalance.quantity).where(
                    StockBalance.depot_id == depot, StockBalance.item_id == item
                )
            ).first()
            return int(found or 0)


@pytest.fixture
def world(tiny_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A copy of the tiny world (these tests write), the page's clock at its "now"."""
    story_now = tiny_demo.now(anchor=TINY_ANCHOR).astimezone(get_settings().tz)
    monkeypatch.setattr(data, "now", lambda: story_now)
    engine = make_engine(tiny_app)
    yield World(engine)
    engine.dispose()


def _en(key: str, **params: object) -> str:
    return t(key, "en", **params)


def _submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    no_exception(at, f"submitting {label}")
    return at


def _table(at: AppTest, column_key: str, lang: str = "en") -> pd.DataFrame:
    """The first table on the page with the column `column_key` names."""
    column = t(column_key, lang)
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _notes(at: AppTest) -> str:
    """The text of the page's success and error boxes (st.html)."""
    return page_text(at)


@pytest.mark.parametrize("lang", LANGS)
def test_the_page_shows_shortages_cover_and_the_suggested_transfer(world: World, lang: str) -> None:
    at = open_page("leader", PAGE, lang)
    assert [e.value for e in at.title] == [t("page.supplies", lang)]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        t("stock.m_short", lang): "1",
        t("stock.m_depots_short", lang): "1",
        t("stock.m_transfers", lang): "1",
        t("stock.m_purchases", lang): "0",
    }
    cover = _table(at, "stock.col_cover", lang)
    first = cover.iloc[0]
    assert first[t("stock.col_state", lang)] == t("stock.level.short", lang)
    assert (first[t("stock.col_stock", lang)], first[t("stock.col_minimum", lang)]) == (18, 20)
    assert first[t("stock.col_cover", lang)] == "3.1"  # 18 / (40 / 7) = 3.15
    kit = "抗原检测试剂" if lang == "zh" else "Antigen test kits"
    unit = t("stock.unit.box", lang)
    # Depot names without Chinese words read as their area's name in Chinese.
    street, grid = DEPOTS[lang]
    line = t("stock.suggest_line", lang, qty="2", unit=unit, item=kit, source=street,
             target=grid)  # fmt: skip
    assert line in page_text(at)
    heat = next(h.proto.body for h in at.get("html") if "gc-heat" in h.proto.body)
    # Grid KIT: 18 of 20, below its minimum.
    assert f'<th class="depot">{street}</th>' in heat
    kit_cell = f'<td class="short" title="18 / 20 {unit}">18</td>'
    assert kit_cell in heat.split(f'<tr><th class="depot">{grid}</th>')[1]
    history = _table(at, "stock.col_number", lang)
    assert len(history) == 21
    assert len(at.get("deck_gl_json_chart")) == 1


def test_a_link_with_a_depot_shows_that_depot(world: World) -> None:
    at = open_page("leader", PAGE, depot=str(GRID))
    assert at.selectbox(key="sp_depot").value == GRID
    assert set(_table(at, "stock.col_cover")[_en("stock.col_depot")]) == {"Grid 1-1 depot"}
    assert _en("stock.showing", first="1", last="16", total="16") in [c.value for c in at.caption]
    detail = open_page("leader", "pages/grid_detail.py", grid="T-C1-G1")
    links = [el.proto for el in detail.get("page_link")]
    assert any(p.page == "supplies" and p.query_string == "depot=2" for p in links), links


def test_forms_write_once_even_when_sent_twice_and_nothing_when_bad(world: World) -> None:
    at = open_page("leader", PAGE)
    before = world.movements()
    # Bad: more than the depot holds, a count without a reason, a transfer without amount.
    at.selectbox(key="sp_issue_depot").set_value(GRID)
    at.selectbox(key="sp_issue_item").set_value(KIT)
    at.number_input(key="sp_issue_qty").set_value(30)
    at = _submit(at, _en("stock.f_save_issue"))
    errors = [e.value for e in at.error]
    assert _en("stock.fix_below") in errors
    assert _en("stock.short_refused", stock="18") in errors
    at.selectbox(key="sp_count_depot").set_value(GRID)
    at.number_input(key="sp_count_counted").set_value(17)
    at = _submit(at, _en("stock.f_save_count"))
    assert _en("services.error.reason_required") in [e.value for e in at.error]
    at = _submit(at, _en("stock.f_save_transfer"))
    assert _en("services.error.quantity_positive") in [e.value for e in at.error]
    assert world.movements() == before
    # Good: a receipt, written once.
    token = at.session_state["_token_sp_receipt"]
    at.selectbox(key="sp_receipt_depot").set_value(GRID)
    at.selectbox(key="sp_receipt_item").set_value(RICE)
    at.number_input(key="sp_receipt_qty").set_value(12)
    at = _submit(at, _en("stock.f_save_receipt"))
    assert world.movements() == before + 1
    assert world.stock(GRID, RICE) == 32
    assert _en("stock.saved_receipt", qty="12", unit="bags", item="Rice (10 kg)",
               depot="Grid 1-1 depot", number=before + 1, now="32") in _notes(at)  # fmt: skip
    assert at.session_state["_token_sp_receipt"] != token
    # The second click of a double click carries the first click's token.
    at.session_state["_token_sp_receipt"] = token
    at.number_input(key="sp_receipt_qty").set_value(12)
    at = _submit(at, _en("stock.f_save_receipt"))
    assert world.movements() == before + 1
    assert world.stock(GRID, RICE) == 32


def test_a_suggested_transfer_in_one_click_and_its_undo(world: World) -> None:
    at = open_page("leader", PAGE)
    before = world.movements()
    at.button(key="sp_move_0").click().run()
    no_exception(at, "making the suggested transfer")
    assert world.movements() == before + 2
    assert (world.stock(STREET, KIT), world.stock(GRID, KIT)) == (138, 20)
    # A double tap sends the same suggestion's token again (what, where, how many, what the
    # receiver held): written once.
    token = at.session_state[f"_token_sp_move_{KIT}_{STREET}_{GRID}_2_18"]
    with Session(world.engine) as s:
        leader = Actor("leader", UserRole.leader)
        transfer_stock(session=s, item_id=KIT, from_depot_id=STREET, to_depot_id=GRID,
                       quantity=2, actor=leader, client_token=token)  # fmt: skip
    assert world.movements() == before + 2
    said = _en("stock.transferred", qty="2", unit="boxes", item="Antigen test kits",
               source="Tiny Street depot", target="Grid 1-1 depot", number=before + 1,
               left="138", now="20")  # fmt: skip
    assert said in _notes(at)
    # The shortage is gone: no suggestion is left.
    assert {m.label: m.value for m in at.metric}[_en("stock.m_transfers")] == "0"
    at.button(key="sp_undo").click().run()
    no_exception(at, "undoing the transfer")
    assert world.movements() == before + 4
    assert (world.stock(STREET, KIT), world.stock(GRID, KIT)) == (140, 18)


def test_a_grid_worker_writes_at_their_grids_depot_and_a_viewer_not_at_all(
    world: World,
) -> None:
    at = open_page("worker", PAGE)
    assert at.selectbox(key="sp_receipt_depot").options == ["Grid 1-1 depot"]
    # The suggestion moves stock out of the street's depot: not the worker's to make.
    assert [b for b in at.button if (b.key or "").startswith("sp_move_")] == []
    viewer = open_page("viewer", PAGE)
    assert _en("stock.record_title") not in [s.value for s in viewer.subheader]
    assert [b for b in viewer.button if (b.key or "").startswith("sp_move_")] == []
