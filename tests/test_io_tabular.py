"""CSV and Excel tables: every cell read back as written, formula injection defeated both ways."""

from __future__ import annotations

import csv
import io
import tempfile
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from gridcore.io.tabular import (
    LIMITS,
    Limits,
    Table,
    TableError,
    escape_cell,
    format_of,
    frame_bytes,
    normal_name,
    open_table,
    read_table,
    unescape_cell,
    write_table,
    write_table_to,
)
from gridcore.io.xlsx import read_rows, write_book

ATTACK = "=cmd|' /C calc'!A0"
# Texts that must survive a round trip unchanged, the dangerous ones among them.
TEXTS = [
    ATTACK,
    "+86 139 0000 1234",
    "-5",
    "@SUM(A1)",
    "\tindented",
    "\rreturn",
    "'quoted",
    "'=already quoted",
    "''+twice",
    "'",
    "plain",
    "  spaces kept  ",
    "line\nbreak and\r\nCRLF",
    "张三丰",
    'a,b;"c"',
    "_x000D_ looks escaped",
    "<&>",
]


def test_dangerous_texts_get_an_apostrophe_and_lose_it_again() -> None:
    assert escape_cell(ATTACK) == "'" + ATTACK
    assert escape_cell("+8613900001234") == "'+8613900001234"
    assert escape_cell("-1") == "'-1"
    assert escape_cell("@x") == "'@x"
    assert escape_cell("\tx") == "'\tx"
    assert escape_cell("\rx") == "'\rx"
    assert escape_cell("'=x") == "''=x"
    assert escape_cell("plain") == "plain"
    assert escape_cell("'plain") == "'plain"
    assert escape_cell(-1) == -1  # numbers are not formulas
    assert escape_cell("") == ""
    for text in TEXTS:
        assert unescape_cell(escape_cell(text)) == text, text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_text_survives_a_round_trip(fmt: str) -> None:
    rows = [[i, text] for i, text in enumerate(TEXTS)]
    data = write_table(columns=["n", "text"], rows=rows, fmt=fmt)
    table = read_table(data=data, fmt=fmt)
    assert table.columns == ["n", "text"]
    assert [cells for _, cells in table.rows] == [[str(i), t] for i, t in enumerate(TEXTS)]
    assert [n for n, _ in table.rows] == list(range(2, len(TEXTS) + 2))


