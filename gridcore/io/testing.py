"""Test results in and out: one row per resident per round, the same columns both ways.

Columns (row 1 is the header; names are matched without regard to case, or by the
Chinese name in brackets):

    round           (轮次) the round's name (English or Chinese), or its id (a number is
                    read as an id first);
                    may be left out when the round is given with --round / on the page
    resident_id     (居民编号) the resident's number in GridCore                  required
    resident_check  (核验码) the last four characters of the resident's ID number, or —
                    when the register has no ID number — the last four digits of their
                    phone; empty only when the register has neither              required
    name            (姓名) the resident's name: written for people, ignored on import
    grid_code       (网格编码) the resident's grid, e.g. SH-XH-TL-C03-G05         required
    sampled_at      (采样时间) ISO 8601 with offset, 2026-11-16T08:00:19+08:00; a time
                    without an offset is local time of the deployment            required
    method          (采样方式) site | door_to_door (采样点 | 上门); empty is site
    site            (采样点) the sampling site's name in that round (English or Chinese):
                    required for a new
                    on-site sample, empty for door_to_door
    tube_code       (管号) the (pooled) tube's code, up to 40 characters
    result          (检测结果) pending | negative | positive | invalid
                    (待出结果 | 阴性 | 阳性 | 无效); empty is pending
    result_at       (出结果时间) when the result came, as sampled_at; empty while pending

A row for a resident and round that is already stored must describe the same sample
(sampled_at to the second, method, site, tube); it may add what was missing — the
site or tube, or a result for a pending sample — and a pending or empty result never
overwrites a known one. Anything else is a conflict, reported and not written.
So importing a file twice, or an exported file, changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from gridcore.access import Actor, PermissionDenied
from gridcore.config import get_settings
from gridcore.io.bulk import insert_returning_ids
from gridcore.io.cells import (
    Invalid,
    ignored,
    local_text,
    parse_method,
    parse_moment,
    parse_result,
    resident_number,
    text,
    to_second,
)
from gridcore.io.importer import (
    CHUNK,
    Column,
    Exchange,
    FirstRows,
    Importer,
    Merge,
    Plan,
    Row,
    Rows,
    Written,
    column_names,
    in_chunks,
    run_import,
)
from gridcore.io.report import ImportReport
from gridcore.io.tabular import Table, TableStream
from gridcore.models import (
    Area,
    AreaLevel,
    Resident,
    SamplingMethod,
    TestRecord,
    TestResult,
    TestSite,
    UserRole,
    utcnow,
)
from gridcore.queries._sql import dialect_name, id_in
from gridcore.queries.testing import RoundInfo, RoundNotFound, round_infos, round_named
from gridcore.services import counters
from gridcore.services.checks import CLOCK_SKEW

KIND = "test-results"
# Samples a little before the opening or after the deadline still belong to the round.
GRACE = timedelta(hours=1)
TUBE_CODE_MAX = 40


def _check(value: str) -> str:
    """The resident check as compared: trimmed, upper case ('002x' is '002X')."""
    return value.strip().upper()


def _moment(value: str) -> datetime | None:
    """An aware UTC time (a time without offset is local); None when blank."""
    if not value.strip():
        return None
    moment = parse_moment(value, get_settings().tz)
    if moment is None:
        raise Invalid("io.problem.bad_time")
    return moment


# Methods and results are read as their stored values, plain strings: a column of them
# is a tuple the garbage collector stops tracking (see importer.Rows).
def _method(value: str) -> str:
    """A sampling method in English or Chinese; blank is site."""
    method = parse_method(value)
    if method is None:
        raise Invalid("io.problem.bad_method")
    return method.value


def _result(value: str) -> str:
    """A result in English or Chinese; blank is pending."""
    result = parse_result(value)
    if result is None:
        raise Invalid("io.problem.bad_result")
    return result.value


COLUMN_RULES: tuple[Column, ...] = (
    Column("round", "轮次", text()),  # required unless the round is chosen for the file
    Column("resident_id", "居民编号", resident_number, required=True, filled=True),
    Column("resident_check", "核验码", _check, required=True),
    Column("name", "姓名", ignored),
    Column("grid_code", "网格编码", text(), required=True, filled=True),
    Column("sampled_at", "采样时间", _moment, required=True, filled=True),
    Column("method", "采样方式", _method),
    Column("site", "采样点", text()),
    Column("tube_code", "管号", text(max_length=TUBE_CODE_MAX, blank=None)),
    Column("result", "检测结果", _result),
    Column("result_at", "出结果时间", _moment),
)
COLUMNS: tuple[str, ...] = column_names(COLUMN_RULES)

_RECORDS = TestRecord.__table__  # type: ignore[attr-defined]
_RESIDENTS = Resident.__table__  # type: ignore[attr-defined]
_NOT_DIGITS = re.compile(r"\D")


def resident_check(id_suffix: str | None, phone: str | None) -> str:
    """The check written next to a resident id: ID-number ending, else phone ending, else ''."""
    if id_suffix:
        return id_suffix
    digits = _NOT_DIGITS.sub("", phone or "")
    return digits[-4:]


def round_labels(all_rounds: dict[int, RoundInfo]) -> dict[int, str]:
    """What the round column says for each round: its name, or its id when names repeat."""
    names: dict[str, int] = {}
    for info in all_rounds.values():
        names[info.name] = names.get(info.name, 0) + 1
    return {i: (r.name if names[r.name] == 1 else str(i)) for i, r in all_rounds.items()}


# --------------------------------------------------------------------------- export


def export_test_results(
    *, session: Session, actor: Actor, round_id: int | None = None
) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of a test-results file: every record the actor may see.

    The rows are read from the database as they are iterated: iterate them while the
    session is open.

    Administrators and leaders get every record, grid workers those of their grids;
    viewers none (the file carries names): PermissionDenied.
    """
    if not actor.sees_personal_data:
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not export personal data")
    labels = round_labels(round_infos(session=session))
    grid_codes = _grid_codes(session)
    site_names = {
        int(i): n
        for i, n in session.exec(select(TestSite.id, TestSite.name)).all()  # type: ignore[call-overload]
    }
    query = (
        select(
            _RECORDS.c.round_id,
            _RECORDS.c.resident_id,
            _RESIDENTS.c.id_suffix,
            _RESIDENTS.c.phone,
            _RESIDENTS.c.name,
            _RECORDS.c.grid_id,
            _RECORDS.c.sampled_at,
            _RECORDS.c.method,
            _RECORDS.c.site_id,
            _RECORDS.c.tube_code,
            _RECORDS.c.result,
            _RECORDS.c.result_at,
        )
        .join(_RESIDENTS, _RESIDENTS.c.id == _RECORDS.c.resident_id)
        .order_by(_RECORDS.c.round_id, _RECORDS.c.grid_id, _RECORDS.c.resident_id)
    )
    if round_id is not None:
        query = query.where(_RECORDS.c.round_id == round_id)
    if actor.role == UserRole.grid_worker:
        query = query.where(_RECORDS.c.grid_id.in_(sorted(actor.grid_ids or ())))
    tz = get_settings().tz

    def generate() -> Iterator[list[Any]]:
        # Read in chunks (a server-side cursor on PostgreSQL): a district's round is a
        # million rows, never all held at once.
        for r in session.execute(query.execution_options(yield_per=CHUNK)):
            yield [
                labels[r.round_id],
                r.resident_id,
                resident_check(r.id_suffix, r.phone),
                r.name,
                grid_codes.get(r.grid_id, ""),
                local_text(r.sampled_at, tz),
                r.method,
                site_names.get(r.site_id, "") if r.site_id is not None else "",
                r.tube_code or "",
                r.result,
                local_text(r.result_at, tz) if r.result_at is not None else "",
            ]

    return list(COLUMNS), generate()


