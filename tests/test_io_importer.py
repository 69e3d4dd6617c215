"""The import framework: the header and cells on their own, then one transaction per import."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import World, grown, make_resident, make_street_with_grids, table_counts
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from gridcore.access import SYSTEM
from gridcore.io.cells import resident_number, text
from gridcore.io.importer import Column, Rows, check_header, in_chunks
from gridcore.io.report import ImportConflict
from gridcore.io.residents import ResidentsImport, import_residents
from gridcore.io.tabular import Table, read_table, write_table
from gridcore.io.testing import TestResultsImport, import_test_results, resident_check
from gridcore.models import Area, AuditEntry, TestRecord, TestRound, TestRoundArea, TestSite

COLUMNS = (
    Column("round", "轮次", text()),
    Column("resident_id", "居民编号", resident_number, required=True, filled=True),
    Column("name", "姓名", text(max_length=4), required=True),
)
REQUIRED = ("resident_id", "name")


def _found(problems: list[Any]) -> list[tuple[Any, ...]]:
    return [(p.row, p.column, p.value, p.key, p.params) for p in problems]


# --------------------------------------------------------------------------- the header


def test_headers_match_in_any_case_or_spacing_and_by_their_chinese_names() -> None:
    header = check_header(header=["ROUND", " Resident ID ", "姓 名"], columns=COLUMNS,
                          required=REQUIRED)  # fmt: skip
    assert header.positions == {"round": 0, "resident_id": 1, "name": 2}
    assert header.written == {"round": "ROUND", "resident_id": " Resident ID ", "name": "姓 名"}
    assert (header.problems, header.ignored) == ([], [])
    chinese = check_header(header=["居民编号", "轮次", "姓名"], columns=COLUMNS, required=REQUIRED)
    assert chinese.positions == {"resident_id": 0, "round": 1, "name": 2}


def test_a_column_named_twice_is_a_problem_even_in_two_languages() -> None:
    header = check_header(header=["name", "resident_id", "姓名", "NAME"], columns=COLUMNS,
                          required=REQUIRED)  # fmt: skip
    assert _found(header.problems) == [
        (1, "姓名", "姓名", "io.problem.duplicate_column", {}),
        (1, "NAME", "NAME", "io.problem.duplicate_column", {}),
    ]
    assert header.positions["name"] == 0  # the first one is read


def test_a_missing_column_is_named_with_its_chinese_name() -> None:
    header = check_header(header=["round", "备注"], columns=COLUMNS, required=REQUIRED)
    assert _found(header.problems) == [
        (1, "resident_id", "", "io.problem.missing_column", {"zh": "居民编号"}),
        (1, "name", "", "io.problem.missing_column", {"zh": "姓名"}),
    ]
    # An optional column may be left out.
    assert check_header(header=["居民编号", "姓名"], columns=COLUMNS, required=REQUIRED).ok


def test_unknown_and_unnamed_columns_are_listed_and_not_read() -> None:
    header = check_header(header=["resident_id", "备注", "", "name", "备注"], columns=COLUMNS,
                          required=REQUIRED)  # fmt: skip
    assert header.ok and header.ignored == ["备注", "备注"]
    assert header.positions == {"resident_id": 0, "name": 3}


# --------------------------------------------------------------------------- the cells


def test_cells_are_read_by_their_columns_and_every_bad_cell_is_a_problem() -> None:
    table = Table(
        columns=["姓名", "居民编号", "备注"],
        rows=[(2, ["甲", " 12 ", "x"]), (3, ["乙乙乙乙乙", "", ""]), (5, ["  ", "x1", ""])],
    )
    header = check_header(header=table.columns, columns=COLUMNS, required=REQUIRED)
    rows = Rows(table=table, header=header, columns=COLUMNS)
    good, bad, worse = rows
    assert dict(good) == {"name": "甲", "resident_id": 12, "round": ""}
    assert (good.number, good.problems) == (2, ())
    # A column the file leaves out reads as a blank cell.
    assert good["round"] == "" and good.read("round") and not good.has("round")
    assert not bad.read("resident_id") and not bad.read("name") and bad["name"] is None
    assert worse.read("name") and worse["name"] == ""  # blank, but not required to be filled
    # Lookups take whole columns.
    assert list(rows.column("resident_id")) == [12, None, None]
    assert rows.texts("resident_id") == [" 12 ", "", "x1"] and rows.texts("round") == ["", "", ""]
    # Problems name the column as the file does: row by row, in the file's order of columns.
    assert _found(rows.report()) == [
        (3, "姓名", "乙乙乙乙乙", "io.problem.too_long", {"max": 4}),
        (3, "居民编号", "", "io.problem.required", {}),
        (5, "居民编号", "x1", "io.problem.unknown_resident", {}),
    ]


def test_a_rule_may_show_another_value_than_the_cell() -> None:
    table = Table(columns=["resident_id", "name"], rows=[(7, ["3", "甲"])])
    header = check_header(header=table.columns, columns=COLUMNS, required=REQUIRED)
    rows = Rows(table=table, header=header, columns=COLUMNS)
    for row in rows:
        row.problem("round", "io.problem.required")  # a column the file does not have
        row.problem("resident_id", "io.problem.check_mismatch", value="0000", resident=3)
        assert len(row.problems) == 2
    assert _found(rows.report()) == [
        (7, "resident_id", "0000", "io.problem.check_mismatch", {"resident": 3}),
        (7, "round", "", "io.problem.required", {}),
    ]


def test_lookups_are_made_in_chunks() -> None:
    assert list(in_chunks(range(5), size=2)) == [[0, 1], [2, 3], [4]]
    assert list(in_chunks([], size=2)) == []


# --------------------------------------------------------------------------- one transaction


def _two_grids(session: Session) -> World:
    return make_street_with_grids(session, grids=2, buildings_per_grid=1)


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], World]:
    """A street with two grids of one building each (built once a run)."""
    return _two_grids


def _residents(world: World, *names: str, unit: str = "1-101") -> Table:
    building = world.buildings[0][0]
    columns = ["grid_code", "building_code", "unit", "name", "phone"]
    rows = [[world.grids[0].code, building.code, f"{unit}{i}", n, ""] for i, n in enumerate(names)]
    return read_table(data=write_table(columns=columns, rows=rows, fmt="csv"), fmt="csv")


@pytest.mark.both_backends
def test_an_import_writes_one_audit_entry_with_its_counts(session: Session, world: World) -> None:
    before = table_counts(session)
    report = import_residents(session=session, table=_residents(world, "甲", "乙", "丙"),
                              actor=SYSTEM, source="register.csv")  # fmt: skip
    assert report.written and report.created == 3
    assert grown(before, session) == {"household": 3, "resident": 3, "auditentry": 1}
    entry = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert entry is not None and (entry.action, entry.entity) == ("import", "resident")


@pytest.mark.both_backends
def test_a_file_with_a_problem_writes_nothing(session: Session, world: World) -> None:
    before = table_counts(session)
    table = _residents(world, "甲", "", "丙")  # row 3 has no name
    report = import_residents(session=session, table=table, actor=SYSTEM)
    assert [(p.row, p.key) for p in report.problems] == [(3, "io.problem.required")]
    assert not report.written and report.created == 2  # what would have been
    assert grown(before, session) == {}
    # A dry run of a good file writes nothing either.
    dry = import_residents(session=session, table=_residents(world, "甲"), actor=SYSTEM,
                           dry_run=True)  # fmt: skip
    assert dry.ok and dry.created == 1 and not dry.written
    assert grown(before, session) == {}


@pytest.mark.both_backends
def test_a_write_that_fails_halfway_leaves_nothing(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_resident(session, building=world.buildings[0][0], unit="9-901", name="李四")
    before = table_counts(session)
    households = [session.get(Area, a.id).households for a in (world.street, *world.grids)]  # type: ignore[union-attr]
    original = ResidentsImport.write

    def write_then_fail(self: ResidentsImport, **kwargs: Any) -> Any:
        original(self, **kwargs)  # households, counts and residents are written...
        raise IntegrityError("insert", {}, Exception("written meanwhile"))  # ...then this

    monkeypatch.setattr(ResidentsImport, "write", write_then_fail)
    with pytest.raises(ImportConflict):
        import_residents(session=session, table=_residents(world, "甲", "乙"), actor=SYSTEM)
    assert grown(before, session) == {}
    session.expire_all()
    assert [session.get(Area, a.id).households for a in (world.street, *world.grids)] == (  # type: ignore[union-attr]
        households
    )


@pytest.mark.both_backends
@pytest.mark.counters_unchecked  # the other desk's record is written behind the services
def test_records_written_meanwhile_make_the_import_a_conflict(
    engine: Engine, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another desk writes between the checks and the write: the import writes nothing."""
    start = datetime.now(UTC) - timedelta(hours=3)
    test_round = TestRound(name="R", start_at=start, deadline_at=start + timedelta(hours=24))
    session.add(test_round)
    session.flush()
    session.add(TestRoundArea(round_id=test_round.id, grid_id=world.grids[0].id))
    session.add(TestSite(round_id=test_round.id, name="Hall"))
    session.commit()
    people = [make_resident(session, building=world.buildings[0][0], name=n) for n in "甲乙丙"]
    columns = ["round", "resident_id", "resident_check", "grid_code", "sampled_at", "site"]
    rows = [
        ["R", p.id, resident_check(p.id_suffix, p.phone), world.grids[0].code,
         (start + timedelta(hours=1)).isoformat(), "Hall"]
        for p in people
    ]  # fmt: skip
    table = read_table(data=write_table(columns=columns, rows=rows, fmt="csv"), fmt="csv")
    before = table_counts(session)
    original = TestResultsImport.load

    def load_then_someone_writes(self: TestResultsImport, **kwargs: Any) -> Any:
        lookups = original(self, **kwargs)
        with engine.begin() as other:  # another desk stores the second resident's sample
            other.execute(
                insert(TestRecord.__table__),  # type: ignore[attr-defined]
                {"round_id": test_round.id, "resident_id": people[1].id,
                 "grid_id": world.grids[0].id, "method": "door_to_door", "sampled_at": start,
                 "result": "pending"},
            )  # fmt: skip
        return lookups

    monkeypatch.setattr(TestResultsImport, "load", load_then_someone_writes)
    with pytest.raises(ImportConflict):
        import_test_results(session=session, table=table, actor=SYSTEM)
    # Only the other desk's record: none of the file's, and no audit entry.
    assert grown(before, session) == {"testrecord": 1}
