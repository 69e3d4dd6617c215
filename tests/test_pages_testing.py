"""The Testing page, the roll call and the sampling desk, run headless with AppTest.

Each test gets its own copy of the tiny world (tests write), with the app pointed at it
through DATABASE_URL. Figures are the tiny world's answer sheet (gridcore/demo/tiny.py):
Round 2 covers T-C1-G1, T-C1-G2 and T-C2-G1; 57 expected, 39 sampled, 18 missing; the
demo account "worker" serves T-C1-G1, where 9 of 18 expected are not yet sampled. That
every page runs for every role in both languages is test_pages_apptest's matrix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time

import pytest
from apptest_support import no_exception, open_page, page_text
from google.protobuf import text_format
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from gridcore.access import SYSTEM
from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.i18n import t
from gridcore.models import (
    Area,
    Resident,
    SamplingMethod,
    Task,
    TaskKind,
    TestRecord,
    TestResult,
    TestRound,
    TestRoundArea,
    TestSite,
)
from gridcore.services.base import ValidationFailed
from gridcore.services.testing import record_sample

LANGS = ("en", "zh")
WORKER_GRID = "T-C1-G1"
ROUND_2 = "Round 2"


@dataclass(frozen=True)
class World:
    """A fresh copy of the tiny world that the app reads and writes."""

    engine: Engine
    url: str

    def count(self, model: type, *where: object) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(func.count()).select_from(model).where(*where)).one())

    def round_id(self, name: str = ROUND_2) -> int:
        with Session(self.engine) as s:
            found = s.exec(select(TestRound.id).where(TestRound.name == name)).one()
            return int(found or 0)

    def grid_id(self, code: str) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(Area.id).where(Area.code == code)).one() or 0)

    def missing(self, code: str = WORKER_GRID, name: str = ROUND_2) -> list[Resident]:
        """Residents at home in the grid with no record in the round, by id."""
        round_id, grid_id = self.round_id(name), self.grid_id(code)
        with Session(self.engine) as s:
            sampled = select(TestRecord.resident_id).where(TestRecord.round_id == round_id)
            return list(
                s.exec(
                    select(Resident)
                    .where(
                        Resident.grid_id == grid_id,
                        Resident.health_status == "at_home",
                        col(Resident.id).not_in(sampled),
                    )
                    .order_by(col(Resident.id))
                ).all()
            )


@pytest.fixture
def world(tiny_app: str) -> Iterator[World]:
    """A copy of the tiny world for each test (these tests write), the app pointed at it."""
    engine = make_engine(tiny_app)
    yield World(engine, tiny_app)
    engine.dispose()


# --------------------------------------------------------------------------- helpers


def _en(key: str, **params: object) -> str:
    return t(key, "en", **params)


def _buttons(at: AppTest, prefix: str) -> dict[str, object]:
    return {b.key: b for b in at.button if b.key and b.key.startswith(prefix)}


def _hhmm(world: World, resident_id: int) -> str:
    """Local HH:MM of the resident's sample in Round 2."""
    with Session(world.engine) as s:
        record = s.exec(
            select(TestRecord).where(
                TestRecord.resident_id == resident_id, TestRecord.round_id == world.round_id()
            )
        ).one()
    return f"{record.sampled_at.astimezone(get_settings().tz):%H:%M}"


# --------------------------------------------------------------------------- testing page


@pytest.mark.parametrize("lang", LANGS)
def test_testing_page_headline_is_round_2(world: World, lang: str) -> None:
    at = open_page("leader", "pages/testing.py", lang)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("tpage.coverage", lang)] == "68.4%"  # 39 / 57
    assert metrics[t("tpage.missing", lang)] == "18"
    # The tiny round's deadline is long past, so every grid with someone missing is behind.
    assert metrics[t("tpage.behind_grids", lang)] == "3"
    assert metrics[t("tpage.positives", lang)] == "1"
    assert at.selectbox(key="tp_round").value == world.round_id()
    past = [
        e.value for e in at.error if t("tpage.past_deadline", lang).split("（")[0][:6] in e.value
    ]
    assert past, [e.value for e in at.error]
    assert "18" in past[0]


