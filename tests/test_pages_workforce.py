"""The Workforce page, run headless with AppTest on a copy of the tiny world.

The app reads the real clock, so every tiny task with a due time (all in March 2026) is
overdue here: the six frontline workers each score 3 (one overdue task each), except
where a test adds work. That every page runs for every role in both languages is
test_pages_apptest's matrix; this module tests what the Workforce page does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from apptest_support import no_exception, open_page, page_text
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from gridcore.access import SYSTEM
from gridcore.db import make_engine
from gridcore.i18n import t
from gridcore.models import Area, AuditEntry, Task, Worker, WorkerGrid
from gridcore.services.tasks import create_task
from gridcore.services.workforce import create_worker
from gridcore.ui.workforce import plain_markdown

LANGS = ("en", "zh")


@dataclass(frozen=True)
class World:
    engine: Engine

    def count(self, model: type, *where: object) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(func.count()).select_from(model).where(*where)).one())

    def grid_id(self, code: str) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(Area.id).where(Area.code == code)).one() or 0)

    def worker_id(self, name: str) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(Worker.id).where(Worker.name == name)).one() or 0)


@pytest.fixture
def world(tiny_app: str) -> Iterator[World]:
    engine = make_engine(tiny_app)
    yield World(engine)
    engine.dispose()


def _en(key: str, **params: object) -> str:
    return t(key, "en", **params)


def _extra_work(world: World) -> tuple[int, list[int]]:
    """A new full-time worker in T-C2-G1 (score 0) and two tasks in time for 黄磊 (score 5).

    Frontline then 3, 3, 3, 3, 5, 3, 0: balance 20/7 = 2.86. 黄磊 gives both tasks in time
    to the newcomer (1, then 2); his overdue delivery (3) fits no one.
    """
    g3 = world.grid_id("T-C2-G1")
    with Session(world.engine, expire_on_commit=False) as s:
        new = create_worker(session=s, data={"name": "孙新", "role": "grid_member",
                            "employment": "full_time", "grid_ids": [g3]}, actor=SYSTEM)  # fmt: skip
        huang = world.worker_id("黄磊")
        tasks = [
            create_task(
                session=s,
                data={
                    "grid_id": g3,
                    "kind": "delivery",
                    "title": f"Rice {n}",
                    "assigned_worker_id": huang,
                },
                actor=SYSTEM,
            ).id  # fmt: skip
            for n in (1, 2)
        ]
    return int(new.id or 0), [int(i or 0) for i in tasks]


@pytest.mark.parametrize("lang", LANGS)
def test_the_page_shows_workload_staffing_and_postings(world: World, lang: str) -> None:
    at = open_page("leader", "pages/workforce.py", lang)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("wf.active_workers", lang)] == "8"
    assert metrics[t("wf.open_tasks", lang)] == "7"
    assert metrics[t("wf.overdue_tasks", lang)] == "6"  # every due time is past
    assert metrics[t("wf.understaffed", lang)] == "2"
    assert metrics[t("wf.imbalance", lang)] == "0.00"  # all six at 3
    workers, staffing, postings = (d.value for d in at.dataframe)
    assert list(workers[t("wf.col_score", lang)])[:6] == [3] * 6
    assert list(staffing[t("wf.col_gap", lang)]) == [2, 1]  # T-C1-G2, then T-C2-G1
    assert len(postings) == 10
    assert len(at.get("plotly_chart")) == 1
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert {row["code"] for row in deck["layers"][0]["data"]} >= {"T-C1-G1", "T-C2-G2"}
    assert any(t("wf.no_moves", lang) == i.value for i in at.info)
    assert len(at.get("form")) == 2


def test_viewer_sees_masked_phones_and_no_forms(world: World) -> None:
    at = open_page("viewer", "pages/workforce.py")
    assert len(at.get("form")) == 0
    text = page_text(at)
    assert "13800002000" not in text and "***" in text


def test_a_suggested_reassignment_is_applied_in_one_click(world: World) -> None:
    newcomer, (first, second) = _extra_work(world)
    at = open_page("leader", "pages/workforce.py")
    buttons = [b.key for b in at.button if b.key and b.key.startswith("wf_apply_")]
    assert buttons == [f"wf_apply_{first}", f"wf_apply_{second}"]
    audits = world.count(AuditEntry)
    at.button(key=f"wf_apply_{first}").click().run()
    no_exception(at, "applying a reassignment")
    with Session(world.engine) as s:
        task = s.get(Task, first)
        assert task is not None and task.assigned_worker_id == newcomer
        entry = s.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert world.count(AuditEntry) == audits + 1
    assert entry is not None and (entry.entity, entry.entity_id) == ("task", str(first))
    said = _en("wf.moved", task=first, grid="T-C2-G1", giver="黄磊", taker="孙新")
    assert [s.value for s in at.success] == [plain_markdown(said)]
    # The second suggestion stays; the first is gone.
    keys = [b.key for b in at.button if b.key and b.key.startswith("wf_apply_")]
    assert keys == [f"wf_apply_{second}"]


def _fill_add_form(at: AppTest, name: str, phone: str = "", group: str | None = None) -> None:
    gen = at.session_state["wf_add_gen"] if "wf_add_gen" in at.session_state else 0  # noqa: SIM401 (no .get here)
    at.text_input(key=f"wf_f_name_{gen}").input(name)
    at.text_input(key=f"wf_f_phone_{gen}").input(phone)
    at.selectbox(key="wf_f_group").select(group)
    grids = at.multiselect(key=f"wf_f_grids_{gen}")
    grids.set_value([grids.options[0]])


def _submit(at: AppTest) -> None:
    next(b for b in at.button if b.label == _en("wf.f_add")).click().run()
    no_exception(at, "adding a worker")


def test_a_volunteer_is_added_once_and_a_bad_one_not_at_all(world: World) -> None:
    at = open_page("leader", "pages/workforce.py")
    before = world.count(Worker)
    _fill_add_form(at, "周志愿", phone="12")  # a volunteer (the default) with a bad phone
    _submit(at)
    assert world.count(Worker) == before
    errors = [e.value for e in at.error]
    assert _en("services.error.phone_invalid") in errors
    assert _en("services.error.service_group_required") in errors
    # Corrected and sent twice with the same token (a double click): one worker.
    token = at.session_state["_token_wf_add"]
    _fill_add_form(at, "周志愿", phone="139 0000 2222", group="medical")
    _submit(at)
    assert [e.value for e in at.error] == []
    assert world.count(Worker) == before + 1
    assert at.text_input(key="wf_f_name_1").value == ""  # a fresh form for the next one
    at.session_state["_token_wf_add"] = token
    _fill_add_form(at, "周志愿", phone="139 0000 2222", group="medical")
    _submit(at)
    assert world.count(Worker) == before + 1
    with Session(world.engine) as s:
        added = s.exec(select(Worker).where(Worker.name == "周志愿")).one()
        assert (added.employment, added.service_group) == ("volunteer", "medical")
        assert s.exec(select(func.count()).select_from(WorkerGrid).where(
            WorkerGrid.worker_id == added.id)).one() == 1  # fmt: skip


def test_a_volunteer_with_no_grid_is_posted_in_one_click(world: World) -> None:
    # A counsellor posted nowhere: the tiny world's shortfalls are all 1, taken grid by grid
    # and group by group, so T-C1-G1's psychological counselling (8 in quarantine or ill)
    # is the first to need one and gets them.
    with Session(world.engine, expire_on_commit=False) as s:
        volunteer = create_worker(session=s, data={"name": "钱心", "role": "volunteer",
                                  "employment": "volunteer", "grid_ids": [],
                                  "service_group": "psychological_counselling"},
                                  actor=SYSTEM)  # fmt: skip
    g1 = world.grid_id("T-C1-G1")
    at = open_page("leader", "pages/workforce.py")
    at.button(key=f"wf_post_{volunteer.id}_{g1}").click().run()
    no_exception(at, "posting a volunteer")
    with Session(world.engine) as s:
        grids = s.exec(select(WorkerGrid.grid_id).where(WorkerGrid.worker_id == volunteer.id)).all()
    assert list(grids) == [g1]
    assert len(at.success) == 1
