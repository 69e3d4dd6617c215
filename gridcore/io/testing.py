"""Test results in and out: one row per resident per round, the same columns both ways.

Columns (row 1 is the header; names are matched without regard to case):

    round           the round's name, or its id (a number is read as an id first);
                    may be left out when the round is given with --round / on the page
    resident_id     the resident's number in GridCore                         required
    resident_check  the last four characters of the resident's ID number, or — when the
                    register has no ID number — the last four digits of their phone;
                    empty only when the register has neither                  required
    name            the resident's name: written for people, ignored on import
    grid_code       the resident's grid, e.g. SH-XH-TL-C03-G05                required
    sampled_at      ISO 8601 with offset, 2026-11-16T08:00:19+08:00; a time without an
                    offset is local time of the deployment                    required
    method          site | door_to_door (采样点 | 上门); empty is site
    site            the sampling site's name in that round: required for a new on-site
                    sample, empty for door_to_door
    tube_code       the (pooled) tube's code, up to 40 characters
    result          pending | negative | positive | invalid
                    (待出结果 | 阴性 | 阳性 | 无效); empty is pending
    result_at       when the result came, as sampled_at; empty while pending

A row for a resident and round that is already stored must describe the same sample
(sampled_at to the second, method, site, tube); it may add what was missing — the
site or tube, or a result for a pending sample — and a pending or empty result never
overwrites a known one. Anything else is a conflict, reported and not written.
So importing a file twice, or an exported file, changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from gridcore.access import Actor, PermissionDenied, require_writer
from gridcore.config import get_settings
from gridcore.io.cells import local_text, parse_method, parse_moment, parse_result, to_second
from gridcore.io.report import ImportConflict, ImportReport, Problem
from gridcore.io.tabular import Table, normal_name
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
from gridcore.queries.testing import RoundInfo, RoundNotFound, round_infos, round_named
from gridcore.services.base import audit
from gridcore.services.checks import CLOCK_SKEW

KIND = "test-results"
COLUMNS: tuple[str, ...] = (
    "round",
    "resident_id",
    "resident_check",
    "name",
    "grid_code",
    "sampled_at",
    "method",
    "site",
    "tube_code",
    "result",
    "result_at",
)
REQUIRED: tuple[str, ...] = ("resident_id", "resident_check", "grid_code", "sampled_at")
# Samples a little before the opening or after the deadline still belong to the round.
GRACE = timedelta(hours=1)
TUBE_CODE_MAX = 40
# Ids per IN (...) lookup: well below SQLite's limit on bound parameters.
CHUNK = 5000

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
    rows = session.execute(query).all()

    def generate() -> Iterator[list[Any]]:
        for r in rows:
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


@dataclass(frozen=True)
class _Stored:
    """A record already in the database, as the comparison needs it."""

    id: int
    grid_id: int
    sampled_at: datetime
    method: str
    site_id: int | None
    tube_code: str | None
    result: str
    result_at: datetime | None


@dataclass(frozen=True)
class _Sample:
    """A good row, read."""

    row: int
    round_id: int
    resident_id: int
    grid_id: int
    sampled_at: datetime
    method: SamplingMethod
    site_id: int | None
    tube_code: str | None
    result: TestResult
    result_at: datetime | None


@dataclass
class _Lookups:
    """Everything the rows are checked against, loaded once per import."""

    rounds: dict[int, RoundInfo]
    round_refs: dict[str, int | RoundNotFound]
    round_grids: set[tuple[int, int]]
    grid_ids: dict[str, int]
    grid_codes: dict[int, str]
    sites: dict[tuple[int, str], int]
    site_names: dict[int, str]
    residents: dict[int, tuple[int, str]]  # id → (grid id, check)
    stored: dict[tuple[int, int], _Stored]

    def round_of(self, ref: str) -> int | RoundNotFound:
        if ref not in self.round_refs:
            try:
                self.round_refs[ref] = round_named(ref=ref, rounds=self.rounds)
            except RoundNotFound as exc:
                self.round_refs[ref] = exc
        return self.round_refs[ref]


def _chunks(values: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def _load(
    session: Session,
    *,
    resident_ids: set[int],
    round_ids: set[int],
    all_rounds: dict[int, RoundInfo],
) -> _Lookups:
    grid_codes = _grid_codes(session)
    site_rows = session.exec(select(TestSite.id, TestSite.round_id, TestSite.name)).all()  # type: ignore[call-overload]
    sites: dict[tuple[int, str], int] = {}
    for site_id, site_round, name in sorted(site_rows, key=lambda r: -int(r[0])):
        sites[(int(site_round), name.strip())] = int(site_id)  # the lowest id wins
    residents: dict[int, tuple[int, str]] = {}
    stored: dict[tuple[int, int], _Stored] = {}
    ordered = sorted(resident_ids)
    for chunk in _chunks(ordered):
        for rid, grid_id, suffix, phone in session.execute(
            select(
                _RESIDENTS.c.id, _RESIDENTS.c.grid_id, _RESIDENTS.c.id_suffix, _RESIDENTS.c.phone
            ).where(_RESIDENTS.c.id.in_(chunk))
        ):
            residents[rid] = (grid_id, resident_check(suffix, phone))
        if not round_ids:
            continue
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
            ).where(_RECORDS.c.resident_id.in_(chunk), _RECORDS.c.round_id.in_(sorted(round_ids)))
        ):
            stored[(r.round_id, r.resident_id)] = _Stored(
                id=r.id,
                grid_id=r.grid_id,
                sampled_at=to_second(r.sampled_at),
                method=r.method,
                site_id=r.site_id,
                tube_code=r.tube_code,
                result=r.result,
                result_at=to_second(r.result_at) if r.result_at is not None else None,
            )
    round_grids = {(info.id, grid) for info in all_rounds.values() for grid in info.grid_ids}
    return _Lookups(
        rounds=all_rounds,
        round_refs={},
        round_grids=round_grids,
        grid_ids={code: i for i, code in grid_codes.items()},
        grid_codes=grid_codes,
        sites=sites,
        site_names={i: name for (_, name), i in sites.items()},
        residents=residents,
        stored=stored,
    )


def _file_problems(table: Table, *, round_given: bool) -> list[Problem]:
    """Problems with the header: a required column missing, a column named twice."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in table.columns:
        key = normal_name(name)
        if key and key in seen:
            problems.append(Problem(1, name, name, "io.problem.duplicate_column"))
        seen.add(key)
    required = REQUIRED if round_given else ("round", *REQUIRED)
    for name in required:
        if name not in seen:
            problems.append(Problem(1, name, "", "io.problem.missing_column"))
    return problems


