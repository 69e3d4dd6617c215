"""Generated files for every kind of import: never a crash; a bad file is a message and no write.

Each example is a file of one kind (residents, test results, cases, contacts, case counts,
case addresses, stock movements, requests, tasks, workers) built from the kind's own columns
(in English or Chinese, some left out, some unknown added, in any order) and cells drawn
from the tiny world's own export of that kind mixed with hostile texts (NUL bytes, formulas,
Markdown, years 1 to 9999, huge and negative numbers, unknown areas, metre coordinates
among degrees), encoded as UTF-8, UTF-8 with a byte-order mark or GB18030, or as raw bytes.

The property: the file is read or refused with a message of GridCore's own; an import with
any problem names its row and column, writes nothing (the whole database's digest is
unchanged) and its report can be shown in both languages.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fuzz_support import NASTY, digest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlmodel import Session

from gridcore.access import SYSTEM
from gridcore.i18n import t
from gridcore.io.cells import parse_whole
from gridcore.io.exchange import KINDS, columns_of, export_rows, import_table, read_file
from gridcore.io.report import ImportConflict, describe, note_lines, problem_lines, summary
from gridcore.io.tabular import TableError, write_table
from gridcore.queries.testing import resolve_round

ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")
# Each kind's cells as the tiny world exports them, by column: filled before the first example.
PALETTES: dict[str, dict[str, list[str]]] = {}


def _csv(header: list[str], rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode(encoding)


@st.composite
def files(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """(kind, file name, bytes) of a generated file."""
    kind = draw(st.sampled_from(KINDS))
    columns = columns_of(kind)
    chosen = draw(st.lists(st.sampled_from(columns), unique=True, min_size=0))
    header = [draw(st.sampled_from((c.name, c.zh, c.name.upper()))) for c in chosen]
    header += draw(st.lists(st.sampled_from(("extra", "备注2", "", "Name ")), max_size=2))
    header = draw(st.permutations(header))
    palette = PALETTES[kind]

    def cell(name: str) -> st.SearchStrategy[str]:
        known = palette.get(next((c.name for c in columns if name in (c.name, c.zh)), ""), [])
        return st.one_of(st.sampled_from(known), NASTY) if known else NASTY

    rows = draw(
        st.lists(
            st.tuples(*(cell(h) for h in header)).map(list) if header else st.just([]),
            max_size=4,
        )
    )
    shape = draw(st.sampled_from(("csv", "csv", "csv", "xlsx", "raw")))
    if shape == "raw":
        return kind, "raw.csv", draw(st.binary(max_size=64))
    if shape == "xlsx":
        return kind, "file.xlsx", write_table(columns=header, rows=rows, fmt="xlsx")
    encoding = draw(st.sampled_from(ENCODINGS))
    return kind, "file.csv", _csv(header, rows, encoding)


def _palettes(session: Session, round_id: int) -> dict[str, dict[str, list[str]]]:
    """Each kind's cells as the tiny world exports them, by column (a few per column)."""
    palettes: dict[str, dict[str, list[str]]] = {}
    for kind in KINDS:
        header, rows = export_rows(session=session, kind=kind, actor=SYSTEM, round_id=round_id)
        palettes[kind] = {
            name: sorted({"" if r[i] is None else str(r[i]) for r in rows})[:8]
            for i, name in enumerate(header)
        }
    return palettes


def _shown(report: Any) -> None:
    """Everything the import page and the command line show of a report, in both languages."""
    for lang in ("en", "zh"):
        summary(report, lang)
        note_lines(report, lang)
        problem_lines(report, lang, limit=50)
        describe(report.frame(), lang)


@pytest.fixture
def tiny_round(tiny_session: Session) -> int:
    """The tiny world's Round 2, with the palettes read from the same world."""
    round_id = resolve_round(session=tiny_session, ref="Round 2")
    if not PALETTES:
        PALETTES.update(_palettes(tiny_session, round_id))
    return round_id


REQUEST_ID_PAST_64_BITS = (
    b"grid_code,building_code,unit,category,request_id\r\n"
    b"T-C1-G1,T-C1-G1-B1,1-101,food,9223372036854775808\r\n"
)


@given(file=st.deferred(files))
@example(file=("requests", "file.csv", REQUEST_ID_PAST_64_BITS))  # reached the driver
def test_any_file_is_imported_or_refused_with_a_message(
    tiny_session: Session, tiny_round: int, file: tuple[str, str, bytes]
) -> None:
    kind, name, content = file
    check_file(tiny_session, kind=kind, name=name, content=content, round_id=tiny_round)


def check_file(session: Session, *, kind: str, name: str, content: bytes, round_id: int) -> None:
    before = digest(session)
    try:
        table = read_file(data=content, name=name)
    except TableError as refused:
        assert t(refused.key, "zh") != refused.key, refused.key  # a message of our own
        t(refused.key, "en", **refused.params)
        assert digest(session) == before
        return
    try:
        report = import_table(
            session=session, kind=kind, table=table, actor=SYSTEM, round_id=round_id
        )
    except ImportConflict:
        assert digest(session) == before
        return
    _shown(report)
    if not report.ok:
        assert not report.written
        assert digest(session) == before
        for problem in report.problems:
            assert problem.row >= 1 and problem.column, problem
            assert t(problem.key, "zh") != problem.key, problem.key


def test_a_whole_number_is_one_a_database_column_stores() -> None:
    assert parse_whole(str(2**63 - 1)) == 2**63 - 1
    assert parse_whole(str(-(2**63))) == -(2**63)
    assert parse_whole(str(2**63)) is None and parse_whole(str(-(2**63) - 1)) is None
    assert parse_whole("9" * 400) is None and parse_whole(" 12.0 ") == 12
