"""Excel files: cells read as they were before calamine; oversized and crafted files refused."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from typing import Any

import pytest

from gridcore.i18n import t
from gridcore.io import xlsx
from gridcore.io.tabular import TableError, read_table
from gridcore.io.xlsx import write_book

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# Cell styles (by index): general, a date, a date and time, a time, the Chinese built-in date
# formats 31 and 57 (no format code in the file), a custom Chinese date, a duration.
STYLES = (
    f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">'
    '<numFmts count="2">'
    '<numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
    '<numFmt numFmtId="165" formatCode="[h]:mm:ss"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="8">'
    + "".join(
        f'<xf numFmtId="{i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        for i in (0, 14, 22, 21, 31, 57, 164, 165)
    )
    + "</cellXfs></styleSheet>"
)


def _sheet(rows: str, prefix: str = "") -> str:
    p, ns = (f"{prefix}:", f'xmlns:{prefix}="{MAIN}"') if prefix else ("", f'xmlns="{MAIN}"')
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {ns}>'
        f"<{p}sheetData>{rows}</{p}sheetData></{p}worksheet>"
    )


def _book(sheet: str, *, strings: tuple[str, ...] = (), date1904: bool = False) -> bytes:
    """A workbook (the parts GridCore writes) around this worksheet, string table and styles."""
    parts = {}
    with zipfile.ZipFile(io.BytesIO(write_book(columns=["x"], rows=[]))) as book:
        for name in book.namelist():
            parts[name] = book.read(name)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    parts["xl/styles.xml"] = STYLES.encode()
    items = "".join(s if s.startswith("<si>") else f"<si><t>{s}</t></si>" for s in strings)
    parts["xl/sharedStrings.xml"] = f'<sst xmlns="{MAIN}">{items}</sst>'.encode()
    if date1904:
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
            b"<sheets>", b'<workbookPr date1904="1"/><sheets>'
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        for name, body in parts.items():
            book.writestr(name, body)
    return buffer.getvalue()


def _rows(data: bytes) -> list[tuple[int, list[str]]]:
    return read_table(data=data, fmt="xlsx").rows


def _refused(data: bytes) -> TableError:
    with pytest.raises(TableError) as caught:
        read_table(data=data, fmt="xlsx")
    return caught.value


@pytest.fixture
def no_calamine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the file gets as far as calamine."""

    class Refused:
        @staticmethod
        def from_filelike(_: Any) -> None:
            raise AssertionError("calamine was given the file")

    monkeypatch.setattr(xlsx, "CalamineWorkbook", Refused)


# --------------------------------------------------------------------------- cell values

HEADER = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
STRINGS = (
    "name",
    "when",
    "<si><r><t>张</t></r><r><rPr><b/></rPr><t>三</t></r></si>",
    '<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si>',
    "line_x000D_\nbreak",
    "_x005F_x000D_ written literally",
)


def test_cells_read_as_text_as_before() -> None:
    rows = (
        HEADER
        + '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="1"><v>46342</v></c></row>'
        + '<row r="3"><c r="A3" t="s"><v>3</v></c>'
        + '<c r="B3" s="2"><v>46342.33355324074</v></c></row>'
        + '<row r="4"><c r="A4" t="s"><v>4</v></c><c r="B4" s="3"><v>0.5</v></c></row>'
        + '<row r="5"><c r="A5" t="s"><v>5</v></c><c r="B5" s="4"><v>46342</v></c></row>'
        + '<row r="6"><c r="A6"><v>12</v></c><c r="B6" s="5"><v>46342.5</v></c></row>'
        + '<row r="7"><c r="A7"><v>13900001000</v></c><c r="B7" s="6"><v>46342</v></c></row>'
        + '<row r="8"><c r="A8"><v>0.25</v></c><c r="B8" s="7"><v>0.25</v></c></row>'
        + '<row r="9"><c r="A9" t="b"><v>1</v></c><c r="B9" s="7"><v>1.5</v></c></row>'
        + '<row r="10"><c r="A10" t="str"><f>B1</f><v>cached</v></c>'
        + '<c r="B10" t="inlineStr"><is><t>inline_x000D_</t></is></c></row>'
    )
    assert _rows(_book(_sheet(rows), strings=STRINGS)) == [
        (2, ["张三", "2026-11-16 00:00:00"]),  # rich text joined; a date alone is its midnight
        (3, ["東京", "2026-11-16 08:00:19"]),  # phonetic guide left out
        (4, ["line\r\nbreak", "12:00:00"]),  # _x000D_ is a carriage return
        (5, ["_x000D_ written literally", "2026-11-16 00:00:00"]),  # format 31: a date
        (6, ["12", "2026-11-16 12:00:00"]),  # no '.0'; format 57: a date
        (7, ["13900001000", "2026-11-16 00:00:00"]),  # 2026年11月16日
        (8, ["0.25", "06:00:00"]),  # a duration under a day: its time
        (9, ["TRUE", "1900-01-01 12:00:00"]),  # past a day: the date Excel shows
        (10, ["cached", "inline\r"]),
    ]


