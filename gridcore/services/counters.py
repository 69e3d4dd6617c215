"""Keeping the counters (gridcore.queries.counters) in the same transaction as the records.

A write tallies the rows it touches before and after it changes them — grouped in SQL, by
the counters' keys — and adds the difference to the counters with one upsert per table
(INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n): a row-level increment, so
concurrent writers on PostgreSQL never lose one another's changes, and on SQLite the
write lock orders them. Tallying the rows rather than reasoning about the change in
Python means a record that goes from pending to positive moves one count to the other,
a resident who moves grids moves between grids, and a bulk import needs no rules of its own.

The rows are locked before the first tally (FOR UPDATE on PostgreSQL), so nothing changes
them between the two. A sample's `exempt` count depends on its resident's status, so a new
or removed sample locks its resident (FOR SHARE) and a resident's change locks the resident.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import Table, exists, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from gridcore.access import COMMAND_ROLES, Actor
from gridcore.models import (
    Employment,
    GridCount,
    HealthStatus,
    Resident,
    ResidentVulnerability,
    RoundGridCount,
    RoundSiteHour,
    TestRecord,
    TestResult,
    Worker,
    WorkerGrid,
)
from gridcore.queries._sql import count_if, dialect_name, id_in
from gridcore.queries.counters import (
    COUNTER_TABLES,
    GRID_COLUMNS,
    HOUR_SQL,
    ROUND_GRID_COLUMNS,
    counter_differences,
    recount_sql,
)
from gridcore.services.base import write

_CHUNK = 900  # ids per IN (...) list, well below SQLite's limit on bound parameters
_TABLES: dict[str, Table] = {
    "roundgridcount": RoundGridCount.__table__,  # type: ignore[attr-defined]
    "roundsitehour": RoundSiteHour.__table__,  # type: ignore[attr-defined]
    "gridcount": GridCount.__table__,  # type: ignore[attr-defined]
}
RESULT_COLUMNS: tuple[str, ...] = ROUND_GRID_COLUMNS[:-1]

# (table, key) → column → count
Tally = dict[tuple[str, tuple[int, ...]], dict[str, int]]


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    wanted = sorted({int(i) for i in ids})
    for start in range(0, len(wanted), _CHUNK):
        yield wanted[start : start + _CHUNK]


def _add(tally: Tally, table: str, key: tuple[int, ...], counts: Mapping[str, int]) -> None:
    held = tally.setdefault((table, key), {})
    for name, n in counts.items():
        held[name] = held.get(name, 0) + int(n or 0)


def _minus(after: Tally, before: Tally) -> Tally:
    change: Tally = {}
    for place, counts in after.items():
        _add(change, *place, counts)
    for place, counts in before.items():
        _add(change, *place, {name: -n for name, n in counts.items()})
    return change


# --------------------------------------------------------------------------- tallies


# The counts of a group of samples, by counter column (built once: a write only picks them).
_RECORD_COUNTS: dict[str, ColumnElement[int]] = {
    "sampled": func.count(),
    "pending": count_if(col(TestRecord.result) == TestResult.pending),
    "negative": count_if(col(TestRecord.result) == TestResult.negative),
    "positive": count_if(col(TestRecord.result) == TestResult.positive),
    "invalid": count_if(col(TestRecord.result) == TestResult.invalid),
    "exempt": count_if(col(Resident.health_status) != HealthStatus.at_home),
}


@cache
def _records_statement(by: str, columns: tuple[str, ...], dialect: str) -> Any:
    """Samples (by id, or by resident) counted per round and grid: built once per shape."""
    key = col(TestRecord.id) if by == "id" else col(TestRecord.resident_id)
    return (
        select(
            col(TestRecord.round_id),
            col(TestRecord.grid_id),
            *(_RECORD_COUNTS[name] for name in columns),
        )
        .join(Resident, col(Resident.id) == col(TestRecord.resident_id))
        .where(id_in(key, dialect))
        .group_by(col(TestRecord.round_id), col(TestRecord.grid_id))
    )


@cache
def _hours_statement(dialect: str) -> Any:
    """Samples (by id) counted per round, site (0: door to door) and hour: built once."""
    site = func.coalesce(col(TestRecord.site_id), 0)
    hour: ColumnElement[int] = literal_column(HOUR_SQL[dialect].format("testrecord.sampled_at"))
    return (
        select(col(TestRecord.round_id), site, hour, func.count())
        .where(id_in(col(TestRecord.id), dialect))
        .group_by(col(TestRecord.round_id), site, hour)
    )


def _tally_records(
    session: Session, tally: Tally, by: str, ids: list[int], columns: Sequence[str]
) -> None:
    dialect = dialect_name(session)
    rows = session.execute(_records_statement(by, tuple(columns), dialect), {"ids": ids}).all()
    for r in rows:
        counts = dict(zip(columns, r[2:], strict=True))
        _add(tally, "roundgridcount", (int(r[0]), int(r[1])), counts)
    if by == "id":  # a sample's round, site and time (the hours follow an edit of those)
        for r in session.execute(_hours_statement(dialect), {"ids": ids}).all():
            _add(tally, "roundsitehour", (int(r[0]), int(r[1]), int(r[2])), {"sampled": r[3]})


# A resident with at least one vulnerability tag.
_TAGGED = exists().where(col(ResidentVulnerability.resident_id) == col(Resident.id))


def _tally_residents(session: Session, tally: Tally, ids: list[int]) -> None:
    rows = session.execute(
        select(
            col(Resident.grid_id),
            func.count(),
            count_if(col(Resident.health_status) == HealthStatus.at_home),
            count_if(_TAGGED),
        )
        .where(col(Resident.id).in_(ids))
        .group_by(col(Resident.grid_id))
    ).all()
    for grid_id, residents, at_home, vulnerable in rows:
        counts = {"residents": residents, "at_home": at_home, "vulnerable": vulnerable}
        _add(tally, "gridcount", (int(grid_id),), counts)


def _tally_workers(session: Session, tally: Tally, ids: list[int]) -> None:
    rows = session.execute(
        select(col(WorkerGrid.grid_id), func.count())
        .join(Worker, col(Worker.id) == col(WorkerGrid.worker_id))
        .where(
            col(WorkerGrid.worker_id).in_(ids),
            col(Worker.employment) == Employment.full_time,
            col(Worker.active).is_(True),
        )
        .group_by(col(WorkerGrid.grid_id))
    ).all()
    for grid_id, n in rows:
        _add(tally, "gridcount", (int(grid_id),), {"full_time_workers": n})


def _tally(
    session: Session,
    *,
    records: Sequence[int] = (),
    residents: Sequence[int] = (),
    workers: Sequence[int] = (),
    record_columns: Sequence[str] = ROUND_GRID_COLUMNS,
) -> Tally:
    """What these records, residents (with their samples' exempt counts) and workers count."""
    tally: Tally = {}
    for chunk in _chunks(records):
        _tally_records(session, tally, "id", chunk, record_columns)
    for chunk in _chunks(residents):
        _tally_residents(session, tally, chunk)
        _tally_records(session, tally, "resident", chunk, ("exempt",))
    for chunk in _chunks(workers):
        _tally_workers(session, tally, chunk)
    return tally


def _lock(session: Session, column: Any, ids: Sequence[int], *, read: bool = False) -> None:
    """Lock the rows of `column`'s table with these ids until the transaction ends."""
    if dialect_name(session) != "postgresql":
        return  # SQLite: the transaction's first write takes the database's write lock
    statement = select(column).where(id_in(column, "postgresql")).with_for_update(read=read)
    for chunk in _chunks(ids):
        session.execute(statement, {"ids": chunk}).all()


# --------------------------------------------------------------------------- applying


@cache
def _upsert(dialect: str, table: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE that adds each row's counts to the counter's."""
    keys, columns = COUNTER_TABLES[table]
    target = _TABLES[table]
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(target)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: target.c[name] + stmt.excluded[name] for name in columns},
    )


def add_to_counters(session: Session, change: Tally) -> None:
    """Add a tally's counts to the counters (in key order, so writers lock rows alike)."""
    session.flush()
    for table in _TABLES:
        keys, columns = COUNTER_TABLES[table]
        rows = [
            {**dict(zip(keys, key, strict=True)), **{c: counts.get(c, 0) for c in columns}}
            for (name, key), counts in sorted(change.items())
            if name == table and any(counts.values())
        ]
        if rows:
            session.execute(_upsert(dialect_name(session), table), rows)


@cache
def _count_samples_in(dialect: str, table: str) -> Any:
    """New samples (by id) counted per round and grid, or per round, site and hour, and
    added to the counters in one INSERT … SELECT … ON CONFLICT DO UPDATE (in key order, as
    add_to_counters does)."""
    target = _TABLES[table]
    keys, columns = COUNTER_TABLES[table]
    if table == "roundgridcount":
        tally = _records_statement("id", ROUND_GRID_COLUMNS, dialect)
    else:
        tally = _hours_statement(dialect)
    tally = tally.order_by(*(c for c in tally.selected_columns[: len(keys)]))
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(target).from_select(
        [*keys, *columns], tally
    )
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: target.c[name] + stmt.excluded[name] for name in columns},
    )


