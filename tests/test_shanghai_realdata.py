"""The real Shanghai 2022 outbreak, imported as the README's sequence says, on a fresh database.

The files are read from ../shared/realdata/shanghai-2022/ beside the repository (never copied
into it); without them the test is skipped and says why. Every figure it checks is computed
here again from the raw files with the csv module alone, not by GridCore's importers.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from cli_support import Run, run_cli
from sqlalchemy import func, select
from sqlmodel import Session

from gridcore.config import PROJECT_ROOT
from gridcore.db import make_engine
from gridcore.models import Area, AreaLevel, CaseAddress, CaseCount

pytestmark = pytest.mark.demo  # about 10 s of CPU: run by `make test`, not `make check`

REALDATA = PROJECT_ROOT.parent / "shared" / "realdata" / "shanghai-2022"
FILES = (
    "districts_gcj02.geojson",
    "district_daily_cases.csv",
    "case_addresses.csv",
    "address_geocodes.csv",
)
KIND = {"确诊病例": "confirmed", "无症状感染者": "asymptomatic"}
FOUND_BY = {
    "闭环隔离管控": "quarantine",
    "风险人群筛查": "screening",
    "野生": "community",
    "此前报告的本土无症状感染": "reclassified",
}


def _short(name: str) -> str:
    """浦东新区 → 浦东, 嘉定区 → 嘉定 (the two spellings of the bulletins)."""
    for ending in ("新区", "区"):
        if name.endswith(ending):
            return name[: -len(ending)]
    return name


def _rows(name: str) -> list[dict[str, str]]:
    with (REALDATA / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def raw() -> dict[str, object]:
    """The figures of the raw files, computed without GridCore."""
    missing = [name for name in FILES if not (REALDATA / name).is_file()]
    if missing:
        reason = f"the Shanghai 2022 files are not in {REALDATA} (missing: {', '.join(missing)})"
        print(reason)
        pytest.skip(reason)
    districts = [
        f["properties"]["name"]
        for f in json.loads((REALDATA / FILES[0]).read_text(encoding="utf-8"))["features"]
    ]
    short = {_short(name): name for name in districts}
    counts = _rows(FILES[1])
    by_kind: Counter[str] = Counter()
    by_found: Counter[str] = Counter()
    by_district: Counter[str] = Counter()
    for row in counts:
        by_kind[KIND[row["is_patient"]]] += int(row["count"])
        by_found[FOUND_BY[row["source"]]] += int(row["count"])
        by_district[short.get(_short(row["district"]), "未分配")] += int(row["count"])
    addresses = _rows(FILES[2])
    geocoded = {(r["district"], r["address"]) for r in _rows(FILES[3]) if r["address"]}
    exact = {(r["date"], r["address"], r["district"]) for r in addresses}
    return {
        "districts": sorted(districts),
        "days": (min(r["date"] for r in counts), max(r["date"] for r in counts)),
        "by_kind": dict(by_kind),
        "by_found": dict(by_found),
        "by_district": dict(by_district),
        "unknown_districts": sorted({r["district"] for r in counts} - set(districts)
                                    - {d for d in {r["district"] for r in counts}
                                       if _short(d) in short}),
        "address_rows": len(addresses),
        "duplicates": len(addresses) - len(exact),
        "distinct_addresses": len({r["address"] for r in addresses}),
        "without_geocode": sum((r["district"], r["address"]) not in geocoded for r in addresses),
        "addresses_unknown_district": sum(r["district"] not in districts for r in addresses),
    }  # fmt: skip


def _cli(*args: str, url: str) -> Run:
    run = run_cli(*args, url=url)
    print(f"$ python -m gridcore {' '.join(args)}\n{run.out}{run.err}")
    assert run.code == 0, run
    return run


def test_the_readme_sequence_builds_shanghai(raw: dict[str, object], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shanghai.db'}"
    started = time.perf_counter()
    _cli("init", url=url)
    areas = _cli("import", "areas", str(REALDATA / FILES[0]), "--level", "district",
                 "--datum", "gcj02", "--parent", "310000", "--parent-name", "上海市",
                 url=url)  # fmt: skip
    counts = _cli("import", "case-counts", str(REALDATA / FILES[1]), "--unmatched", "keep",
                  url=url)  # fmt: skip
    addresses = _cli("import", "case-addresses", str(REALDATA / FILES[2]), "--geocodes",
                     str(REALDATA / FILES[3]), "--unmatched", "keep", url=url)  # fmt: skip
    print(f"the whole sequence: {time.perf_counter() - started:.1f} s")

    assert areas.out.startswith("16 rows: 16 new,")
    assert counts.out.startswith("3,460 rows: 3,460 new,")
    assert 'Kept under "unassigned" (matches no area): 其他, 4 rows.' in counts.out
    stored = raw["address_rows"] - raw["duplicates"]  # type: ignore[operator]
    assert addresses.out.startswith(f"{raw['address_rows']:,} rows: {stored:,} new,")
    assert f"{raw['duplicates']:,} rows repeat an earlier row" in addresses.out
    assert f"{raw['without_geocode']:,} rows have no point" in addresses.out
    assert (
        f'Kept under "unassigned" (matches no area): 其他, '
        f"{raw['addresses_unknown_district']} rows." in addresses.out
    )

    engine = make_engine(url)
    with Session(engine) as session:
        districts = session.execute(
            select(Area.name, Area.shape).where(Area.level == AreaLevel.district,
                                                Area.code != "UNASSIGNED")
        ).all()  # fmt: skip
        assert sorted(name for name, _ in districts) == raw["districts"]
        assert all(shape for _, shape in districts)
        first, last = session.execute(
            select(func.min(CaseCount.day), func.max(CaseCount.day))
        ).one()
        assert (first.strftime("%Y%m%d"), last.strftime("%Y%m%d")) == raw["days"]
        by_kind = dict(session.execute(
            select(CaseCount.kind, func.sum(CaseCount.count)).group_by(CaseCount.kind)
        ).all())  # fmt: skip
        assert by_kind == raw["by_kind"]
        by_found = dict(session.execute(
            select(CaseCount.found_via, func.sum(CaseCount.count)).group_by(CaseCount.found_via)
        ).all())  # fmt: skip
        assert by_found == raw["by_found"]
        by_district = dict(session.execute(
            select(func.coalesce(Area.name_zh, Area.name), func.sum(CaseCount.count))
            .join(Area, Area.id == CaseCount.area_id).group_by(Area.id)
        ).all())  # fmt: skip
        assert by_district == raw["by_district"]
        rows, distinct, placed = session.execute(
            select(func.count(), func.count(CaseAddress.address.distinct()),  # type: ignore[attr-defined]
                   func.count(CaseAddress.lng))
        ).one()  # fmt: skip
        assert (rows, distinct) == (stored, raw["distinct_addresses"])
        assert placed > 0.97 * rows  # all but the addresses without a geocode have a point
    engine.dispose()
    print(
        "totals:", raw["by_kind"], raw["by_found"],
        f"address rows {raw['address_rows']:,}, stored {stored:,}, distinct addresses "
        f"{raw['distinct_addresses']:,}, duplicates {raw['duplicates']:,}, without a geocode "
        f"{raw['without_geocode']:,}",
    )  # fmt: skip
