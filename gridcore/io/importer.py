"""The one import framework: header → rows → lookups → checks → preview → one transaction → report.

Every kind of file (residents, test results, and those to come) is an `Importer`: a short
module that declares its columns and its rules, while `run_import` does what all share:

    class ResidentsImport(Importer[_Lookups, _Person, _Update]):
        kind, entity = "residents", "resident"
        columns = (
            Column("grid_code", "网格编码", text(), required=True, filled=True),
            Column("name", "姓名", text(max_length=80, strip=False), required=True, filled=True),
            ...
        )

        def load(self, *, session, rows): ...          # what the rows name, in chunks
        def check(self, *, row, lookups): ...          # the row's item, or None (row.problem)
        def merge(self, *, item, row, lookups): ...    # Merge.NEW / SAME / CONFLICT, or an update
        def write(self, *, session, plan, lookups): ...  # bulk Core inserts and updates

Header names are matched without regard to case, spaces and underscores, in English or by
the column's Chinese name (轮次, 居民编号, 姓名 ...); columns the kind does not know are
listed in the report and not read. A dry run, or a file with any problem (unless
`skip_bad_rows`), writes nothing; otherwise every row is written in one transaction through
services.base.write, with one audit entry (action "import") holding the counts.

A kind whose rows stand alone (`chunk_rows` set) is read, checked and written chunk by
chunk inside that one transaction: its lookups are loaded per chunk, and only the report
and the counts outlive a chunk, so memory stays flat however long the file. Once a row
has a problem nothing more is written, the rest is only checked (for the report), and the
transaction is rolled back at the end. A kind left whole (`chunk_rows` None) sees the
whole file as one chunk, as before.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from gridcore.access import WRITER_ROLES, Actor, require_role
from gridcore.io.cells import Invalid, Parser
from gridcore.io.report import ImportConflict, ImportReport, Problem
from gridcore.io.tabular import Table, TableStream, normal_name
from gridcore.models import UserRole
from gridcore.services.base import write

# Values per IN (...) lookup: well below SQLite's limit on bound parameters.
CHUNK = 5000

T = TypeVar("T")
LookupsT = TypeVar("LookupsT")  # what an importer loads once per file to check rows against
ItemT = TypeVar("ItemT")  # a good row, read: what a kind inserts
UpdateT = TypeVar("UpdateT")  # what a kind needs to update a stored row


@dataclass(frozen=True)
class Column:
    """One column of a kind's file: its name, its Chinese header, its parser, and how needed."""

    name: str
    zh: str
    parse: Parser
    # The file must have the column.
    required: bool = False
    # Every row must fill the cell (a blank one is "required", and the parser never sees it).
    filled: bool = False


# Exports: (session, actor, **options) → (header, rows).
Exporter = Callable[..., tuple[list[str], Iterable[list[Any]]]]
# Imports: (session, table, actor, dry_run, skip_bad_rows, source, **options) → report.
Loader = Callable[..., ImportReport]


@dataclass(frozen=True)
class Exchange:
    """A kind of file that goes both ways: its name, its columns, how to export and import it."""

    kind: str
    columns: tuple[Column, ...]
    export: Exporter
    load: Loader
    # Keyword options the kind accepts besides the common ones (e.g. "round_id").
    options: tuple[str, ...] = ()
    # Whether `load` takes a TableStream and reads it chunk by chunk (else it gets a Table).
    streams: bool = False


def column_names(columns: Iterable[Column]) -> tuple[str, ...]:
    """The English names of `columns`, in order (the header an export writes)."""
    return tuple(c.name for c in columns)


def header_key(name: str) -> str:
    """A header name as it is matched: no case, no spaces, no underscores ('Resident ID')."""
    return normal_name(name).replace("_", "")