def test_testing_page_ranks_grids_and_colours_the_map_by_coverage(world: World) -> None:
    at = open_page("leader", "pages/testing.py")
    table = at.dataframe[0].value
    grids = list(table[_en("tpage.col_grid")])
    # All three behind; lowest coverage first: G1 0.50, G3 0.75, G2 0.80.
    assert [g.split(" · ")[-1] for g in grids] == ["T-C1-G1", "T-C2-G1", "T-C1-G2"]
    assert list(table[_en("tpage.col_missing")]) == [9, 6, 3]
    assert list(table[_en("tpage.col_state")]) == [_en("tpage.behind")] * 3
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    grid_layer = next(layer for layer in deck["layers"] if layer["id"] == "grids")
    codes = {row["code"] for row in grid_layer["data"]}
    assert codes == {"T-C1-G1", "T-C1-G2", "T-C2-G1"}  # T-C2-G2 is not in Round 2
    assert len(at.get("plotly_chart")) == 4


def test_choosing_round_1_shows_its_figures(world: World) -> None:
    at = open_page("viewer", "pages/testing.py")
    at.selectbox(key="tp_round").select(world.round_id("Round 1")).run()
    no_exception(at, "Round 1")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[_en("tpage.coverage")] == "97.0%"  # 64 / 66
    assert at.query_params["round"] == str(world.round_id("Round 1"))


def test_viewer_gets_no_forms_and_no_names_on_the_testing_page(world: World) -> None:
    at = open_page("viewer", "pages/testing.py")
    assert len(at.get("form")) == 0
    assert [
        b.label for b in at.button if b.label in (_en("tpage.f_open"), _en("tpage.f_mark"))
    ] == []
    text = page_text(at)
    with Session(world.engine) as s:
        names = [n for n in s.exec(select(Resident.name)).all() if len(n) >= 2]
    assert [n for n in names if n in text] == []


def test_worker_may_enter_results_but_not_open_rounds(world: World) -> None:
    at = open_page("worker", "pages/testing.py")
    labels = [b.label for b in at.button]
    assert _en("tpage.f_mark") in labels
    assert _en("tpage.f_open") not in labels


# --------------------------------------------------------------------------- open / close a round


def _fill_open_form(at: AppTest, *, name: str, scope: list[int]) -> AppTest:
    next(w for w in at.text_input if w.label == _en("tpage.f_name")).input(name)
    next(w for w in at.multiselect if w.label == _en("tpage.f_scope")).set_value(scope)
    return at


def _submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    no_exception(at, f"submitting {label}")
    return at


def test_a_good_round_is_written_exactly_once(world: World) -> None:
    at = open_page("leader", "pages/testing.py")
    before = world.count(TestRound)
    grid = world.grid_id("T-C2-G1")
    token = at.session_state["_token_tp_open"]
    _fill_open_form(at, name="Round 3", scope=[grid])
    at = _submit(at, _en("tpage.f_open"))
    assert world.count(TestRound) == before + 1
    new_id = world.round_id("Round 3")
    assert world.count(TestRoundArea, TestRoundArea.round_id == new_id) == 1
    assert any(_en("tpage.opened", name="Round 3", grids=1) in s.value for s in at.success)
    assert at.selectbox(key="tp_round").value == new_id
    assert at.session_state["_token_tp_open"] != token, "a fresh token for the next round"
    # The second click of a double click carries the first click's token: nothing is written.
    at.session_state["_token_tp_open"] = token
    _fill_open_form(at, name="Round 3", scope=[grid])
    at = _submit(at, _en("tpage.f_open"))
    assert world.count(TestRound) == before + 1


