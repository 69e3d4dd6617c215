"""Who is looking and how: language, signed-in actor, kiosk mode (all from session/URL)."""

from __future__ import annotations

import streamlit as st

from gridcore.access import KIOSK, Actor
from gridcore.config import get_settings
from gridcore.i18n import LANGUAGES, normalise_language, t
from gridcore.models import UserRole
from gridcore.services.access import authenticate, verify_kiosk_token
from gridcore.ui import data

LANG_KEY = "lang"
ACTOR_KEY = "actor"
FRAME_KEY = "_frame_routed"
JUST_SIGNED_IN = "_just_signed_in"


def mark_routed() -> None:
    """Called by app.py: this session's runs go through the frame (sign-in, kiosk check)."""
    st.session_state[FRAME_KEY] = True


def require_actor() -> Actor:
    """The first call of every page: the signed-in (or kiosk) actor, or no page at all.

    Streamlit runs a fresh server's very first request straight from the page file the
    URL names, before app.py has declared its navigation; such a run is sent to app.py,
    so sign-in and the kiosk token check always come first.
    """
    if not st.session_state.get(FRAME_KEY):
        st.switch_page("app.py", query_params=st.query_params.to_dict())
    actor = current_actor()
    if actor is None:
        st.stop()
    assert actor is not None
    return actor


def language() -> str:
    """The view's language: the URL's ?lang= wins once, then the sidebar choice is kept."""
    from_url = st.query_params.get("lang")
    if from_url is not None and st.session_state.get("_lang_from_url") != from_url:
        st.session_state["_lang_from_url"] = from_url
        st.session_state[LANG_KEY] = normalise_language(from_url)
    if st.session_state.get(LANG_KEY) not in LANGUAGES:
        st.session_state[LANG_KEY] = normalise_language(from_url or st.context.locale)
    return str(st.session_state[LANG_KEY])


def language_picker(lang: str) -> None:
    """The sidebar's language switch (keeps ?lang= in the URL in step)."""
    labels = {"en": "English", "zh": "简体中文"}
    st.sidebar.selectbox(
        t("frame.language", lang),
        options=list(LANGUAGES),
        format_func=labels.__getitem__,
        key=LANG_KEY,
        on_change=_sync_lang_param,
    )


def _sync_lang_param() -> None:
    lang = st.session_state[LANG_KEY]
    st.query_params["lang"] = lang
    st.session_state["_lang_from_url"] = lang


def is_kiosk() -> bool:
    """Whether the URL asks for kiosk mode (?kiosk=1)."""
    return st.query_params.get("kiosk") in ("1", "true", "yes")


def kiosk_authorised() -> bool:
    """Whether this run's URL carries a genuine kiosk-link token whose link still works.

    Read from the URL and checked against the database at every call, never remembered in
    the session: app.py calls it at every run and the kiosk's fragment at every refresh.
    """
    token = st.query_params.get("token", "")
    if not token:
        return False
    with data.session() as s:
        return verify_kiosk_token(s, token=token, secret=get_settings().secret_key)


def show_kiosk_refusal(lang: str) -> None:
    """The one thing a kiosk without a working link shows: a plain message, no figures."""
    st.error(t("frame.kiosk_invalid", lang))


def current_actor() -> Actor | None:
    """The signed-in actor of this browser session (a read-only actor in kiosk mode)."""
    if is_kiosk():
        return KIOSK if kiosk_authorised() else None
    actor = st.session_state.get(ACTOR_KEY)
    return actor if isinstance(actor, Actor) else None


def sign_in_form(lang: str) -> None:
    """The sign-in form; on success the actor is kept in the session and the page reruns."""
    left, middle, right = st.columns([1, 2, 1])
    with middle:
        st.title(t("frame.signin_title", lang))
        st.caption(t("frame.signin_intro", lang))
        with st.form("signin", clear_on_submit=False):
            username = st.text_input(t("frame.username", lang), key="signin_username")
            password = st.text_input(
                t("frame.password", lang), type="password", key="signin_password"
            )
            submitted = st.form_submit_button(t("frame.signin", lang), type="primary")
        if submitted:
            if not username or not password:
                st.error(t("frame.signin_missing", lang))
                return
            with data.session() as s:
                actor = authenticate(s, username=username, password=password)
            if actor is None:
                st.error(t("frame.signin_failed", lang))
                return
            st.session_state[ACTOR_KEY] = actor
            st.session_state[JUST_SIGNED_IN] = True
            st.rerun()


def sign_out() -> None:
    """Forget the signed-in actor."""
    st.session_state.pop(ACTOR_KEY, None)


def is_phone() -> bool:
    """Whether the browser says it is a phone (its User-Agent): maps then fit 390 px and let a
    swipe scroll the page, and charts hide their toolbar."""
    agent = st.context.headers.get("User-Agent", "") or ""
    return any(mark in agent for mark in ("Mobi", "Android", "iPhone"))


# The landing page of each role (url path in app.PAGES); roles not named land on the overview.
LANDING: dict[UserRole, str] = {UserRole.grid_worker: "grid"}


def landing_url(actor: Actor | None) -> str:
    """The url path of the page `actor` lands on: a grid worker on their grid (Grid detail
    opens the worker's own grid), everyone else on the overview. A new landing page for a
    role (such as My tasks) is one line in LANDING."""
    if actor is None:
        return "overview"
    return LANDING.get(actor.role, "overview")


def first_page_after_sign_in(current_url_path: str, actor: Actor) -> str | None:
    """The landing page to go to right after signing in, or None to stay.

    Before sign-in every visitor is on the overview (the default then); a role that lands
    elsewhere is moved there once. A deep link to another page keeps that page.
    """
    if not st.session_state.pop(JUST_SIGNED_IN, False):
        return None
    landing = landing_url(actor)
    return landing if current_url_path in ("", "overview") and landing != "overview" else None