@dataclass
class Header:
    """A file's header read against a kind's columns."""

    positions: dict[str, int] = field(default_factory=dict)  # column name → cell position
    written: dict[str, str] = field(default_factory=dict)  # column name → the file's header
    ignored: list[str] = field(default_factory=list)  # headers of no known column
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every required column is there, and none twice."""
        return not self.problems


def check_header(
    *, header: Sequence[str], columns: Sequence[Column], required: Collection[str]
) -> Header:
    """Find the columns in `header` (English or Chinese names); twice or missing: a problem."""
    keys: dict[str, str] = {}
    for column in columns:
        keys[header_key(column.name)] = column.name
        keys[header_key(column.zh)] = column.name
    found = Header()
    for position, name in enumerate(header):
        key = header_key(name)
        if not key:
            continue  # an unnamed column (a gap in the header) holds nothing to read
        column_name = keys.get(key)
        if column_name is None:
            found.ignored.append(name)
        elif column_name in found.positions:
            found.problems.append(Problem(1, name, name, "io.problem.duplicate_column"))
        else:
            found.positions[column_name] = position
            found.written[column_name] = name
    for column in columns:
        if column.name in required and column.name not in found.positions:
            found.problems.append(
                Problem(1, column.name, "", "io.problem.missing_column", {"zh": column.zh})
            )
    return found


class Row(dict[str, Any]):
    """One data row, as the checks see it: its values by column name, its number, its problems.

    A column the file leaves out reads as blank cells (`has` tells it apart); `row[name]`
    is None for a cell that could not be read (the row has a problem then).
    """

    # A dict itself, so that the many value lookups of the checks cost no Python call.
    __slots__ = ("number", "problems", "_rows", "_index")
    number: int
    # The row's problems so far: (column, value shown or None for the cell, key, params).
    problems: Sequence[tuple[str, str | None, str, dict[str, Any]]]
    _rows: Rows
    _index: int

    def __missing__(self, name: str) -> None:
        """No value: the cell could not be read."""
        return None

    def has(self, name: str) -> bool:
        """Whether the file has column `name`."""
        return name in self._rows.header.positions

    def read(self, name: str) -> bool:
        """Whether the cell of column `name` was read without a problem (or left out as blank)."""
        return name in self

    def text(self, name: str) -> str:
        """The cell's text as the file has it ('' when the file has no such column)."""
        return self._rows.text(self._index, name)

    def problem(self, column: str, key: str, *, value: str | None = None, **params: Any) -> None:
        """Add a problem with the cell of `column` (`value`: what to show, default the cell)."""
        found = self._rows.problems.setdefault(self._index, [])
        found.append((column, value, key, params))
        self.problems = found