def _grid_codes(session: Session) -> dict[int, str]:
    rows = session.exec(select(Area.id, Area.code).where(Area.level == AreaLevel.grid)).all()  # type: ignore[call-overload]
    return {int(i): c for i, c in rows}


# --------------------------------------------------------------------------- import


# Named tuples: one small immutable object per row (tens of thousands per file).
class _Stored(NamedTuple):
    """A record already in the database, as the comparison needs it."""

    id: int
    grid_id: int
    sampled_at: datetime
    method: str
    site_id: int | None
    tube_code: str | None
    result: str
    result_at: datetime | None


class _Sample(NamedTuple):
    """A good row, read (method and result as their stored values)."""

    row: int
    round_id: int
    resident_id: int
    grid_id: int
    sampled_at: datetime
    method: str
    site_id: int | None
    tube_code: str | None
    result: str
    result_at: datetime | None


# A change to a stored record: its id ("record_id") and the changed columns ("new_…").
_Update = dict[str, Any]


@dataclass
class _Lookups:
    """Everything the rows are checked against, loaded once per import."""

    rounds: dict[int, RoundInfo]
    round_ids: set[int]  # the rounds the file names (or the one chosen)
    round_refs: dict[str, int | RoundNotFound]
    scope: set[tuple[int, int]]  # (round, grid) of the grids in each round
    grid_ids: dict[str, int]
    grid_codes: dict[int, str]
    sites: dict[tuple[int, str], int]
    site_names: dict[int, str]
    residents: dict[int, tuple[int, str]]  # id → (grid id, check)
    stored: dict[tuple[int, int], _Stored]

    def round_of(self, ref: str) -> int | RoundNotFound:
        """The round `ref` names, or why none (each reference resolved once per file)."""
        if ref not in self.round_refs:
            try:
                self.round_refs[ref] = round_named(ref=ref, rounds=self.rounds)
            except RoundNotFound as exc:
                self.round_refs[ref] = exc
        return self.round_refs[ref]