def test_the_csv_file_holds_no_cell_that_starts_a_formula() -> None:
    data = write_table(columns=["name"], rows=[[t] for t in TEXTS], fmt="csv")
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    cells = [row[0] for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))]
    assert cells[0] == "name"
    assert [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    assert f"'{ATTACK}" in cells


def test_the_workbook_holds_no_formula_and_no_cell_that_starts_one() -> None:
    data = write_table(columns=["name"], rows=[[t] for t in TEXTS], fmt="xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    values = [c.value for c in openpyxl.load_workbook(io.BytesIO(data)).active["A"]]
    assert values[0] == "name"
    assert [v for v in values if str(v)[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    assert f"'{ATTACK}" in values


def test_a_written_workbook_opens_in_openpyxl_with_its_types() -> None:
    data = write_book(
        columns=["a", "b", "c", "d"], rows=[["x", 12, 1.5, True], [None, -3, "", "y"]]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["a", "b", "c", "d"],
        ["x", 12, 1.5, True],
        [None, -3, None, "y"],
    ]
    assert sheet["A1"].font.b, "the header is bold"
    assert sheet.freeze_panes == "A2"


def test_a_workbook_saved_by_openpyxl_is_read_with_dates_numbers_and_shared_strings() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["sampled_at", "phone", "result", "ratio"])
    sheet.append([datetime(2026, 11, 16, 8, 0, 19), 13900001000, "阴性", 0.25])
    sheet.append([None, None, None, None])
    sheet.append([date(2026, 11, 17), "0012", "a&b", "=1+2"])
    sheet["F7"] = "beyond the header: ignored"
    buffer = io.BytesIO()
    book.save(buffer)
    table = read_table(data=buffer.getvalue(), fmt="xlsx")
    assert table.columns == ["sampled_at", "phone", "result", "ratio"]
    assert table.rows == [
        (2, ["2026-11-16 08:00:19", "13900001000", "阴性", "0.25"]),
        # An unsaved formula has no value; a date alone has no time.
        (4, ["2026-11-17 00:00:00", "0012", "a&b", ""]),
    ]


def test_rows_keep_the_numbers_a_spreadsheet_shows() -> None:
    data = b"a,b\n1,x\n,\n\n3,y\n"
    assert read_table(data=data, fmt="csv").rows == [(2, ["1", "x"]), (5, ["3", "y"])]


def test_short_rows_are_padded_and_long_rows_cut() -> None:
    data = b"a,b,c\n1\n1,2,3,4\n"
    assert read_table(data=data, fmt="csv").rows == [(2, ["1", "", ""]), (3, ["1", "2", "3"])]


def test_csv_from_a_chinese_excel_is_read_as_gb18030() -> None:
    data = "姓名,网格\n张三,T-C1-G1\n".encode("gb18030")
    table = read_table(data=data, fmt="csv")
    assert table.columns == ["姓名", "网格"]
    assert table.rows == [(2, ["张三", "T-C1-G1"])]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_with_semicolons_or_tabs(delimiter: str) -> None:
    data = f"a{delimiter}b\n1{delimiter}2,5\n".encode()
    assert read_table(data=data, fmt="csv").rows == [(2, ["1", "2,5"])]


def test_header_names_are_matched_loosely() -> None:
    table = Table(columns=[" Resident ID", "grid_code", "GRID_CODE"])
    assert table.index() == {"resident_id": 0, "grid_code": 1}
    assert normal_name("  Sampled   At ") == "sampled_at"


@pytest.mark.parametrize(
    ("data", "fmt", "key"),
    [
        (b"", "csv", "io.error.empty_file"),
        (b",,\n1,2,3\n", "csv", "io.error.no_header"),
        (b"not a zip file", "xlsx", "io.error.unreadable_excel"),
        (b"PK\x03\x04 broken", "xlsx", "io.error.unreadable_excel"),
        (b"\xff\xfe\x00\x00\x81", "csv", "io.error.encoding"),
    ],
)
def test_unreadable_files_raise_a_table_error(data: bytes, fmt: str, key: str) -> None:
    with pytest.raises(TableError) as caught:
        read_table(data=data, fmt=fmt)
    assert caught.value.key == key


def test_a_zip_that_is_no_workbook_is_unreadable() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(TableError) as caught:
        read_table(data=buffer.getvalue(), fmt="xlsx")
    assert caught.value.key == "io.error.unreadable_excel"


def test_the_format_comes_from_the_extension() -> None:
    assert format_of("a/b/results.CSV") == "csv"
    assert format_of("results.xlsx") == "xlsx"
    with pytest.raises(TableError) as caught:
        format_of("results.xls")
    assert caught.value.key == "io.error.unknown_format"
    assert caught.value.params == {"name": "results.xls"}


def test_a_frame_becomes_a_file_with_plain_values() -> None:
    frame = pd.DataFrame(
        {
            "name": [ATTACK, "李四"],
            "count": [3, 4],
            "when": [pd.Timestamp("2026-11-16 08:00:19+08:00"), pd.NaT],
            "share": [0.5, float("nan")],
        }
    )
    for fmt in ("csv", "xlsx"):
        table = read_table(data=frame_bytes(frame=frame, fmt=fmt), fmt=fmt)
        assert table.rows == [
            (2, [ATTACK, "3", "2026-11-16T08:00:19+08:00", "0.5"]),
            (3, ["李四", "4", "", ""]),
        ]


def test_a_large_workbook_reads_back_exactly() -> None:
    rows = [[f"R{i}", i, f"T{i % 97:05d}", "negative" if i % 3 else "阴性"] for i in range(5000)]
    data = write_table(columns=["a", "b", "c", "d"], rows=rows, fmt="xlsx")
    assert [cells for _, cells in read_table(data=data, fmt="xlsx").rows] == [
        [str(v) for v in row] for row in rows
    ]
    assert len(read_rows(data)) == 5001


# --------------------------------------------------------------------------- limits

SMALL = Limits(file_bytes=8000, rows=3, columns=4, cell_chars=10)


def _file(rows: list[list[str]], fmt: str) -> bytes:
    """The rows as they are, however wide (GridCore's own writer cuts rows to the header)."""
    if fmt == "csv":
        return write_table(columns=rows[0], rows=rows[1:], fmt=fmt)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            if value:
                sheet.cell(row=number, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("rows", "key", "params"),
    [
        # Four rows below the header: one more than allowed (a blank row is not counted).
        ([["a"], ["1"], ["2"], [""], ["3"], ["4"]], "io.error.too_many_rows", {"max": 3}),
        ([["a", "b", "c", "d", "e"], ["1"]], "io.error.too_many_columns", {"max": 4, "row": 1}),
        (
            [["a", "b"], ["1", "2"], ["1", "2", "", "", "", "far right"]],
            "io.error.too_many_columns",
            {"max": 4, "row": 3},
        ),
        (
            [["a", "b"], ["1", "2"], ["1", "x" * 11]],
            "io.error.cell_too_long",
            {"row": 3, "column": "b", "max": 10},
        ),
        ([["a", "b" * 11]], "io.error.cell_too_long", {"row": 1, "column": "b" * 11, "max": 10}),
    ],
)
def test_each_limit_is_refused_with_its_own_message(
    fmt: str, rows: list[list[str]], key: str, params: dict[str, object]
) -> None:
    data = _file(rows, fmt)
    with pytest.raises(TableError) as caught:
        read_table(data=data, fmt=fmt, limits=SMALL)
    assert (caught.value.key, caught.value.params) == (key, params)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_file_just_within_the_limits_is_read(fmt: str) -> None:
    rows = [["a", "b", "c", "d"], ["1", "x" * 10, "", ""], [""], ["2"], ["3", "", "", "4"]]
    table = read_table(data=_file(rows, fmt), fmt=fmt, limits=SMALL)
    assert [n for n, _ in table.rows] == [2, 4, 5]
    # Empty cells right of the header (a workbook pads its rows) are no reason to refuse.
    padded = [["a"], ["1", "", "", "", "", "", ""]]
    assert len(read_table(data=_file(padded, fmt), fmt=fmt, limits=SMALL).rows) == 1


def test_a_file_too_big_is_refused_before_it_is_read() -> None:
    data = _file([["a"]] + [["x" * 9]] * 900, "csv")
    assert len(data) > SMALL.file_bytes
    with pytest.raises(TableError) as caught:
        read_table(data=data, fmt="csv", limits=SMALL)
    assert (caught.value.key, caught.value.params) == ("io.error.file_too_big", {"max_mb": 0})
    assert LIMITS.file_bytes == 48 << 20


def test_a_csv_cell_past_the_csv_modules_own_limit_is_named_too_long() -> None:
    data = b'a,b\n1,"' + b"y" * (csv.field_size_limit() + 1) + b'"\n'
    with pytest.raises(TableError) as caught:
        read_table(data=data, fmt="csv")
    assert caught.value.key == "io.error.cell_too_long"


# --------------------------------------------------------------------------- streaming


def _rows(count: int) -> Iterator[list[object]]:
    return ([n, f"居民{n}", f"2026-03-20T10:{n % 60:02d}:00+08:00", "=1+1"] for n in range(count))


def test_a_stream_reads_what_was_written_row_by_row(tmp_path: Path) -> None:
    columns = ["id", "姓名", "sampled_at", "note"]
    for fmt in ("csv", "xlsx"):
        path = tmp_path / f"t.{fmt}"
        with path.open("wb") as out:
            assert write_table_to(out, columns=columns, rows=_rows(250), fmt=fmt) == 250
        stream = open_table(source=path, fmt=fmt)
        assert stream.columns == columns
        chunks = list(stream.chunks(100))
        assert [len(c) for c in chunks] == [100, 100, 50]
        assert chunks[2][-1] == (251, ["249", "居民249", "2026-03-20T10:09:00+08:00", "=1+1"])
        assert read_table(data=path.read_bytes(), fmt=fmt).rows == [r for c in chunks for r in c]


def _peak(count: int) -> int:
    """Peak traced bytes of reading a CSV file of `count` rows in chunks of 250."""
    with tempfile.TemporaryFile() as out:
        write_table_to(out, columns=["id", "name", "at", "note"], rows=_rows(count), fmt="csv")
        out.seek(0)
        data = out.read()
    tracemalloc.start()  # the file's own bytes are the caller's
    try:
        rows = sum(len(chunk) for chunk in open_table(source=data, fmt="csv").chunks(250))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == count
    return peak


def test_streamed_files_take_memory_flat_in_their_rows() -> None:
    # Files past the 64 KB the reader decodes at once (tracemalloc makes each row slow).
    small, large = _peak(2_000), _peak(6_000)
    assert large < 1.5 * small