def test_a_round_opened_in_the_chinese_view_is_named_in_both_languages(world: World) -> None:
    """The name typed in Chinese is the Chinese name; the optional other one the English."""
    at = open_page("leader", "pages/testing.py", "zh")
    label = {w.label: w for w in at.text_input}
    label[t("tpage.f_name", "zh")].input("第3轮全员核酸")
    label[t("tpage.f_name_other", "zh")].input("Round 3")
    scope = next(w for w in at.multiselect if w.label == t("tpage.f_scope", "zh"))
    scope.set_value([world.grid_id("T-C2-G1")])
    at = _submit(at, t("tpage.f_open", "zh"))
    with Session(world.engine) as s:
        made = s.exec(select(TestRound).where(TestRound.name == "Round 3")).one()
    assert made.name_zh == "第3轮全员核酸"
    assert any("第3轮全员核酸" in m.value for m in at.success)


@pytest.mark.parametrize("lang", LANGS)
def test_a_bad_round_writes_nothing_and_says_why_next_to_the_fields(
    world: World, lang: str
) -> None:
    at = open_page("leader", "pages/testing.py", lang)
    before = world.count(TestRound)
    at = _submit(at, t("tpage.f_open", lang))  # nothing filled in
    assert world.count(TestRound) == before
    errors = [e.value for e in at.error]
    assert t("tpage.fix_below", lang) in errors
    assert t("services.error.required", lang) in errors  # the name
    next(w for w in at.text_input if w.label == t("tpage.f_name", lang)).input("Round 3")
    deadline = next(w for w in at.date_input if w.label == t("tpage.f_deadline_day", lang))
    start = next(w for w in at.date_input if w.label == t("tpage.f_start_day", lang))
    deadline.set_value(start.value)  # the deadline at midnight, before the start that day
    next(w for w in at.time_input if w.label == t("tpage.f_deadline_time", lang)).set_value(
        time(0, 0)
    )
    at = _submit(at, t("tpage.f_open", lang))  # still no areas
    assert world.count(TestRound) == before
    errors = [e.value for e in at.error]
    assert t("tpage.fix_below", lang) in errors
    assert t("testing.error.no_grids", lang) in errors  # the areas
    assert t("services.error.end_before_start", lang) in errors  # the deadline
    assert t("services.error.required", lang) not in errors


def test_closing_a_round_needs_the_tick_and_then_closes_it(world: World) -> None:
    at = open_page("leader", "pages/testing.py")
    round_id = world.round_id()
    at = _submit(at, _en("tpage.f_close"))
    assert _en("tpage.close_confirm_missing") in [e.value for e in at.error]
    assert world.count(TestRound, col(TestRound.closed_at).is_not(None)) == 1  # only Round 1
    next(c for c in at.checkbox if c.label.startswith("Yes")).check()
    at = _submit(at, _en("tpage.f_close"))
    with Session(world.engine) as s:
        closed = s.get(TestRound, round_id)
        assert closed is not None and closed.closed_at is not None


# --------------------------------------------------------------------------- results


def test_a_pooled_tube_is_marked_negative_in_one_action(world: World) -> None:
    round_id = world.round_id()
    tube = "TUBE-0001"
    missing = world.missing()[:3]
    at = open_page("worker", "pages/sampling_desk.py")
    at.text_input(key="desk_tube_w").input(tube).run()
    for person in missing:
        at.text_input(key="desk_query").input(person.name).run()
        at.button(key=f"desk_r_{person.id}").click().run()
        no_exception(at, "desk tap")
    assert world.count(TestRecord, TestRecord.tube_code == tube) == 3
    at = open_page("worker", "pages/testing.py")
    next(w for w in at.text_input if w.label == _en("tpage.f_tube")).input(tube)
    at = _submit(at, _en("tpage.f_mark"))
    assert any(_en("tpage.marked", n=3, result="Negative") in s.value for s in at.success)
    assert (
        world.count(
            TestRecord,
            TestRecord.round_id == round_id,
            TestRecord.tube_code == tube,
            TestRecord.result == TestResult.negative,
        )
        == 3
    )
    next(w for w in at.text_input if w.label == _en("tpage.f_tube")).input("NO-SUCH-TUBE")
    at = _submit(at, _en("tpage.f_mark"))
    assert t("testing.error.tube_not_found", "en") in [e.value for e in at.error]