class TestResultsImport(Importer[_Lookups, _Sample, _Update]):
    """A test-results file: new samples, and results (or a site or tube) for stored ones."""

    __test__ = False  # not a test class, whatever its name says
    kind = KIND
    entity = "test_record"
    columns = COLUMN_RULES
    # Each row names one (round, resident): checked and written a chunk at a time.
    chunk_rows = CHUNK

    def __init__(
        self, *, actor: Actor, round_id: int | None = None, now: datetime | None = None
    ) -> None:
        super().__init__(actor=actor)
        # The round of rows whose round cell is empty (a row naming another is a problem).
        self.round_id = round_id
        self.now = now or utcnow()
        self.tz = get_settings().tz
        # The first row of each (round, resident) (a second one is a duplicate).
        self.first_row = FirstRows()
        # Loaded with the first chunk: rounds, grids and sites (an import writes none), and
        # the first record id this import may write (records it wrote are not "stored").
        self._fixed: _Fixed | None = None
        # Every round the chunks so far named (the audit entry lists them).
        self.round_ids: set[int] = set()

    def required(self) -> tuple[str, ...]:
        """The required columns, and the round's unless it is chosen for the whole file."""
        names = super().required()
        return names if self.round_id is not None else ("round", *names)

    def load(self, *, session: Session, rows: Rows) -> _Lookups:
        """Rounds, grids and sites, and the residents and stored records the rows name."""
        fixed = self._fixed = self._fixed or _fixed_lookups(session)
        all_rounds = fixed.rounds
        round_ids: set[int] = {self.round_id} if self.round_id is not None else set()
        for ref in set(rows.column("round")) - {None, ""}:
            with suppress(RoundNotFound):
                round_ids.add(round_named(ref=ref, rounds=all_rounds))
        self.round_ids |= round_ids
        self.first_row.expect(self._keys(rows, all_rounds))
        residents: dict[int, tuple[int, str]] = {}
        stored: dict[tuple[int, int], _Stored] = {}
        by_id = select(
            _RESIDENTS.c.id, _RESIDENTS.c.grid_id, _RESIDENTS.c.id_suffix, _RESIDENTS.c.phone
        ).where(id_in(_RESIDENTS.c.id, dialect_name(session)))
        for chunk in in_chunks(sorted(set(rows.column("resident_id")) - {None})):
            for rid, grid_id, suffix, phone in session.execute(by_id, {"ids": chunk}).all():
                residents[rid] = (grid_id, resident_check(suffix, phone))
            if round_ids:
                stored.update(_stored_records(session, chunk, round_ids, fixed.first_new_id))
        return _Lookups(
            rounds=all_rounds,
            round_ids=round_ids,
            round_refs={},
            scope=fixed.scope,
            grid_ids=fixed.grid_ids,
            grid_codes=fixed.grid_codes,
            sites=fixed.sites,
            site_names=fixed.site_names,
            residents=residents,
            stored=stored,
        )

    def _keys(self, rows: Rows, all_rounds: dict[int, RoundInfo]) -> Iterator[int]:
        """The (round, resident) keys the rows name, as `first_row` keeps them."""
        found: dict[str, int | None] = {}
        for ref, resident_id in zip(rows.column("round"), rows.column("resident_id"), strict=True):
            if resident_id is None:
                continue
            if not ref:
                round_id = self.round_id
            elif ref in found:
                round_id = found[ref]
            else:
                round_id = found[ref] = None
                with suppress(RoundNotFound):
                    round_id = found[ref] = round_named(ref=ref, rounds=all_rounds)
            if round_id is not None:
                yield (round_id << _ROUND_SHIFT) | resident_id

    def check(self, *, row: Row, lookups: _Lookups) -> _Sample | None:
        """The row's sample, or None after adding its problems."""
        round_id = self._round(row, lookups)
        resident = self._resident(row, lookups, round_id)
        stored = None
        duplicate_of = None
        if round_id is not None and resident is not None:
            stored = lookups.stored.get((round_id, resident[0]))
            duplicate_of = self.first_row.setdefault(
                (round_id << _ROUND_SHIFT) | resident[0], row.number
            )
        grid_id = self._grid(row, lookups, round_id, resident, stored)
        sampled_at = self._sampled_at(row, lookups, round_id)
        method: str | None = row["method"]
        site_id = self._site(row, lookups, round_id, method, new=stored is None)
        result: str | None = row["result"]
        result_at = self._result_at(row, sampled_at, result)
        if duplicate_of is not None and duplicate_of != row.number:
            row.problem("resident_id", "io.problem.duplicate", first=duplicate_of)
        if row.problems:
            return None
        assert round_id is not None and resident is not None and grid_id is not None
        assert sampled_at is not None and method is not None and result is not None
        return _Sample(
            row.number,
            round_id,
            resident[0],
            grid_id,
            sampled_at,
            method,
            site_id,
            row["tube_code"],
            result,
            result_at,
        )

    def _round(self, row: Row, lookups: _Lookups) -> int | None:
        """The round the row names, else the one chosen for the file."""
        ref = row["round"] or ""
        if not ref:
            if self.round_id is None:
                row.problem("round", "io.problem.required")
            return self.round_id
        found = lookups.round_of(ref)
        if isinstance(found, RoundNotFound):
            row.problem("round", found.key.replace("io.error.", "io.problem."), **found.params)
            return None
        if self.round_id is not None and found != self.round_id:
            row.problem("round", "io.problem.round_differs",
                        round=lookups.rounds[self.round_id].name)  # fmt: skip
            return None
        return found

    def _resident(
        self, row: Row, lookups: _Lookups, round_id: int | None
    ) -> tuple[int, int] | None:
        """(resident id, grid id) of a known resident the actor may see, whose check matches.

        A resident outside the actor's grids reads exactly as one that does not exist, and
        their check is never compared: the file must not tell who exists elsewhere, in
        which grid, nor the end of their ID number.
        """
        resident_id = row["resident_id"]
        if resident_id is None:
            return None
        known = lookups.residents.get(resident_id)
        if known is None or not self._may_see(lookups, resident_id, known[0], round_id):
            row.problem("resident_id", "io.problem.unknown_resident")
            return None
        check = row["resident_check"] or ""
        if check != known[1].upper():
            row.problem("resident_check", "io.problem.check_mismatch", value=check,
                        resident=resident_id)  # fmt: skip
            return None
        return resident_id, known[0]

    def _may_see(
        self, lookups: _Lookups, resident_id: int, grid_id: int, round_id: int | None
    ) -> bool:
        """Whether the resident lives in, or was sampled in, a grid the actor may change."""
        if self.actor.may_write_grid(grid_id):
            return True
        stored = lookups.stored.get((round_id, resident_id)) if round_id is not None else None
        return stored is not None and self.actor.may_write_grid(stored.grid_id)

    def _grid(
        self,
        row: Row,
        lookups: _Lookups,
        round_id: int | None,
        resident: tuple[int, int] | None,
        stored: _Stored | None,
    ) -> int | None:
        """The row's grid: known, the actor's, the resident's, and in the round."""
        code = row["grid_code"]
        if code is None:
            return None
        grid_id = lookups.grid_ids.get(code)
        if grid_id is None:
            row.problem("grid_code", "io.problem.unknown_grid")
            return None
        if not self.actor.may_write_grid(grid_id):
            row.problem("grid_code", "io.problem.outside_scope", value=code)
            return None
        if resident is None:
            return None
        # A stored record keeps the grid the resident lived in when sampled.
        expected = stored.grid_id if stored is not None else resident[1]
        if grid_id != expected:
            row.problem("grid_code", "io.problem.grid_mismatch", value=code,
                        grid=lookups.grid_codes.get(expected, "?"))  # fmt: skip
            return None
        if stored is None and round_id is not None and (round_id, grid_id) not in lookups.scope:
            row.problem("grid_code", "io.problem.not_in_round", value=code,
                        round=lookups.rounds[round_id].name)  # fmt: skip
            return None
        return grid_id

    def _sampled_at(self, row: Row, lookups: _Lookups, round_id: int | None) -> datetime | None:
        """When the sample was taken: not in the future, and within the round (give or take)."""
        moment: datetime | None = row["sampled_at"]
        if moment is None:
            return None
        if moment > self.now + CLOCK_SKEW:
            row.problem("sampled_at", "io.problem.in_future")
            return None
        if round_id is None:
            return moment
        info = lookups.rounds[round_id]
        if not info.start_at - GRACE <= moment <= info.deadline_at + GRACE:
            row.problem("sampled_at", "io.problem.outside_round", start=self._when(info.start_at),
                        end=self._when(info.deadline_at))  # fmt: skip
            return None
        return moment

    def _when(self, moment: datetime) -> str:
        """A moment in local time for a problem's message: '2026-03-20 08:00'."""
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def _site(
        self,
        row: Row,
        lookups: _Lookups,
        round_id: int | None,
        method: str | None,
        *,
        new: bool,
    ) -> int | None:
        """The site of an on-site sample (required for a new one: throughput is per site)."""
        name = row["site"] or ""
        if not name:
            if new and method == SamplingMethod.site:
                row.problem("site", "io.problem.site_required")
            return None
        if method == SamplingMethod.door_to_door:
            row.problem("site", "io.problem.site_for_door")
            return None
        if round_id is None:
            return None
        site_id = lookups.sites.get((round_id, name))
        if site_id is None:
            row.problem("site", "io.problem.unknown_site", round=lookups.rounds[round_id].name)
        return site_id

    def _result_at(
        self, row: Row, sampled_at: datetime | None, result: str | None
    ) -> datetime | None:
        """When the result came: only for a known result, not in the future, after sampling."""
        moment: datetime | None = row["result_at"]
        if moment is None:
            return None
        if result == TestResult.pending:
            row.problem("result_at", "io.problem.pending_with_time")
            return None
        if moment > self.now + CLOCK_SKEW:
            row.problem("result_at", "io.problem.in_future")
            return None
        if sampled_at is not None and moment < sampled_at:
            row.problem("result_at", "io.problem.result_before_sample")
            return None
        return moment

    def merge(self, *, item: _Sample, row: Row, lookups: _Lookups) -> Merge | _Update:
        """A new record, or what the row adds to the stored one; a contradiction is a conflict."""
        stored = lookups.stored.get((item.round_id, item.resident_id))
        if stored is None:
            return Merge.NEW
        conflicts: list[tuple[str, str]] = []
        if to_second(item.sampled_at) != stored.sampled_at:
            conflicts.append(("sampled_at", local_text(stored.sampled_at, self.tz)))
        if item.method != stored.method:
            conflicts.append(("method", stored.method))
        changes: dict[str, Any] = {}
        if item.site_id is not None and item.site_id != stored.site_id:
            if stored.site_id is None:
                changes["site_id"] = item.site_id
            else:
                conflicts.append(("site", lookups.site_names.get(stored.site_id, "?")))
        if item.tube_code is not None and item.tube_code != stored.tube_code:
            if not stored.tube_code:
                changes["tube_code"] = item.tube_code
            else:
                conflicts.append(("tube_code", stored.tube_code))
        if item.result != TestResult.pending:
            if stored.result == TestResult.pending:
                changes["result"] = item.result
                if item.result_at is not None:
                    changes["result_at"] = item.result_at
            elif item.result != stored.result:
                conflicts.append(("result", stored.result))
            elif item.result_at is not None and to_second(item.result_at) != stored.result_at:
                if stored.result_at is None:
                    changes["result_at"] = item.result_at
                else:
                    conflicts.append(("result_at", local_text(stored.result_at, self.tz)))
        for column, value in conflicts:
            row.problem(column, "io.problem.conflict", value=self._shown(item, column, lookups),
                        stored=value)  # fmt: skip
        if conflicts:
            return Merge.CONFLICT
        if not changes:
            return Merge.SAME
        return {"record_id": stored.id, **{f"new_{name}": v for name, v in changes.items()}}

    def _shown(self, item: _Sample, column: str, lookups: _Lookups) -> str:
        """The row's value of `column`, as text for a problem report."""
        value: Any = {
            "sampled_at": item.sampled_at,
            "method": item.method,
            "site": lookups.site_names.get(item.site_id or 0, ""),
            "tube_code": item.tube_code or "",
            "result": item.result,
            "result_at": item.result_at,
        }[column]
        return local_text(value, self.tz) if isinstance(value, datetime) else str(value)

    def write(
        self, *, session: Session, plan: Plan[_Sample, _Update], lookups: _Lookups
    ) -> Written:
        """Bulk inserts, and updates of only the changed columns (Core executemany).

        The counters count the new records and follow the updated ones' results.
        """
        if plan.creates:
            # The new ids in any order (the counters only need which rows are new): in order,
            # SQLite would be sent one INSERT per row instead of a few hundred rows each.
            added = insert_returning_ids(
                session, _RECORDS, [_insert_values(s) for s in plan.creates]
            )
            counters.count_in(session, records=added)
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for values in plan.updates:
            columns = tuple(sorted(k.removeprefix("new_") for k in values if k != "record_id"))
            by_columns.setdefault(columns, []).append(values)
        with counters.following(session, records=[v["record_id"] for v in plan.updates]):
            for columns, batch in by_columns.items():
                session.execute(
                    update(_RECORDS)
                    .where(_RECORDS.c.id == bindparam("record_id"))
                    .values({name: bindparam(f"new_{name}") for name in columns}),
                    batch,
                )
        rounds = sorted(self.round_ids)
        return Written(
            entity_id=rounds[0] if len(rounds) == 1 else None, details={"rounds": rounds}
        )


