"""What every AppTest of a page needs: the app run through its navigation, signed in, read.

Page tests ask for the `tiny_app` fixture (tests/conftest.py): the app pointed at a new
copy of the tiny world, run through st.navigation as a real server runs it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from google.protobuf import text_format
from streamlit import config as st_config
from streamlit.components.v2 import manifest_scanner
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from gridcore.config import get_settings
from gridcore.demo import DEMO_PASSWORD
from gridcore.services.base import Actor

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
# The kiosk links' secret while the app runs under AppTest.
APP_SECRET = "apptest-kiosk-secret"
# Elements that show data: none may appear before sign-in or on a refused kiosk link.
DATA_ELEMENTS = ("metric", "dataframe", "table", "plotly_chart", "deck_gl_json_chart")


def route_through_navigation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run app.py as the real server does after its first script run: through st.navigation.

    AppTest forgets before every run that the app uses st.navigation, sees the pages/
    folder and would run a page file on its own, without app.py's sign-in. A server
    does that only on the first run after it starts (tests/browser checks that case).

    Also: every new AppTest scans the metadata of every installed package for Streamlit
    components, as a server does once when it starts; here it is scanned once per run.
    """
    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
    monkeypatch.setattr(
        manifest_scanner, "scan_component_manifests", _installed_components_scanned_once
    )


_scan_installed_components = manifest_scanner.scan_component_manifests


@functools.cache
def _installed_components_scanned_once() -> list[Any]:
    return _scan_installed_components()


@contextmanager
def app_on(url: str, **environment: str) -> Iterator[None]:
    """Point the app at `url` (and show full tracebacks) for the duration."""
    shown_errors = st_config.get_option("client.showErrorDetails")
    st_config.set_option("client.showErrorDetails", "full")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        # AppTest has no browser to say whether its WebGL is software: the WebGL map unless
        # a test asks for the light one.
        mp.setenv("GRIDCORE_MAP_RENDERER", "webgl")
        for name, value in environment.items():
            mp.setenv(name, value)
        get_settings.cache_clear()
        st.cache_data.clear()
        st.cache_resource.clear()
        try:
            yield
        finally:
            st_config.set_option("client.showErrorDetails", shown_errors)
            get_settings.cache_clear()
            st.cache_data.clear()
            st.cache_resource.clear()


def no_exception(at: AppTest, where: str) -> None:
    """Fail with the page's traceback if it raised."""
    errors = [f"{e.value}\n" + "\n".join(e.stack_trace) for e in at.exception]
    assert errors == [], f"exception on {where}:\n" + "\n\n".join(errors)


def app(lang: str | None = None, **params: str) -> AppTest:
    """The app, not yet run, with `lang` and URL `params`."""
    at = AppTest.from_file(APP, default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    for name, value in params.items():
        at.query_params[name] = value
    return at


def sign_in(at: AppTest, username: str, password: str = DEMO_PASSWORD) -> AppTest:
    """Run `at` and submit the sign-in form (whatever the outcome)."""
    at.run()
    no_exception(at, "sign-in page")
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    assert len(at.form_submit_button) == 1, "the sign-in form has one submit button"
    at.form_submit_button[0].click().run()
    return at


def signed_in(username: str, lang: str = "en", **params: str) -> AppTest:
    """The app after signing in as `username` (demo password) with URL `params`."""
    at = sign_in(app(lang, **params), username)
    no_exception(at, f"after signing in as {username}")
    actor = at.session_state["actor"]
    assert isinstance(actor, Actor) and actor.username == username
    return at


def open_page(username: str, page: str, lang: str = "en", **params: str) -> AppTest:
    """`page` as `username` sees it in `lang`, with URL `params` set after signing in."""
    at = signed_in(username, lang)
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(page).run()
    no_exception(at, f"{page} as {username} in {lang}")
    return at


def page_text(at: AppTest) -> str:
    """Everything the page sends to the browser, as text (tables by their values)."""
    parts: list[str] = []
    for node in at._tree:
        kind = getattr(node, "type", "")
        if kind in ("dataframe", "table"):
            parts.append(node.value.to_string())
        elif hasattr(proto := getattr(node, "proto", None), "ListFields"):
            parts.append(text_format.MessageToString(proto, as_utf8=True))
    return "\n".join(parts)


def data_elements(at: AppTest) -> list[str]:
    """The kinds of data element on the page (the light map counts as a map)."""
    kinds = [kind for kind in DATA_ELEMENTS if len(at.get(kind)) > 0]
    if any("gc-light-map" in c.proto.json for c in at.get("bidi_component")):
        kinds.append("light_map")
    return kinds