# The residents of these samples, locked for reading (PostgreSQL; see the module's docstring).
_LOCK_SAMPLED_RESIDENTS = (
    select(col(Resident.id))
    .where(
        col(Resident.id).in_(
            select(col(TestRecord.resident_id)).where(id_in(col(TestRecord.id), "postgresql"))
        )
    )
    .with_for_update(read=True)
)


def count_in(
    session: Session,
    *,
    records: Sequence[int] = (),
    residents: Sequence[int] = (),
    workers: Sequence[int] = (),
) -> None:
    """Count rows just added (flushed): new samples, residents, workers' assignments."""
    session.flush()
    chunks = list(_chunks(records))
    if len(chunks) == 1 and not residents and not workers:
        # A few samples (a desk's tap): locked, tallied and added by two statements.
        connection = session.connection()
        dialect = connection.dialect.name
        if dialect == "postgresql":
            connection.execute(_LOCK_SAMPLED_RESIDENTS, {"ids": chunks[0]}).all()
        connection.execute(_count_samples_in(dialect, "roundgridcount"), {"ids": chunks[0]})
        connection.execute(_count_samples_in(dialect, "roundsitehour"), {"ids": chunks[0]})
        return
    if records:
        _lock(session, col(Resident.id), _record_residents(session, records), read=True)
    add_to_counters(session, _tally(session, records=records, residents=residents, workers=workers))


