"""Many new rows written at once, their ids returned (the imports' inserts).

On PostgreSQL the rows go as one array per column: `INSERT … SELECT … FROM unnest(…)
RETURNING id`, a statement of a few parameters. A multi-row `VALUES` list — what SQLAlchemy
sends otherwise — has ten thousand parameters per statement for a thousand rows, and the
driver (psycopg) rewrites each such statement's placeholders in Python: at district scale
that took half of a test-result import (2.4 s of 4.8 s for 20,000 rows). SQLite takes the
multi-row INSERT … RETURNING as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from sqlalchemy import Table, insert, text
from sqlmodel import Session

from gridcore.queries._sql import dialect_name

_ROWS_PER_STATEMENT = 10_000


def _plain(value: Any) -> Any:
    """An enumeration member as its value (the driver would write its name)."""
    return value.value if isinstance(value, Enum) else value


def insert_returning_ids(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert `rows` (mappings of the same columns) into `table`; the new ids, in any order."""
    if not rows:
        return []
    if dialect_name(session) != "postgresql":
        added = session.execute(insert(table).returning(table.c.id), rows).scalars()
        return [int(i) for i in added]
    return _unnest(session, table, rows, returning=True)


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (mappings of the same columns) into `table`."""
    if not rows:
        return
    if dialect_name(session) != "postgresql":
        session.execute(insert(table), rows)
        return
    _unnest(session, table, rows, returning=False)


def _unnest(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, returning: bool
) -> list[int]:
    """PostgreSQL: the rows as one array per column, _ROWS_PER_STATEMENT rows at a time."""
    dialect = session.get_bind().dialect
    names = list(rows[0])
    # Defaults kept in Python (not by the database) are the statement's to give, as
    # SQLAlchemy's own INSERT gives them.
    defaults = {
        c.name: c.default.arg if c.default.is_scalar else c.default.arg(None)  # type: ignore[attr-defined]
        for c in table.columns
        if c.name not in names and c.default is not None and not c.primary_key
    }
    rows = [{**defaults, **row} for row in rows] if defaults else rows
    names += list(defaults)
    columns = [table.c[name] for name in names]
    arrays = ", ".join(
        f"CAST(:{name} AS {column.type.compile(dialect=dialect)}[])"
        for name, column in zip(names, columns, strict=True)
    )
    statement = text(
        f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})"
        + (" RETURNING id" if returning else "")
    )
    processors = {c.name: c.type.bind_processor(dialect) for c in columns}
    ids: list[int] = []
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        params = {}
        for name in names:
            process = processors[name]
            values = [_plain(row[name]) for row in chunk]
            params[name] = [process(v) for v in values] if process else values
        result = session.execute(statement, params)
        if returning:
            ids += [int(i) for i in result.scalars()]
    return ids
