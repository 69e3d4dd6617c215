"""GridCore entry: page config, sign-in, language, kiosk mode, navigation."""

from __future__ import annotations

import streamlit as st

from gridcore.config import ConfigError, get_settings
from gridcore.i18n import enum_label, t
from gridcore.ui import session
from gridcore.ui.theme import BASE_CSS, KIOSK_CSS, streamlit_texts_css

PAGES: tuple[tuple[str, str, str], ...] = (
    # (file, url path, title key)
    ("pages/overview.py", "overview", "page.overview"),
    ("pages/grid_map.py", "map", "page.grid_map"),
    ("pages/grid_detail.py", "grid", "page.grid_detail"),
    ("pages/testing.py", "testing", "page.testing"),
    ("pages/sampling_desk.py", "desk", "page.sampling_desk"),
    ("pages/roll_call.py", "roll-call", "page.roll_call"),
    ("pages/data_entry.py", "data", "page.data_entry"),
)


def _pages(lang: str) -> list[st.Page]:
    landing = session.landing_url(session.current_actor())
    return [
        st.Page(path, title=t(key, lang), url_path=url, default=(url == landing))
        for path, url, key in PAGES
    ]


def _kiosk(lang: str) -> None:
    st.html(KIOSK_CSS)
    if not session.kiosk_authorised():
        session.show_kiosk_refusal(lang)
        st.stop()
    page = st.Page("pages/kiosk.py", title=t("page.kiosk", lang), url_path="kiosk")
    st.navigation([page], position="hidden").run()


def _sidebar(lang: str) -> None:
    actor = session.current_actor()
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
    """Route the request: kiosk link, sign-in, or the signed-in app."""
    try:
        get_settings()
    except ConfigError as exc:
        st.set_page_config(page_title="GridCore", page_icon="🧭")
        st.error(str(exc))
        st.stop()
    kiosk = session.is_kiosk()
    st.set_page_config(
        page_title="GridCore",
        page_icon="🧭",
        layout="wide",
        initial_sidebar_state="collapsed" if kiosk else "auto",
    )
    session.mark_routed()
    lang = session.language()
    max_mb = int(st.get_option("server.maxUploadSize"))
    st.html(BASE_CSS + streamlit_texts_css(lang, max_mb))
    if kiosk:
        _kiosk(lang)
        return
    actor = session.current_actor()
    # Pages are declared even when signed out, so a deep link keeps its page and ?grid=.
    page = st.navigation(_pages(lang), position="sidebar" if actor else "hidden")
    _sidebar(lang)
    if actor is None:
        session.sign_in_form(lang)
        return
    landing = session.first_page_after_sign_in(page.url_path, actor)
    if landing is not None:
        path = next(path for path, url, _ in PAGES if url == landing)
        st.switch_page(path, query_params={"lang": lang})
    page.run()


run()