def import_test_results(
    *,
    session: Session,
    table: Table | TableStream,
    actor: Actor,
    round_id: int | None = None,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
    now: datetime | None = None,
    chunk_rows: int | None = None,
) -> ImportReport:
    """Check every row of a test-results table and, unless told otherwise, write it.

    The file is checked and written `chunk_rows` rows at a time (CHUNK unless given), in
    one transaction: memory stays flat however many rows it has.

    `round_id` is the round of rows whose round cell is empty (a row naming another round
    is a problem). Nothing is written on a dry run, nor when any row has a problem — unless
    `skip_bad_rows`, when the good rows are written. Writes are one transaction with one
    audit entry (action "import"). A grid worker's rows outside their grids are problems;
    a viewer may not import at all (PermissionDenied).
    """
    return run_import(
        session=session,
        importer=TestResultsImport(actor=actor, round_id=round_id, now=now),
        table=table,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        source=source,
        chunk_rows=chunk_rows,
    )


# A (round, resident) as one whole number for FirstRows: resident ids stay below 2**40.
_ROUND_SHIFT = 40


@dataclass(frozen=True)
class _Fixed:
    """The lookups an import does not change, loaded once for all its chunks."""

    rounds: dict[int, RoundInfo]
    scope: set[tuple[int, int]]  # (round, grid) of the grids in each round
    grid_ids: dict[str, int]
    grid_codes: dict[int, str]
    sites: dict[tuple[int, str], int]
    site_names: dict[int, str]
    first_new_id: int  # records from this id on were written by this import


