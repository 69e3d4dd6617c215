"""Small SQL building blocks that read the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, any_, bindparam, case, cast, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session
from sqlmodel.sql.expression import Select


def dialect_name(session: Session | Connection) -> str:
    """'sqlite' or 'postgresql': the database behind `session` (or a connection)."""
    bind = session.get_bind() if isinstance(session, Session) else session
    return str(bind.dialect.name)


def id_in(column: Any, dialect: str, name: str = "ids") -> ColumnElement[bool]:
    """`column` is one of the ids bound as `name` (a list): `= ANY(:name)` on PostgreSQL, one
    array parameter however many ids; `IN (…)` expanded to one parameter per id elsewhere.

    A statement with hundreds of parameters costs SQLAlchemy a bind to render and psycopg
    a rewrite of each placeholder in Python, at every execution (the imports' tallies and
    locks run one per 900 rows).
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))


def select_columns(*columns: Any) -> Select[*tuple[Any, ...]]:
    """A SELECT of any number of columns (sqlmodel's typed `select` stops at four)."""
    return Select(*columns)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows of the group meet `condition` (0, never NULL)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0, type_=Integer)


def local_date(
    column: Any, *, dialect: str, tz: tzinfo, at: datetime | None = None
) -> ColumnElement[Any]:
    """The local calendar day of a UTC timestamp column.

    PostgreSQL converts with the zone's rules (daylight saving included). SQLite has no
    time-zone rules, so it shifts by the zone's offset at `at` (default: now) — exact for
    zones without daylight saving such as Asia/Shanghai, and off by the DST hour for
    timestamps on the far side of a change elsewhere.
    """
    if dialect == "postgresql":
        if not isinstance(tz, ZoneInfo):
            raise ValueError("local_date on PostgreSQL needs a named zone (zoneinfo.ZoneInfo)")
        return cast(func.timezone(tz.key, column), Date)
    offset = (at or datetime.now(UTC)).astimezone(tz).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return func.date(column, f"{minutes:+d} minutes", type_=Date)


# Per grid id, a row of named figures.
Counter = dict[int, dict[str, Any]]


def by_grid(rows: Any, columns: list[str]) -> Counter:
    """{grid_id: {column: value}} from rows of (grid_id, *values)."""
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}
