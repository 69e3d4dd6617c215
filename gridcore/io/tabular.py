"""CSV and Excel tables: reading every cell as text, writing safe against formula injection.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return) as a
formula, so on export such a text gets an apostrophe in front ("'=1+1"), and on import
that apostrophe is taken off again: a round trip gives back exactly what was exported.
Texts that merely start with an apostrophe are left alone both ways, except when more
apostrophes and then one of those characters follow (those get one more, which import
removes), so that every text survives the trip.

CSV is written as UTF-8 with a byte-order mark (Excel then shows Chinese correctly) and
read as UTF-8, falling back to GB18030 (what Excel saves a CSV as on a Chinese system).
Excel files: the first worksheet, row 1 the header (see gridcore.io.xlsx for how they are
read and written, and the limits on what is unpacked).

Limits (`Limits`, checked while the rows are read, each refused with its own message): the
file's size, the rows below the header, the columns, and the characters in one cell.

Streaming. `open_table` reads the header at once and the data rows one by one as they are
iterated (`TableStream`): a CSV through the csv module over a text stream (its encoding
found by a first pass that decodes without keeping), a workbook through calamine's row
iterator after the size checks. `write_table_to` writes rows to a file as they come.
Memory stays flat in the number of rows (an uploaded file's own bytes aside).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

import pandas as pd

from gridcore.io.xlsx import (
    MAX_ROWS,
    XlsxError,
    XlsxTooLarge,
    XlsxTooManyRows,
    iter_rows,
    write_book,
    write_book_to,
)

FORMATS: tuple[str, ...] = ("csv", "xlsx")
# First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
HEADER_ROW = 1
MIME_TYPES: dict[str, str] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Limits:
    """What a file may hold; past any of these it is refused, not read further."""

    # An upload or a file given to the command line (Streamlit's server.maxUploadSize is
    # set to the same in .streamlit/config.toml). 100,000 test results are about 12 MB.
    file_bytes: int = 48 << 20
    rows: int = MAX_ROWS  # data rows below the header
    columns: int = 60  # the widest file GridCore reads has 11 columns
    cell_chars: int = 4000  # a name, an address or a note; the longest field stored is 2000


LIMITS = Limits()
# A CSV named on the command line is read as a stream, so it may be as large as a district's
# round (952,329 test results are about 160 MB); a workbook keeps to MAX_ROWS still
# (calamine holds its whole grid).
FILE_LIMITS = Limits(file_bytes=1 << 30, rows=5_000_000)


class TableError(Exception):
    """A file cannot be read or written as a table; `key` and `params` say why (i18n)."""

    def __init__(self, key: str, **params: Any):
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass
class Table:
    """A read table: header names, and each non-blank data row with its spreadsheet row number."""

    columns: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)

    def index(self) -> dict[str, int]:
        """Column name (trimmed, lower case) → position; the first of duplicated names wins."""
        positions: dict[str, int] = {}
        for i, name in enumerate(self.columns):
            positions.setdefault(normal_name(name), i)
        return positions


class TableStream:
    """A table read as it is iterated: the header at once, the data rows one pass only.

    A limit (`Limits`) passed, or a cell the reader cannot take, raises TableError from the
    iteration, wherever in the file it is.
    """

    def __init__(self, *, columns: list[str], rows: Iterable[tuple[int, list[str]]]) -> None:
        self.columns = columns
        self._rows = iter(rows)

    @classmethod
    def of(cls, table: Table) -> TableStream:
        """A read table as a stream (its rows are not copied)."""
        return cls(columns=table.columns, rows=table.rows)

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self._rows

    def chunks(self, size: int) -> Iterator[list[tuple[int, list[str]]]]:
        """The rows in lists of at most `size`; one empty list for a file of no data rows."""
        chunk: list[tuple[int, list[str]]] = []
        empty = True
        for row in self._rows:
            chunk.append(row)
            if len(chunk) == size:
                yield chunk
                chunk, empty = [], False
        if chunk or empty:
            yield chunk

    def table(self) -> Table:
        """Every remaining row, read into a Table."""
        return Table(columns=self.columns, rows=list(self._rows))


def normal_name(name: str) -> str:
    """A header name as it is matched: trimmed, lower case, spaces as underscores."""
    return "_".join(name.strip().lower().split())


def format_of(name: str | Path) -> str:
    """'csv' or 'xlsx' from a file name's extension; TableError for anything else."""
    suffix = Path(str(name)).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise TableError("io.error.unknown_format", name=Path(str(name)).name)
    return suffix


# --------------------------------------------------------------------------- formula injection


