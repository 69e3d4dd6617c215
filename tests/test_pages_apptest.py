"""Every page, in both languages, for every role, run headless with Streamlit's AppTest.

The app reads its database from DATABASE_URL; here that is one copy of the tiny demo world
for the module (fixture shared_tiny_app). AppTest renders nothing and runs no JavaScript: the
browser tests cover that. This is the one page × role × language matrix; page modules test
what their pages do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from apptest_support import (
    APP_SECRET,
    ROOT,
    app,
    data_elements,
    no_exception,
    open_page,
    page_text,
    sign_in,
    signed_in,
)
from google.protobuf import text_format
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from gridcore.access import SYSTEM
from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.demo import DEMO_PASSWORD
from gridcore.i18n import catalogues, t
from gridcore.models import KIOSK_PANELS as KIOSK_PANEL_NAMES
from gridcore.models import Area, AreaLevel, Case, Contact, KioskLink, Resident, utcnow
from gridcore.services.access import create_kiosk_link, revoke_kiosk_link

ROLES = ("admin", "leader", "worker", "viewer")
LANGS = ("en", "zh")
# Pages shown in the signed-in navigation; kiosk pages are reached only through a kiosk link.
PAGE_FILES = sorted(
    f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("kiosk")
)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Pages offered to administrators only: test_pages_admin checks that the other roles are
# neither offered them nor shown them at their address.
ADMIN_PAGES = frozenset({"pages/admin.py"})


@dataclass(frozen=True)
class Facts:
    """The tiny world's database, and facts about it found in advance."""

    engine: Engine
    # The grid with the most named people in cases and contacts, and those people.
    grid_code: str
    names: tuple[str, ...]
    phones: tuple[str, ...]


def _people_of_busiest_grid(engine: Engine) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The grid whose cases and contacts name the most residents, with their names and phones."""
    with Session(engine) as s:
        rows = s.exec(
            select(Case.grid_id, Resident.name, Resident.phone).join(
                Resident, col(Resident.id) == Case.resident_id
            )
        ).all()
        rows += s.exec(
            select(Contact.grid_id, Contact.person_name, Contact.phone).where(
                col(Contact.grid_id).is_not(None)
            )
        ).all()
        assert rows, "the tiny world has no named cases or contacts"
        by_grid: dict[int, list[tuple[str, str | None]]] = {}
        for grid_id, name, phone in rows:
            by_grid.setdefault(grid_id, []).append((name, phone))
        grid_id = max(by_grid, key=lambda g: len(by_grid[g]))
        grid = s.get(Area, grid_id)
        assert grid is not None and grid.level == AreaLevel.grid
        names = tuple(sorted({n for n, _ in by_grid[grid_id] if len(n) >= 2}))
        phones = tuple(sorted({p for _, p in by_grid[grid_id] if p}))
        return grid.code, names, phones


@pytest.fixture(scope="module")
def facts(shared_tiny_app: str) -> Iterator[Facts]:
    engine = make_engine(shared_tiny_app)
    yield Facts(engine, *_people_of_busiest_grid(engine))
    engine.dispose()


def _titles(lang: str, *keys: str) -> list[str]:
    """Page titles in `lang` (every page's when no key is given)."""
    texts = catalogues()[lang]
    return sorted({texts[k] for k in keys or [k for k in texts if k.startswith("page.")]})


# --------------------------------------------------------------------------- every page


def test_pages_are_found() -> None:
    assert {"pages/overview.py", "pages/grid_map.py", "pages/grid_detail.py"} <= set(PAGE_FILES)
    assert {"pages/testing.py", "pages/roll_call.py", "pages/sampling_desk.py"} <= set(PAGE_FILES)


@pytest.fixture(scope="module")
def sessions(shared_tiny_app: str) -> dict[tuple[str, str], AppTest]:
    """One signed-in session per role and language, moved from page to page as a user does
    (signing in again for every page would run the sign-in form and the landing page each
    time); a session whose page failed is not used again."""
    return {}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("page", "role"),
    [(p, r) for p in PAGE_FILES for r in ROLES if p not in ADMIN_PAGES or r == "admin"],
)
def test_every_page_runs_for_every_role_in_both_languages(
    sessions: dict[tuple[str, str], AppTest], page: str, role: str, lang: str
) -> None:
    at = sessions.pop((role, lang), None)
    if at is None:
        at = signed_in(role, lang)
    try:
        at.switch_page(page)
    except ValueError:
        # Not in this role's navigation: only the administrator sees everything.
        assert role != "admin", f"{page} is not in the administrator's navigation"
        sessions[role, lang] = at
        pytest.skip(f"{page} is not offered to {role}")
    at.run()
    no_exception(at, f"{page} as {role} in {lang}")
    assert at.session_state["actor"].username == role, "the session is still signed in"
    assert at.session_state["lang"] == lang, "the session keeps its language"
    assert len(at.title) >= 1, f"{page} has no title"
    if lang == "zh":
        assert CHINESE.search(at.title[0].value), at.title[0].value
        text = page_text(at)
        assert CHINESE.search(text)
        english = [title for title in _titles("en") if re.search(rf"\b{re.escape(title)}\b", text)]
        assert english == [], f"English page titles on {page} in Chinese"
        testing = _titles("en", "page.testing", "page.roll_call", "page.sampling_desk")
        assert [title for title in testing if title in text] == []
        words = _words_on_screen(at)
        assert [label for label in _english_labels() if label in words] == [], page
        # A raw None anywhere, tables included (widget ids end in '-None': not shown).
        assert re.search(r"(?<![-\w])None\b", text) is None, f"a raw None on {page} in Chinese"
    sessions[role, lang] = at


