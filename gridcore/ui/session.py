"""Who is looking and how: language, the signed-in actor, kiosk mode.

The actor is never trusted from memory: `require_actor()` (every page's first call) and
`live()` (every self-refreshing part of a page) check the server-side session again at each
run, so a deactivated account, a removed grid, a new password, a sign-out elsewhere or an
expired session take effect at the next run or refresh. A reload finds the session again
through its HttpOnly cookie (set by the server, see gridcore/ui/session_cookie.py).
"""

from __future__ import annotations

import errno
import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from streamlit.runtime.scriptrunner import get_script_run_ctx

from gridcore.access import KIOSK, Actor
from gridcore.config import get_settings
from gridcore.i18n import LANGUAGES, normalise_language, t
from gridcore.queries.access import link_panels
from gridcore.services.access import (
    SignInRefused,
    check_session,
    session_for_cookie,
    sign_in,
    verified_kiosk_link,
    verify_kiosk_token,
)
from gridcore.services.access import sign_out as end_account_sessions
from gridcore.ui import data
from gridcore.ui.session_cookie import CLAIM_PATH, CLEAR_PATH, COOKIE_NAME

LANG_KEY = "lang"
# The actor as last checked (kept for code and tests that read it; never trusted alone).
ACTOR_KEY = "actor"
FRAME_KEY = "_frame_routed"
# The server-side session of this browser tab, and the cookie value already found useless.
SESSION_KEY = "_session_id"
REFUSED_COOKIE_KEY = "_session_cookie_refused"
# A one-time ticket to exchange for the cookie; a sign-out's request to clear the cookie.
TICKET_KEY = "_session_ticket"
CLEAR_COOKIE_KEY = "_session_clear_cookie"
# Why the last session ended (shown once above the sign-in form).
NOTICE_KEY = "_session_notice"
# A fingerprint of the widgets' values at the last check (see _widgets_changed).
ACTIVITY_KEY = "_session_widgets"

F = TypeVar("F", bound=Callable[..., Any])


def mark_routed() -> None:
    """Called by app.py: this session's runs go through the frame (sign-in, kiosk check)."""
    st.session_state[FRAME_KEY] = True


def require_actor() -> Actor:
    """The first call of every page: the signed-in (or kiosk) actor, or no page at all.

    Streamlit runs a fresh server's very first request straight from the page file the
    URL names, before app.py has declared its navigation; such a run is sent to app.py,
    so sign-in and the kiosk token check always come first.

    Called again inside a self-refreshing fragment (see `live`), it re-checks the session:
    when it no longer works the whole app reruns and shows the sign-in form (or, for a
    kiosk, the refusal) instead of the page.
    """
    if not st.session_state.get(FRAME_KEY):
        st.switch_page("app.py", query_params=st.query_params.to_dict())
    actor = current_actor()
    if actor is None:
        if in_fragment_run():
            st.rerun(scope="app")
        st.stop()
    assert actor is not None
    return actor


