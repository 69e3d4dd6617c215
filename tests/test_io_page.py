"""The Data entry & import page under AppTest, with the tiny world, for every role.

AppTest cannot upload a file, so these tests check the page as it first appears; what
the page does with a file is gridcore.io's work, tested in the other test_io_* modules.
"""

from __future__ import annotations

import pytest
from apptest_support import open_page
from streamlit.testing.v1 import AppTest

from gridcore.i18n import catalogues

PAGE = "pages/data_entry.py"


def _page(username: str, lang: str) -> AppTest:
    return open_page(username, PAGE, lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("username", ["admin", "leader", "worker"])
def test_writers_see_the_uploader_and_the_export(
    shared_tiny_app: str, username: str, lang: str
) -> None:
    at = _page(username, lang)
    texts = catalogues()[lang]
    assert [e.value for e in at.title] == [texts["page.data_entry"]]
    assert at.radio(key="io_import_kind").options == [
        texts["io.page.kind.residents"],
        texts["io.page.kind.test-results"],
        texts["io.page.kind.cases"],
        texts["io.page.kind.contacts"],
        texts["io.page.kind.case-counts"],
        texts["io.page.kind.case-addresses"],
        texts["io.page.kind.stock-movements"],
        texts["io.page.kind.requests"],
        texts["io.page.kind.tasks"],
        texts["io.page.kind.workers"],
    ]
    assert len(at.get("file_uploader")) == 1
    # Nothing uploaded: no preview, no import button, no problems table.
    assert len(at.get("metric")) == 0
    assert len(at.dataframe) == 0
    assert [b for b in at.button if b.key == "io_import_go"] == []
    assert len(at.get("download_button")) == 1


def test_test_results_offer_the_rounds_newest_first(shared_tiny_app: str) -> None:
    at = _page("leader", "en")
    at.radio(key="io_import_kind").set_value("test-results").run()
    assert not at.exception
    picker = at.selectbox(key="io_import_round")
    assert picker.options == ["The round column of the file", "Round 2", "Round 1"]
    at.radio(key="io_export_kind").set_value("test-results").run()
    assert at.selectbox(key="io_export_round").options[0] == "All rounds"


def test_a_grid_worker_is_told_the_export_holds_only_their_grids(shared_tiny_app: str) -> None:
    at = _page("worker", "en")
    captions = " ".join(c.value for c in at.caption)
    assert catalogues()["en"]["io.page.export_scope_worker"] in captions


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_viewer_is_told_they_cannot_import(shared_tiny_app: str, lang: str) -> None:
    at = _page("viewer", lang)
    assert [i.value for i in at.info] == [catalogues()[lang]["io.page.viewer"]]
    assert len(at.get("file_uploader")) == 0
    assert len(at.get("download_button")) == 0


def test_counts_and_addresses_offer_to_keep_unmatched_areas(shared_tiny_app: str) -> None:
    at = _page("leader", "zh")
    assert [c for c in at.checkbox if c.key == "io_import_unmatched"] == []
    texts = catalogues()["zh"]
    for kind in ("case-counts", "case-addresses"):
        at.radio(key="io_import_kind").set_value(kind).run()
        assert not at.exception
        assert at.checkbox(key="io_import_unmatched").label == texts["io.page.keep_unmatched"]
    captions = " ".join(c.value for c in at.caption)
    assert texts["io.page.areas_cli"] in captions
    at.radio(key="io_import_kind").set_value("cases").run()
    assert [c for c in at.checkbox if c.key == "io_import_unmatched"] == []
