"""Every page's server render, timed with Streamlit's AppTest (the page's script run in
process, as the server runs it for a browser, without the network and the browser's drawing).

Three figures per page, signed in as the demo leader (the Administration page as the demo
administrator, the kiosk through a kiosk link):
  cold           the first render on a fresh server: no cached query result, no engine;
  warm           the median of `reps` renders with the caches as the first render left them;
  cache_expired  the median of `reps` renders, each after the query results' cache was
                 emptied (what a user sees once the TTL has passed, or after a write).

Streamlit is imported here only inside functions: the harness drives the app as a server
does, but importing it must not load Streamlit (tests/test_boundaries.py).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlmodel import Session

from gridcore.access import SYSTEM
from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
# (page file, who opens it); the kiosk is opened through a link, not the navigation.
PAGES: tuple[tuple[str, str], ...] = (
    ("pages/overview.py", "leader"),
    ("pages/grid_map.py", "leader"),
    ("pages/grid_detail.py", "leader"),
    ("pages/cases.py", "leader"),
    ("pages/testing.py", "leader"),
    ("pages/sampling_desk.py", "leader"),
    ("pages/roll_call.py", "leader"),
    ("pages/zones.py", "leader"),
    ("pages/supplies.py", "leader"),
    ("pages/data_entry.py", "leader"),
    ("pages/requests.py", "leader"),
    ("pages/my_tasks.py", "leader"),
    ("pages/workforce.py", "leader"),
    ("pages/admin.py", "admin"),
    ("pages/kiosk.py", "kiosk"),
)
TIMEOUT_S = 300


class PageFailed(Exception):
    """A page raised while it was rendered: the benchmark would time an error page."""


@contextmanager
def app_on(url: str) -> Iterator[None]:
    """The app pointed at `url` and run through its navigation, as a server runs it after
    its first script run (AppTest alone would run a page file without app.py's sign-in)."""
    import streamlit as st
    from streamlit.components.v2 import manifest_scanner
    from streamlit.runtime.pages_manager import PagesManager

    original_init = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    # Every new AppTest scans the installed packages for components, which a server does
    # once when it starts: here too, once (the kiosk is a new AppTest at every render).
    original_scan = manifest_scanner.scan_component_manifests
    scanned = functools.cache(original_scan)
    previous_url = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    _quiet_streamlit()
    PagesManager.__init__ = init  # type: ignore[method-assign]
    manifest_scanner.scan_component_manifests = scanned
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        yield
    finally:
        PagesManager.__init__ = original_init  # type: ignore[method-assign]
        manifest_scanner.scan_component_manifests = original_scan
        if previous_url is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous_url
        _forget_engines()
        get_settings.cache_clear()


def _quiet_streamlit() -> None:
    """No "no runtime found" warnings: running pages without a server is the point here."""
    from streamlit import config as st_config

    st_config.set_option("logger.level", "error")
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)


def _forget_engines() -> None:
    """Close the app's pooled connections and empty every cache (the database may be copied
    or dropped next, which PostgreSQL refuses while connections are open)."""
    import streamlit as st

    from gridcore.ui import data

    with contextlib.suppress(Exception):  # no engine, or one that failed: nothing to close
        data.engine().dispose()
    st.cache_data.clear()
    st.cache_resource.clear()


def _check(at: Any, where: str) -> None:
    errors = [str(e.value) for e in at.exception]
    if errors:
        raise PageFailed(f"{where}: {errors[0]}")


def _signed_in(username: str) -> Any:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.query_params["lang"] = "en"
    at.run()
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(DEMO_PASSWORD)
    at.form_submit_button[0].click().run()
    _check(at, f"sign-in as {username}")
    if at.session_state["actor"] is None:
        raise PageFailed(f"{username} could not sign in with the demo password")
    return at


def _kiosk_runner(url: str) -> Callable[[], Any]:
    from streamlit.testing.v1 import AppTest

    from gridcore.services.access import create_kiosk_link

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        _, token = create_kiosk_link(
            session, hours=1, secret=get_settings().secret_key, actor=SYSTEM, label="benchmark"
        )
    engine.dispose()

    def run() -> Any:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
        at.query_params["kiosk"] = "1"
        at.query_params["token"] = token
        return at.run()

    return run


def _median(call: Callable[[], float], reps: int) -> float:
    return statistics.median(call() for _ in range(reps))


def measure(url: str, *, reps: int) -> dict[str, dict[str, float]]:
    """Cold, warm (median of `reps`) and cache-expired (median of `reps`) seconds per page."""
    import streamlit as st

    figures: dict[str, dict[str, float]] = {}
    with app_on(url):
        sessions: dict[str, Any] = {}
        kiosk = _kiosk_runner(url)
        for page, who in PAGES:
            if who == "kiosk":
                run = kiosk
            else:
                if who not in sessions:
                    sessions[who] = _signed_in(who)
                at = sessions[who]

                def run(at: Any = at, page: str = page) -> Any:
                    return at.switch_page(page).run()

            def timed(run: Callable[[], Any] = run, page: str = page) -> float:
                start = time.perf_counter()
                at = run()
                seconds = time.perf_counter() - start
                _check(at, page)
                return seconds

            def expired(timed: Callable[[], float] = timed) -> float:
                st.cache_data.clear()
                return timed()

            _forget_engines()  # a fresh server: no engine, no cached result
            cold = timed()
            warm = _median(timed, reps)
            figures[page] = {
                "cold_s": cold,
                "warm_s": warm,
                "cache_expired_s": _median(expired, reps),
            }
    return figures