def test_a_positive_is_recorded_individually_and_raises_the_alert(world: World) -> None:
    with Session(world.engine) as s:
        record = s.exec(
            select(TestRecord).where(
                TestRecord.round_id == world.round_id(), TestRecord.result == TestResult.pending
            )
        ).first()
        assert record is not None
        resident = s.get(Resident, record.resident_id)
        assert resident is not None
    at = open_page("leader", "pages/testing.py")
    assert not [e for e in at.error if _en("tpage.unhandled_title", n=1) in e.value]
    at.text_input(key="tp_pos_find").input(resident.name).run()
    at.button(key=f"tp_pos_{record.id}").click().run()
    no_exception(at, "recording a positive")
    assert world.count(TestRecord, TestRecord.id == record.id, TestRecord.result == "positive") == 1
    assert any(resident.name in s.value for s in at.success)
    at = open_page("viewer", "pages/testing.py")
    alert = [e.value for e in at.error if _en("tpage.unhandled_title", n=1) in e.value]
    assert alert
    assert resident.name not in page_text(at)  # no personal data in the alert
    links = [el for el in at.get("page_link")]
    assert links, "a link to the resident's grid"


# --------------------------------------------------------------------------- roll call


@pytest.mark.parametrize("lang", LANGS)
def test_worker_clears_a_resident_from_the_roll_call_in_one_tap(world: World, lang: str) -> None:
    missing = world.missing()
    assert len(missing) == 9
    at = open_page("worker", "pages/roll_call.py", lang)
    assert at.query_params["grid"] == WORKER_GRID
    building = at.selectbox(key="rc_building")
    building.select("__all__").run()
    buttons = _buttons(at, "rc_s_")
    assert set(buttons) == {f"rc_s_{p.id}" for p in missing}
    text = page_text(at)
    assert all(p.name in text for p in missing), "a grid worker sees full names in their grid"
    first = missing[0]
    at.button(key=f"rc_s_{first.id}").click().run()
    no_exception(at, "tapping sampled")
    assert f"rc_s_{first.id}" not in _buttons(at, "rc_s_")
    assert len(_buttons(at, "rc_s_")) == 8
    assert any(t("tpage.rc_recorded", lang, name=first.name) in s.value for s in at.success)
    with Session(world.engine) as s:
        record = s.exec(
            select(TestRecord).where(
                TestRecord.resident_id == first.id, TestRecord.round_id == world.round_id()
            )
        ).one()
    assert record.method == SamplingMethod.door_to_door and record.site_id is None


def test_viewer_sees_counts_but_no_one_and_cannot_tap(world: World) -> None:
    missing = world.missing()
    at = open_page("viewer", "pages/roll_call.py", grid=WORKER_GRID, round=str(world.round_id()))
    text = page_text(at)
    assert [p.name for p in missing if p.name in text] == []
    assert [p.phone for p in missing if p.phone and p.phone in text] == []
    assert [p.name[0] for p in missing if p.name[0] + "*" in text] == []
    assert _en("tpage.rc_missing", n=len(missing)) in text
    assert _en("security.viewer_no_personal") in [i.value for i in at.info]
    assert _buttons(at, "rc_s_") == {}
    assert "rc_tasks" not in {b.key for b in at.button}
    assert at.get("download_button") == []


def test_worker_sees_masked_names_outside_their_grid(world: World) -> None:
    at = open_page("worker", "pages/roll_call.py", grid="T-C2-G1", round=str(world.round_id()))
    text = page_text(at)
    outside = world.missing("T-C2-G1")
    assert len(outside) == 6
    assert [p.name for p in outside if p.name in text] == []
    assert _buttons(at, "rc_s_") == {}