def _words_on_screen(at: AppTest) -> str:
    """The page's own words: everything but the values in its tables (data, not labels)."""
    return "\n".join(
        text_format.MessageToString(node.proto, as_utf8=True)
        for node in at._tree
        if getattr(node, "type", "") not in ("dataframe", "table")
        and hasattr(getattr(node, "proto", None), "ListFields")
    )


def _english_labels() -> list[str]:
    """The app's own English labels of three words or more (placeholders cut off), which no
    Chinese page may show."""
    en, zh = catalogues()["en"], catalogues()["zh"]
    labels = set()
    for key, text in en.items():
        plain = re.split(r"[{}\n:.]", text)[0].strip()
        if len(plain.split()) >= 3 and zh.get(key) != text:
            labels.add(plain)
    return sorted(labels)


def test_the_default_page_is_the_overview(shared_tiny_app: str) -> None:
    at = signed_in("leader", "en")
    overview = catalogues()["en"]["page.overview"]
    assert any(overview in el.value for el in at.title), [el.value for el in at.title]


def test_language_from_the_sidebar(shared_tiny_app: str) -> None:
    at = signed_in("leader", "en")
    english = page_text(at)
    at.selectbox(key="lang").select("zh").run()
    no_exception(at, "after switching to Chinese")
    chinese = page_text(at)
    assert catalogues()["zh"]["page.overview"] in chinese
    assert catalogues()["en"]["page.overview"] in english
    assert catalogues()["en"]["page.overview"] not in chinese


# --------------------------------------------------------------------------- signing in


@pytest.mark.parametrize("lang", LANGS)
def test_a_wrong_password_shows_an_error_and_no_data(shared_tiny_app: str, lang: str) -> None:
    at = sign_in(app(lang), "leader", "not-the-password")
    no_exception(at, "a failed sign-in")
    assert len(at.error) == 1
    assert at.error[0].value.strip()
    assert at.session_state.get("actor") is None
    assert data_elements(at) == []
    at.text_input(key="signin_password")  # the form is still there (KeyError otherwise)


def test_an_unknown_user_gets_the_same_message(shared_tiny_app: str) -> None:
    wrong_password = sign_in(app("en"), "leader", "not-the-password")
    unknown_user = sign_in(app("en"), "nobody-here", DEMO_PASSWORD)
    assert [e.value for e in unknown_user.error] == [e.value for e in wrong_password.error]
    assert data_elements(unknown_user) == []


def test_signed_out_pages_show_no_data(shared_tiny_app: str) -> None:
    for page in PAGE_FILES:
        at = app("en").run()
        try:
            at.switch_page(page)
        except ValueError:
            continue
        at.run()
        no_exception(at, f"{page} signed out")
        assert data_elements(at) == [], page
        at.text_input(key="signin_username")  # the sign-in form instead (KeyError otherwise)


@pytest.mark.parametrize("role", ROLES)
def test_each_demo_account_signs_in(shared_tiny_app: str, role: str) -> None:
    at = signed_in(role, "en")
    assert at.session_state["actor"].role.value == {"worker": "grid_worker"}.get(role, role)


# --------------------------------------------------------------------------- personal data


def _grid_detail(facts: Facts, role: str) -> AppTest:
    at = signed_in(role, "en", grid=facts.grid_code)
    at.query_params["grid"] = facts.grid_code
    at.switch_page("pages/grid_detail.py").run()
    no_exception(at, f"grid detail of {facts.grid_code} as {role}")
    return at