def test_error_cells_and_iso_dates_keep_their_text() -> None:
    """calamine empties #N/A and turns t="d" cells into dates; they read as written."""
    rows = (
        HEADER
        + '<row r="2"><c r="A2" t="e"><f>VLOOKUP(1,C:C,1,0)</f><v>#N/A</v></c>'
        + '<c r="B2" t="d"><v>2026-11-16T08:00:19</v></c></row>'
        + '<row r="3"><c r="B3" t="d"><v>2026-11-16</v></c></row>'
    )
    expected = [(2, ["#N/A", "2026-11-16T08:00:19"]), (3, ["", "2026-11-16"])]
    assert _rows(_book(_sheet(rows), strings=STRINGS)) == expected
    # The same cells without references, and with a namespace prefix, read alike.
    loose = rows.replace(' r="A2"', "").replace(' r="B2"', "")
    assert _rows(_book(_sheet(loose), strings=STRINGS)) == expected
    prefixed = _sheet(rows.replace("<", "<x:").replace("<x:/", "</x:"), prefix="x")
    assert _rows(_book(prefixed, strings=STRINGS)) == expected


def test_a_workbook_counting_from_1904_reads_the_same_dates() -> None:
    rows = (
        HEADER
        + '<row r="2"><c r="A2"><v>1</v></c><c r="B2" s="2"><v>44880.33355324074</v></c></row>'
    )
    assert _rows(_book(_sheet(rows), strings=STRINGS, date1904=True)) == [
        (2, ["1", "2026-11-16 08:00:19"])
    ]


def test_a_table_keeps_its_place_on_the_sheet() -> None:
    """Rows keep their numbers and cells their columns when the table starts at C3."""
    rows = (
        '<row r="3"><c r="C3" t="s"><v>0</v></c><c r="D3" t="s"><v>1</v></c></row>'
        '<row r="4"><c r="C4" t="s"><v>6</v></c></row>'  # an empty text: a blank row
        '<row r="6"><c r="C6"><v>1</v></c><c r="E6"><v>2</v></c></row>'
    )
    table = read_table(data=_book(_sheet(rows), strings=(*STRINGS, "")), fmt="xlsx")
    assert table.columns == ["", "", "name", "when"]
    assert table.rows == [(6, ["", "", "1", ""])]


def test_cells_without_references_follow_each_other() -> None:
    rows = (
        '<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row>'
        "<row><c><v>1</v></c><c><v>2</v></c></row>"
        '<row r="5"><c><v>3</v></c><c r="B5"><v>4</v></c></row>'
    )
    assert _rows(_book(_sheet(rows), strings=STRINGS)) == [(2, ["1", "2"]), (5, ["3", "4"])]


def test_rows_out_of_order_are_read_in_order() -> None:
    rows = HEADER + '<row r="3"><c r="A3"><v>3</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
    assert _rows(_book(_sheet(rows), strings=STRINGS)) == [(2, ["2", ""]), (3, ["3", ""])]


# --------------------------------------------------------------------------- limits


