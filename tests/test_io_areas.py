"""Area shapes from GeoJSON: GCJ-02 converted, re-import updates, the parent made, problems."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from cli_support import failed_cleanly, run_cli
from factories import VIEWER, count
from sqlmodel import Session, select

from gridcore.access import SYSTEM, PermissionDenied
from gridcore.geo import gcj02_to_wgs84
from gridcore.io.areas import AreaNames, import_areas, name_key
from gridcore.models import Area, AreaLevel, AuditEntry

# Known pairs from the Shanghai geocode file (address_geocodes.csv: gcj02_lng, gcj02_lat,
# wgs84_lng, wgs84_lat), converted there by a one-step formula good to a few metres.
KNOWN_PAIRS = (
    ((121.63742, 31.201487), (121.6331938, 31.20367194)),  # 浦东新区 张东路2281弄
    ((121.4818, 31.12607), (121.477313, 31.12808759)),  # 浦东新区 临江村西新队罗汉松
)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    kx = 111_320 * math.cos(math.radians(a[1]))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * 111_320)


@pytest.mark.parametrize(("gcj", "wgs"), KNOWN_PAIRS)
def test_gcj02_points_convert_to_their_published_wgs84(
    gcj: tuple[float, float], wgs: tuple[float, float]
) -> None:
    assert _metres(gcj, wgs) > 400  # the offset being removed: hundreds of metres
    assert _metres(gcj02_to_wgs84(*gcj), wgs) < 3.0


def _square(x: float, y: float, size: float = 0.1) -> list[list[list[float]]]:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def _geojson(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _feature(properties: dict[str, Any], geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


JIADING = _feature(
    {"adcode": 310114, "name": "嘉定区"}, {"type": "Polygon", "coordinates": _square(121.2, 31.3)}
)
PUDONG = _feature(
    {"adcode": 310115, "name": "浦东新区"},
    {"type": "MultiPolygon", "coordinates": [_square(121.5, 31.1), _square(121.7, 31.1)]},
)


def _areas(session: Session) -> dict[str, tuple[Any, ...]]:
    session.expire_all()
    rows = session.exec(select(Area)).all()
    by_id = {a.id: a.code for a in rows}
    return {
        a.code: (a.name, a.name_zh, a.level, by_id.get(a.parent_id), a.shape is not None)
        for a in rows
    }


def test_a_district_file_in_gcj02_makes_the_city_and_stores_wgs84(session: Session) -> None:
    report = import_areas(
        session=session, data=_geojson(JIADING, PUDONG), level="district", actor=SYSTEM,
        datum="gcj02", parent_code="SH", parent_name="上海市", source="districts.geojson",
    )  # fmt: skip
    assert report.ok and report.written
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 2, 0, 0)
    assert _areas(session) == {
        "SH": ("上海市", "上海市", AreaLevel.city, None, False),
        "310114": ("嘉定区", "嘉定区", AreaLevel.district, "SH", True),
        "310115": ("浦东新区", "浦东新区", AreaLevel.district, "SH", True),
    }
    jiading = session.exec(select(Area).where(Area.code == "310114")).one()
    first = json.loads(jiading.shape or "")["coordinates"][0][0]
    expected = gcj02_to_wgs84(121.2, 31.3)
    assert first == [round(expected[0], 6), round(expected[1], 6)]
    assert first != [121.2, 31.3]
    assert jiading.center_lng is not None and 121.19 < jiading.center_lng < 121.3
    audit = session.exec(select(AuditEntry).where(AuditEntry.entity == "area")).one()
    assert audit.action == "import"


def test_importing_again_updates_shapes_and_never_duplicates(session: Session) -> None:
    data = _geojson(JIADING, PUDONG)
    import_areas(session=session, data=data, level="district", actor=SYSTEM)
    again = import_areas(session=session, data=data, level="district", actor=SYSTEM)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    moved = _feature(
        {"adcode": 310114, "name": "嘉定"}, {"type": "Polygon", "coordinates": _square(121.0, 31.3)}
    )
    changed = import_areas(session=session, data=_geojson(moved), level="district", actor=SYSTEM)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 0)
    assert count(session, Area) == 3  # the top area made on the first import, and two districts
    jiading = session.exec(select(Area).where(Area.code == "310114")).one()
    assert jiading.name == "嘉定"
    assert json.loads(jiading.shape or "")["coordinates"][0][0] == [121.0, 31.3]


def test_without_a_parent_the_top_area_is_made_once_then_used(session: Session) -> None:
    import_areas(session=session, data=_geojson(JIADING), level="district", actor=SYSTEM)
    import_areas(session=session, data=_geojson(PUDONG), level="district", actor=SYSTEM)
    areas = _areas(session)
    assert areas["TOP"][:4] == ("Deployment", "辖区", AreaLevel.city, None)
    assert areas["310114"][3] == areas["310115"][3] == "TOP"


def test_streets_go_under_the_district_named(session: Session) -> None:
    import_areas(session=session, data=_geojson(JIADING, PUDONG), level="district", actor=SYSTEM)
    street = _feature(
        {"id": "JD-01", "title": "嘉定镇街道"},
        {"type": "Polygon", "coordinates": _square(121.2, 31.3, 0.01)},
    )
    report = import_areas(
        session=session, data=_geojson(street), level="street", actor=SYSTEM,
        parent_code="310114", name_field="title", code_field="id",
    )  # fmt: skip
    assert report.ok and report.created == 1
    assert _areas(session)["JD-01"] == (
        "嘉定镇街道",
        "嘉定镇街道",
        AreaLevel.street,
        "310114",
        True,
    )
    # Two districts, no --parent: which one is not guessed.
    again = import_areas(session=session, data=_geojson(street), level="street", actor=SYSTEM,
                         name_field="title", code_field="id")  # fmt: skip
    assert [(p.row, p.column, p.key) for p in again.problems] == [
        (1, "--parent", "io.areas.problem.parent_needed")
    ]


def test_every_feature_problem_is_reported_and_nothing_written(session: Session) -> None:
    point = _feature({"adcode": 1, "name": "点"}, {"type": "Point", "coordinates": [121, 31]})
    nameless = _feature({"adcode": 2}, {"type": "Polygon", "coordinates": _square(121, 31)})
    twice = _feature({"adcode": 310114, "name": "又一个"}, JIADING["geometry"])
    report = import_areas(
        session=session, data=_geojson(JIADING, point, nameless, twice), level="district",
        actor=SYSTEM,
    )  # fmt: skip
    assert [(p.row, p.column, p.key) for p in report.problems] == [
        (2, "geometry", "io.areas.problem.not_polygon"),
        (3, "name", "io.problem.required"),
        (4, "code", "io.areas.problem.duplicate_code"),
    ]
    assert not report.written
    assert count(session, Area) == 0


def test_a_viewer_may_not_import_areas(session: Session) -> None:
    with pytest.raises(PermissionDenied):
        import_areas(session=session, data=_geojson(JIADING), level="district", actor=VIEWER)


def test_names_match_with_and_without_their_ending() -> None:
    names = AreaNames()
    names.add(1, "310114", ["Jiading", "嘉定区"])
    names.add(2, "310115", ["浦东新区"])
    names.add(3, "X1", ["新城街道"])
    names.add(4, "X2", ["新城镇"])
    assert [names.find(n) for n in ("嘉定", "嘉定区", " 嘉定 ", "jiading", "310114")] == [
        (1, [])
    ] * 5
    assert names.find("浦东") == (2, []) and names.find("浦东新区") == (2, [])
    assert names.find("新城街道") == (3, [])
    assert names.find("新城") == (None, ["X1", "X2"])
    assert names.find("其他") == (None, [])
    assert name_key("区") == "区"  # a name that is only an ending keeps it


# --------------------------------------------------------------------------- command line


@pytest.fixture
def url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "gridcore.db"
    target.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{target}"


def test_the_command_line_imports_areas_with_their_options(url: str, tmp_path: Path) -> None:
    path = tmp_path / "districts.geojson"
    path.write_bytes(_geojson(JIADING, PUDONG))
    run = run_cli("import", "areas", str(path), "--level", "district", "--datum", "gcj02",
                  "--parent", "SH", "--parent-name", "上海市", url=url)  # fmt: skip
    assert run.code == 0, run
    assert run.out.startswith("2 rows: 2 new, 0 changed, 0 unchanged")
    run = run_cli("import", "areas", str(path), "--level", "district", "--datum", "gcj02",
                  "--dry-run", url=url)  # fmt: skip
    assert run.code == 0 and "0 changed, 2 unchanged" in run.out, run
    # Read as WGS-84, the same file moves every shape.
    run = run_cli("import", "areas", str(path), "--level", "district", "--dry-run", url=url)
    assert run.code == 0 and "2 changed, 0 unchanged" in run.out, run


def test_the_command_line_refuses_options_that_do_not_apply(url: str, tmp_path: Path) -> None:
    path = tmp_path / "districts.geojson"
    path.write_bytes(_geojson(JIADING))
    failed_cleanly(run_cli("import", "areas", str(path), url=url), "--level")
    failed_cleanly(
        run_cli("import", "areas", str(path), "--level", "district", "--unmatched", "keep",
                url=url),
        "--unmatched", "areas",
    )  # fmt: skip
    counts = tmp_path / "counts.csv"
    counts.write_text("date,area,kind,found_by,count\n")
    failed_cleanly(
        run_cli("import", "case-counts", str(counts), "--geocodes", str(counts), url=url),
        "--geocodes",
        "case-counts",
    )
    failed_cleanly(
        run_cli("import", "residents", str(counts), "--level", "grid", url=url), "--level"
    )
    path.write_text("not json")
    failed_cleanly(run_cli("import", "areas", str(path), "--level", "district", url=url), "GeoJSON")


def test_case_counts_by_command_line_report_keep_and_export(url: str, tmp_path: Path) -> None:
    shapes = tmp_path / "districts.geojson"
    shapes.write_bytes(_geojson(JIADING, PUDONG))
    assert run_cli("import", "areas", str(shapes), "--level", "district", url=url).code == 0
    counts = tmp_path / "counts.csv"
    counts.write_text(
        "date,is_patient,district,source,count\n"
        "20220310,确诊病例,嘉定,闭环隔离管控,2\n"
        "20220310,确诊病例,其他,闭环隔离管控,1\n",
        encoding="utf-8",
    )
    refused = run_cli("import", "case-counts", str(counts), url=url)
    assert refused.code == 1
    assert 'row 3, district "其他": No area has this name or code.' in refused.out
    kept = run_cli("import", "case-counts", str(counts), "--unmatched", "keep", url=url)
    assert kept.code == 0, kept
    assert 'Kept under "unassigned" (matches no area): 其他, 1 rows.' in kept.out
    target = tmp_path / "out.csv"
    exported = run_cli("export", "case-counts", str(target), url=url)
    assert exported.code == 0, exported
    assert target.read_text(encoding="utf-8-sig").splitlines() == [
        "date,area,kind,found_by,count",
        "2022-03-10,嘉定区,confirmed,quarantine,2",
        "2022-03-10,未分配,confirmed,quarantine,1",
    ]