def live(run_every: float | None = None, *, refresh: bool = True) -> Callable[[F], F]:
    """A part of a page that refreshes itself: `st.fragment(run_every=…)` that re-checks first.

    A fragment's refresh does not run app.py, so the session (or the kiosk link) is checked
    again at the start of every refresh, and an `Actor` argument is replaced by the actor
    just checked (a refresh re-uses the arguments of the page's run: the role or grids they
    carry may have changed since). Default interval: the refresh setting; `refresh=False`
    for a part that reruns alone only on its own widgets (a form), which is checked the same.

        @session.live()
        def _live_part(lang: str, actor: Actor) -> None: ...
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            with database_faults(str(st.session_state.get(LANG_KEY, "en"))):
                actor = require_actor()
                args = tuple(actor if isinstance(a, Actor) else a for a in args)
                kwargs = {k: actor if isinstance(v, Actor) else v for k, v in kwargs.items()}
                return fn(*args, **kwargs)

        if not refresh:  # a part that reruns alone on its own widgets (a form), never by a timer
            return st.fragment(checked)  # type: ignore[return-value]
        seconds = run_every if run_every is not None else get_settings().refresh_seconds
        return st.fragment(run_every=seconds)(checked)  # type: ignore[return-value]

    return decorate


# Operating-system errors that say a file or folder may not be written.
_READ_ONLY_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def database_fault_key(exc: BaseException) -> str | None:
    """The message key for a database that cannot be reached or written, else None.

    Read-only: SQLite's "attempt to write a readonly database", PostgreSQL's read-only
    transaction, or data/ (its key file) not writable. Unreachable: a connection refused,
    a server gone, a file SQLite cannot open.
    """
    if isinstance(exc, OSError) and exc.errno in _READ_ONLY_ERRNOS:
        return "frame.db_read_only"
    if not isinstance(exc, DBAPIError):
        return None
    words = str(exc.orig).lower()
    if "readonly" in words or "read-only" in words or "read only" in words:
        return "frame.db_read_only"
    if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
        return "frame.db_unreachable"
    return None


@contextmanager
def database_faults(lang: str) -> Iterator[None]:
    """Say in the reader's language that the database cannot be reached or written, instead
    of Streamlit's error page; the next run tries again on fresh connections (a file made
    writable, a server back: no restart needed)."""
    try:
        yield
    except (DBAPIError, OSError) as exc:
        key = database_fault_key(exc)
        if key is None:
            raise
        data.forget_connections()
        st.error(t(key, lang))
        st.button(t("frame.db_retry", lang), key=f"_db_retry_{in_fragment_run()}")


def in_fragment_run() -> bool:
    """Whether this run is a fragment's own (a refresh or a widget inside it), not the page's."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


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


@dataclass(frozen=True)
class KioskView:
    """What a working kiosk link shows: its panels in order, each for `interval` seconds."""

    panels: tuple[str, ...]
    interval: int


def kiosk_view() -> KioskView | None:
    """The panels and interval of this URL's kiosk link, read now; None when it does not work."""
    token = st.query_params.get("token", "")
    if not token:
        return None
    with data.session() as s:
        link = verified_kiosk_link(s, token=token, secret=get_settings().secret_key)
        if link is None:
            return None
        return KioskView(
            panels=link_panels(link.panels),
            interval=link.interval_seconds or get_settings().kiosk_rotate_seconds,
        )


def show_kiosk_refusal(lang: str) -> None:
    """The one thing a kiosk without a working link shows: a plain message, no figures."""
    st.error(t("frame.kiosk_invalid", lang))


def current_actor() -> Actor | None:
    """The signed-in actor of this browser tab, checked now (a read-only actor in kiosk mode).

    The session comes from this tab's memory or, after a reload, from the cookie; it is
    checked against the database at every call. A run the user caused counts as activity
    for the idle limit; a fragment's own refresh does not.
    """
    if is_kiosk():
        return KIOSK if kiosk_authorised() else None
    session_id = st.session_state.get(SESSION_KEY)
    if session_id is None:
        session_id = _session_from_cookie()
        if session_id is None:
            st.session_state.pop(ACTOR_KEY, None)
            return None
        st.session_state[SESSION_KEY] = session_id
    # A page refreshing itself is not activity; a tap or a choice inside a live part is.
    acted = _widgets_changed()
    with data.session() as s:
        actor = check_session(s, session_id=int(session_id), touch=acted or not in_fragment_run())
    if actor is None:
        _forget()
        st.session_state[NOTICE_KEY] = "security.session_ended"
        return None
    st.session_state[ACTOR_KEY] = actor
    return actor


def _widgets_changed() -> bool:
    """Whether a keyed widget's value changed since the last check (a user acted).

    A fragment's run does not say whether a timer or a tap caused it; a tap or a choice
    changes the value of a keyed widget (every widget that writes has a key), a timer does not.
    """
    values = frozenset(
        (str(key), value)
        for key, value in st.session_state.to_dict().items()
        if not str(key).startswith("_") and isinstance(value, bool | int | float | str)
    )
    fingerprint = hash(values)
    before = st.session_state.get(ACTIVITY_KEY)
    st.session_state[ACTIVITY_KEY] = fingerprint
    return before is not None and before != fingerprint