def _zip(parts: dict[str, tuple[bytes, int, int]]) -> bytes:
    """A zip of already deflated parts: name -> (deflated bytes, declared size, CRC)."""
    local, central = io.BytesIO(), io.BytesIO()
    for name, (deflated, size, crc) in parts.items():
        offset, encoded = local.tell(), name.encode()
        sizes = (crc, len(deflated), size, len(encoded))
        local.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, *sizes, 0))
        local.write(encoded + deflated)
        central.write(
            struct.pack(
                "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, *sizes, 0, 0, 0, 0, 0, offset
            )
            + encoded
        )
    tail = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(parts), len(parts), central.tell(), local.tell(), 0
    )
    return local.getvalue() + central.getvalue() + tail


def _deflated(body: bytes) -> tuple[bytes, int, int]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(body) + packer.flush(), len(body), zlib.crc32(body)


# A row of a test-results file as a spreadsheet would hold it (about 170 bytes), and a
# row of one small cell; neither has references, as a sheet may leave them out.
RESULT_ROW = (
    '<row><c t="inlineStr"><is><t>第7轮全员核酸</t></is></c><c><v>100000</v></c>'
    '<c t="inlineStr"><is><t>SH-XH-TL-C01-G01</t></is></c><c s="2"><v>46342.6348</v></c></row>'
).encode()
SMALL_ROW = b"<row><c><v>1</v></c></row>"


def _bomb(row: bytes, rows: int, *, declared: int | None = None) -> bytes:
    """A workbook whose sheet repeats `row` `rows` times, packed to a few hundred KB.

    One block of rows is deflated once and repeated (each block starts afresh), which
    is how such files are made without ever holding them unpacked.
    """
    per_block = 10_000
    block = row * per_block
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = _sheet("").split("</sheetData>")[0].encode()
    tail = b"</sheetData></worksheet>"
    packed_block = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    blocks = rows // per_block
    crc = zlib.crc32(head)
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH) + packed_block * blocks
    deflated += packer.compress(tail) + packer.flush()
    size = len(head) + len(block) * blocks + len(tail)
    with zipfile.ZipFile(io.BytesIO(write_book(columns=["x"], rows=[]))) as book:
        parts = {name: _deflated(book.read(name)) for name in book.namelist()}
    parts["xl/worksheets/sheet1.xml"] = (deflated, declared or size, crc)
    return _zip(parts)


def _read_quickly_and_small(data: bytes) -> TableError:
    """The error reading `data` raises, checked to come within 3 s and 32 MB."""
    started = time.perf_counter()
    error = _refused(data)
    assert time.perf_counter() - started < 3
    tracemalloc.start()  # a second time: tracing slows the reading down
    try:
        assert _refused(data).key == error.key
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20, f"{peak / 1e6:.0f} MB"
    return error


def test_a_zip_bomb_is_refused_before_it_is_unpacked(no_calamine: None) -> None:
    bomb = _bomb(RESULT_ROW, 2_000_000)
    assert len(bomb) < 1_500_000  # 2,000,000 rows: 340 MB of XML
    error = _read_quickly_and_small(bomb)
    assert error.key == "io.error.too_large"
    assert "too large" in t(error.key, "en", **error.params)
    assert "过大" in t(error.key, "zh", **error.params)


def test_a_zip_bomb_that_understates_its_size_is_stopped_while_unpacking(
    no_calamine: None,
) -> None:
    """The zip's directory may lie: no more is unpacked than it declares."""
    error = _read_quickly_and_small(_bomb(RESULT_ROW, 2_000_000, declared=1_000_000))
    assert error.key == "io.error.too_large"