class Rows:
    """A file's data rows, read column by column: `column` for lookups, iteration for checks.

    Values are kept per column, in tuples, and each Row is made as the iteration reaches
    it: the garbage collector stops tracking a tuple of plain values, whereas 20,000
    long-lived rows (or lists of values) it sweeps through again and again (measured:
    about a quarter more CPU for a 20,000-row import).
    """

    def __init__(self, *, table: Table, header: Header, columns: Sequence[Column]) -> None:
        self.header = header
        self.numbers = tuple(number for number, _ in table.rows)
        self.problems: dict[int, list[tuple[str, str | None, str, dict[str, Any]]]] = {}
        self._table = table
        self._values: dict[str, tuple[Any, ...]] = {}
        # Row index → the columns whose cell could not be read (the row has no value there).
        self._unread: dict[int, list[str]] = {}
        for column in columns:
            self._read(column)

    def __len__(self) -> int:
        return len(self.numbers)

    def __iter__(self) -> Iterator[Row]:
        """Each row in file order, made as it is reached."""
        names = list(self._values)
        values = zip(*self._values.values(), strict=True) if names else [()] * len(self)
        problems = self.problems
        for index, (number, row_values) in enumerate(zip(self.numbers, values, strict=True)):
            row = Row(zip(names, row_values, strict=True))
            row.number, row._rows, row._index = number, self, index
            row.problems = problems.get(index, ())
            for name in self._unread.get(index, ()):
                del row[name]
            yield row

    def column(self, name: str) -> Sequence[Any]:
        """The value of column `name` in every row (None where the cell could not be read)."""
        return self._values.get(name) or (None,) * len(self.numbers)

    def texts(self, name: str) -> list[str]:
        """The cells of column `name` as the file has them ('' when it has no such column)."""
        position = self.header.positions.get(name)
        if position is None:
            return [""] * len(self.numbers)
        return [cells[position] for _, cells in self._table.rows]

    def text(self, index: int, name: str) -> str:
        """One cell as the file has it ('' when the file has no such column)."""
        position = self.header.positions.get(name)
        return self._table.rows[index][1][position] if position is not None else ""

    def report(self) -> list[Problem]:
        """Every problem in file order: row by row, each row's in the order of its columns."""
        positions, written = self.header.positions, self.header.written
        last = len(positions)  # a problem with a column the file does not have comes last
        found: list[Problem] = []
        for index in sorted(self.problems):
            ordered = sorted(self.problems[index], key=lambda p: positions.get(p[0], last))
            found += [
                Problem(
                    self.numbers[index],
                    written.get(column, column),
                    self.text(index, column) if value is None else value,
                    key,
                    params,
                )
                for column, value, key, params in ordered
            ]
        return found

    def _read(self, column: Column) -> None:
        """Parse the column in every row: its parser mapped over the whole column at once."""
        name = column.name
        position = self.header.positions.get(name)
        if position is None:
            self._read_absent(column)
            return
        parse = _filled(column.parse) if column.filled else column.parse
        cells = [cells[position] for _, cells in self._table.rows]
        if any("\x00" in cell for cell in cells):
            parse = _no_nul(parse)  # only then: the common case keeps its C-speed parsers
        values: list[Any] = []
        remaining = iter(cells)
        while True:
            try:
                # extend() keeps what it took before a parser raised: go on after the bad cell.
                values.extend(map(parse, remaining))
                break
            except Invalid as exc:
                index = len(values)
                # A NUL byte is shown, not carried on (a database may refuse it even in a report).
                shown = cells[index].replace("\x00", "\\0") if exc.key == NUL_PROBLEM else None
                self.problems.setdefault(index, []).append((name, shown, exc.key, exc.params))
                self._unread.setdefault(index, []).append(name)
                values.append(None)
        self._values[name] = tuple(values)

    def _read_absent(self, column: Column) -> None:
        """A column the file leaves out reads as blank cells (the parser's default, if any)."""
        if column.filled:
            return
        try:
            blank = column.parse("")
        except Invalid:
            return
        self._values[column.name] = (blank,) * len(self.numbers)


NUL_PROBLEM = "io.problem.nul_byte"


def _no_nul(parse: Parser) -> Parser:
    """`parse` for a column with a NUL byte somewhere: such a cell is a problem (PostgreSQL
    refuses the byte in text, and no spreadsheet means it)."""

    def parse_without_nul(text: str) -> Any:
        if "\x00" in text:
            raise Invalid(NUL_PROBLEM)
        return parse(text)

    return parse_without_nul


def _filled(parse: Parser) -> Parser:
    """`parse` for a column every row must fill: a blank cell is 'required'."""

    def parse_filled(text: str) -> Any:
        if not text.strip():
            raise Invalid("io.problem.required")
        return parse(text)

    return parse_filled


def in_chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """`values` in lists of at most `size` (for IN (...) lookups)."""
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Merge(Enum):
    """What a good row does to the stored data, when it is not an update."""

    NEW = "new"  # nothing stored yet: insert the item
    SAME = "same"  # stored as the row says: nothing to write
    CONFLICT = "conflict"  # contradicts what is stored: the row has problems now


