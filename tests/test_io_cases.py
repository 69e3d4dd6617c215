"""Case files: daily counts and case addresses on two hand-made districts; line lists on tiny.

The districts (WGS-84 squares): 嘉定区 (code JD) 121.2–121.3 E, 31.3–31.4 N, and 浦东新区
(code PD) 121.5–121.6 E, 31.1–31.2 N, under the city SH (上海市).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from factories import LEADER, count, grid_worker
from sqlalchemy import delete
from sqlmodel import Session, select

from gridcore.access import SYSTEM, PermissionDenied
from gridcore.geo import gcj02_to_wgs84
from gridcore.io.exchange import export_file, export_rows, import_table
from gridcore.io.report import ImportReport
from gridcore.io.tabular import Table, read_table, write_table
from gridcore.models import (
    Area,
    AreaLevel,
    Case,
    CaseAddress,
    CaseCount,
    CaseKind,
    Contact,
    FoundVia,
    Resident,
)

pytestmark = pytest.mark.both_backends  # bulk import and export: the dialect matters

COUNT_HEADER = ("date", "area", "kind", "found_by", "count")
ADDRESS_HEADER = ("date", "address", "district")
GEOCODE_HEADER = (
    "district", "address", "complete_address", "gcj02_lng", "gcj02_lat", "wgs84_lng",
    "wgs84_lat", "township",
)  # fmt: skip


def _square(x: float, y: float) -> str:
    ring = [[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _districts(session: Session) -> dict[str, int]:
    city = Area(code="SH", name="Shanghai", name_zh="上海市", level=AreaLevel.city)
    session.add(city)
    session.flush()
    for code, name, x, y in (("JD", "嘉定区", 121.2, 31.3), ("PD", "浦东新区", 121.5, 31.1)):
        session.add(Area(code=code, name=name, name_zh=name, level=AreaLevel.district,
                         parent_id=city.id, shape=_square(x, y)))  # fmt: skip
    session.commit()
    return {a.code: int(a.id or 0) for a in session.exec(select(Area)).all()}


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], dict[str, int]]:
    return _districts


def _table(columns: tuple[str, ...], rows: list[tuple[Any, ...]], fmt: str = "csv") -> Table:
    return read_table(data=write_table(columns=list(columns), rows=rows, fmt=fmt), fmt=fmt)


def _load(session: Session, kind: str, table: Table, **options: Any) -> ImportReport:
    options.setdefault("actor", SYSTEM)
    return import_table(session=session, kind=kind, table=table, source="test", **options)


def _counts(session: Session, world: dict[str, int]) -> set[tuple[Any, ...]]:
    codes = {v: k for k, v in world.items()}
    session.expire_all()
    return {
        (c.day, codes.get(c.area_id, c.area_id), c.kind, c.found_via, c.count)
        for c in session.exec(select(CaseCount)).all()
    }


def _problems(report: ImportReport) -> list[tuple[int, str, str, str]]:
    return [(p.row, p.column, p.value, p.key) for p in report.problems]


# --------------------------------------------------------------------------- case counts

# As the Shanghai bulletins write them: their headers, labels, short names and YYYYMMDD.
BULLETIN = (
    ("date", "is_patient", "district", "source", "count"),
    [
        (20220306, "无症状感染者", "嘉定区", "闭环隔离管控", 13),
        (20220306, "确诊病例", "嘉定", "野生", 2),
        (20220307, "无症状感染者", "浦东", "风险人群筛查", 5),
        (20220307, "确诊病例", "浦东新区", "此前报告的本土无症状感染", 4),
    ],
)
BULLETIN_STORED = {
    (date(2022, 3, 6), "JD", "asymptomatic", "quarantine", 13),
    (date(2022, 3, 6), "JD", "confirmed", "community", 2),
    (date(2022, 3, 7), "PD", "asymptomatic", "screening", 5),
    (date(2022, 3, 7), "PD", "confirmed", "reclassified", 4),
}


def test_bulletin_labels_and_short_names_are_read(session: Session, world: dict[str, int]) -> None:
    report = _load(session, "case-counts", _table(*BULLETIN))
    assert report.ok and report.written, report.frame()
    assert report.created == 4
    assert _counts(session, world) == BULLETIN_STORED
    again = _load(session, "case-counts", _table(*BULLETIN))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert count(session, CaseCount) == 4


def test_a_changed_count_replaces_the_stored_one(session: Session, world: dict[str, int]) -> None:
    _load(session, "case-counts", _table(*BULLETIN))
    rows = [("2022-03-06", "JD", "asymptomatic", "quarantine", 15),
            ("2022-03-08", "嘉定", "confirmed", "mass_testing", 1)]  # fmt: skip
    report = _load(session, "case-counts", _table(COUNT_HEADER, rows))
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    stored = _counts(session, world)
    assert (date(2022, 3, 6), "JD", "asymptomatic", "quarantine", 15) in stored
    assert (date(2022, 3, 8), "JD", "confirmed", "mass_testing", 1) in stored
    assert len(stored) == 5


def test_excel_date_cells_are_days(session: Session, world: dict[str, int]) -> None:
    rows = [(date(2022, 4, 1), "浦东", "confirmed", "community", 3)]
    report = _load(session, "case-counts", _table(COUNT_HEADER, rows, fmt="xlsx"))
    assert report.ok, report.frame()
    assert _counts(session, world) == {(date(2022, 4, 1), "PD", "confirmed", "community", 3)}


def test_bad_rows_are_reported_by_row_and_column_and_nothing_written(
    session: Session, world: dict[str, int]
) -> None:
    rows = [
        ("20220306", "嘉定", "confirmed", "community", 1),  # good
        ("20220306", "外省", "confirmed", "community", 1),
        ("2022-02-30", "嘉定", "confirmed", "community", 1),
        ("20220306", "浦东", "confirmed", "community", -2),
        ("20220306", "浦东", "疑似病例", "community", 1),  # a bulletin counts no suspected cases
        ("20220306", "浦东", "confirmed", "hospital", 1),
        ("20220306", "嘉定区", "confirmed", "community", 4),  # 嘉定 again (row 2)
    ]
    report = _load(session, "case-counts", _table(COUNT_HEADER, rows))
    assert _problems(report) == [
        (3, "area", "外省", "io.problem.unknown_area"),
        (4, "date", "2022-02-30", "io.problem.bad_date"),
        (5, "count", "-2", "io.problem.bad_count"),
        (6, "kind", "疑似病例", "io.problem.bad_kind"),
        (7, "found_by", "hospital", "io.problem.bad_found_by"),
        (8, "area", "嘉定区", "io.problem.duplicate_count"),
    ]
    assert not report.written
    assert count(session, CaseCount) == 0


def test_unmatched_names_can_be_kept_under_unassigned(
    session: Session, world: dict[str, int]
) -> None:
    rows = [("20220310", "其他", "确诊病例", "闭环隔离管控", 1),
            ("20220310", "嘉定", "确诊病例", "闭环隔离管控", 2)]  # fmt: skip
    report = _load(session, "case-counts", _table(COUNT_HEADER, rows), unmatched="keep")
    assert report.ok and report.created == 2
    assert report.notes == [("io.note.kept_unassigned", {"name": "其他", "rows": 1})]
    unassigned = session.exec(select(Area).where(Area.code == "UNASSIGNED")).one()
    assert (unassigned.name_zh, unassigned.level, unassigned.parent_id) == (
        "未分配", AreaLevel.district, world["SH"],
    )  # fmt: skip
    assert _counts(session, world) == {
        (date(2022, 3, 10), unassigned.id, "confirmed", "quarantine", 1),
        (date(2022, 3, 10), "JD", "confirmed", "quarantine", 2),
    }
    again = _load(session, "case-counts", _table(COUNT_HEADER, rows), unmatched="keep")
    assert (again.created, again.unchanged) == (0, 2)


def test_case_counts_come_back_from_their_export(session: Session, world: dict[str, int]) -> None:
    _load(session, "case-counts", _table(*BULLETIN))
    for fmt in ("csv", "xlsx"):
        data = export_file(session=session, kind="case-counts", fmt=fmt, actor=SYSTEM)
        table = read_table(data=data, fmt=fmt)
        assert table.columns == list(COUNT_HEADER)
        assert table.rows[0][1] == ["2022-03-06", "嘉定区", "asymptomatic", "quarantine", "13"]
        session.execute(delete(CaseCount))
        session.commit()
        report = _load(session, "case-counts", table)
        assert report.created == 4
        assert _counts(session, world) == BULLETIN_STORED


def test_case_counts_are_imported_by_command_roles_only(
    session: Session, world: dict[str, int]
) -> None:
    assert _load(session, "case-counts", _table(*BULLETIN), actor=LEADER).ok
    with pytest.raises(PermissionDenied):
        _load(session, "case-counts", _table(*BULLETIN), actor=grid_worker())


# --------------------------------------------------------------------------- case addresses

# GCJ-02 of a WGS-84 point inside 嘉定 (121.25, 31.35), as a geocoder writes it.
_JD_GCJ = (121.25436, 31.34803)
GEOCODES = (
    GEOCODE_HEADER,
    [
        ("浦东新区", "张杨路1号", "", "121.5", "31.1", "121.55", "31.15", "镇"),
        # The mess of the real file: "lng,lat" in one cell, the rest shifted, no WGS-84.
        ("嘉定区", "城中路2弄", "", f"{_JD_GCJ[0]},{_JD_GCJ[1]}", "镇", "", "", ""),
        # Listed under 浦东 but its point is in 嘉定.
        ("浦东新区", "错区路3号", "", "121.2", "31.3", "121.28", "31.38", "镇"),
        # A header repeated inside the file (as in the real one): no point.
        ("district", "address", "", "lng,lat", "street_level", "", "", ""),
    ],
)
ADDRESSES = (
    ADDRESS_HEADER,
    [
        ("20220401", "张杨路1号", "浦东新区"),
        ("20220401", "张杨路1号", "浦东新区"),  # published twice
        ("20220401", "城中路2弄", "嘉定"),
        ("20220402", "城中路2弄", "嘉定区"),
        ("20220401", "错区路3号", "浦东新区"),
        ("20220401", "无坐标路4号", "浦东新区"),  # no geocode
    ],
)


def _addresses(session: Session, world: dict[str, int]) -> set[tuple[Any, ...]]:
    codes = {v: k for k, v in world.items()}
    session.expire_all()
    return {
        (a.day, a.address, codes[a.area_id],
         None if a.lng is None else round(a.lng, 5), None if a.lat is None else round(a.lat, 5))
        for a in session.exec(select(CaseAddress)).all()
    }  # fmt: skip


def test_addresses_are_placed_by_their_point_and_repeats_stored_once(
    session: Session, world: dict[str, int]
) -> None:
    report = _load(session, "case-addresses", _table(*ADDRESSES), geocodes=_table(*GEOCODES))
    assert report.ok and report.written, report.frame()
    assert (report.rows, report.created) == (6, 5)
    jd = gcj02_to_wgs84(*_JD_GCJ)
    assert abs(jd[0] - 121.25) < 1e-4 and abs(jd[1] - 31.35) < 1e-4
    assert _addresses(session, world) == {
        (date(2022, 4, 1), "张杨路1号", "PD", 121.55, 31.15),
        (date(2022, 4, 1), "城中路2弄", "JD", round(jd[0], 5), round(jd[1], 5)),
        (date(2022, 4, 2), "城中路2弄", "JD", round(jd[0], 5), round(jd[1], 5)),
        (date(2022, 4, 1), "错区路3号", "JD", 121.28, 31.38),
        (date(2022, 4, 1), "无坐标路4号", "PD", None, None),
    }
    assert report.notes == [
        ("io.note.geocodes", {"rows": 4, "converted": 1, "unreadable": 1}),
        ("io.note.duplicates", {"rows": 1}),
        ("io.note.without_point", {"rows": 1}),
        ("io.note.outside", {"rows": 0}),
        ("io.note.elsewhere", {"rows": 1}),
    ]
    again = _load(session, "case-addresses", _table(*ADDRESSES), geocodes=_table(*GEOCODES))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)


def test_an_address_in_no_area_is_reported_unless_kept(
    session: Session, world: dict[str, int]
) -> None:
    rows = [("20220401", "某路5号", "其他"), ("2022-04-01", "外滩1号", "上海"),
            ("20220431", "张杨路1号", "浦东")]  # fmt: skip
    report = _load(session, "case-addresses", _table(ADDRESS_HEADER, rows))
    assert _problems(report) == [
        (2, "district", "其他", "io.problem.unknown_area"),
        (4, "date", "20220431", "io.problem.bad_date"),
    ]  # 上海 is the city: an area all the same
    assert count(session, CaseAddress) == 0
    kept = _load(session, "case-addresses", _table(ADDRESS_HEADER, rows[:2]), unmatched="keep")
    assert kept.ok and kept.created == 2
    assert ("io.note.kept_unassigned", {"name": "其他", "rows": 1}) in kept.notes


def test_case_addresses_come_back_from_their_export(
    session: Session, world: dict[str, int]
) -> None:
    _load(session, "case-addresses", _table(*ADDRESSES), geocodes=_table(*GEOCODES))
    before = _addresses(session, world)
    header, rows = export_rows(session=session, kind="case-addresses", actor=SYSTEM)
    assert header == ["date", "address", "area", "lng", "lat"]
    assert len(rows) == 5
    for fmt in ("csv", "xlsx"):
        table = read_table(data=write_table(columns=header, rows=rows, fmt=fmt), fmt=fmt)
        session.execute(delete(CaseAddress))
        session.commit()
        report = _load(session, "case-addresses", table)  # points from the file itself
        assert report.created == 5, report.frame()
        assert _addresses(session, world) == before


# --------------------------------------------------------------------------- line lists (tiny)


def _cases(session: Session) -> list[tuple[Any, ...]]:
    session.expire_all()
    return [
        (c.resident_id, c.address, c.grid_id, c.building_id, c.kind, c.found_via,
         c.reported_date, c.status, c.note)
        for c in session.exec(select(Case).order_by(Case.id)).all()  # type: ignore[arg-type]
    ]  # fmt: skip


def _contacts(session: Session) -> list[tuple[Any, ...]]:
    session.expire_all()
    return [
        (c.case_id, c.resident_id, c.person_name, c.phone, c.grid_id, c.contact_type,
         c.identified_date, c.quarantine_place, c.start_date, c.planned_end_date, c.status)
        for c in session.exec(select(Contact).order_by(Contact.id)).all()  # type: ignore[arg-type]
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_line_lists_deleted_come_back_from_their_export(tiny_session: Session, fmt: str) -> None:
    session = tiny_session
    cases, contacts = _cases(session), _contacts(session)
    assert (len(cases), len(contacts)) == (12, 14)
    files = {
        kind: read_table(data=export_file(session=session, kind=kind, fmt=fmt, actor=SYSTEM),
                         fmt=fmt)
        for kind in ("cases", "contacts")
    }  # fmt: skip
    # The ids of deleted rows name nothing now: the rows come back as new ones.
    for table in files.values():
        table.columns[0] = "ignored"
    session.execute(delete(Contact))
    session.commit()
    report = _load(session, "contacts", files["contacts"])
    assert report.ok and report.created == 14, report.frame()
    assert _contacts(session) == contacts
    session.execute(delete(Contact))
    session.execute(delete(Case))
    session.commit()
    report = _load(session, "cases", files["cases"])
    assert report.ok and report.created == 12, report.frame()
    assert _cases(session) == cases


def test_a_case_row_is_matched_to_its_resident(tiny_session: Session) -> None:
    session = tiny_session
    resident = session.exec(select(Resident).where(Resident.id == 30)).one()
    header = ("resident_id", "grid_code", "kind", "found_by", "reported_date")
    rows = [(30, "", "确诊病例", "社会面", "20260320")]
    report = _load(session, "cases", _table(header, rows))
    assert report.ok and report.created == 1, report.frame()
    case = session.exec(select(Case).order_by(Case.id.desc())).first()  # type: ignore[union-attr]
    assert case is not None
    assert (case.resident_id, case.grid_id, case.building_id, case.kind, case.found_via) == (
        30, resident.grid_id, resident.building_id, CaseKind.confirmed, FoundVia.community,
    )  # fmt: skip
    # The same row again describes the same case.
    assert _load(session, "cases", _table(header, rows)).unchanged == 1
    # Another active case for the same resident, as the form refuses it.
    later = [(30, "", "confirmed", "community", "20260321")]
    assert [
        (p.row, p.column, p.key) for p in _load(session, "cases", _table(header, later)).problems
    ] == [(2, "resident_id", "services.error.case_exists")]


def test_bad_case_rows_are_reported_and_nothing_written(tiny_session: Session) -> None:
    session = tiny_session
    before = _cases(session)
    header = ("resident_id", "address", "grid_code", "kind", "found_by", "reported_date")
    rows = [
        ("", "Lane 1", "T-C1-G1", "confirmed", "community", "2026-03-20"),  # good
        ("", "Lane 2", "NOPE", "confirmed", "community", "2026-03-20"),
        (99999, "", "T-C1-G1", "confirmed", "community", "2026-03-20"),
        ("", "Lane 4", "T-C1-G1", "sick", "community", "2026-03-20"),
        ("", "Lane 5", "T-C1-G1", "confirmed", "community", "03/20/2026"),
        ("", "", "T-C1-G1", "confirmed", "community", "2026-03-20"),
        (30, "", "T-C2-G1", "confirmed", "community", "2026-03-20"),
    ]
    report = _load(session, "cases", _table(header, rows))
    resident_grid = "T-C1-G2"  # resident 30's
    assert [(r, c, k) for r, c, _, k in _problems(report)] == [
        (3, "grid_code", "io.problem.unknown_grid"),
        (4, "resident_id", "io.problem.unknown_resident"),
        (5, "kind", "io.problem.bad_kind"),
        (6, "reported_date", "io.problem.bad_date"),
        (7, "address", "io.problem.resident_or_address"),
        (8, "grid_code", "io.problem.grid_mismatch"),
    ]
    assert report.problems[-1].params == {"grid": resident_grid}
    assert not report.written
    assert _cases(session) == before


def test_a_grid_worker_adds_cases_in_their_grids_only(tiny_session: Session) -> None:
    session = tiny_session
    grid = session.exec(select(Area).where(Area.code == "T-C1-G1")).one()
    header = ("address", "grid_code", "kind", "found_by", "reported_date")
    rows = [("Lane 1", "T-C1-G1", "confirmed", "quarantine", "2026-03-20"),
            ("Lane 2", "T-C1-G2", "confirmed", "quarantine", "2026-03-20")]  # fmt: skip
    report = _load(session, "cases", _table(header, rows), actor=grid_worker(grid))
    assert [(r, c, k) for r, c, _, k in _problems(report)] == [
        (3, "grid_code", "io.problem.outside_scope")
    ]


def test_a_contact_without_an_end_gets_the_policy_days(tiny_session: Session) -> None:
    session = tiny_session
    header = ("case_id", "name", "grid_code", "contact_type", "identified_date",
              "quarantine_place")  # fmt: skip
    rows = [(4, "赵六", "T-C1-G1", "密接", "20260319", "集中"),
            (4, "钱七", "T-C1-G1", "次密接", "20260319", "居家"),
            (4, "孙八", "T-C1-G1", "close", "20260319", "hotel"),
            (999, "周九", "T-C1-G1", "close", "20260319", "home")]  # fmt: skip
    report = _load(session, "contacts", _table(header, rows))
    assert [(r, c, k) for r, c, _, k in _problems(report)] == [
        (4, "quarantine_place", "io.problem.bad_place"),
        (5, "case_id", "io.problem.unknown_case"),
    ]
    report = _load(session, "contacts", _table(header, rows[:2]))
    assert report.ok and report.created == 2
    added = _contacts(session)[-2:]
    start = date(2026, 3, 19)
    assert [(c[2], c[5], c[7], c[8], c[9]) for c in added] == [
        ("赵六", "close", "central", start, start + timedelta(days=10)),  # 7 central + 3 home
        ("钱七", "secondary", "home", start, start + timedelta(days=7)),
    ]


def test_a_resident_in_quarantine_is_not_added_twice(tiny_session: Session) -> None:
    header = ("case_id", "resident_id", "contact_type", "identified_date", "quarantine_place")
    rows = [(4, 16, "close", "20260319", "home")]  # 郭明 is in quarantine already (K03)
    report = _load(tiny_session, "contacts", _table(header, rows))
    assert [(p.row, p.column, p.key) for p in report.problems] == [
        (2, "resident_id", "services.error.contact_exists")
    ]
