"""The Data entry & import page under AppTest, with the tiny world, for every role.

The page as it first appears, and its import's states one at a time: a file checked (the
check's result and the import button), imported (what was written and a link to it), or
failed. What the importers do with each kind of file is tested in the other test_io_*
modules.
"""

from __future__ import annotations

import pytest
from apptest_support import no_exception, open_page
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from gridcore.db import make_engine
from gridcore.i18n import catalogues, t
from gridcore.io import exchange
from gridcore.io.report import ImportConflict
from gridcore.models import Resident

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


# --------------------------------------------------------------------------- one state at a time

# Two new residents in new flats of building T-C1-G1-B1.
GOOD_FILE = (
    "grid_code,building_code,unit,name\n"
    "T-C1-G1,T-C1-G1-B1,9-901,王新一\n"
    "T-C1-G1,T-C1-G1-B1,9-902,王新二\n"
).encode()
# Row 2 is right; row 3 has two problems (no such grid, no name); row 4 one (no building).
BAD_FILE = (
    "grid_code,building_code,unit,name\n"
    "T-C1-G1,T-C1-G1-B1,9-901,王新一\n"
    "NO-SUCH-GRID,T-C1-G1-B1,9-903,\n"
    "T-C1-G1,,9-904,王新四\n"
).encode()


def _residents(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as s:
        n = int(s.exec(select(func.count()).select_from(Resident)).one())
    engine.dispose()
    return n


def _upload(at: AppTest, content: bytes) -> AppTest:
    at.file_uploader(key="io_upload").set_value(("residents.csv", content, "text/csv")).run()
    no_exception(at, "after the upload")
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _import_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.key == "io_import_go"]


def _texts(at: AppTest) -> str:
    return " ".join(
        e.value for kind in ("success", "info", "error", "caption") for e in getattr(at, kind)
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_checked_file_then_imported_shows_one_state_at_a_time(tiny_app: str, lang: str) -> None:
    texts = catalogues()[lang]
    before = _residents(tiny_app)
    at = _upload(_page("leader", lang), GOOD_FILE)
    # Checked: the check's figures, "nothing written", and the button.
    assert _metrics(at)[texts["io.page.new"]] == "2"
    assert _metrics(at)[texts["io.page.bad_rows"]] == "0"
    assert _metrics(at)[texts["io.page.problem_count"]] == "0"
    assert texts["io.outcome.dry_run_clean"] in _texts(at)
    assert _import_buttons(at) == [t("io.page.import_button", lang, count="2")]
    assert _residents(tiny_app) == before
    # Imported: only the result and a link; no stale check, no live button.
    next(b for b in at.button if b.key == "io_import_go").click().run()
    no_exception(at, "after the import")
    assert _residents(tiny_app) == before + 2
    done = t("io.page.done", lang, written="2", created="2", updated="0", unchanged="0")
    assert [s.value for s in at.success] == [done]
    assert texts["io.outcome.dry_run_clean"] not in _texts(at)
    assert _import_buttons(at) == []
    assert len(at.metric) == 0
    links = [(p.proto.page, p.proto.label) for p in at.get("page_link")]
    assert links == [("map", t("io.page.see_changes", lang, page=texts["page.grid_map"]))]
    # The same file once more is a new upload: checked again, everything already stored.
    _upload(at, GOOD_FILE)
    assert _metrics(at)[texts["io.page.unchanged"]] == "2"
    assert [i.value for i in at.info] == [texts["io.page.nothing_to_do"]]
    assert _import_buttons(at) == []


def test_rows_with_problems_and_problems_are_counted_apart(shared_tiny_app: str) -> None:
    lang = "en"
    texts = catalogues()[lang]
    at = _upload(_page("leader", lang), BAD_FILE)  # writes nothing
    figures = _metrics(at)
    assert figures[texts["io.page.rows"]] == "3"
    assert figures[texts["io.page.bad_rows"]] == "2"  # rows 3 and 4
    assert figures[texts["io.page.problem_count"]] == "3"  # two in row 3, one in row 4
    assert [e.value for e in at.error] == [texts["io.page.fix_first"]]
    assert _import_buttons(at) == []
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 3


def test_a_failed_import_says_so_and_offers_no_import(
    tiny_app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lang = "zh"
    texts = catalogues()[lang]
    before = _residents(tiny_app)
    at = _upload(_page("leader", lang), GOOD_FILE)
    checked = exchange.import_table

    def meanwhile(**kwargs: object) -> object:
        # The same rows were written by someone else between the check and the import.
        if not kwargs["dry_run"]:
            raise ImportConflict("io.error.changed_meanwhile")
        return checked(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(exchange, "import_table", meanwhile)
    next(b for b in at.button if b.key == "io_import_go").click().run()
    no_exception(at, "after the failed import")
    assert [e.value for e in at.error] == [
        texts["io.page.failed"],
        texts["io.error.changed_meanwhile"],
    ]
    assert [s.value for s in at.success] == []
    assert _import_buttons(at) == []
    assert texts["io.outcome.dry_run_clean"] not in _texts(at)
    assert _residents(tiny_app) == before
    # Checking again brings back the check and its button.
    monkeypatch.setattr(exchange, "import_table", checked)
    at.button(key="io_check_again").click().run()
    assert _import_buttons(at) == [t("io.page.import_button", lang, count="2")]
