"""The overview's alerts (positives without a case, the alert rules) and the change since the
last command meeting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apptest_support import no_exception, signed_in
from sqlmodel import Session, col, func, select
from streamlit.testing.v1 import AppTest

from gridcore.access import SYSTEM
from gridcore.config import local_now, local_today
from gridcore.db import make_engine
from gridcore.i18n import t
from gridcore.models import AlertAcknowledgement, Area, Case, FoundVia, TestRecord, TestResult
from gridcore.services.cases import create_case
from gridcore.services.meeting import mark_meeting_held
from gridcore.services.testing import record_positive


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
