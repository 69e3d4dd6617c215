"""The overview's alert for positive results without a case, its one-step case opening, and the
briefing it offers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apptest_support import no_exception, signed_in
from google.protobuf import text_format
from sqlmodel import Session, col, func, select

from gridcore.access import SYSTEM
from gridcore.db import make_engine
from gridcore.i18n import t
from gridcore.models import Area, Case, FoundVia, TestRecord, TestResult
from gridcore.services.testing import record_positive

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