def test_a_leader_sees_residents_names_on_the_grid_page(facts: Facts) -> None:
    """The counterpart of the viewer test: the names are on the page when allowed."""
    assert facts.names, "no named people in the busiest grid"
    text = page_text(_grid_detail(facts, "leader"))
    assert facts.grid_code in text
    shown = [n for n in facts.names if n in text]
    assert shown, f"none of {facts.names[:5]} shown to a leader on {facts.grid_code}"


def test_a_viewer_sees_masked_names_on_the_grid_page(facts: Facts) -> None:
    text = page_text(_grid_detail(facts, "viewer"))
    assert facts.grid_code in text
    assert [n for n in facts.names if n in text] == []
    assert [p for p in facts.phones if p in text] == []


# --------------------------------------------------------------------------- kiosk


def _kiosk_token(
    facts: Facts, hours: float = 12, panels: list[str] | None = None
) -> tuple[int, str]:
    with Session(facts.engine, expire_on_commit=False) as s:
        link, token = create_kiosk_link(
            s, hours=hours, secret=APP_SECRET, actor=SYSTEM, label="test", panels=panels
        )
        assert link.id is not None
        return link.id, token


def _all_resident_names(facts: Facts) -> list[str]:
    with Session(facts.engine) as s:
        names = set(s.exec(select(Resident.name)).all())
        names |= set(s.exec(select(Contact.person_name)).all())
    return sorted(n for n in names if len(n) >= 2)


# Each kiosk panel and what it must show (a link showing that panel alone shows it at once).
KIOSK_PANELS = {
    "headline": "metric",
    "alerts": "html",
    "map": "bidi_component",  # the light map (and the window-size probe)
    "testing": "table",
    "trend": "plotly_chart",
    "cases": "table",
    "supplies": "table",
    "workforce": "table",
}


def test_the_kiosk_tests_cover_every_panel() -> None:
    assert tuple(KIOSK_PANELS) == KIOSK_PANEL_NAMES


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("panel", list(KIOSK_PANELS))
def test_kiosk_panels_show_figures_without_sidebar_or_personal_data(
    facts: Facts, panel: str, lang: str
) -> None:
    _, token = _kiosk_token(facts, panels=[panel])
    at = app(lang, kiosk="1", token=token).run()
    no_exception(at, f"kiosk {panel} panel in {lang}")
    assert len(at.sidebar.children) == 0, "the kiosk has no sidebar"
    errors = [e.value for e in at.error]
    if panel == "testing":
        # The tiny world's round is past its deadline with people missing: the one red alarm.
        alarm = t("tpage.past_deadline", lang, deadline="§", missing="§").split("§")[0]
        assert len(errors) == 1 and errors[0].startswith(alarm), errors
        assert len(at.metric) == 4, "coverage, not yet sampled, pace, deadline"
    else:
        assert errors == []
    assert len(at.get(KIOSK_PANELS[panel])) > 0, f"the {panel} panel shows no {KIOSK_PANELS[panel]}"
    if panel == "map":
        # Always the light map on a kiosk, whatever GRIDCORE_MAP_RENDERER says, keeping the
        # height the panel was laid out with (a page's light map fits its box to the street).
        assert not at.get("deck_gl_json_chart")
        light = [c for c in at.get("bidi_component") if "gc-light-map" in c.proto.json]
        assert len(light) == 1 and json.loads(light[0].proto.json)["fit"] is False
    if panel == "headline":
        assert len(at.metric) >= 3, "the kiosk shows headline figures"
    if panel == "alerts":
        assert t("alerts.title", lang) in [h.value for h in at.header]
    if panel in KIOSK_FIGURES:
        labels = [m.label for m in at.metric]
        assert labels == [t(key, lang, days=2) for key in KIOSK_FIGURES[panel]]
        assert all(re.fullmatch(r"[\d,]+", m.value) for m in at.metric), at.metric
    footer = t("kiosk.footer", lang, as_of="§", panel="§", time="§", seconds="§").split("§")[0]
    assert any(c.value.startswith(footer) for c in at.caption), "no 'as of' footer"
    text = page_text(at)
    assert [n for n in _all_resident_names(facts) if n in text] == []
    assert [p for p in facts.phones if p in text] == []
    assert "signin_username" not in text
    if lang == "zh" and panel in KIOSK_FIGURES:
        shown = [m.label for m in at.metric] + [e.value for e in (*at.subheader, *at.caption)]
        shown += [e.value for e in (*at.success, *at.info)]
        shown += [at.table[i].value.to_string() for i in range(len(at.table))]
        assert re.findall(r"[A-Za-z]+", "\n".join(shown)) == [], "English in the Chinese view"


