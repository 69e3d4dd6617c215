"""A small demo district (two streets), built once: streets tile the district, each street
tells its own outbreak story, and testing rounds are the district's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from demo_support import ANCHOR, check_tiling, one, rows, shapes

from gridcore.db import make_engine
from gridcore.demo import street
from gridcore.demo.rounds import ROUND_DAYS

pytestmark = pytest.mark.demo


@pytest.mark.slow
def test_a_small_district_tiles_and_each_street_tells_its_story(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "district.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    counts = street.build_district(engine=engine, seed=3, anchor=ANCHOR, streets=2)
    assert 90_000 <= counts["resident"] <= 110_000
    check_tiling(shapes(engine, "district"), shapes(engine, "street"))
    check_tiling(shapes(engine, "street"), shapes(engine, "community"))
    codes = [
        c for (c,) in rows(engine, "SELECT code FROM area WHERE level = 'street' ORDER BY code")
    ]
    assert codes == ["SH-XH-TL", "SH-XH-XJH"]
    per_street = rows(
        engine,
        """SELECT s.code, COUNT(k.id) FROM area s JOIN area c ON c.parent_id = s.id
           JOIN area g ON g.parent_id = c.id LEFT JOIN case_record k ON k.grid_id = g.id
           WHERE s.level = 'street' GROUP BY s.code""",
    )
    assert all(n > 0 for _, n in per_street)
    # Rounds are the district's: one set, every grid of both streets in each.
    assert one(engine, "SELECT COUNT(*) FROM testround") == len(ROUND_DAYS)
    assert one(engine, "SELECT COUNT(DISTINCT grid_id) FROM testroundarea") == one(
        engine, "SELECT COUNT(*) FROM area WHERE level = 'grid'"
    )
    engine.dispose()