def count_out(session: Session, *, records: Sequence[int] = ()) -> None:
    """Take out of the counters samples about to be deleted."""
    session.flush()
    _lock(session, col(Resident.id), _record_residents(session, records), read=True)
    before = _tally(session, records=records)
    add_to_counters(session, _minus({}, before))


def _record_residents(session: Session, records: Sequence[int]) -> list[int]:
    found: list[int] = []
    statement = select(col(TestRecord.resident_id)).where(
        id_in(col(TestRecord.id), dialect_name(session))
    )
    for chunk in _chunks(records):
        found += session.execute(statement, {"ids": chunk}).scalars()
    return found


@contextmanager
def following(
    session: Session,
    *,
    records: Sequence[int] = (),
    residents: Sequence[int] = (),
    workers: Sequence[int] = (),
) -> Iterator[None]:
    """The counters follow what the block changes in these samples' results, these residents
    (grid, status, vulnerability tags) and these workers (employment, active, grids)."""
    session.flush()
    _lock(session, col(TestRecord.id), records)
    _lock(session, col(Resident.id), residents)
    _lock(session, col(Worker.id), workers)
    counted = {"records": records, "residents": residents, "workers": workers}
    before = _tally(session, record_columns=RESULT_COLUMNS, **counted)
    yield
    session.flush()
    after = _tally(session, record_columns=RESULT_COLUMNS, **counted)
    add_to_counters(session, _minus(after, before))


def add_households(session: Session, per_grid: Mapping[int, int]) -> None:
    """Count households just added, `per_grid` of them in each grid."""
    change: Tally = {}
    for grid_id, n in per_grid.items():
        _add(change, "gridcount", (int(grid_id),), {"households": n})
    add_to_counters(session, change)


# --------------------------------------------------------------------------- rebuilding


# The rows a rebuild writes: the recounts, and a balance's time (its last movement's).
_BALANCES = (
    ", updated_at",
    "SELECT depot_id, item_id, SUM(quantity), COUNT(*), MAX(created_at) FROM stockmovement"
    " GROUP BY depot_id, item_id",
)


def rebuild_counters(
    connection: Connection | Session, tables: Sequence[str] = tuple(COUNTER_TABLES)
) -> None:
    """Set the counters of `tables` (default: all) from the records: after a bulk load, or
    to repair them. The migration that made the counter tables runs this too."""
    for table in tables:
        keys, columns = COUNTER_TABLES[table]
        extra, recount = (
            _BALANCES if table == "stockbalance" else ("", recount_sql(connection, table))
        )
        connection.execute(text(f"DELETE FROM {table}"))
        names = ", ".join((*keys, *columns))
        connection.execute(text(f"INSERT INTO {table} ({names}{extra}) {recount}"))


def repair_counters(*, session: Session, actor: Actor) -> int:
    """Set every counter from the records (command roles); how many counters differed."""
    with write(session, actor=actor, entity="counters", action="repair", roles=COMMAND_ROLES) as op:
        differences = counter_differences(session=session)
        if differences:
            rebuild_counters(session)
            op.record(None, {"differences": len(differences)})
    return len(differences)


__all__ = [
    "GRID_COLUMNS",
    "add_households",
    "add_to_counters",
    "count_in",
    "count_out",
    "following",
    "rebuild_counters",
    "repair_counters",
]