# The new panels' figures, by label key, in order.
KIOSK_FIGURES = {
    "cases": (
        "headline.new_cases", "kiosk.in_quarantine", "kiosk.grids_sealed",
        "kiosk.grids_controlled", "kiosk.grids_precaution",
    ),
    "supplies": ("kiosk.below_minimum", "kiosk.thin_cover", "kiosk.urgent_overdue"),
    "workforce": (
        "headline.understaffed_grids", "kiosk.overloaded", "kiosk.overdue_tasks",
        "kiosk.unassigned_tasks",
    ),
}  # fmt: skip


def _assert_refused(at: AppTest, what: str) -> None:
    no_exception(at, what)
    assert len(at.error) == 1, f"{what}: expected one clear message"
    assert at.error[0].value.strip()
    assert data_elements(at) == [], f"{what}: data shown"


def test_kiosk_without_token_is_refused(shared_tiny_app: str) -> None:
    _assert_refused(app("en", kiosk="1").run(), "kiosk without token")


def test_kiosk_with_a_forged_token_is_refused(facts: Facts) -> None:
    link_id, token = _kiosk_token(facts)
    forged = token.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAA"
    _assert_refused(app("en", kiosk="1", token=forged).run(), "forged kiosk token")
    _assert_refused(app("en", kiosk="1", token="garbage").run(), "garbage kiosk token")


def test_kiosk_with_an_expired_token_is_refused(facts: Facts) -> None:
    link_id, token = _kiosk_token(facts, hours=0.1)  # the shortest link there is
    with Session(facts.engine) as s:
        link = s.get(KioskLink, link_id)
        assert link is not None
        link.expires_at = utcnow() - timedelta(seconds=1)  # six minutes later
        s.add(link)
        s.commit()
    _assert_refused(app("en", kiosk="1", token=token).run(), "expired kiosk token")


def test_kiosk_with_a_revoked_token_is_refused(facts: Facts) -> None:
    link_id, token = _kiosk_token(facts)
    with Session(facts.engine) as s:
        link = s.get(KioskLink, link_id)
        assert link is not None
        link.revoked = True
        s.add(link)
        s.commit()
    _assert_refused(app("en", kiosk="1", token=token).run(), "revoked kiosk token")


def test_a_kiosk_showing_figures_stops_at_its_next_run_once_revoked(facts: Facts) -> None:
    """The link is checked again at every run of the same session, not remembered.

    AppTest cannot run the panel fragment on its own (run_every never ticks there), so
    this checks the next full run; tests/browser/test_kiosk_links.py checks the refresh.
    """
    link_id, token = _kiosk_token(facts)
    at = app("zh", kiosk="1", token=token).run()
    no_exception(at, "kiosk before the link is revoked")
    # Figures: a panel's data elements, or the alerts panel's list (HTML).
    alerts_list = [h for h in at.get("html") if 'class="gc-attention gc-alerts"' in h.proto.body]
    assert data_elements(at) or alerts_list, "the kiosk shows figures while its link works"
    with Session(facts.engine) as s:
        revoke_kiosk_link(s, link_id=link_id, actor=SYSTEM)
    at.run()
    _assert_refused(at, "kiosk after its link was revoked")
    assert at.error[0].value == t("frame.kiosk_invalid", "zh")
    _assert_refused(app("en", kiosk="1", token=token).run(), "revoked kiosk token")


def test_the_light_map_stands_in_for_the_webgl_map(
    shared_tiny_app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDCORE_MAP_RENDERER", "light")
    get_settings.cache_clear()
    try:
        at = open_page("leader", "pages/grid_map.py", "zh")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert not at.get("deck_gl_json_chart")
    light = [c for c in at.get("bidi_component") if "gc-light-map" in c.proto.json]
    assert len(light) == 1, "the grid map is drawn as the light map"
    svg = json.loads(light[0].proto.json)["svg"]
    assert json.loads(light[0].proto.json)["fit"] is True, "a page's map fits its box to the street"
    # Every grid of the tiny world, each carrying its code for click-to-open, and the legend.
    with Session(make_engine(shared_tiny_app)) as s:
        codes = set(s.exec(select(Area.code).where(Area.level == AreaLevel.grid)).all())
    assert set(re.findall(r'class="gc-grid" data-code="([^"]+)"', svg)) == codes
    assert any("高风险" in h.proto.body for h in at.get("html"))