def _fixed_lookups(session: Session) -> _Fixed:
    """Rounds, grids and sites, and the first record id an import may write."""
    all_rounds = round_infos(session=session)
    grid_codes = _grid_codes(session)
    site_rows = session.exec(
        select(TestSite.id, TestSite.round_id, TestSite.name, TestSite.name_zh)  # type: ignore[call-overload]
    ).all()
    sites: dict[tuple[int, str], int] = {}
    # A site is named in English or in Chinese; the lowest id wins, the English name first.
    for site_id, site_round, _name, name_zh in sorted(site_rows, key=lambda r: -int(r[0])):
        if name_zh and name_zh.strip():
            sites[(int(site_round), name_zh.strip())] = int(site_id)
    for site_id, site_round, name, _ in sorted(site_rows, key=lambda r: -int(r[0])):
        sites[(int(site_round), name.strip())] = int(site_id)
    last_id = session.execute(select(func.max(_RECORDS.c.id))).scalar()
    return _Fixed(
        rounds=all_rounds,
        scope={(r.id, grid) for r in all_rounds.values() for grid in r.grid_ids},
        grid_ids={code: i for i, code in grid_codes.items()},
        grid_codes=grid_codes,
        sites=sites,
        site_names={i: name for (_, name), i in sites.items()},
        first_new_id=(last_id or 0) + 1,
    )


