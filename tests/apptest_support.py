"""What every AppTest of a page needs: the app run through its navigation, signed in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit import config as st_config
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from gridcore import migrate
from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.demo import DEMO_PASSWORD, seed

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TINY_ANCHOR = date(2026, 3, 21)


def route_through_navigation(monkeypatch: pytest.MonkeyPatch) -> None:
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


def tiny_database(path: Path) -> str:
    """A SQLite file at `path` with the tiny world; returns its URL."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    seed(engine=engine, scale="tiny", anchor=TINY_ANCHOR)
    engine.dispose()
    return url


@contextmanager
def app_on(url: str, **environment: str) -> Iterator[None]:
    """Point the app at `url` (and show full tracebacks) for the duration."""
    shown_errors = st_config.get_option("client.showErrorDetails")
    st_config.set_option("client.showErrorDetails", "full")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
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


def signed_in(username: str, lang: str = "en", **params: str) -> AppTest:
    """The app after signing in as `username` (demo password) with URL `params`."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    no_exception(at, "sign-in page")
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(DEMO_PASSWORD)
    at.form_submit_button[0].click().run()
    no_exception(at, f"after signing in as {username}")
    return at
