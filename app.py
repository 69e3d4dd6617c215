"""GridCore entry: page config, sign-in, language, kiosk mode, navigation."""

from __future__ import annotations

import streamlit as st

from gridcore.access import Actor, offers_page
from gridcore.config import ConfigError, get_settings
from gridcore.i18n import enum_label, t
from gridcore.models import UserRole
from gridcore.ui import heap, session
from gridcore.ui.theme import BASE_CSS, KIOSK_CSS, streamlit_texts_css

PAGES: tuple[tuple[str, str, str], ...] = (
    # (file, url path, title key)
    ("pages/overview.py", "overview", "page.overview"),
    ("pages/grid_map.py", "map", "page.grid_map"),
    ("pages/grid_detail.py", "grid", "page.grid_detail"),
    ("pages/cases.py", "cases", "page.cases"),
    ("pages/testing.py", "testing", "page.testing"),
    ("pages/sampling_desk.py", "desk", "page.sampling_desk"),
    ("pages/roll_call.py", "roll-call", "page.roll_call"),
    ("pages/zones.py", "zones", "page.zones"),
    ("pages/supplies.py", "supplies", "page.supplies"),
    ("pages/data_entry.py", "data", "page.data_entry"),
    ("pages/requests.py", "requests", "page.requests"),
    ("pages/my_tasks.py", "my-tasks", "page.my_tasks"),
    ("pages/workforce.py", "workforce", "page.workforce"),
    ("pages/admin.py", "admin", "page.admin"),
)
# The page a role lands on (overview for every role not listed).
LANDING: dict[str, str] = {UserRole.grid_worker: "my-tasks"}


def _pages(lang: str, role: str | None) -> list[st.Page]:
    """Every page at its own address, and the app's root address, which opens the role's
    landing page there (so `/overview` is the overview's address for every role, and
    Streamlit never answers a page's own address with its English "Page not found")."""
    landing = LANDING.get(role or "", "overview")
    # A page not offered to the role is declared hidden: its address then shows the page's
    # own refusal, in the reader's language, instead of Streamlit's "Page not found".
    pages = [
        st.Page(
            path,
            title=t(key, lang),
            url_path=url,
            visibility="visible" if offers_page(role, url) else "hidden",
        )  # fmt: skip
        for path, url, key in PAGES
    ]
    first = next(page for page in pages if page.url_path == landing)

    def home() -> None:
        # A page change clears the URL and the sidebar's choices: the language goes along.
        st.session_state.pop("_lang_from_url", None)
        st.switch_page(first, query_params={"lang": lang})

    root = st.Page(home, title=first.title, url_path="home", default=True, visibility="hidden")
    return [root, *pages]


def _kiosk(lang: str) -> None:
    st.html(KIOSK_CSS)
    if not session.kiosk_authorised():
        session.show_kiosk_refusal(lang)
        st.stop()
    page = st.Page("pages/kiosk.py", title=t("page.kiosk", lang), url_path="kiosk")
    st.navigation([page], position="hidden").run()
    heap.settle_after("kiosk")


def _sidebar(lang: str, actor: Actor | None) -> None:
    session.language_picker(lang)
    if actor is not None:
        st.sidebar.caption(
            t(
                "frame.signed_in_as",
                lang,
                user=actor.username,
                role=enum_label("role", actor.role, lang),
            )
        )
        if st.sidebar.button(t("frame.sign_out", lang), key="sign_out"):
            session.sign_out()
            st.rerun()


def run() -> None:
    """Route the request: kiosk link, sign-in, or the signed-in app; a setting that cannot be
    used, or a database that cannot be reached or written, is said in the reader's language."""
    lang = session.language()
    try:
        get_settings()
    except ConfigError as exc:
        st.set_page_config(page_title="GridCore", page_icon="🧭")
        st.error(t("frame.config_error", lang))
        st.text(exc.text(lang))  # may quote the setting's value: never as Markdown
        st.caption(t("frame.config_fix", lang))
        st.stop()
    with session.database_faults(lang):
        _route(lang)


def _route(lang: str) -> None:
    kiosk = session.is_kiosk()
    st.set_page_config(
        page_title="GridCore",
        page_icon="🧭",
        layout="wide",
        initial_sidebar_state="collapsed" if kiosk else "auto",
    )
    session.mark_routed()
    max_mb = int(st.get_option("server.maxUploadSize"))
    st.html(BASE_CSS + streamlit_texts_css(lang, max_mb))
    if kiosk:
        _kiosk(lang)
        return
    actor = session.current_actor()
    # Pages are declared even when signed out, so a deep link keeps its page and ?grid=.
    pages = _pages(lang, actor.role if actor else None)
    # Every page listed: a collapsed menu would hide pages behind an English "View more".
    page = st.navigation(pages, position="sidebar" if actor else "hidden", expanded=True)
    _sidebar(lang, actor)
    if actor is None:
        session.sign_in_form(lang)
        return
    if page.url_path:
        # The root only opens the landing page: the session cookie is handed over there, on a
        # run whose page stays on screen long enough for the browser to exchange it.
        session.hand_over_cookie()
    page.run()
    heap.settle_after(page.url_path)


run()