def _stored_records(
    session: Session, resident_ids: list[int], round_ids: set[int], before_id: int
) -> Iterator[tuple[tuple[int, int], _Stored]]:
    """((round, resident), record) of the stored records of these residents in these rounds
    (those stored before the import: ids below `before_id`)."""
    for r in session.execute(
        select(
            _RECORDS.c.id,
            _RECORDS.c.round_id,
            _RECORDS.c.resident_id,
            _RECORDS.c.grid_id,
            _RECORDS.c.sampled_at,
            _RECORDS.c.method,
            _RECORDS.c.site_id,
            _RECORDS.c.tube_code,
            _RECORDS.c.result,
            _RECORDS.c.result_at,
        ).where(
            id_in(_RECORDS.c.resident_id, dialect_name(session)),
            _RECORDS.c.round_id.in_(sorted(round_ids)),
            _RECORDS.c.id < before_id,
        ),
        {"ids": resident_ids},
    ).all():
        yield (
            (r.round_id, r.resident_id),
            _Stored(
                id=r.id,
                grid_id=r.grid_id,
                sampled_at=to_second(r.sampled_at),
                method=r.method,
                site_id=r.site_id,
                tube_code=r.tube_code,
                result=r.result,
                result_at=to_second(r.result_at) if r.result_at is not None else None,
            ),
        )


def _insert_values(sample: _Sample) -> dict[str, Any]:
    return {
        "round_id": sample.round_id,
        "resident_id": sample.resident_id,
        "grid_id": sample.grid_id,
        "site_id": sample.site_id,
        "method": sample.method,
        "sampled_at": sample.sampled_at,
        "tube_code": sample.tube_code,
        "result": sample.result,
        "result_at": sample.result_at,
    }


EXCHANGE = Exchange(
    kind=KIND,
    columns=COLUMN_RULES,
    export=export_test_results,
    load=import_test_results,
    options=("round_id",),
    streams=True,
)