def _needs_quote(text: str) -> bool:
    rest = text.lstrip(QUOTE)
    return rest != "" and rest[0] in FORMULA_STARTS


def escape_cell(value: Any) -> Any:
    """`value` safe to put in a spreadsheet cell (texts that would run as formulas get a ')."""
    if isinstance(value, str) and _needs_quote(value):
        return QUOTE + value
    return value


def unescape_cell(text: str) -> str:
    """The text `escape_cell` was given, from what it returned (the inverse, for every text)."""
    if text.startswith(QUOTE) and _needs_quote(text):
        return text[1:]
    return text


# --------------------------------------------------------------------------- writing


def write_table(*, columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str) -> bytes:
    """The bytes of a CSV or Excel file with a header row and `rows` (None is an empty cell)."""
    if fmt == "csv":
        return _write_csv(columns, rows)
    if fmt == "xlsx":
        return _write_xlsx(columns, rows)
    raise TableError("io.error.unknown_format", name=fmt)


def write_table_to(
    target: IO[bytes], *, columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str
) -> int:
    """Write a CSV or Excel file to `target` as the rows come; the number of data rows.

    A workbook needs `target` to be seekable (a file, or a spooled temporary file).
    """
    counted = _Counted(rows)
    if fmt == "csv":
        _write_csv_to(target, columns, counted)
    elif fmt == "xlsx":
        write_book_to(
            target,
            columns=[escape_cell(c) for c in columns],
            rows=([escape_cell(v) for v in row] for row in counted),
        )
    else:
        raise TableError("io.error.unknown_format", name=fmt)
    return counted.count


class _Counted:
    """An iterable of rows that counts them as they pass."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Sequence[Any]]:
        for row in self._rows:
            self.count += 1
            yield row


# Rows written to the text stream at once.
_WRITE_BATCH = 2000


def _write_csv_to(target: IO[bytes], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=True)
    try:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow([escape_cell(c) for c in columns])
        for number, row in enumerate(rows, start=1):
            writer.writerow([escape_cell(v) for v in row])
            if number % _WRITE_BATCH == 0:
                text.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
        text.write(buffer.getvalue())
        text.flush()
    finally:
        text.detach()  # the target stays open: it is the caller's


def frame_bytes(*, frame: pd.DataFrame, fmt: str) -> bytes:
    """A DataFrame as a CSV or Excel file (for downloads of any table view)."""
    rows = (
        [None if _missing(v) else _plain(v) for v in record]
        for record in frame.itertuples(index=False, name=None)
    )
    return write_table(columns=[str(c) for c in frame.columns], rows=rows, fmt=fmt)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """A cell value openpyxl and csv both take: numbers stay numbers, times become ISO text."""
    if isinstance(value, datetime):  # pandas Timestamps too
        return value.isoformat(timespec="seconds")
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # a numpy number
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([escape_cell(c) for c in columns])
    writer.writerows([escape_cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def _write_xlsx(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return write_book(
        columns=[escape_cell(c) for c in columns],
        rows=([escape_cell(v) for v in row] for row in rows),
    )


# --------------------------------------------------------------------------- reading


def read_table(*, data: bytes, fmt: str, limits: Limits = LIMITS) -> Table:
    """The header and data rows of a CSV or Excel file, every cell as text ('' when empty).

    Blank rows are left out but counted, so each row keeps the number a spreadsheet shows
    (the header is row 1). Raises TableError when the file cannot be read or has no header,
    or goes past `limits`.
    """
    return open_table(source=data, fmt=fmt, limits=limits).table()


def open_table(*, source: bytes | Path, fmt: str, limits: Limits = LIMITS) -> TableStream:
    """`read_table` as a stream: the header read (or TableError) now, the rows as iterated.

    `source` is the file's bytes or its path; a CSV at a path is read from disk as it goes.
    """
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if size > limits.file_bytes:
        raise TableError("io.error.file_too_big", max_mb=limits.file_bytes >> 20)
    if fmt == "csv":
        records: Iterator[tuple[int, Sequence[Any]]] = enumerate(_csv_records(source), start=1)
    elif fmt == "xlsx":
        data = source.read_bytes() if isinstance(source, Path) else source
        try:
            records = iter_rows(data)
        except XlsxTooManyRows as exc:
            raise TableError("io.error.too_many_rows", max=exc.limit) from None
        except XlsxTooLarge:
            raise TableError("io.error.too_large") from None
        except XlsxError:
            raise TableError("io.error.unreadable_excel") from None
    else:
        raise TableError("io.error.unknown_format", name=fmt)
    try:
        _, header = next(records)
    except StopIteration:
        raise TableError("io.error.empty_file") from None
    columns = [_text(v) for v in header]
    while columns and columns[-1].strip() == "":
        columns.pop()
    if not columns:
        raise TableError("io.error.no_header")
    _check_cells(1, columns, columns, limits)
    return TableStream(columns=columns, rows=_data_rows(records, columns, limits))


def _data_rows(
    records: Iterator[tuple[int, Sequence[Any]]], columns: list[str], limits: Limits
) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows below the header as text, each checked against `limits`."""
    width = len(columns)
    count = 0
    for number, record in records:
        if len(record) > limits.columns and any(_text(v).strip() for v in record[width:]):
            # Cells far right of the header are never read, but a row of thousands of them
            # is a file made to be too much (a workbook pads its rows with empty ones).
            raise TableError("io.error.too_many_columns", max=limits.columns, row=number)
        cells = [_text(v) for v in record[:width]]
        if not any(c.strip() for c in cells):
            continue
        if count >= limits.rows:
            raise TableError("io.error.too_many_rows", max=limits.rows)
        count += 1
        if max(map(len, cells)) > limits.cell_chars:
            _check_cells(number, cells, columns, limits)
        cells.extend([""] * (width - len(cells)))
        yield number, cells


