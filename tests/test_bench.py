"""The benchmark harness, as a smoke test: a quick run on the tiny world, every section filled.

No timing is asserted (the figures of a shared test machine say nothing); the run checks
that every part runs and reports, and that the database measured is left as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_support import run_cli
from sqlalchemy import func
from sqlmodel import Session, select

from gridcore.bench import SECTIONS
from gridcore.db import make_engine
from gridcore.models import TestRecord


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    return []


def _records(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        count = int(session.exec(select(func.count()).select_from(TestRecord)).one())
    engine.dispose()
    return count


def test_a_quick_run_reports_every_section_and_leaves_the_database_as_it_was(
    tiny_url: str, tmp_path: Path
) -> None:
    before = _records(tiny_url)
    target = tmp_path / "bench.json"
    run = run_cli("bench", "--scale", "street", "--quick", "--json", str(target), url=tiny_url)
    assert run.code == 0, run.err
    assert "measured as it is" in run.err
    figures = json.loads(target.read_text())
    assert set(SECTIONS) <= set(figures)
    assert figures["machine"]["cpu_count"] > 0
    assert figures["database"]["rows"]["residents"] > 0
    assert figures["server_memory"] == {"skipped": "quick"}
    assert {p for p in figures["pages"]} >= {"pages/overview.py", "pages/kiosk.py"}
    for section in ("pages", "queries"):
        for name, numbers in figures[section].items():
            assert all(n > 0 for n in _numbers(numbers)), f"{section} {name}: {numbers}"
    for kind in ("test-results", "stock-movements"):
        done = figures["imports"][kind]
        assert done["written"] == done["rows"] > 0 and done["rows_per_s"] > 0
    desk = figures["desk_writes"]
    assert desk["committed"] > 0 and desk["writes_per_s"] > 0
    assert desk["lost"] == desk["doubled"] == 0
    assert "Page server renders" in run.out and "Dashboard queries" in run.out
    # The writes went to a scratch copy, removed afterwards.
    assert _records(tiny_url) == before
    assert sorted(p.name for p in Path(tiny_url.removeprefix("sqlite:///")).parent.iterdir()
                  if "scratch" in p.name) == []  # fmt: skip
