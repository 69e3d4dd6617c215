"""Importing residents: new people and households, changes, problems, and who may."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from factories import (
    ADMIN,
    VIEWER,
    World,
    count,
    grid_worker,
    make_resident,
    make_street_with_grids,
)
from sqlmodel import Session, col, select

from gridcore.access import SYSTEM, PermissionDenied
from gridcore.io.report import ImportReport
from gridcore.io.residents import COLUMNS, export_residents, import_residents
from gridcore.io.tabular import Table, read_table, write_table
from gridcore.models import (
    Area,
    AuditEntry,
    Household,
    Resident,
    ResidentVulnerability,
    Vulnerability,
)

pytestmark = pytest.mark.both_backends  # bulk import and export: the dialect matters

ID_NUMBER = "110105198001010016"  # a valid number: born 1980, male


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], World]:
    """Street T: grids T-C1-G1 and T-C1-G2 with two buildings each (built once a run)."""
    return make_street_with_grids


def _table(
    rows: list[dict[str, Any]], fmt: str = "csv", columns: tuple[str, ...] = COLUMNS
) -> Table:
    data = write_table(
        columns=list(columns), rows=[[r.get(c, "") for c in columns] for r in rows], fmt=fmt
    )
    return read_table(data=data, fmt=fmt)


def _row(world: World, grid: int = 0, building: int = 0, **cells: Any) -> dict[str, Any]:
    row = {
        "grid_code": world.grids[grid].code,
        "building_code": world.buildings[grid][building].code,
        "unit": "1-101",
        "name": "王小明",
    }
    row.update(cells)
    return row


def _import(session: Session, table: Table, **kwargs: Any) -> ImportReport:
    kwargs.setdefault("actor", SYSTEM)
    return import_residents(session=session, table=table, **kwargs)


def _people(session: Session) -> list[tuple[Any, ...]]:
    """Every resident's stored fields, the vulnerabilities as the file writes them."""
    order = list(Vulnerability)
    tags: dict[int, list[Vulnerability]] = {}
    for resident_id, tag in session.exec(
        select(ResidentVulnerability.resident_id, ResidentVulnerability.tag)
    ).all():
        tags.setdefault(resident_id, []).append(Vulnerability(tag))
    rows = session.exec(
        select(
            Resident.id, Resident.name, Household.unit, Resident.grid_id, Resident.building_id,
            Resident.id_number_masked, Resident.id_suffix, Resident.phone, Resident.birth_year,
            Resident.sex, Resident.health_status,
        )
        .join(Household, col(Household.id) == Resident.household_id)
        .order_by(col(Resident.id))
    ).all()  # fmt: skip
    return [
        (
            *r[1:10],
            ",".join(t.value for t in sorted(tags.get(r[0], []), key=order.index)),
            r[10],
        )
        for r in rows
    ]


def _households(session: Session, world: World) -> list[int]:
    """Area.households of the street, the community and each grid."""
    areas = [world.street, world.community, *world.grids]
    return [session.get(Area, a.id).households for a in areas]  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_new_residents_and_their_households_are_added(
    session: Session, world: World, fmt: str
) -> None:
    rows = [
        _row(
            world,
            name="王小明",
            id_number=ID_NUMBER,
            phone="+86 139 0000 1234",
            vulnerability="elderly_alone, 慢性病",
            health_status="住院",
        ),  # fmt: skip
        _row(world, name="王小红", sex="女", birth_year="2016", vulnerability="infant"),
        _row(world, grid=1, building=1, unit="3-502", name="=cmd|' /C calc'!A0"),
    ]
    report = _import(session, _table(rows, fmt), source=f"register.{fmt}")
    assert report.ok, report.frame()
    assert (report.created, report.updated, report.unchanged, report.written) == (3, 0, 0, True)
    b1, b4 = world.buildings[0][0].id, world.buildings[1][1].id
    g1, g2 = world.grids[0].id, world.grids[1].id
    assert _people(session) == [
        ("王小明", "1-101", g1, b1, "110***********0016", "0016", "+86 139 0000 1234", 1980,
         "male", "elderly_alone,chronic_illness", "in_hospital"),
        ("王小红", "1-101", g1, b1, None, None, None, 2016, "female", "infant", "at_home"),
        ("=cmd|' /C calc'!A0", "3-502", g2, b4, None, None, None, None, None, "", "at_home"),
    ]  # fmt: skip
    # Two households added, counted up the area tree: street, community, grid 1, grid 2.
    assert _households(session, world) == [2, 2, 1, 1]
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "import")).one()
    assert json.loads(entry.changes)["households_added"] == 2
    assert entry.entity == "resident"