def test_door_to_door_tasks_are_asked_for_then_created_once_per_household(world: World) -> None:
    before = world.count(Task, Task.kind == TaskKind.door_to_door_testing)
    at = open_page("worker", "pages/roll_call.py")
    at.button(key="rc_tasks").click().run()
    no_exception(at, "asking before creating tasks")
    assert world.count(Task, Task.kind == TaskKind.door_to_door_testing) == before
    (question,) = [w.value for w in at.warning]
    at.button(key="rc_tasks_yes").click().run()
    no_exception(at, "creating tasks")
    created = world.count(Task, Task.kind == TaskKind.door_to_door_testing) - before
    # One per household with someone missing and no open task: the question said how many.
    assert created > 0 and _en("rc.tasks_ask", n=created, workers=3) == question
    assert any(_en("tpage.rc_tasks_created", n=created) in s.value for s in at.success)
    unassigned = world.count(
        Task, Task.kind == TaskKind.door_to_door_testing, col(Task.assigned_worker_id).is_(None)
    )
    assert unassigned == 0, "every task goes to one of the grid's three workers"
    at.button(key="rc_tasks").click().run()
    assert world.count(Task, Task.kind == TaskKind.door_to_door_testing) - before == created
    assert _en("tpage.rc_tasks_none") in [i.value for i in at.info]


def test_roll_call_downloads_csv_and_excel(world: World) -> None:
    at = open_page("worker", "pages/roll_call.py")
    downloads = at.get("download_button")
    assert len(downloads) == 2
    labels = text_format.MessageToString(downloads[0].proto, as_utf8=True)
    assert _en("tpage.rc_export_csv") in labels


def test_printable_list_has_every_missing_resident(world: World) -> None:
    at = open_page("worker", "pages/roll_call.py")
    at.toggle(key="rc_print").set_value(True).run()
    no_exception(at, "print layout")
    text = page_text(at)
    assert "gc-print" in text
    assert all(p.name in text for p in world.missing())


# --------------------------------------------------------------------------- sampling desk


@pytest.mark.parametrize("lang", LANGS)
def test_desk_records_once_and_says_already_sampled(world: World, lang: str) -> None:
    round_id = world.round_id()
    person = world.missing()[0]
    with Session(world.engine) as s:
        site = s.exec(select(TestSite).where(TestSite.round_id == round_id)).first()
        assert site is not None
    at = open_page("worker", "pages/sampling_desk.py", lang)
    at.selectbox(key="desk_place_w").select(str(site.id)).run()
    at.text_input(key="desk_query").input(person.name).run()
    before = world.count(TestRecord, TestRecord.round_id == round_id)
    at.button(key=f"desk_r_{person.id}").click().run()
    no_exception(at, "desk tap")
    assert world.count(TestRecord, TestRecord.round_id == round_id) == before + 1
    assert any(person.name in s.value for s in at.success)
    assert t("tpage.desk_count", lang, n=1) in page_text(at)
    assert at.text_input(key="desk_query").value == ""  # ready for the next person
    assert at.selectbox(key="desk_place_w").value == str(site.id)  # the site is kept
    at.text_input(key="desk_query").input(person.name).run()
    button = at.button(key=f"desk_r_{person.id}")
    assert button.disabled
    assert t("tpage.desk_already_tag", lang, time=_hhmm(world, person.id or 0)) in button.label
    # A second tap from a screen that still shows the button (another desk) writes nothing.
    with Session(world.engine) as s, pytest.raises(ValidationFailed) as refused:
        record_sample(
            session=s, resident_id=person.id or 0, round_id=round_id, actor=SYSTEM,
            site_id=site.id,
        )  # fmt: skip
    assert refused.value.errors == {"resident_id": "testing.error.already_sampled"}
    assert world.count(TestRecord, TestRecord.round_id == round_id) == before + 1


# The tiny world's Round 2 sites and round in each language (gridcore/demo/tiny.py).
SITE_NAMES = {
    "en": ["Site A, Community 1 square", "Site B, Community 2 school"],
    "zh": ["第一社区广场 A采样点", "第二社区小学 B采样点"],
}
ROUND_NAMES = {"en": ("Round 2", "Round 1"), "zh": ("第2轮全员核酸", "第1轮全员核酸")}


