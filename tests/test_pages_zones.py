"""The Zones page, run headless with AppTest on the tiny world.

The tiny world's zone orders (gridcore/demo/tiny.py): T-C1-G1 sealed since 03-16, last
community case 03-21 → on 03-21 quiet 0 days, may step down on 03-28, keep; T-C1-G2
controlled since 03-14, last community case 03-13 → quiet 7 days on 03-21, may step down
now: lift; building T-C2-G1-B1 controlled since 03-19, no community case in it → 2 quiet
days, 5 left (03-26). The page is read as of 2026-03-21 through ?as_of=.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from apptest_support import no_exception, open_page, page_text
from sqlmodel import Session, col, select

from gridcore.db import make_engine
from gridcore.i18n import catalogues, fmt_date, t
from gridcore.models import AuditEntry, ZoneOrder
from tests.tiny_world import TINY_ANCHOR

AS_OF = TINY_ANCHOR.isoformat()
LANGS = ("en", "zh")


@pytest.fixture
def engine(tiny_app: str) -> Iterator[object]:
    engine = make_engine(tiny_app)
    yield engine
    engine.dispose()


def _column(at: object, lang: str, key: str) -> list[str]:
    table = at.dataframe[0].value  # type: ignore[attr-defined]
    return list(table[t(key, lang)])


@pytest.mark.parametrize("lang", LANGS)
def test_the_board_as_of_the_tiny_anchor(shared_tiny_app: str, lang: str) -> None:
    at = open_page("leader", "pages/zones.py", lang, as_of=AS_OF)
    assert at.query_params["as_of"] == AS_OF
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("zpage.m_sealed", lang)] == "1"
    assert metrics[t("zpage.m_controlled", lang)] == "2"  # G2 and the building
    assert metrics[t("zpage.m_due", lang)] == "1"  # G2
    assert metrics[t("zpage.m_overdue", lang)] == "0"
    countdowns = _column(at, lang, "zpage.col_countdown")
    assert countdowns == [
        t("zpage.days_left", lang, n=7),
        t("zpage.due_today", lang),
        t("zpage.days_left", lang, n=5),
    ]
    assert _column(at, lang, "zpage.col_suggestion") == [
        t("zones.action.keep", lang, level=t("zone.sealed", lang)),
        t("zones.action.lift", lang),
        t("zones.action.keep", lang, level=t("zone.controlled", lang)),
    ]
    stepdown = _column(at, lang, "zpage.col_stepdown")
    assert stepdown[0] == fmt_date(TINY_ANCHOR.replace(day=28), lang)


def test_no_english_words_in_chinese(shared_tiny_app: str) -> None:
    at = open_page("leader", "pages/zones.py", "zh", as_of=AS_OF)
    text = page_text(at)
    english = catalogues()["en"]
    own = [
        v
        for k, v in english.items()
        if k.startswith(("zpage.", "zones.", "zone.")) and len(v) > 3 and "{" not in v
    ]
    assert [v for v in own if re.search(rf"\b{re.escape(v)}\b", text)] == []
    assert t("page.zones", "zh") in text


def test_a_viewer_reads_the_page_without_the_form(shared_tiny_app: str) -> None:
    at = open_page("viewer", "pages/zones.py", "en", as_of=AS_OF)
    assert len(at.get("form")) == 0
    assert any(t("zpage.read_only", "en") in c.value for c in at.caption)


def test_a_bad_as_of_is_said_and_today_shown(shared_tiny_app: str) -> None:
    at = open_page("leader", "pages/zones.py", "en", as_of="2026-13-40")
    said = t("zpage.bad_as_of", "en", value="2026\\-13\\-40")  # as typed, Markdown escaped
    assert said in [w.value for w in at.warning]


def test_a_leader_steps_the_controlled_grid_down_from_the_table(engine: object) -> None:
    at = open_page("leader", "pages/zones.py", "en")
    # Today (the real day) the tiny world's orders are still in force: G1, G2, the building.
    at.segmented_control(key="zn_action").set_value("step_down").run()
    no_exception(at, "step down chosen")
    form_box = [s for s in at.selectbox if s.key and s.key.startswith("zn_step_down_order_")][0]
    labels = form_box.options
    g2 = next(i for i, label in enumerate(labels) if "T-C1-G2" in label)
    form_box.select_index(g2)
    submit = next(b for b in at.get("form_submit_button") if "zn_step_down" in str(b.form_id))
    submit.click().run()
    no_exception(at, "after the step-down")
    with Session(engine) as s:  # type: ignore[arg-type]
        orders = s.exec(select(ZoneOrder).order_by(col(ZoneOrder.id))).all()
        audit = s.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    newest = orders[-1]
    assert (newest.level, newest.end_date) == ("precaution", None)
    assert audit is not None and audit.action == "step_down"
    assert any(t("zpage.fix_below", "en") in e.value for e in at.error) is False


def test_a_bad_extension_is_shown_next_to_the_field_and_writes_nothing(engine: object) -> None:
    at = open_page("leader", "pages/zones.py", "en")
    at.segmented_control(key="zn_action").set_value("extend").run()
    with Session(engine) as s:  # type: ignore[arg-type]
        before = len(s.exec(select(AuditEntry)).all())
    # No new last day for an order that already runs until lifted: refused.
    submit = next(b for b in at.get("form_submit_button") if "zn_extend" in str(b.form_id))
    submit.click().run()
    no_exception(at, "after a bad extension")
    errors = [e.value for e in at.error]
    assert t("zpage.fix_below", "en") in errors
    assert t("zones.error.already_open", "en") in errors
    with Session(engine) as s:  # type: ignore[arg-type]
        assert len(s.exec(select(AuditEntry)).all()) == before


def test_a_day_before_any_order_says_so(shared_tiny_app: str) -> None:
    at = open_page("leader", "pages/zones.py", "zh", as_of="2026-02-01")
    assert any(t("zpage.no_orders", "zh") in i.value for i in at.info)
    assert {m.label: m.value for m in at.metric}[t("zpage.m_sealed", "zh")] == "0"
