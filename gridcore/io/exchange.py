"""One entry for the command line and the import page: export a kind to a file, import one."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from gridcore.access import Actor
from gridcore.io import residents
from gridcore.io import testing as test_results
from gridcore.io.importer import Column
from gridcore.io.report import ImportReport
from gridcore.io.tabular import Table, format_of, read_table, write_table

KINDS: tuple[str, ...] = (residents.KIND, test_results.KIND)


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind


def columns_of(kind: str) -> tuple[Column, ...]:
    """The columns of a file of `kind`: English and Chinese names, which are required."""
    if _kind(kind) == residents.KIND:
        return residents.COLUMN_RULES
    return test_results.COLUMN_RULES


def export_rows(
    *, session: Session, kind: str, actor: Actor, round_id: int | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of an export of `kind` (round_id only for test results)."""
    if _kind(kind) == residents.KIND:
        columns, rows = residents.export_residents(session=session, actor=actor)
    else:
        columns, rows = test_results.export_test_results(
            session=session, actor=actor, round_id=round_id
        )
    return columns, list(rows)


def export_file(
    *, session: Session, kind: str, fmt: str, actor: Actor, round_id: int | None = None
) -> bytes:
    """An export of `kind` as the bytes of a CSV or Excel file, safe against formula injection."""
    columns, rows = export_rows(session=session, kind=kind, actor=actor, round_id=round_id)
    return write_table(columns=columns, rows=rows, fmt=fmt)


def export_file_name(*, kind: str, fmt: str, day: date, round_id: int | None = None) -> str:
    """A file name for a download: 'test-results-round-7-2026-11-22.xlsx'."""
    part = f"-round-{round_id}" if round_id is not None and kind == test_results.KIND else ""
    return f"{_kind(kind)}{part}-{day.isoformat()}.{fmt}"


def read_file(*, data: bytes, name: str) -> Table:
    """The table in a file's bytes, its format from the name's extension (TableError if bad)."""
    return read_table(data=data, fmt=format_of(name))


def import_table(
    *,
    session: Session,
    kind: str,
    table: Table,
    actor: Actor,
    round_id: int | None = None,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
) -> ImportReport:
    """Check (and unless `dry_run`, write) a table of `kind`; see the kind's module for rules."""
    if _kind(kind) == residents.KIND:
        return residents.import_residents(
            session=session,
            table=table,
            actor=actor,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            source=source,
        )
    return test_results.import_test_results(
        session=session,
        table=table,
        actor=actor,
        round_id=round_id,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        source=source,
    )