@dataclass
class Plan(Generic[ItemT, UpdateT]):
    """The good rows sorted into what the write does."""

    creates: list[ItemT] = field(default_factory=list)
    updates: list[UpdateT] = field(default_factory=list)
    unchanged: int = 0


@dataclass(frozen=True)
class Written:
    """What a kind's write adds to the import's audit entry."""

    entity_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Importer(ABC, Generic[LookupsT, ItemT, UpdateT]):
    """A kind of file: its columns and its rules; `run_import` does everything they share."""

    kind: ClassVar[str]
    entity: ClassVar[str]  # what the audit entry names
    columns: ClassVar[tuple[Column, ...]]
    roles: ClassVar[tuple[UserRole, ...]] = WRITER_ROLES
    # Rows per chunk when every row can be checked and written apart from the rest of the
    # file (lookups per chunk, per-file state kept small); None reads the file whole.
    chunk_rows: ClassVar[int | None] = None

    def __init__(self, *, actor: Actor) -> None:
        self.actor = actor

    def required(self) -> tuple[str, ...]:
        """The columns a file must have."""
        return tuple(c.name for c in self.columns if c.required)

    @abstractmethod
    def load(self, *, session: Session, rows: Rows) -> LookupsT:
        """Everything the rows are checked against, loaded once (in chunks) before the checks."""

    @abstractmethod
    def check(self, *, row: Row, lookups: LookupsT) -> ItemT | None:
        """The row's item, or None after adding its problems to the row."""

    @abstractmethod
    def merge(self, *, item: ItemT, row: Row, lookups: LookupsT) -> Merge | UpdateT:
        """NEW, SAME, CONFLICT (after row.problem), or the update the item makes to stored data."""

    @abstractmethod
    def write(self, *, session: Session, plan: Plan[ItemT, UpdateT], lookups: LookupsT) -> Written:
        """Insert and update in bulk (the framework commits, audits and rolls back).

        Called once per chunk; what the last call returns goes in the audit entry."""


class FirstRows:
    """The first row of each key (a whole number) seen so far in a file: a later row with
    the same key is a duplicate.

    Kept in sorted numpy arrays, 12 bytes a key, where a dict of tuples takes about 150:
    a district's round is close to a million keys. New keys wait in a small dict and are
    inserted in batches (np.insert: the arrays are copied once, never sorted again).
    """

    _BATCH = 4096

    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.int64)
        self._rows = np.empty(0, dtype=np.int32)  # a spreadsheet's row numbers
        self._new: dict[int, int] = {}
        # The keys of the coming rows looked up at once (`expect`), and those found.
        self._expected: set[int] = set()
        self._hits: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._keys) + len(self._new)

    def expect(self, keys: Iterable[int]) -> None:
        """Look up at once the keys the coming rows name (a chunk's): `setdefault` then
        finds them without a search of its own."""
        if len(self._new) >= self._BATCH:
            self._merge()
        wanted = np.unique(np.fromiter(keys, np.int64))
        at = np.searchsorted(self._keys, wanted)
        inside = at < len(self._keys)
        found = np.zeros(len(wanted), dtype=bool)
        found[inside] = self._keys[at[inside]] == wanted[inside]
        self._hits = dict(zip(wanted[found].tolist(), self._rows[at[found]].tolist(), strict=True))
        self._expected = set(wanted.tolist())

    def setdefault(self, key: int, row: int) -> int:
        """The first row of `key`: `row` when the key is new (it is then kept)."""
        found = self._new.get(key)
        if found is not None:
            return found
        if key in self._expected:
            found = self._hits.get(key)
            if found is not None:
                return found
        elif len(self._keys):
            at = int(np.searchsorted(self._keys, key))
            if at < len(self._keys) and self._keys[at] == key:
                return int(self._rows[at])
        self._new[key] = row
        if len(self._new) >= self._BATCH and not self._expected:
            self._merge()
        return row

    def _merge(self) -> None:
        keys = np.fromiter(self._new, np.int64, len(self._new))
        order = np.argsort(keys)
        keys = keys[order]
        rows = np.fromiter(self._new.values(), np.int32, len(self._new))[order]
        at = np.searchsorted(self._keys, keys)
        self._keys = np.insert(self._keys, at, keys)
        self._rows = np.insert(self._rows, at, rows)
        self._new = {}


