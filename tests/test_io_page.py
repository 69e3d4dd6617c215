"""The Data entry & import page under AppTest, with the tiny world, for every role.

AppTest cannot upload a file, so these tests check the page as it first appears; what
the page does with a file is gridcore.io's work, tested in the other test_io_* modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from conftest import TINY_ANCHOR
from streamlit import config as st_config
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from gridcore import migrate
from gridcore.config import get_settings
from gridcore.db import make_engine
from gridcore.demo import DEMO_PASSWORD, seed
from gridcore.i18n import catalogues

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "pages/data_entry.py"


@pytest.fixture(autouse=True)
def navigation_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run app.py through st.navigation, as a running server does (see test_pages_apptest)."""
    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(scope="module")
def tiny_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """DATABASE_URL pointing at a SQLite file with the tiny world, for this module."""
    path = tmp_path_factory.mktemp("io_page") / "tiny.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    seed(engine=engine, scale="tiny", anchor=TINY_ANCHOR)
    engine.dispose()
    shown = st_config.get_option("client.showErrorDetails")
    st_config.set_option("client.showErrorDetails", "full")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.setenv("GRIDCORE_SECRET_KEY", "io-page-test")
        get_settings.cache_clear()
        st.cache_data.clear()
        st.cache_resource.clear()
        yield url
    st_config.set_option("client.showErrorDetails", shown)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


def _page(username: str, lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(DEMO_PASSWORD)
    at.form_submit_button[0].click().run()
    at.switch_page(PAGE).run()
    errors = [f"{e.value}\n" + "\n".join(e.stack_trace) for e in at.exception]
    assert errors == [], "\n\n".join(errors)
    return at


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("username", ["admin", "leader", "worker"])
def test_writers_see_the_uploader_and_the_export(tiny_app: str, username: str, lang: str) -> None:
    at = _page(username, lang)
    texts = catalogues()[lang]
    assert [e.value for e in at.title] == [texts["page.data_entry"]]
    assert at.radio(key="io_import_kind").options == [
        texts["io.page.kind.residents"],
        texts["io.page.kind.test-results"],
    ]
    assert len(at.get("file_uploader")) == 1
    # Nothing uploaded: no preview, no import button, no problems table.
    assert len(at.get("metric")) == 0
    assert len(at.dataframe) == 0
    assert [b for b in at.button if b.key == "io_import_go"] == []
    assert len(at.get("download_button")) == 1


def test_test_results_offer_the_rounds_newest_first(tiny_app: str) -> None:
    at = _page("leader", "en")
    at.radio(key="io_import_kind").set_value("test-results").run()
    assert not at.exception
    picker = at.selectbox(key="io_import_round")
    assert picker.options == ["The round column of the file", "Round 2", "Round 1"]
    at.radio(key="io_export_kind").set_value("test-results").run()
    assert at.selectbox(key="io_export_round").options[0] == "All rounds"


def test_a_grid_worker_is_told_the_export_holds_only_their_grids(tiny_app: str) -> None:
    at = _page("worker", "en")
    captions = " ".join(c.value for c in at.caption)
    assert catalogues()["en"]["io.page.export_scope_worker"] in captions


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_viewer_is_told_they_cannot_import(tiny_app: str, lang: str) -> None:
    at = _page("viewer", lang)
    assert [i.value for i in at.info] == [catalogues()[lang]["io.page.viewer"]]
    assert len(at.get("file_uploader")) == 0
    assert len(at.get("download_button")) == 0
