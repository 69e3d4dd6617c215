"""The Cases & contacts page run headless with AppTest on the tiny world (gridcore/demo/tiny.py).

The tiny world's story ends on 2026-03-21 (its last case), so the page opens on the four
weeks to that day. Forms write to a fresh copy of the world per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from apptest_support import no_exception, open_page, page_text
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from gridcore.db import make_engine
from gridcore.i18n import catalog_cases, t
from gridcore.models import Area, Case, Contact, ContactTest, Resident
from gridcore.ui import cases as cases_ui

LANGS = ("en", "zh")


@dataclass(frozen=True)
class World:
    engine: Engine

    def count(self, model: type, *where: object) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(func.count()).select_from(model).where(*where)).one())


@pytest.fixture
def world(tiny_app: str) -> Iterator[World]:
    engine = make_engine(tiny_app)
    yield World(engine)
    engine.dispose()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("lang", LANGS)
def test_the_page_shows_the_tiny_outbreak(world: World, lang: str) -> None:
    at = open_page("leader", "pages/cases.py", lang)
    metrics = _metrics(at)
    # 2026-02-22..03-21: C01..C08, C10, C11 counted; outside quarantine C01, C02, C03, C04, C10.
    assert metrics[t("cpage.m_new", lang)] == "10"
    assert metrics[t("cpage.m_outside", lang)] == "5"
    # Last 7 days: 5 of 7 found in quarantine; doubling 7 ln2 / ln(7/2) = 3.9 days.
    assert metrics[t("cpage.m_share", lang)] == "71.4%"
    assert metrics[t("cpage.m_doubling", lang)] == t("cpage.days", lang, n="3.9")
    assert metrics[t("cpage.m_active", lang)] == "7"
    assert metrics[t("cpage.m_quarantine", lang)] == "8"
    assert metrics[t("cpage.m_per_case", lang)] == "1.4"  # 14 contacts of 10 cases
    assert at.query_params["from"] == ["2026-02-22"] or at.query_params["from"] == "2026-02-22"
    assert len(at.get("plotly_chart")) == 2  # the curve and the chains
    assert len(at.get("deck_gl_json_chart")) == 1
    if lang == "zh":
        text = page_text(at)
        english = [
            v for v in catalog_cases.EN.values()
            if len(v.split()) >= 2 and "{" not in v and v in text
        ]  # fmt: skip
        assert english == []
        assert "Cases & contacts" not in text


def test_the_area_in_the_url_narrows_every_figure(world: World) -> None:
    at = open_page("viewer", "pages/cases.py", area="T-C2")
    metrics = _metrics(at)
    # T-C2 from 02-22: C01 (community), C07, C11 (quarantine); C07 and C11 still active.
    assert metrics[t("cpage.m_new", "en")] == "3"
    assert metrics[t("cpage.m_outside", "en")] == "1"
    assert metrics[t("cpage.m_active", "en")] == "2"
    assert at.selectbox(key="cs_area").value == "T-C2"
    # The map shows the grids of T-C2.
    deck = at.get("deck_gl_json_chart")[0].proto.json
    assert "T-C2-G1" in deck and "T-C1-G1" not in deck


def _submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    no_exception(at, f"submitting {label}")
    return at


def _resident(world: World, grid_code: str) -> Resident:
    """The first resident of a grid with no case."""
    with Session(world.engine) as s:
        grid_id = s.exec(select(Area.id).where(Area.code == grid_code)).one()
        with_case = select(Case.resident_id).where(Case.resident_id.is_not(None))  # type: ignore[union-attr]
        return s.exec(
            select(Resident)
            .where(Resident.grid_id == grid_id, Resident.id.not_in(with_case))  # type: ignore[union-attr]
            .order_by(Resident.id)
        ).first()  # type: ignore[return-value]


def test_a_case_is_entered_traced_tested_and_released(world: World) -> None:
    person = _resident(world, "T-C2-G2")
    cases_before = world.count(Case)
    at = open_page("leader", "pages/cases.py")
    # A bad submit: a person not registered, with neither grid nor address.
    at = _submit(at, t("cpage.f_save_case", "en"))
    assert world.count(Case) == cases_before
    assert any(t("services.error.grid_not_found", "en") in e.value for e in at.error)

    at.text_input(key="cs_nc_find").input(person.name).run()
    at.selectbox(key="cs_nc_person").select(person.id).run()
    at.selectbox(key="cs_nc_kind").select("asymptomatic")
    at.selectbox(key="cs_nc_found").select("screening")
    at = _submit(at, t("cpage.f_save_case", "en"))
    assert world.count(Case) == cases_before + 1
    with Session(world.engine) as s:
        case = s.exec(select(Case).order_by(Case.id.desc())).first()  # type: ignore[union-attr]
    assert case is not None
    assert (case.resident_id, case.kind, case.found_via) == (person.id, "asymptomatic", "screening")
    assert any(t("cpage.case_saved", "en", case=case.id) in s.value for s in at.success)

    # Its contact: someone not registered, in T-C2-G2, held by the policy's 10 days.
    assert at.selectbox(key="cs_ct_case").value == case.id
    at.text_input(key="cs_ct_name").input("钱测试")
    at.text_input(key="cs_ct_phone").input("13800001234")
    at.selectbox(key="cs_ct_grid").select(person.grid_id)
    at = _submit(at, t("cpage.f_save_contact", "en"))
    with Session(world.engine) as s:
        contact = s.exec(select(Contact).where(Contact.person_name == "钱测试")).one()
    assert contact.case_id == case.id and contact.contact_type == "close"
    assert (contact.planned_end_date - contact.start_date).days == 10

    # Today is its day 1, a test day: record it, then end the quarantine.
    at.selectbox(key="cs_fu_contact").select(contact.id).run()
    at.radio(key=f"cs_test_{contact.id}_result").set_value("negative")
    at = _submit(at, t("cpage.f_save_test", "en"))
    assert world.count(ContactTest, ContactTest.contact_id == contact.id) == 1
    at.selectbox(key="cs_fu_contact").select(contact.id).run()
    at = _submit(at, t("cpage.f_save_end", "en"))
    with Session(world.engine) as s:
        assert s.get(Contact, contact.id).status == "released"  # type: ignore[union-attr]


def test_a_positive_opens_the_form_with_the_person_filled_in(world: World) -> None:
    person = _resident(world, "T-C1-G2")
    at = open_page(
        "leader", "pages/cases.py", resident=str(person.id), found="mass_testing", tab="new"
    )
    assert at.selectbox(key="cs_nc_person").value == person.id
    assert at.selectbox(key="cs_nc_found").value == "mass_testing"


def test_a_grid_worker_works_only_in_their_grid_and_a_viewer_only_reads(world: World) -> None:
    other = _resident(world, "T-C2-G2")
    at = open_page("worker", "pages/cases.py", "zh")
    grids = at.selectbox(key="cs_ct_grid").options
    at.text_input(key="cs_nc_find").input(other.name).run()
    assert [o for o in at.selectbox(key="cs_nc_person").options if other.name in o] == []
    assert all("T-C1-G1" in g for g in grids)
    assert t("cpage.tab_new_case", "zh") in [tab.label for tab in at.tabs]
    viewer = open_page("viewer", "pages/cases.py", "zh")
    assert t("cpage.tab_new_case", "zh") not in [tab.label for tab in viewer.tabs]
    assert not [w for w in viewer.text_input if w.key == "cs_nc_find"]


def test_a_positive_contact_test_offers_the_case_form_for_that_resident(world: World) -> None:
    with Session(world.engine) as s:
        # K03: a close contact in home quarantine, resident G1 #15 (the tiny world).
        contact = s.exec(
            select(Contact)
            .where(Contact.status == "in_quarantine", Contact.resident_id.is_not(None))  # type: ignore[union-attr]
            .order_by(Contact.id)
        ).first()
    assert contact is not None
    at = open_page("leader", "pages/cases.py")
    at.selectbox(key="cs_fu_contact").select(contact.id).run()
    at.radio(key=f"cs_test_{contact.id}_result").set_value("positive")
    at = _submit(at, t("cpage.f_save_test", "en"))
    assert world.count(ContactTest, ContactTest.contact_id == contact.id) == 1
    # The link to the new-case form carries the resident, found in quarantine.
    queries = [link.proto.query_string for link in at.get("page_link")]
    assert any(
        f"resident={contact.resident_id}" in q and "found=quarantine" in q for q in queries
    ), queries


def test_the_follow_up_list_is_cut_to_the_most_urgent_and_keeps_the_one_shown(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past FOLLOW_UP_CHOICES the list says so; a contact past the cut that the form shows
    (just added, or chosen before) stays offered at the next run."""
    monkeypatch.setattr(cases_ui, "FOLLOW_UP_CHOICES", 1)
    at = open_page("leader", "pages/cases.py")
    listed = at.selectbox(key="cs_fu_contact")
    assert len(listed.options) == 1
    said = t("cpage.follow_up_cut", "en", shown="1", n="§").split("§")[0]
    assert any(c.value.startswith(said) for c in at.caption), [c.value for c in at.caption]
    with Session(world.engine) as s:
        held = s.exec(select(Contact.id).where(Contact.status == "in_quarantine")).all()
    first = int(listed.value)
    other = next(c for c in held if c != first)
    at.session_state["cs_fu_next"] = other
    at.run()
    assert at.selectbox(key="cs_fu_contact").value == other
    at.run()  # the next run: no longer just added, still the form's
    listed = at.selectbox(key="cs_fu_contact")
    assert listed.value == other and len(listed.options) == 2
    no_exception(at, "cases, follow-up past the cut")