def test_rows_with_an_id_change_that_resident(session: Session, world: World) -> None:
    person = make_resident(
        session, building=world.buildings[0][0], name="李四", phone="13900001111"
    )
    other = make_resident(session, building=world.buildings[0][0], unit="1-102", name="赵五")
    rows = [
        _row(world, resident_id=person.id, name="李四", phone="13900002222", unit="1-101"),
        _row(world, resident_id=other.id, grid=1, unit="9-901", name="赵五"),  # moves
    ]
    table = _table(rows, columns=("resident_id", "grid_code", "building_code", "unit", "name",
                                  "phone"))  # fmt: skip
    report = _import(session, table)
    assert report.ok, report.frame()
    assert (report.created, report.updated, report.unchanged) == (0, 2, 0)
    session.expire_all()
    moved = session.get(Resident, other.id)
    assert moved is not None and moved.grid_id == world.grids[1].id
    assert session.get(Resident, person.id).phone == "13900002222"  # type: ignore[union-attr]
    # The file has no sex column: the stored value is kept.
    assert _import(session, table).unchanged == 2


def test_a_row_without_id_recognises_a_resident_already_registered(
    session: Session, world: World
) -> None:
    rows = [_row(world, id_number=ID_NUMBER, phone="13900003333")]
    assert _import(session, _table(rows)).created == 1
    again = _import(session, _table(rows))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    changed = _import(session, _table([_row(world, id_number=ID_NUMBER, phone="13900004444")]))
    assert (changed.created, changed.updated) == (0, 1)
    assert count(session, Resident) == 1


def test_a_file_full_of_mistakes_writes_nothing(session: Session, world: World) -> None:
    person = make_resident(session, building=world.buildings[0][0], name="李四")
    before = (count(session, Resident), count(session, Household), count(session, AuditEntry))
    rows = [
        _row(world),  # 2: good
        _row(world, resident_id="99999"),  # 3
        _row(world, grid_code="NOPE"),  # 4
        _row(world, building_code="NOPE"),  # 5
        _row(world, building_code=world.buildings[1][0].code),  # 6: in grid 2
        _row(world, unit=""),  # 7
        _row(world, name=""),  # 8
        _row(world, name="长" * 81),  # 9
        _row(world, id_number="110105198001010017"),  # 10: wrong check character
        _row(world, phone="call me"),  # 11
        _row(world, birth_year="1850"),  # 12
        _row(world, sex="x"),  # 13
        _row(world, vulnerability="elderly_alone, tall"),  # 14
        _row(world, health_status="asleep"),  # 15
        _row(world, resident_id=person.id, name="李四"),  # 16
        _row(world, resident_id=person.id, name="李四"),  # 17: twice
        _row(world, unit="x" * 41),  # 18
    ]
    report = _import(session, _table(rows))
    assert [(p.row, p.column, p.key) for p in report.problems] == [
        (3, "resident_id", "io.problem.unknown_resident"),
        (4, "grid_code", "io.problem.unknown_grid"),
        (5, "building_code", "io.problem.unknown_building"),
        (6, "building_code", "io.problem.building_not_in_grid"),
        (7, "unit", "io.problem.required"),
        (8, "name", "io.problem.required"),
        (9, "name", "io.problem.too_long"),
        (10, "id_number", "io.problem.bad_id_number"),
        (11, "phone", "io.problem.bad_phone"),
        (12, "birth_year", "io.problem.bad_year"),
        (13, "sex", "io.problem.bad_choice"),
        (14, "vulnerability", "io.problem.unknown_tags"),
        (15, "health_status", "io.problem.bad_choice"),
        (17, "resident_id", "io.problem.duplicate"),
        (18, "unit", "io.problem.too_long"),
    ]
    assert {p.row: p.params for p in report.problems}[14] == {"tags": "tall"}
    assert not report.written
    after = (count(session, Resident), count(session, Household), count(session, AuditEntry))
    assert after == before


def test_missing_columns_are_a_file_level_problem(session: Session, world: World) -> None:
    report = _import(session, _table([_row(world)], columns=("grid_code", "name")))
    assert [(p.row, p.column, p.key) for p in report.problems] == [
        (1, "building_code", "io.problem.missing_column"),
        (1, "unit", "io.problem.missing_column"),
    ]


