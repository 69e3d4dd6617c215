"""The overview: its alert for positive results without a case (and the one-step case
opening), its tiles against their targets, its 'needs attention' links, the briefing it
offers, the alert rules and the change since the last command meeting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apptest_support import no_exception, signed_in
from google.protobuf import text_format
from sqlmodel import Session, col, func, select
from streamlit.testing.v1 import AppTest

from gridcore.access import SYSTEM
from gridcore.config import get_settings, local_now, local_today
from gridcore.db import make_engine
from gridcore.demo import tiny as tiny_demo
from gridcore.i18n import catalogues, t
from gridcore.models import AlertAcknowledgement, Area, Case, FoundVia, TestRecord, TestResult
from gridcore.services.cases import create_case
from gridcore.services.meeting import mark_meeting_held
from gridcore.services.testing import record_positive
from gridcore.ui import data, views
from tests.tiny_world import TINY_ANCHOR

BRIEFING_LABELS = ("brief.download_pdf", "brief.download_html")


@pytest.fixture
def positive(tiny_app: str) -> Iterator[tuple[str, int]]:
    """The tiny world plus one new positive result in grid T-C1-G1, whose resident has no case."""
    url = tiny_app
    engine = make_engine(url)
    with Session(engine) as s:
        has_case = select(Case.resident_id).where(col(Case.resident_id).is_not(None))
        record = s.exec(
            select(TestRecord)
            .join(Area, col(Area.id) == TestRecord.grid_id)
            .where(TestRecord.result == TestResult.pending, Area.code == "T-C1-G1")
            .where(col(TestRecord.resident_id).not_in(has_case))
            .order_by(col(TestRecord.id))
        ).first()
        assert record is not None and record.id is not None, "the tiny world has pending records"
        record_positive(session=s, record_id=record.id, actor=SYSTEM)
        resident_id = record.resident_id
    engine.dispose()
    yield url, resident_id


def _cases_of(url: str, resident_id: int) -> list[Case]:
    engine = make_engine(url)
    with Session(engine) as s:
        cases = list(s.exec(select(Case).where(Case.resident_id == resident_id)).all())
    engine.dispose()
    return cases


def test_a_positive_without_a_case_is_alerted_and_opened_once(positive: tuple[str, int]) -> None:
    url, resident_id = positive
    at = signed_in("leader")
    assert [e.value for e in at.error] == [t("alert.positives", "en", n=1)]
    # The overview also offers the command meeting briefing: a PDF and a printable page.
    downloads = [
        text_format.MessageToString(d.proto, as_utf8=True) for d in at.get("download_button")
    ]
    assert [any(t(k, "en") in d for d in downloads) for k in BRIEFING_LABELS] == [True, True]
    form_buttons = [b for b in at.button if b.label == t("alert.open_case", "en")]
    assert len(form_buttons) == 1
    form_buttons[0].click().run()
    no_exception(at, "after opening a case")
    cases = _cases_of(url, resident_id)
    assert len(cases) == 1
    assert (cases[0].found_via, cases[0].kind) == (FoundVia.mass_testing, "asymptomatic")
    # Handled: the alert is gone after the rerun.
    assert not any(e.value == t("alert.positives", "en", n=1) for e in at.error)


def test_a_viewer_sees_the_alert_but_no_form_and_no_name(positive: tuple[str, int]) -> None:
    url, resident_id = positive
    at = signed_in("viewer", lang="zh")
    assert [e.value for e in at.error] == [t("alert.positives", "zh", n=1)]
    assert not [b for b in at.button if b.label == t("alert.open_case", "zh")]
    assert _cases_of(url, resident_id) == []
    engine = make_engine(url)
    with Session(engine) as s:
        total = s.exec(select(func.count()).select_from(Case)).one()
    engine.dispose()
    assert total == 12  # the tiny world's cases, nothing written


# --------------------------------------------------------------------------- decision aid


@pytest.fixture(scope="module")
def on_the_tiny_day(shared_tiny_app: str) -> Iterator[str]:
    """The overview's clock at the tiny world's "now" (its answers: test_queries_overview)."""
    story_now = tiny_demo.now(anchor=TINY_ANCHOR).astimezone(get_settings().tz)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "now", lambda: story_now)
        patch.setattr(data, "today", lambda: TINY_ANCHOR)
        yield shared_tiny_app


def _tiles(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html") if 'class="gc-target"' in h.proto.body]


def _status(status: str, lang: str) -> str:
    mark = {"good": "✓", "watch": "●", "act": "▲"}[status]
    return f'<span class="gc-status gc-status-{status}">{mark} {t(f"status.{status}", lang)}</span>'


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_tile_says_how_far_it_is_from_its_target(on_the_tiny_day: str, lang: str) -> None:
    at = signed_in("leader", lang)
    zero = t("target.at_most", lang, value="0")
    none = t("target.none", lang)
    watch, act = _status("watch", lang), _status("act", lang)
    expected = [
        (watch, zero),  # 2 new cases: not 0, under 3
        (act, zero),  # 1 found outside quarantine: act at once
        (watch, zero),  # 7 active cases
        ("", none),  # people in quarantine: no target
        (watch, t("target.at_least", lang, value="90%")),  # 39 of 57, 68%: 50% or more
        ("", none),  # open requests: no target
        (act, zero),  # 5 overdue: 3 or more
        (watch, zero),  # 1 depot item below minimum
        (watch, t("target.staffing", lang, value="0", n="5")),  # the tiny policy: 5 households
    ]
    assert _tiles(at) == [
        f'<div class="gc-target">{badge}{" " if badge else ""}{target}</div>'
        for badge, target in expected
    ]
    texts = catalogues()[lang]
    assert [m.label for m in at.metric][:2] == [
        texts["headline.new_cases"],
        texts["headline.outside_quarantine"],
    ]


def _links(at: AppTest) -> list[tuple[str, str, str]]:
    return [(p.proto.page, p.proto.label, p.proto.query_string) for p in at.get("page_link")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_attention_items_link_to_the_grid_and_the_pages_that_act(
    on_the_tiny_day: str, lang: str
) -> None:
    at = signed_in("leader", lang)
    texts = catalogues()[lang]

    def grid(name: str, code: str) -> tuple[str, str, str]:
        return ("grid", t("attention.open_grid", lang, grid=name), f"grid={code}")

    def page(url: str, key: str) -> tuple[str, str, str]:
        return (url, texts[key], "")

    names = {"en": ("Grid 1\\-1", "Grid 1\\-2", "Grid 2\\-1")}.get(
        lang, ("第一社区1号网格", "第一社区2号网格", "第二社区1号网格")
    )
    assert _links(at) == [
        # High risk first: sealed, community cases, overdue requests, contacts ending
        # today, a grid depot below minimum.
        grid(names[0], "T-C1-G1"),
        page("zones", "page.zones"),
        page("cases", "page.cases"),
        page("requests", "page.requests"),
        page("supplies", "page.supplies"),
        # Medium: controlled (and may step down), no full-time worker.
        grid(names[1], "T-C1-G2"),
        page("zones", "page.zones"),
        page("cases", "page.cases"),
        page("requests", "page.requests"),
        page("workforce", "page.workforce"),
        # Low: active cases, overdue requests, households per worker.
        grid(names[2], "T-C2-G1"),
        page("cases", "page.cases"),
        page("requests", "page.requests"),
        page("workforce", "page.workforce"),
    ]
    more_grids = {t("attention.more_grids", lang, n=str(n)) for n in range(1, 100)}
    assert [e.label for e in at.expander if e.label in more_grids] == []  # three: all shown
    # No reason is cut short behind a '(+n more)' that cannot be opened.
    lists = [
        h.proto.body for h in at.get("html") if h.proto.body.startswith('<ul class="gc-attention"')
    ]
    assert len(lists) == 3 and t("reason.no_fulltime_worker", lang) in lists[1]


def test_grids_beyond_the_first_few_can_be_opened(
    on_the_tiny_day: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "ATTENTION_SHOWN", 2)
    at = signed_in("leader", "zh")
    more = [e for e in at.expander if e.label == t("attention.more_grids", "zh", n="1")]
    assert len(more) == 1
    inside = [(p.proto.page, p.proto.query_string) for p in more[0].get("page_link")]
    assert inside[0] == ("grid", "grid=T-C2-G1")


def _html(at: AppTest) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def test_the_change_since_the_meeting_and_an_alert_in_both_languages(tiny_app: str) -> None:
    """A meeting marked, then a case found outside quarantine in T-C1-G1: the overview shows
    +1 new case since the meeting and the alert; a leader acknowledges it once."""
    engine = make_engine(tiny_app)
    with Session(engine) as s:
        mark_meeting_held(session=s, actor=SYSTEM, today=local_today(), now=local_now())
        grid = s.exec(select(Area).where(Area.code == "T-C1-G1")).one()
        create_case(
            session=s,
            data={"grid_id": grid.id, "address": "1 Lane", "kind": "confirmed",
                  "reported_date": local_today(), "found_via": FoundVia.community},
            actor=SYSTEM,
        )  # fmt: skip
    at = signed_in("leader")
    since = t("meeting.since", "en", delta="+1")
    captions = [c.value for c in at.caption]
    assert since in captions, captions
    alert_text = t("alerts.rule.community_positive.today", "en", n="1")
    assert alert_text in _html(at)
    at.button(key="ack_community_positive:T-C1-G1").click().run()
    no_exception(at, "after acknowledging")
    with Session(engine) as s:
        acks = s.exec(select(AlertAcknowledgement)).all()
    assert [(a.alert_key, a.acknowledged_by) for a in acks] == [
        ("community_positive:T-C1-G1", "leader")
    ]
    assert not [b for b in at.button if b.key == "ack_community_positive:T-C1-G1"]
    at.query_params["lang"] = "zh"
    at.run()
    no_exception(at, "in Chinese")
    assert t("meeting.since", "zh", delta="+1") in [c.value for c in at.caption]
    html = _html(at)
    assert t("alerts.rule.community_positive.today", "zh", n="1") in html
    assert t("alerts.acknowledged_by", "zh", user="leader", time="§").split("§")[0] in html
    engine.dispose()