class _Checker:
    """Reads and checks the rows of one file against the lookups."""

    def __init__(
        self, *, table: Table, lookups: _Lookups, actor: Actor, round_id: int | None, now: datetime
    ):
        self.lookups = lookups
        self.actor = actor
        self.round_id = round_id
        self.now = now
        self.tz: tzinfo = get_settings().tz
        index = table.index()
        self.positions = {name: index.get(name) for name in COLUMNS}
        self.problems: list[Problem] = []
        self.first_row: dict[tuple[int, int], int] = {}

    def cell(self, cells: list[str], name: str) -> str:
        position = self.positions[name]
        return cells[position] if position is not None else ""

    def add(self, row: int, column: str, value: str, key: str, **params: Any) -> None:
        self.problems.append(Problem(row, column, value, key, params))

    def when(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def read(self, row: int, cells: list[str]) -> _Sample | None:
        """The row's sample, or None after adding its problems."""
        before = len(self.problems)
        round_id = self._round(row, cells)
        resident = self._resident(row, cells)
        stored = (
            self.lookups.stored.get((round_id, resident[0]))
            if round_id is not None and resident is not None
            else None
        )
        duplicate_of = None
        if round_id is not None and resident is not None:
            duplicate_of = self.first_row.setdefault((round_id, resident[0]), row)
        grid_id = self._grid(row, cells, round_id, resident, stored)
        sampled_at = self._sampled_at(row, cells, round_id)
        method = parse_method(text := self.cell(cells, "method"))
        if method is None:
            self.add(row, "method", text, "io.problem.bad_method")
        site_id = self._site(row, cells, round_id, method, new=stored is None)
        tube = self.cell(cells, "tube_code").strip() or None
        if tube is not None and len(tube) > TUBE_CODE_MAX:
            self.add(row, "tube_code", tube, "io.problem.too_long", max=TUBE_CODE_MAX)
        result = parse_result(text := self.cell(cells, "result"))
        if result is None:
            self.add(row, "result", text, "io.problem.bad_result")
        result_at = self._result_at(row, cells, sampled_at, result)
        if duplicate_of is not None and duplicate_of != row:
            text = self.cell(cells, "resident_id")
            self.add(row, "resident_id", text, "io.problem.duplicate", first=duplicate_of)
        if len(self.problems) > before:
            return None
        assert round_id is not None and resident is not None and grid_id is not None
        assert sampled_at is not None and method is not None and result is not None
        return _Sample(
            row,
            round_id,
            resident[0],
            grid_id,
            sampled_at,
            method,
            site_id,
            tube,
            result,
            result_at,
        )

    def _round(self, row: int, cells: list[str]) -> int | None:
        text = self.cell(cells, "round").strip()
        if not text:
            if self.round_id is None:
                self.add(row, "round", text, "io.problem.required")
            return self.round_id
        found = self.lookups.round_of(text)
        if isinstance(found, RoundNotFound):
            self.add(
                row, "round", text, found.key.replace("io.error.", "io.problem."), **found.params
            )
            return None
        if self.round_id is not None and found != self.round_id:
            self.add(
                row,
                "round",
                text,
                "io.problem.round_differs",
                round=self.lookups.rounds[self.round_id].name,
            )
            return None
        return found

    def _resident(self, row: int, cells: list[str]) -> tuple[int, int] | None:
        """(resident id, grid id) of a known resident whose check matches."""
        text = self.cell(cells, "resident_id")
        value = text.strip()
        if not value:
            self.add(row, "resident_id", text, "io.problem.required")
            return None
        rid = int(value) if value.isascii() and value.isdigit() else None
        known = self.lookups.residents.get(rid) if rid is not None else None
        if rid is None or known is None:
            self.add(row, "resident_id", text, "io.problem.unknown_resident")
            return None
        check = self.cell(cells, "resident_check").strip().upper()
        if check != known[1].upper():
            self.add(
                row,
                "resident_check",
                check,
                "io.problem.check_mismatch",
                resident=rid,
            )
            return None
        return rid, known[0]

    def _grid(
        self,
        row: int,
        cells: list[str],
        round_id: int | None,
        resident: tuple[int, int] | None,
        stored: _Stored | None,
    ) -> int | None:
        text = self.cell(cells, "grid_code")
        code = text.strip()
        if not code:
            self.add(row, "grid_code", text, "io.problem.required")
            return None
        grid_id = self.lookups.grid_ids.get(code)
        if grid_id is None:
            self.add(row, "grid_code", text, "io.problem.unknown_grid")
            return None
        if not self.actor.may_write_grid(grid_id):
            self.add(row, "grid_code", code, "io.problem.outside_scope")
            return None
        if resident is None:
            return None
        # A stored record keeps the grid the resident lived in when sampled.
        expected = stored.grid_id if stored is not None else resident[1]
        if grid_id != expected:
            self.add(
                row,
                "grid_code",
                code,
                "io.problem.grid_mismatch",
                grid=self.lookups.grid_codes.get(expected, "?"),
            )
            return None
        if (
            stored is None
            and round_id is not None
            and (round_id, grid_id) not in self.lookups.round_grids
        ):
            self.add(
                row,
                "grid_code",
                code,
                "io.problem.not_in_round",
                round=self.lookups.rounds[round_id].name,
            )
            return None
        return grid_id

    def _moment(self, row: int, cells: list[str], column: str) -> datetime | None:
        text = self.cell(cells, column)
        moment = parse_moment(text, self.tz)
        if moment is None:
            self.add(row, column, text, "io.problem.bad_time")
        elif moment > self.now + CLOCK_SKEW:
            self.add(row, column, text, "io.problem.in_future")
            return None
        return moment

    def _sampled_at(self, row: int, cells: list[str], round_id: int | None) -> datetime | None:
        text = self.cell(cells, "sampled_at")
        if not text.strip():
            self.add(row, "sampled_at", text, "io.problem.required")
            return None
        moment = self._moment(row, cells, "sampled_at")
        if moment is None or round_id is None:
            return moment
        info = self.lookups.rounds[round_id]
        if not info.start_at - GRACE <= moment <= info.deadline_at + GRACE:
            self.add(
                row,
                "sampled_at",
                text,
                "io.problem.outside_round",
                start=self.when(info.start_at),
                end=self.when(info.deadline_at),
            )
            return None
        return moment

    def _site(
        self,
        row: int,
        cells: list[str],
        round_id: int | None,
        method: SamplingMethod | None,
        *,
        new: bool,
    ) -> int | None:
        """The site of an on-site sample (required for a new one: throughput is per site)."""
        text = self.cell(cells, "site")
        name = text.strip()
        if not name:
            if new and method == SamplingMethod.site:
                self.add(row, "site", text, "io.problem.site_required")
            return None
        if method == SamplingMethod.door_to_door:
            self.add(row, "site", text, "io.problem.site_for_door")
            return None
        if round_id is None:
            return None
        site_id = self.lookups.sites.get((round_id, name))
        if site_id is None:
            self.add(
                row,
                "site",
                text,
                "io.problem.unknown_site",
                round=self.lookups.rounds[round_id].name,
            )
        return site_id

    def _result_at(
        self,
        row: int,
        cells: list[str],
        sampled_at: datetime | None,
        result: TestResult | None,
    ) -> datetime | None:
        text = self.cell(cells, "result_at")
        if not text.strip():
            return None
        if result == TestResult.pending:
            self.add(row, "result_at", text, "io.problem.pending_with_time")
            return None
        moment = self._moment(row, cells, "result_at")
        if moment is not None and sampled_at is not None and moment < sampled_at:
            self.add(row, "result_at", text, "io.problem.result_before_sample")
            return None
        return moment


def _merge(sample: _Sample, stored: _Stored, checker: _Checker) -> dict[str, Any] | None:
    """The changes a row makes to a stored record ({} none); None after adding a conflict."""
    conflicts: list[tuple[str, str]] = []
    if to_second(sample.sampled_at) != stored.sampled_at:
        conflicts.append(("sampled_at", local_text(stored.sampled_at, checker.tz)))
    if sample.method != stored.method:
        conflicts.append(("method", stored.method))
    changes: dict[str, Any] = {}
    if sample.site_id is not None and sample.site_id != stored.site_id:
        if stored.site_id is None:
            changes["site_id"] = sample.site_id
        else:
            conflicts.append(("site", checker.lookups.site_names.get(stored.site_id, "?")))
    if sample.tube_code is not None and sample.tube_code != stored.tube_code:
        if not stored.tube_code:
            changes["tube_code"] = sample.tube_code
        else:
            conflicts.append(("tube_code", stored.tube_code))
    if sample.result != TestResult.pending:
        if stored.result == TestResult.pending:
            changes["result"] = sample.result.value
            if sample.result_at is not None:
                changes["result_at"] = sample.result_at
        elif sample.result != stored.result:
            conflicts.append(("result", stored.result))
        elif sample.result_at is not None and to_second(sample.result_at) != stored.result_at:
            if stored.result_at is None:
                changes["result_at"] = sample.result_at
            else:
                conflicts.append(("result_at", local_text(stored.result_at, checker.tz)))
    for column, value in conflicts:
        checker.add(sample.row, column, _shown(sample, column, checker), "io.problem.conflict",
                    stored=value)  # fmt: skip
    return None if conflicts else changes


def _shown(sample: _Sample, column: str, checker: _Checker) -> str:
    """The row's value of `column`, as text for a problem report."""
    value: Any = {
        "sampled_at": sample.sampled_at,
        "method": sample.method.value,
        "site": checker.lookups.site_names.get(sample.site_id or 0, ""),
        "tube_code": sample.tube_code or "",
        "result": sample.result.value,
        "result_at": sample.result_at,
    }[column]
    return local_text(value, checker.tz) if isinstance(value, datetime) else str(value)


def import_test_results(
    *,
    session: Session,
    table: Table,
    actor: Actor,
    round_id: int | None = None,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
    now: datetime | None = None,
) -> ImportReport:
    """Check every row of a test-results table and, unless told otherwise, write it.

    `round_id` is the round of rows whose round cell is empty (a row naming another round
    is a problem). Nothing is written on a dry run, nor when any row has a problem — unless
    `skip_bad_rows`, when the good rows are written. Writes are one transaction with one
    audit entry (action "import"). A grid worker's rows outside their grids are problems;
    a viewer may not import at all (PermissionDenied).
    """
    require_writer(actor)
    report = ImportReport(kind=KIND, rows=len(table.rows), dry_run=dry_run)
    report.problems = _file_problems(table, round_given=round_id is not None)
    if report.problems:
        return report
    all_rounds = round_infos(session=session)
    checker_index = table.index()
    resident_ids, round_ids = _ids_in(table, checker_index, all_rounds, round_id)
    lookups = _load(session, resident_ids=resident_ids, round_ids=round_ids, all_rounds=all_rounds)
    checker = _Checker(
        table=table, lookups=lookups, actor=actor, round_id=round_id, now=now or utcnow()
    )
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for row, cells in table.rows:
        sample = checker.read(row, cells)
        if sample is None:
            continue
        stored = lookups.stored.get((sample.round_id, sample.resident_id))
        if stored is None:
            inserts.append(_insert_values(sample))
            continue
        changes = _merge(sample, stored, checker)
        if changes is None:
            continue
        if changes:
            updates.append(_update_values(stored, changes))
        else:
            report.unchanged += 1
    report.problems = checker.problems
    report.created, report.updated = len(inserts), len(updates)
    if dry_run or (report.problems and not skip_bad_rows):
        session.rollback()
        return report
    try:
        _write(session, inserts=inserts, updates=updates)
        audit(
            session,
            actor=actor,
            action="import",
            entity="test_record",
            entity_id=next(iter(round_ids)) if len(round_ids) == 1 else None,
            changes={
                "file": source,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rows_with_problems": report.bad_rows,
                "rounds": sorted(round_ids),
            },
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ImportConflict("io.error.changed_meanwhile") from None
    # The rows were written past the ORM: forget any copies this session holds.
    session.expire_all()
    report.written = True
    return report


def _ids_in(
    table: Table, index: dict[str, int], all_rounds: dict[int, RoundInfo], round_id: int | None
) -> tuple[set[int], set[int]]:
    """The resident ids and round ids the file names (for loading only what it needs)."""
    resident_ids: set[int] = set()
    round_ids: set[int] = {round_id} if round_id is not None else set()
    rid_at, round_at = index.get("resident_id"), index.get("round")
    refs: set[str] = set()
    for _, cells in table.rows:
        if rid_at is not None:
            value = cells[rid_at].strip()
            if value.isascii() and value.isdigit():
                resident_ids.add(int(value))
        if round_at is not None:
            refs.add(cells[round_at].strip())
    for ref in refs - {""}:
        with suppress(RoundNotFound):
            round_ids.add(round_named(ref=ref, rounds=all_rounds))
    return resident_ids, round_ids


def _insert_values(sample: _Sample) -> dict[str, Any]:
    return {
        "round_id": sample.round_id,
        "resident_id": sample.resident_id,
        "grid_id": sample.grid_id,
        "site_id": sample.site_id,
        "method": sample.method.value,
        "sampled_at": sample.sampled_at,
        "tube_code": sample.tube_code,
        "result": sample.result.value,
        "result_at": sample.result_at,
    }


def _update_values(stored: _Stored, changes: dict[str, Any]) -> dict[str, Any]:
    return {"record_id": stored.id, **{f"new_{name}": value for name, value in changes.items()}}


def _write(
    session: Session, *, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]
) -> None:
    """Bulk inserts, and updates of only the changed columns (Core executemany)."""
    if inserts:
        session.execute(insert(_RECORDS), inserts)
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in updates:
        columns = tuple(sorted(k.removeprefix("new_") for k in values if k != "record_id"))
        by_columns.setdefault(columns, []).append(values)
    for columns, batch in by_columns.items():
        session.execute(
            update(_RECORDS)
            .where(_RECORDS.c.id == bindparam("record_id"))
            .values({name: bindparam(f"new_{name}") for name in columns}),
            batch,
        )
