"""What every part of a demo world shares: the story's clock, row ids and the bulk writer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Date, DateTime, Table, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from gridcore.config import get_settings, local_now, local_today
from gridcore.models import (
    Area,
    Building,
    Case,
    Contact,
    Depot,
    DepotMinimum,
    Household,
    Resident,
    ResidentRequest,
    ResidentVulnerability,
    StockMovement,
    SupplyItem,
    Task,
    TestRecord,
    TestRound,
    TestRoundArea,
    TestSite,
    Worker,
    WorkerGrid,
    ZoneOrder,
)

# The story's working day ends here on the anchor day (unless that is still to come).
STORY_END_HOUR = 16

# Insertion order: every table after the tables it refers to.
TABLES: tuple[type[SQLModel], ...] = (
    Area,
    Building,
    Household,
    Resident,
    ResidentVulnerability,
    Worker,
    WorkerGrid,
    Case,
    Contact,
    ZoneOrder,
    TestRound,
    TestRoundArea,
    TestSite,
    TestRecord,
    SupplyItem,
    Depot,
    DepotMinimum,
    ResidentRequest,
    Task,
    StockMovement,
)
_WITH_ID: tuple[type[SQLModel], ...] = tuple(
    t for t in TABLES if t not in (WorkerGrid, TestRoundArea, DepotMinimum, ResidentVulnerability)
)


@dataclass(frozen=True)
class Clock:
    """Days of the story counted from the anchor (day 0 is the anchor, -20 three weeks back)."""

    anchor: date
    tz: tzinfo
    now: datetime  # aware, UTC: the story's present moment, on the anchor day

    def day(self, k: int) -> date:
        """The calendar day `k` days from the anchor."""
        return self.anchor + timedelta(days=k)

    def at(self, k: int, hours: float) -> datetime:
        """The UTC instant `hours` after local midnight of day `k`."""
        midnight = datetime.combine(self.day(k), time(0), tzinfo=self.tz)
        return (midnight + timedelta(hours=hours)).astimezone(UTC)

    def hours_now(self) -> float:
        """The story's present moment as hours after local midnight of the anchor day."""
        return (self.now - self.at(0, 0)).total_seconds() / 3600


def story_clock(anchor: date | None) -> Clock:
    """The clock of a story ending on `anchor` (default today), never later than now."""
    settings = get_settings()
    today = local_today(settings)
    anchor = anchor or today
    end = datetime.combine(anchor, time(STORY_END_HOUR), tzinfo=settings.tz)
    if anchor == today:
        end = min(end, local_now(settings).replace(second=0, microsecond=0))
    return Clock(anchor=anchor, tz=settings.tz, now=end.astimezone(UTC))


class Ids:
    """Row ids handed out in advance, continuing after what the database holds."""

    def __init__(self, connection: Connection):
        self._next: dict[str, int] = {}
        for table in _WITH_ID:
            name = table.__tablename__
            column = table.__table__.c.id  # type: ignore[attr-defined]
            highest = connection.execute(select(func.max(column))).scalar()
            self._next[str(name)] = int(highest or 0) + 1

    def take(self, table: type[SQLModel], count: int = 1) -> int:
        """The first of `count` consecutive new ids of `table`."""
        name = str(table.__tablename__)
        first = self._next[name]
        self._next[name] = first + count
        return first


class Rows:
    """Rows waiting to be inserted, per table, as tuples in a fixed column order."""

    def __init__(self) -> None:
        self.columns: dict[type[SQLModel], tuple[str, ...]] = {}
        self.tables: dict[type[SQLModel], list[tuple[Any, ...]]] = defaultdict(list)

    def add(self, table: type[SQLModel], row: dict[str, Any]) -> None:
        """One row as a dict; every row of a table has the same keys."""
        columns = self.columns.setdefault(table, tuple(row))
        self.tables[table].append(tuple(row[name] for name in columns))

    def extend(self, table: type[SQLModel], rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.add(table, row)

    def add_values(
        self, table: type[SQLModel], columns: tuple[str, ...], values: tuple[Any, ...]
    ) -> None:
        """One row as a tuple of `columns` (the fast path for the big tables)."""
        if self.columns.setdefault(table, columns) != columns:
            raise ValueError(f"{table.__tablename__}: rows with different columns")
        self.tables[table].append(values)

    def counts(self) -> dict[str, int]:
        return {str(t.__tablename__): len(r) for t, r in self.tables.items() if r}

    def write(self, connection: Connection) -> dict[str, int]:
        """Insert everything in dependency order with executemany; return the counts."""
        counts = self.counts()
        for table in TABLES:
            values = self.tables.get(table)
            if not values:
                continue
            columns = self.columns[table]
            if connection.dialect.name == "sqlite":
                _write_sqlite(connection, table.__table__, columns, values)  # type: ignore[attr-defined]
            else:
                connection.execute(
                    insert(table), [dict(zip(columns, v, strict=True)) for v in values]
                )
        self.tables.clear()
        self.columns.clear()
        return counts


def _sqlite_datetime(value: datetime | None) -> str | None:
    """An aware datetime as SQLAlchemy stores it in SQLite: naive UTC text."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _write_sqlite(
    connection: Connection, table: Table, columns: tuple[str, ...], values: list[tuple[Any, ...]]
) -> None:
    """The same insert straight through the driver: SQLAlchemy's per-value processing
    costs more than SQLite itself at this volume. Values are stored exactly as
    SQLAlchemy would store them."""
    converters: dict[int, Callable[[Any], Any]] = {}
    for n, name in enumerate(columns):
        kind = table.c[name].type
        kind = getattr(kind, "impl", kind)
        if isinstance(kind, DateTime):
            converters[n] = _sqlite_datetime
        elif isinstance(kind, Date):
            converters[n] = _sqlite_date
    if converters:
        cells = [list(column) for column in zip(*values, strict=True)]
        for n, convert in converters.items():
            cells[n] = [convert(v) for v in cells[n]]
        values = list(zip(*cells, strict=True))
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)


def reset_sequences(connection: Connection) -> None:
    """PostgreSQL: move each id sequence past the ids the seed chose itself."""
    if connection.dialect.name != "postgresql":
        return
    for table in _WITH_ID:
        name = table.__tablename__
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{name}"), 0) + 1, false)'
            )
        )


def add_counts(total: dict[str, int], more: dict[str, int]) -> None:
    """Add the row counts `more` into `total`."""
    for name, count in more.items():
        total[name] = total.get(name, 0) + count