def _check_cells(number: int, record: Sequence[Any], columns: list[str], limits: Limits) -> None:
    """TableError for a row wider than the column limit, or a cell longer than the cell limit
    (`record` holds the cells as read: texts, or an Excel cell's number or time)."""
    if len(record) > limits.columns:
        raise TableError("io.error.too_many_columns", max=limits.columns, row=number)
    for position, value in enumerate(record):
        if isinstance(value, str) and len(value) > limits.cell_chars:
            column = columns[position] if position < len(columns) else str(position + 1)
            raise TableError(
                "io.error.cell_too_long", row=number, column=column, max=limits.cell_chars
            )


def _text(value: Any) -> str:
    """A cell's value as text: numbers without a spurious '.0', times in ISO 8601.

    A date cell reads as its midnight ('2026-11-17 00:00:00'): Excel stores a moment, and
    a moment is what the time columns take.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return unescape_cell(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return datetime.combine(value, time()).isoformat(sep=" ")
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _duration_text(value)
    return str(value)


def _duration_text(value: timedelta) -> str:
    """A duration cell ([h]:mm) as it read before calamine: under a day the time of day,
    else the date its day count names in Excel (which counts 1900 as a leap year)."""
    if timedelta(0) <= value < timedelta(days=1):
        return (datetime.min + value).time().isoformat()
    start = datetime(1899, 12, 31) if value < timedelta(days=60) else datetime(1899, 12, 30)
    return (start + value).isoformat(sep=" ")


# The encodings a CSV is read in, in the order tried.
_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030")
_BLOCK = 1 << 16


def _binary(source: bytes | Path) -> IO[bytes]:
    return source.open("rb") if isinstance(source, Path) else io.BytesIO(source)


def _encoding(source: bytes | Path) -> tuple[str, str]:
    """The first encoding that decodes the whole file, and the file's first line in it.

    Each is tried by decoding block by block without keeping the text; TableError when
    neither decodes it.
    """
    for encoding in _ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        first_line: str | None = None
        head = ""
        try:
            with _binary(source) as stream:
                while block := stream.read(_BLOCK):
                    text = decoder.decode(block)
                    if first_line is None:
                        head += text
                        if "\n" in head:
                            first_line = head.split("\n", 1)[0]
                            head = ""
                text = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding, first_line if first_line is not None else head + text
    raise TableError("io.error.encoding")


def _csv_records(source: bytes | Path) -> Iterator[Sequence[Any]]:
    encoding, first_line = _encoding(source)
    # Excel writes ';' (some European locales) or tabs instead of commas.
    delimiter = ","
    if "," not in first_line:
        delimiter = next((d for d in (";", "\t") if d in first_line), ",")
    return _csv_file_rows(source, encoding, delimiter)


def _csv_file_rows(source: bytes | Path, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """The file's records one by one, decoded as they are read."""
    with io.TextIOWrapper(_binary(source), encoding=encoding, newline="") as text:
        yield from _csv_rows(csv.reader(text, delimiter=delimiter))


def _csv_rows(reader: Any) -> Iterator[list[str]]:
    """The reader's records one by one (read_table refuses a file as soon as it is too much)."""
    try:
        yield from reader
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            # csv's own limit (131,072 characters), far above Limits.cell_chars.
            raise TableError(
                "io.error.cell_too_long", row=reader.line_num, column="?", max=LIMITS.cell_chars
            ) from None
        raise TableError("io.error.bad_csv", detail=str(exc)) from None