class _Refused(Exception):
    """A problem was found after rows were written: the transaction is rolled back."""


def run_import(
    *,
    session: Session,
    importer: Importer[LookupsT, ItemT, UpdateT],
    table: Table | TableStream,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
    chunk_rows: int | None = None,
) -> ImportReport:
    """Check every row of `table` and, unless a dry run or a problem stops it, write it all.

    `chunk_rows` overrides the importer's own chunk size (tests). A role the importer does
    not allow is PermissionDenied before the file is looked at; a write that collides with
    one made meanwhile is ImportConflict, with nothing written; a file found past a limit
    part way through (TableError) writes nothing either.
    """
    actor = importer.actor
    require_role(actor, *importer.roles)
    stream = table if isinstance(table, TableStream) else TableStream.of(table)
    report = ImportReport(kind=importer.kind, dry_run=dry_run)
    header = check_header(
        header=stream.columns, columns=importer.columns, required=importer.required()
    )
    report.ignored_columns = header.ignored
    if header.problems:
        report.problems = header.problems
        report.rows = sum(1 for _ in stream)
        return report
    size = chunk_rows or importer.chunk_rows
    chunks = stream.chunks(size) if size else iter([list(stream)])
    if dry_run:
        for chunk in chunks:
            _check_chunk(session, importer, header, chunk, report)
        session.rollback()  # end the read transaction: nothing is written
        return report
    try:
        with write(
            session, actor=actor, entity=importer.entity, action="import", roles=importer.roles
        ) as op:
            written = Written()
            for chunk in chunks:
                plan, lookups = _check_chunk(session, importer, header, chunk, report)
                if skip_bad_rows or not report.problems:
                    written = importer.write(session=session, plan=plan, lookups=lookups)
            if report.problems and not skip_bad_rows:
                raise _Refused
            op.record(
                written.entity_id,
                {
                    "file": source,
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "rows_with_problems": report.bad_rows,
                    **written.details,
                },
            )
    except _Refused:
        return report  # write() has rolled back whatever the chunks before had written
    except IntegrityError:
        # write() has rolled everything back; the same rows were written meanwhile.
        raise ImportConflict("io.error.changed_meanwhile") from None
    # The rows were written past the ORM: forget any copies this session holds.
    session.expire_all()
    report.written = True
    return report


def _check_chunk(
    session: Session,
    importer: Importer[LookupsT, ItemT, UpdateT],
    header: Header,
    chunk: list[tuple[int, list[str]]],
    report: ImportReport,
) -> tuple[Plan[ItemT, UpdateT], LookupsT]:
    """Check one chunk of rows: its plan and lookups; its problems and counts go in `report`."""
    rows = Rows(table=Table(columns=[], rows=chunk), header=header, columns=importer.columns)
    lookups = importer.load(session=session, rows=rows)
    plan: Plan[ItemT, UpdateT] = Plan()
    for row in rows:
        item = importer.check(row=row, lookups=lookups)
        if item is None or row.problems:
            continue
        merged = importer.merge(item=item, row=row, lookups=lookups)
        if merged is Merge.NEW:
            plan.creates.append(item)
        elif merged is Merge.SAME:
            plan.unchanged += 1
        elif not isinstance(merged, Merge):
            plan.updates.append(merged)
    report.rows += len(chunk)
    report.problems += rows.report()
    report.created += len(plan.creates)
    report.updated += len(plan.updates)
    report.unchanged += plan.unchanged
    return plan, lookups