def test_a_zip_bomb_within_the_size_limit_is_stopped_at_the_row_limit(
    no_calamine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = _bomb(SMALL_ROW, 2_000_000)
    assert len(bomb) < 150_000  # 2,000,000 rows: 52 MB of XML
    started = time.perf_counter()
    error = _refused(bomb)
    assert time.perf_counter() - started < 3
    assert (error.key, error.params) == ("io.error.too_many_rows", {"max": 200_000})
    # Memory, with tracing (which slows it down ten times) to a lower limit: the sheet
    # is read in runs of a few MB whatever the limit.
    monkeypatch.setattr(xlsx, "MAX_ROWS", 20_000)
    assert _read_quickly_and_small(bomb).key == "io.error.too_many_rows"


@pytest.mark.parametrize(
    "rows",
    [
        # Two cells far apart: calamine would hold the rectangle between them.
        '<row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>',
        # ... a second r attribute (calamine takes the last), or one right after a value.
        '<row r="1"><c r="A1"><v>1</v></c><c r="B1" r="C1048576"><v>2</v></c></row>',
        '<row r="1"><c r="A1"><v>1</v></c><c s="0"r="C1048576"><v>2</v></c></row>',
        # ... written with spaces or single quotes, or after a '>' inside another value.
        "<row r=\"1\"><c r = 'A1'><v>1</v></c><c r='XFD1048576'><v>2</v></c></row>",
        '<row r="1"><c r="A1"><v>1</v></c><c x=">" r="A1048576"><v>2</v></c></row>',
        # ... without references, placed by the row; or behind a namespace prefix.
        '<row r="1"><c><v>1</v></c></row><row r="1048576"><c><v>2</v></c></row>',
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048575"/><row><c><v>2</v></c></row>',
        '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="A999999"><x:v>2</x:v></x:c></x:row>',
    ],
)
def test_cells_spread_over_too_many_rows_are_refused(rows: str, no_calamine: None) -> None:
    prefix = "x" if rows.startswith("<x:") else ""
    error = _read_quickly_and_small(_book(_sheet(rows, prefix)))
    assert error.key == "io.error.too_many_rows"
    assert error.params == {"max": xlsx.MAX_ROWS}
    assert "200,000 rows" in t(error.key, "en", **error.params)


def test_a_worksheet_with_comments_is_read_only_when_every_cell_has_its_reference() -> None:
    """A look-alike cell in a comment could hide one without a reference from the scan."""
    hidden = '<row r="1048576"><!-- <c r="A1"> --><c><v>2</v></c></row>'
    assert _refused(_book(_sheet(HEADER + hidden))).key == "io.error.unreadable_excel"
    shown = '<row r="2"><!-- a note --><c r="A2"><v>2</v></c></row>'
    assert _rows(_book(_sheet(HEADER + shown), strings=STRINGS)) == [(2, ["2", ""])]


def test_cells_spread_over_too_many_columns_are_refused(no_calamine: None) -> None:
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="150000"><c r="XFD150000"><v>2</v></c></row>'
    )
    assert _read_quickly_and_small(_book(_sheet(rows))).key == "io.error.too_large"


def test_far_places_calamine_does_not_fill_are_read() -> None:
    """A styled empty cell holds nothing; an attribute merely ending in r is no reference."""
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="D1" s="1"/></row>'
        '<row r="2"><c r="A2" dir="5400000" lastClr="FFFFFF"><v>7</v></c></row>'
    )
    assert _rows(_book(_sheet(rows), strings=STRINGS)) == [(2, ["7"])]


@pytest.mark.parametrize("loose", [False, True])
def test_the_row_limit_is_the_header_and_max_rows(
    loose: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_ROWS", 5)

    def sheet(rows: int) -> bytes:
        cells = "".join(
            f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, rows + 1)
        )
        return _book(_sheet(cells.replace(' r="A', ' x="A') if loose else cells))

    assert len(_rows(sheet(6))) == 5
    error = _refused(sheet(7))
    assert (error.key, error.params) == ("io.error.too_many_rows", {"max": 5})


def test_the_cell_limit_counts_every_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx, "MAX_CELLS", 10)
    cells = "".join(f'<c r="A1"><v>{n}</v></c>' for n in range(11))  # all in one place
    assert _refused(_book(_sheet(f'<row r="1">{cells}</row>'))).key == "io.error.too_large"


def test_a_zip_directory_of_millions_of_entries_is_refused(
    monkeypatch: pytest.MonkeyPatch, no_calamine: None
) -> None:
    monkeypatch.setattr(xlsx, "MAX_DIRECTORY_BYTES", 400)  # this one's is 450 bytes
    assert _refused(write_book(columns=["x"], rows=[])).key == "io.error.too_large"


def test_a_part_packed_another_way_is_unreadable() -> None:
    buffer = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(write_book(columns=["x"], rows=[["1"]])))
    with source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as book:
        for name in source.namelist():
            book.writestr(name, source.read(name))
    assert _refused(buffer.getvalue()).key == "io.error.unreadable_excel"
