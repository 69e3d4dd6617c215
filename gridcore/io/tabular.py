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
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from gridcore.io.xlsx import (
    MAX_ROWS,
    XlsxError,
    XlsxTooLarge,
    XlsxTooManyRows,
    read_rows,
    write_book,
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
    if len(data) > limits.file_bytes:
        raise TableError("io.error.file_too_big", max_mb=limits.file_bytes >> 20)
    if fmt == "csv":
        records: Iterable[tuple[int, Sequence[Any]]] = enumerate(_csv_records(data), start=1)
    elif fmt == "xlsx":
        try:
            records = read_rows(data)
        except XlsxTooManyRows as exc:
            raise TableError("io.error.too_many_rows", max=exc.limit) from None
        except XlsxTooLarge:
            raise TableError("io.error.too_large") from None
        except XlsxError:
            raise TableError("io.error.unreadable_excel") from None
    else:
        raise TableError("io.error.unknown_format", name=fmt)
    iterator = iter(records)
    try:
        _, header = next(iterator)
    except StopIteration:
        raise TableError("io.error.empty_file") from None
    columns = [_text(v) for v in header]
    while columns and columns[-1].strip() == "":
        columns.pop()
    if not columns:
        raise TableError("io.error.no_header")
    _check_cells(1, columns, columns, limits)
    width = len(columns)
    table = Table(columns=columns)
    for number, record in iterator:
        if len(record) > limits.columns and any(_text(v).strip() for v in record[width:]):
            # Cells far right of the header are never read, but a row of thousands of them
            # is a file made to be too much (a workbook pads its rows with empty ones).
            raise TableError("io.error.too_many_columns", max=limits.columns, row=number)
        cells = [_text(v) for v in record[:width]]
        if not any(c.strip() for c in cells):
            continue
        if len(table.rows) >= limits.rows:
            raise TableError("io.error.too_many_rows", max=limits.rows)
        if max(map(len, cells)) > limits.cell_chars:
            _check_cells(number, cells, columns, limits)
        cells.extend([""] * (width - len(cells)))
        table.rows.append((number, cells))
    return table


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


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise TableError("io.error.encoding") from None


def _csv_records(data: bytes) -> Iterable[Sequence[Any]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    # Excel writes ';' (some European locales) or tabs instead of commas.
    delimiter = ","
    if "," not in first_line:
        delimiter = next((d for d in (";", "\t") if d in first_line), ",")
    return _csv_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


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
