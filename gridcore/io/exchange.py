"""One entry for the command line and the import page: export a kind to a file, import one.

Every kind of file is an `Exchange` (io.importer) declared by its subject's io module as
`EXCHANGE` and listed once in `_SUBJECTS` below; the CLI, the import page and the round-trip
tests read the registry, never a kind's module directly.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import IO, Any

from sqlmodel import Session

from gridcore.access import Actor
from gridcore.io import cases, requests, residents, tasks
from gridcore.io import stock as stock_movements
from gridcore.io import testing as test_results
from gridcore.io import workforce as workers
from gridcore.io.importer import Column, Exchange
from gridcore.io.report import ImportReport
from gridcore.io.tabular import (
    LIMITS,
    Limits,
    Table,
    TableStream,
    format_of,
    open_table,
    read_table,
    write_table_to,
)

# The io modules whose EXCHANGE (or EXCHANGES, several kinds) is a kind of file, in the order
# the CLI lists them.
_SUBJECTS = (residents, test_results, cases, stock_movements, requests, tasks, workers)


def _exchanges() -> tuple[Exchange, ...]:
    return tuple(e for m in _SUBJECTS for e in getattr(m, "EXCHANGES", None) or (m.EXCHANGE,))


@cache
def registry() -> dict[str, Exchange]:
    """Every kind of file, by name."""
    return {e.kind: e for e in _exchanges()}


KINDS: tuple[str, ...] = tuple(e.kind for e in _exchanges())


def exchange_of(kind: str) -> Exchange:
    """The kind named `kind` (ValueError when there is none)."""
    try:
        return registry()[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}") from None


def _options(spec: Exchange, options: dict[str, Any]) -> dict[str, Any]:
    """The options `spec` takes, from those given (unset ones left out)."""
    return {k: v for k, v in options.items() if k in spec.options and v is not None}


def columns_of(kind: str) -> tuple[Column, ...]:
    """The columns of a file of `kind`: English and Chinese names, which are required."""
    return exchange_of(kind).columns


# Languages an export's header can be written in; every import reads both.
HEADER_LANGUAGES: tuple[str, ...] = ("en", "zh")


def header_names(kind: str, columns: list[str], headers: str = "en") -> list[str]:
    """An export's header in `headers` ('en' as is, 'zh' each column's Chinese name from the
    kind's column rules); ValueError for any other language."""
    if headers not in HEADER_LANGUAGES:
        raise ValueError(f"unknown header language {headers!r}; expected en or zh")
    if headers == "en":
        return columns
    chinese = {c.name: c.zh for c in exchange_of(kind).columns}
    return [chinese.get(name, name) for name in columns]


def export_rows(
    *, session: Session, kind: str, actor: Actor, headers: str = "en", **options: Any
) -> tuple[list[str], list[list[Any]]]:
    """The header (in `headers`' language) and rows of an export of `kind` (options such as
    round_id where it takes them)."""
    columns, rows = export_stream(
        session=session, kind=kind, actor=actor, headers=headers, **options
    )
    return columns, list(rows)


def export_stream(
    *, session: Session, kind: str, actor: Actor, headers: str = "en", **options: Any
) -> tuple[list[str], Iterator[list[Any]]]:
    """`export_rows` with the rows as they are read (in chunks, where the kind reads them so):
    iterate them while `session` is open."""
    spec = exchange_of(kind)
    columns, rows = spec.export(session=session, actor=actor, **_options(spec, options))
    return header_names(kind, columns, headers), iter(rows)


def export_to(
    target: IO[bytes],
    *,
    session: Session,
    kind: str,
    fmt: str,
    actor: Actor,
    headers: str = "en",
    **options: Any,
) -> int:
    """Write an export of `kind` to `target` (a seekable file for xlsx) as the rows are
    read; the number of rows written."""
    columns, rows = export_stream(
        session=session, kind=kind, actor=actor, headers=headers, **options
    )
    return write_table_to(target, columns=columns, rows=rows, fmt=fmt)


# An export held in memory up to this size, then in a temporary file.
SPOOL_BYTES = 16 << 20


def export_file(
    *, session: Session, kind: str, fmt: str, actor: Actor, headers: str = "en", **options: Any
) -> bytes:
    """An export of `kind` as the bytes of a CSV or Excel file, safe against formula injection,
    its header in `headers`' language ('en' or 'zh').

    The file is written as the rows are read into a spooled temporary file; only the
    finished file's bytes are held at the end (what a download sends)."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        export_to(
            spool, session=session, kind=kind, fmt=fmt, actor=actor, headers=headers, **options
        )
        spool.seek(0)
        return spool.read()


def export_file_name(*, kind: str, fmt: str, day: date, round_id: int | None = None) -> str:
    """A file name for a download: 'test-results-round-7-2026-11-22.xlsx'."""
    spec = exchange_of(kind)
    part = f"-round-{round_id}" if round_id is not None and "round_id" in spec.options else ""
    return f"{spec.kind}{part}-{day.isoformat()}.{fmt}"


def read_file(*, data: bytes, name: str) -> Table:
    """The table in a file's bytes, its format from the name's extension (TableError if bad)."""
    return read_table(data=data, fmt=format_of(name))


def open_file(
    *, source: bytes | Path, name: str | None = None, limits: Limits = LIMITS
) -> TableStream:
    """The table in a file (its bytes, or its path) to be read row by row as it is imported;
    the format from `name`'s extension (the path's own name by default)."""
    return open_table(source=source, fmt=format_of(name or str(source)), limits=limits)


def import_table(
    *,
    session: Session,
    kind: str,
    table: Table | TableStream,
    actor: Actor,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
    **options: Any,
) -> ImportReport:
    """Check (and unless `dry_run`, write) a table of `kind`; see the kind's module for rules.

    A stream is read chunk by chunk by a kind that streams, and whole by the others."""
    spec = exchange_of(kind)
    if isinstance(table, TableStream) and not spec.streams:
        table = table.table()
    return spec.load(
        session=session,
        table=table,
        actor=actor,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        source=source,
        **_options(spec, options),
    )