def _session_from_cookie() -> int | None:
    """The session the browser's cookie refers to (after a reload), once per cookie value."""
    cookie = st.context.cookies.get(COOKIE_NAME)
    if not cookie or st.session_state.get(REFUSED_COOKIE_KEY) == cookie:
        return None
    with data.session() as s:
        found = session_for_cookie(s, cookie=cookie, secret=get_settings().secret_key)
    if found is None:
        st.session_state[REFUSED_COOKIE_KEY] = cookie
    return found


def _forget() -> None:
    """Forget this tab's session; the cookie it came from is not looked at again."""
    st.session_state.pop(ACTOR_KEY, None)
    st.session_state.pop(SESSION_KEY, None)
    cookie = st.context.cookies.get(COOKIE_NAME)
    if cookie:
        st.session_state[REFUSED_COOKIE_KEY] = cookie


def _post_script(path: str, body: str = "") -> str:
    """A script posting `body` to this server's `path`, whose response sets or clears the cookie."""
    return (
        f"<script>fetch({json.dumps(path)}, {{method: 'POST', credentials: 'same-origin', "
        f"body: {json.dumps(body)}}}).catch(() => {{}});</script>"
    )


def hand_over_cookie() -> None:
    """After a sign-in: have the browser exchange the one-time ticket for the session cookie.

    The server's response sets the cookie (HttpOnly, SameSite=Strict), so no page script
    ever holds its value; the ticket is useless once exchanged or after two minutes.
    """
    ticket = st.session_state.pop(TICKET_KEY, None)
    if ticket:
        with st.sidebar:
            st.html(_post_script(CLAIM_PATH, ticket), unsafe_allow_javascript=True)


def _clear_cookie() -> None:
    if st.session_state.pop(CLEAR_COOKIE_KEY, None):
        st.html(_post_script(CLEAR_PATH), unsafe_allow_javascript=True)


def client_address() -> str | None:
    """The browser's address as the server sees it (None on this machine's own loopback)."""
    address = st.context.ip_address
    return address if isinstance(address, str) else None


def sign_in_form(lang: str) -> None:
    """The sign-in form; on success the session is kept in this tab and the page reruns."""
    _clear_cookie()
    left, middle, right = st.columns([1, 2, 1])
    with middle:
        st.title(t("frame.signin_title", lang))
        st.caption(t("frame.signin_intro", lang))
        notice = st.session_state.pop(NOTICE_KEY, None)
        if notice:
            st.info(t(notice, lang))
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
            try:
                with data.session() as s:
                    signed = sign_in(
                        s, username=username, password=password, client_address=client_address()
                    )
            except SignInRefused as refused:
                st.error(_refusal_text(refused, lang))
                return
            st.session_state.pop(REFUSED_COOKIE_KEY, None)
            st.session_state[SESSION_KEY] = signed.session_id
            st.session_state[ACTOR_KEY] = signed.actor
            st.session_state[TICKET_KEY] = signed.ticket
            st.rerun()


def _refusal_text(refused: SignInRefused, lang: str) -> str:
    if refused.reason == "locked":
        return t("security.signin_locked", lang, minutes=-(-refused.wait_seconds // 60))
    if refused.reason == "wait":
        return t("security.signin_wait", lang, seconds=refused.wait_seconds)
    return t("frame.signin_failed", lang)


def sign_out() -> None:
    """Sign this account out everywhere: every session of it ends, the cookie is cleared."""
    actor = st.session_state.get(ACTOR_KEY)
    if isinstance(actor, Actor) and st.session_state.get(SESSION_KEY) is not None:
        with data.session() as s:
            end_account_sessions(s, actor=actor)
    _forget()
    st.session_state[CLEAR_COOKIE_KEY] = True


def is_phone() -> bool:
    """Whether the browser says it is a phone (its User-Agent): maps then fit 390 px and let a
    swipe scroll the page, and charts hide their toolbar."""
    agent = st.context.headers.get("User-Agent", "") or ""
    return any(mark in agent for mark in ("Mobi", "Android", "iPhone"))