@pytest.mark.parametrize("lang", LANGS)
def test_sites_and_rounds_are_named_in_the_readers_language(world: World, lang: str) -> None:
    desk = open_page("leader", "pages/sampling_desk.py", lang)
    places = desk.selectbox(key="desk_place_w").options
    assert places == [*SITE_NAMES[lang], t("tpage.desk_door", lang)]
    testing = open_page("leader", "pages/testing.py", lang)
    rounds = testing.selectbox(key="tp_round").options
    assert [r.split(" · ")[0] for r in rounds] == list(ROUND_NAMES[lang])
    other = "en" if lang == "zh" else "zh"
    assert not any(name in page_text(desk) for name in SITE_NAMES[other])
    assert not any(name in page_text(testing) for name in ROUND_NAMES[other])


def test_a_tap_on_a_busy_database_says_not_saved_and_keeps_the_person(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from gridcore.services import testing as ts

    tries: list[int] = []

    def locked(**_: object) -> None:
        tries.append(1)
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    round_id = world.round_id()
    person = world.missing()[0]
    at = open_page("worker", "pages/sampling_desk.py")
    at.text_input(key="desk_query").input(person.name).run()
    before = world.count(TestRecord, TestRecord.round_id == round_id)
    monkeypatch.setattr(ts, "record_sample", locked)
    at.button(key=f"desk_r_{person.id}").click().run()
    no_exception(at, "desk tap on a busy database")
    assert len(tries) == 3  # tried again twice, then told
    assert [e.value for e in at.error] == [f"{person.name}: {_en('services.error.busy')}"]
    assert world.count(TestRecord, TestRecord.round_id == round_id) == before
    assert at.text_input(key="desk_query").value == person.name  # still there to tap again
    assert not at.button(key=f"desk_r_{person.id}").disabled


def test_desk_finds_by_phone_suffix(world: World) -> None:
    person = next(p for p in world.missing() if p.phone)
    at = open_page("worker", "pages/sampling_desk.py")
    at.text_input(key="desk_query").input((person.phone or "")[-4:]).run()
    assert f"desk_r_{person.id}" in _buttons(at, "desk_r_")


def test_desk_for_a_viewer_records_nothing(world: World) -> None:
    at = open_page("viewer", "pages/sampling_desk.py")
    assert _en("tpage.not_allowed") in [i.value for i in at.info]
    assert "desk_query" not in {w.key for w in at.text_input}


# --------------------------------------------------------------------------- export


def test_roll_call_export_is_in_the_view_language_and_safe_in_a_spreadsheet() -> None:
    import pandas as pd

    from gridcore.io.tabular import frame_bytes
    from gridcore.ui.testing import roll_call_export

    roll = pd.DataFrame(
        {
            "resident_id": [1, 2],
            "building_id": [1, 1],
            "building": ["B1", "B1"],
            "household_id": [7, 7],
            "unit": ["1-101", "1-101"],
            "name": ['=HYPERLINK("http://x")', "王丽"],
            "phone": ["+8613800000000", None],
            "birth_year": [1940, None],
            "sex": ["female", None],
            "vulnerability": [["elderly_alone", "bedridden"], []],
            "household_missing": [2, 2],
            "door_to_door_task": [True, False],
        }
    )
    shown = roll_call_export(roll, "zh")
    assert list(shown.columns)[:3] == ["楼栋", "房号", "姓名"]
    assert list(shown["特殊需要"]) == ["独居老人、卧床", ""]
    assert list(shown["上门任务"]) == ["是", ""]
    csv = frame_bytes(frame=roll_call_export(roll, "en"), fmt="csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and "'+8613800000000" in csv
    assert "Elderly living alone, Bedridden" in csv
    assert frame_bytes(frame=shown, fmt="xlsx")[:2] == b"PK"  # an Excel workbook
