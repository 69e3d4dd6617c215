"""Many new rows written at once, their ids returned (the imports' inserts).

On PostgreSQL the rows go through `COPY … FROM STDIN`: the driver streams them in its
compiled code, and the new rows' ids are taken from the table's sequence first (one
statement for any number). An `INSERT` with the rows as bound parameters — a multi-row
`VALUES` list, or one array per column through `unnest` — had the driver rewrite thousands
of placeholders or turn every value into array text in Python at each statement: a third
of a 100,000-row test-result import at district scale. SQLite takes the multi-row
INSERT … RETURNING as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from gridcore.queries._sql import dialect_name


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
    return _copy(session, table, rows, with_ids=True)


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (mappings of the same columns) into `table`."""
    if not rows:
        return
    if dialect_name(session) != "postgresql":
        session.execute(insert(table), rows)
        return
    _copy(session, table, rows, with_ids=False)


# The next `n` ids of a table's sequence, for rows about to be copied in.
_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")


def _copy(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, with_ids: bool
) -> list[int]:
    """PostgreSQL: the rows through COPY in the session's transaction; with `with_ids`, each
    row gets the next id of the table's sequence, and the ids come back in the rows' order."""
    connection = session.connection()
    dialect = connection.dialect
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
    # One list per column, each value as the driver takes it.
    values: list[list[Any]] = []
    for name in names:
        process = table.c[name].type.bind_processor(dialect)
        plain = [_plain(row[name]) for row in rows]
        values.append([process(v) for v in plain] if process else plain)
    ids: list[int] = []
    if with_ids:
        ids = [int(i) for i in connection.execute(_NEXT_IDS, {"table": table.name, "n": len(rows)})
               .scalars()]  # fmt: skip
        values.insert(0, ids)
        names.insert(0, "id")
    driver = connection.connection.driver_connection
    assert driver is not None
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for record in zip(*values, strict=True):
                copy.write_row(record)
    except dialect.loaded_dbapi.Error as error:
        # The error SQLAlchemy would raise for it (an IntegrityError for a duplicate, …).
        raise DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error) from error
    return ids