def test_a_grid_worker_may_not_add_or_change_outside_their_grids(
    session: Session, world: World
) -> None:
    theirs = make_resident(session, building=world.buildings[1][0], name="外人")
    worker = grid_worker(world.grids[0])
    rows = [
        _row(world),
        _row(world, grid=1, name="新人"),
        _row(world, resident_id=theirs.id, name="外人", grid=0),  # would move it in
    ]
    report = _import(session, _table(rows), actor=worker)
    assert [(p.row, p.column, p.key) for p in report.problems] == [
        (3, "grid_code", "io.problem.outside_scope"),
        (4, "resident_id", "io.problem.unknown_resident"),  # as if it did not exist
    ]
    assert count(session, Resident) == 1
    with pytest.raises(PermissionDenied):
        _import(session, _table(rows[:1]), actor=VIEWER)


def test_export_lists_the_register_in_the_documented_columns(
    session: Session, world: World
) -> None:
    make_resident(session, building=world.buildings[1][0], unit="2-201", name="乙",
                  vulnerability="bedridden")  # fmt: skip
    person = make_resident(session, building=world.buildings[0][0], name="甲",
                           id_number=ID_NUMBER, phone="13900001111")  # fmt: skip
    columns, rows = export_residents(session=session, actor=ADMIN)
    assert tuple(columns) == COLUMNS
    exported = list(rows)
    assert exported[0] == [
        person.id, world.grids[0].code, world.buildings[0][0].code, "1-101", "甲",
        "110***********0016", "13900001111", 1980, "male", "", "at_home",
    ]  # fmt: skip
    assert [r[4] for r in exported] == ["甲", "乙"]
    _, mine = export_residents(session=session, actor=grid_worker(world.grids[1]))
    assert [r[4] for r in mine] == ["乙"]
    with pytest.raises(PermissionDenied):
        export_residents(session=session, actor=VIEWER)


# Staff keep their registers with Chinese headers.
CHINESE = {
    "resident_id": "居民编号", "grid_code": "网格编码", "building_code": "楼栋编码", "unit": "房号",
    "name": "姓名", "id_number": "身份证号", "phone": "手机号", "birth_year": "出生年份",
    "sex": "性别", "vulnerability": "重点人群", "health_status": "健康状况",
}  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_chinese_headers_are_read_like_english_ones(
    session: Session, world: World, fmt: str
) -> None:
    def table(rows: list[dict[str, Any]]) -> Table:
        cells = [[r.get(c, "") for c in COLUMNS] for r in rows]
        data = write_table(columns=[CHINESE[c] for c in COLUMNS], rows=cells, fmt=fmt)
        return read_table(data=data, fmt=fmt)

    good = _row(world, name="王小明", id_number=ID_NUMBER, vulnerability="独居老人",
                health_status="住院")  # fmt: skip
    bad = _row(world, unit="1-102", name="王小红", birth_year="一九八〇")
    report = _import(session, table([good, bad]))
    # A problem names the column as the file does.
    assert [(p.row, p.column, p.key) for p in report.problems] == [
        (3, "出生年份", "io.problem.bad_year")
    ]
    assert count(session, Resident) == 0
    report = _import(session, table([good]))
    assert report.ok and report.written and report.created == 1
    assert report.ignored_columns == []
    b1, g1 = world.buildings[0][0].id, world.grids[0].id
    assert _people(session) == [
        ("王小明", "1-101", g1, b1, "110***********0016", "0016", None, 1980, "male",
         "elderly_alone", "in_hospital"),
    ]  # fmt: skip


def test_a_nul_byte_in_any_cell_is_a_problem_and_nothing_is_written(
    session: Session, world: World
) -> None:
    rows = [
        _row(world, name="王\x00小明"),
        _row(world, unit="1-\x00102", name="李四"),
        _row(world, name="赵六", phone="138\x000000000"),
    ]
    report = _import(session, _table(rows))
    assert [(p.row, p.column, p.key) for p in report.problems] == [
        (2, "name", "io.problem.nul_byte"),
        (3, "unit", "io.problem.nul_byte"),
        (4, "phone", "io.problem.nul_byte"),
    ]
    assert report.problems[0].value == "王\\0小明"
    assert not report.written and count(session, Resident) == 0
    # The good rows alone, skipping the bad: written (the database took no NUL byte).
    report = _import(session, _table([*rows, _row(world, name="钱七")]), skip_bad_rows=True)
    assert report.written and count(session, Resident) == 1


def test_a_birth_year_in_the_future_is_a_problem(session: Session, world: World) -> None:
    from gridcore.config import local_today

    next_year = local_today().year + 1
    rows = [_row(world, birth_year=str(next_year)), _row(world, name="李四", birth_year="2099")]
    report = _import(session, _table(rows))
    assert [(p.row, p.column, p.key) for p in report.problems] == [
        (2, "birth_year", "io.problem.year_in_future"),
        (3, "birth_year", "io.problem.year_in_future"),
    ]
    assert count(session, Resident) == 0
