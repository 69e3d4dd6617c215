"""Every page, in both languages, for every role, run headless with Streamlit's AppTest.

The app reads its database from DATABASE_URL; here that is a SQLite file seeded with the
tiny demo world. AppTest renders nothing and runs no JavaScript: the browser tests cover that.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from google.protobuf import text_format
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from streamlit import config as st_config
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from gridcore import migrate
from gridcore.access import SYSTEM, Actor
from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.demo import DEMO_PASSWORD, seed
from gridcore.i18n import catalogues, t
from gridcore.models import Area, AreaLevel, Case, Contact, KioskLink, Resident
from gridcore.services.access import create_kiosk_link, revoke_kiosk_link

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TINY_ANCHOR = date(2026, 3, 21)
SECRET = "apptest-kiosk-secret"
ROLES = ("admin", "leader", "worker", "viewer")
LANGS = ("en", "zh")
# Pages shown in the signed-in navigation; kiosk pages are reached only through a kiosk link.
PAGE_FILES = sorted(
    f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("kiosk")
)
# Elements that show data: none may appear before sign-in or on a refused kiosk link.
DATA_ELEMENTS = ("metric", "dataframe", "table", "plotly_chart", "deck_gl_json_chart")


@dataclass(frozen=True)
class World:
    """The seeded database the app is pointed at, and facts about it known in advance."""

    engine: Engine
    url: str
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


def _clear_streamlit_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def navigation_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run app.py as the real server does after its first script run: through st.navigation.

    AppTest forgets before every run that the app uses st.navigation, sees the pages/
    folder and would run a page file on its own, without app.py's sign-in. A server
    does that only on the first run after it starts (tests/browser checks that case).
    """
    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A SQLite file with the tiny world; DATABASE_URL points the app at it for this module."""
    path = tmp_path_factory.mktemp("apptest") / "tiny.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    seed(engine=engine, scale="tiny", anchor=TINY_ANCHOR)
    grid_code, names, phones = _people_of_busiest_grid(engine)
    shown_errors = st_config.get_option("client.showErrorDetails")
    # A failing test should print the page's traceback, not the redacted message.
    st_config.set_option("client.showErrorDetails", "full")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.setenv("GRIDCORE_SECRET_KEY", SECRET)
        get_settings.cache_clear()
        _clear_streamlit_caches()
        yield World(engine, url, grid_code, names, phones)
    st_config.set_option("client.showErrorDetails", shown_errors)
    get_settings.cache_clear()
    _clear_streamlit_caches()
    engine.dispose()


# --------------------------------------------------------------------------- helpers


def _app(lang: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    for name, value in params.items():
        at.query_params[name] = value
    return at


def _sign_in(at: AppTest, username: str, password: str = DEMO_PASSWORD) -> AppTest:
    at.run()
    _no_exception(at, "sign-in page")
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    assert len(at.form_submit_button) == 1, "the sign-in form has one submit button"
    at.form_submit_button[0].click().run()
    return at


def _signed_in(username: str, lang: str, **params: str) -> AppTest:
    at = _sign_in(_app(lang, **params), username)
    _no_exception(at, f"after signing in as {username}")
    actor = at.session_state.get("actor")
    assert isinstance(actor, Actor) and actor.username == username
    return at


def _no_exception(at: AppTest, where: str) -> None:
    errors = [f"{e.value}\n" + "\n".join(e.stack_trace) for e in at.exception]
    assert errors == [], f"exception on {where}:\n" + "\n\n".join(errors)


def _text(at: AppTest) -> str:
    """Everything the page sends to the browser, as text (tables by their values)."""
    parts: list[str] = []
    for node in at._tree:
        kind = getattr(node, "type", "")
        if kind in ("dataframe", "table"):
            parts.append(node.value.to_string())
        elif hasattr(proto := getattr(node, "proto", None), "ListFields"):
            parts.append(text_format.MessageToString(proto, as_utf8=True))
    return "\n".join(parts)


def _data_elements(at: AppTest) -> list[str]:
    return [kind for kind in DATA_ELEMENTS if len(at.get(kind)) > 0]


def _open(at: AppTest, page: str) -> AppTest:
    return at.switch_page(page).run()


def _english_page_titles() -> list[str]:
    en = catalogues()["en"]
    return sorted({en[k] for k in en if k.startswith("page.")})


# --------------------------------------------------------------------------- every page


def test_pages_are_found() -> None:
    assert {"pages/overview.py", "pages/grid_map.py", "pages/grid_detail.py"} <= set(PAGE_FILES)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_runs_without_error(world: World, page: str, role: str, lang: str) -> None:
    at = _signed_in(role, lang)
    try:
        at.switch_page(page)
    except ValueError:
        # Not in this role's navigation: only the administrator sees everything.
        assert role != "admin", f"{page} is not in the administrator's navigation"
        pytest.skip(f"{page} is not offered to {role}")
    at.run()
    _no_exception(at, f"{page} as {role} in {lang}")
    assert len(at.title) >= 1, f"{page} has no title"


@pytest.mark.parametrize("page", PAGE_FILES)
def test_chinese_view_shows_no_english_page_title(world: World, page: str) -> None:
    titles = _english_page_titles()
    assert titles, "no page.* titles in the catalogue"
    at = _open(_signed_in("admin", "zh"), page)
    _no_exception(at, f"{page} in Chinese")
    text = _text(at)
    found = [title for title in titles if re.search(rf"\b{re.escape(title)}\b", text)]
    assert found == []
    assert re.search(r"[\u4e00-\u9fff]", text)


def test_the_default_page_is_the_overview(world: World) -> None:
    at = _signed_in("leader", "en")
    overview = catalogues()["en"]["page.overview"]
    assert any(overview in el.value for el in at.title), [el.value for el in at.title]


def test_language_from_the_sidebar(world: World) -> None:
    at = _signed_in("leader", "en")
    english = _text(at)
    at.selectbox(key="lang").select("zh").run()
    _no_exception(at, "after switching to Chinese")
    chinese = _text(at)
    assert catalogues()["zh"]["page.overview"] in chinese
    assert catalogues()["en"]["page.overview"] in english
    assert catalogues()["en"]["page.overview"] not in chinese


# --------------------------------------------------------------------------- signing in


@pytest.mark.parametrize("lang", LANGS)
def test_a_wrong_password_shows_an_error_and_no_data(world: World, lang: str) -> None:
    at = _sign_in(_app(lang), "leader", "not-the-password")
    _no_exception(at, "a failed sign-in")
    assert len(at.error) == 1
    assert at.error[0].value.strip()
    assert at.session_state.get("actor") is None
    assert _data_elements(at) == []
    at.text_input(key="signin_password")  # the form is still there (KeyError otherwise)


def test_an_unknown_user_gets_the_same_message(world: World) -> None:
    wrong_password = _sign_in(_app("en"), "leader", "not-the-password")
    unknown_user = _sign_in(_app("en"), "nobody-here", DEMO_PASSWORD)
    assert [e.value for e in unknown_user.error] == [e.value for e in wrong_password.error]
    assert _data_elements(unknown_user) == []


def test_signed_out_pages_show_no_data(world: World) -> None:
    for page in PAGE_FILES:
        at = _app("en").run()
        try:
            at.switch_page(page)
        except ValueError:
            continue
        at.run()
        _no_exception(at, f"{page} signed out")
        assert _data_elements(at) == [], page
        at.text_input(key="signin_username")  # the sign-in form instead (KeyError otherwise)


@pytest.mark.parametrize("role", ROLES)
def test_each_demo_account_signs_in(world: World, role: str) -> None:
    at = _signed_in(role, "en")
    assert at.session_state["actor"].role.value == {"worker": "grid_worker"}.get(role, role)


# --------------------------------------------------------------------------- personal data


def _grid_detail(world: World, role: str) -> AppTest:
    at = _signed_in(role, "en", grid=world.grid_code)
    at.query_params["grid"] = world.grid_code
    at = _open(at, "pages/grid_detail.py")
    _no_exception(at, f"grid detail of {world.grid_code} as {role}")
    return at


def test_a_leader_sees_residents_names_on_the_grid_page(world: World) -> None:
    """The counterpart of the viewer test: the names are on the page when allowed."""
    assert world.names, "no named people in the busiest grid"
    text = _text(_grid_detail(world, "leader"))
    assert world.grid_code in text
    shown = [n for n in world.names if n in text]
    assert shown, f"none of {world.names[:5]} shown to a leader on {world.grid_code}"


def test_a_viewer_sees_masked_names_on_the_grid_page(world: World) -> None:
    text = _text(_grid_detail(world, "viewer"))
    assert world.grid_code in text
    assert [n for n in world.names if n in text] == []
    assert [p for p in world.phones if p in text] == []


# --------------------------------------------------------------------------- kiosk


def _kiosk_token(world: World, hours: float = 12) -> tuple[int, str]:
    with Session(world.engine, expire_on_commit=False) as s:
        link, token = create_kiosk_link(s, hours=hours, secret=SECRET, actor=SYSTEM, label="test")
        assert link.id is not None
        return link.id, token


def _all_resident_names(world: World) -> list[str]:
    with Session(world.engine) as s:
        names = set(s.exec(select(Resident.name)).all())
        names |= set(s.exec(select(Contact.person_name)).all())
    return sorted(n for n in names if len(n) >= 2)


# The kiosk rotates its panels by the clock; each panel and what it must show.
KIOSK_PANELS = {
    "headline": "metric",
    "map": "deck_gl_json_chart",
    "testing": "table",
    "trend": "plotly_chart",
}


def _clock_on_panel(monkeypatch: pytest.MonkeyPatch, index: int) -> None:
    """Shift the clock to the start of the kiosk's `index`-th panel (time still runs)."""
    rotate = get_settings().kiosk_rotate_seconds
    real = time.time
    now = real()
    cycle_start = (now // (rotate * len(KIOSK_PANELS))) * rotate * len(KIOSK_PANELS)
    offset = cycle_start + rotate * (len(KIOSK_PANELS) + index) + 0.5 - now
    monkeypatch.setattr(time, "time", lambda: real() + offset)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("panel", list(KIOSK_PANELS))
def test_kiosk_panels_show_figures_without_sidebar_or_personal_data(
    world: World, monkeypatch: pytest.MonkeyPatch, panel: str, lang: str
) -> None:
    _, token = _kiosk_token(world)
    _clock_on_panel(monkeypatch, list(KIOSK_PANELS).index(panel))
    at = _app(lang, kiosk="1", token=token).run()
    monkeypatch.undo()
    _no_exception(at, f"kiosk {panel} panel in {lang}")
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
    if panel == "headline":
        assert len(at.metric) >= 3, "the kiosk shows headline figures"
    text = _text(at)
    assert [n for n in _all_resident_names(world) if n in text] == []
    assert [p for p in world.phones if p in text] == []
    assert "signin_username" not in text


def _assert_refused(at: AppTest, what: str) -> None:
    _no_exception(at, what)
    assert len(at.error) == 1, f"{what}: expected one clear message"
    assert at.error[0].value.strip()
    assert _data_elements(at) == [], f"{what}: data shown"


def test_kiosk_without_token_is_refused(world: World) -> None:
    _assert_refused(_app("en", kiosk="1").run(), "kiosk without token")


def test_kiosk_with_a_forged_token_is_refused(world: World) -> None:
    link_id, token = _kiosk_token(world)
    forged = token.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAA"
    _assert_refused(_app("en", kiosk="1", token=forged).run(), "forged kiosk token")
    _assert_refused(_app("en", kiosk="1", token="garbage").run(), "garbage kiosk token")


def test_kiosk_with_an_expired_token_is_refused(world: World) -> None:
    _, token = _kiosk_token(world, hours=1 / 3600)
    time.sleep(1.5)
    _assert_refused(_app("en", kiosk="1", token=token).run(), "expired kiosk token")


def test_kiosk_with_a_revoked_token_is_refused(world: World) -> None:
    link_id, token = _kiosk_token(world)
    with Session(world.engine) as s:
        link = s.get(KioskLink, link_id)
        assert link is not None
        link.revoked = True
        s.add(link)
        s.commit()
    _assert_refused(_app("en", kiosk="1", token=token).run(), "revoked kiosk token")


def test_a_kiosk_showing_figures_stops_at_its_next_run_once_revoked(world: World) -> None:
    """The link is checked again at every run of the same session, not remembered.

    AppTest cannot run the panel fragment on its own (run_every never ticks there), so
    this checks the next full run; tests/browser/test_kiosk_links.py checks the refresh.
    """
    link_id, token = _kiosk_token(world)
    at = _app("zh", kiosk="1", token=token).run()
    _no_exception(at, "kiosk before the link is revoked")
    assert _data_elements(at), "the kiosk shows figures while its link works"
    with Session(world.engine) as s:
        revoke_kiosk_link(s, link_id=link_id, actor=SYSTEM)
    at.run()
    _assert_refused(at, "kiosk after its link was revoked")
    assert at.error[0].value == t("frame.kiosk_invalid", "zh")
