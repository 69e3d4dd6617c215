"""Import throughput: test results and stock movements through the import framework
(gridcore.io.exchange.import_table, as the CLI and the import page run it), with the
process's peak resident memory while each file is written.

Each kind is imported at two sizes, a tenth and the whole: memory is flat when the peak
above the starting point does not grow with the rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from gridcore.access import SYSTEM
from gridcore.bench.machine import rss_mb
from gridcore.config import get_settings
from gridcore.io.cells import local_text
from gridcore.io.exchange import import_table
from gridcore.io.tabular import Table
from gridcore.io.testing import resident_check
from gridcore.models import Area, AreaLevel, Depot, HealthStatus, Resident, SupplyItem, utcnow
from gridcore.services import testing

TEST_RESULT_COLUMNS = [
    "round", "resident_id", "resident_check", "grid_code", "sampled_at", "method", "result",
    "result_at",
]  # fmt: skip
STOCK_COLUMNS = ["occurred_at", "depot", "item_code", "kind", "quantity", "note"]


class Peak:
    """The highest resident memory seen while the block ran (sampled every 10 ms)."""

    def __init__(self) -> None:
        self.start = rss_mb()
        self.peak = self.start
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mb())

    @contextmanager
    def watching(self) -> Iterator[Peak]:
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()
            self.peak = max(self.peak, rss_mb())


def _timed_import(engine: Engine, kind: str, table: Table, **options: Any) -> dict[str, Any]:
    peak = Peak()
    with peak.watching(), Session(engine, expire_on_commit=False) as session:
        started = time.perf_counter()
        report = import_table(session=session, kind=kind, table=table, actor=SYSTEM, **options)
        seconds = time.perf_counter() - started
    if not report.written or report.problems:
        raise RuntimeError(
            f"the {kind} file was not written: {report.problems[:3]} ({report.bad_rows} bad rows)"
        )
    rows = len(table.rows)
    return {
        "rows": rows,
        "written": report.created + report.updated,
        "seconds": seconds,
        "rows_per_s": rows / seconds if seconds > 0 else 0.0,
        "rss_start_mb": peak.start,
        "rss_peak_mb": peak.peak,
        "rss_growth_mb": peak.peak - peak.start,
    }


def _residents(session: Session) -> list[tuple[int, str, str]]:
    """(id, check, grid code) of every resident at home."""
    grid = Area.__table__.alias("grid")  # type: ignore[attr-defined]
    rows = session.execute(
        select(Resident.id, Resident.id_suffix, Resident.phone, grid.c.code)
        .join(grid, grid.c.id == Resident.grid_id)
        .where(Resident.health_status == HealthStatus.at_home)
        .order_by(col(Resident.id))
    ).all()
    return [(int(i), resident_check(suffix, phone), code) for i, suffix, phone, code in rows]


def _open_rounds(session: Session, count: int, label: str) -> list[str]:
    """`count` new rounds over every street, open since an hour ago; their names."""
    streets = list(session.exec(select(Area.id).where(Area.level == AreaLevel.street)).all())
    start = utcnow() - timedelta(hours=1)
    names = []
    for n in range(count):
        name = f"Benchmark {label} {n + 1} {start:%H%M%S}"
        testing.open_round(
            session=session,
            data={
                "name": name,
                "area_ids": streets,
                "start_at": start,
                "deadline_at": start + timedelta(hours=24),
            },
            actor=SYSTEM,
        )
        names.append(name)
    return names


def test_results_table(engine: Engine, rows: int, label: str) -> Table:
    """`rows` negative door-to-door results, in as many new rounds as the residents need."""
    tz = get_settings().tz
    with Session(engine) as session:
        residents = _residents(session)
        rounds = _open_rounds(session, -(-rows // max(1, len(residents))), label)
    sampled = local_text(utcnow() - timedelta(minutes=30), tz)
    result_at = local_text(utcnow() - timedelta(minutes=5), tz)
    table = Table(columns=list(TEST_RESULT_COLUMNS))
    for n in range(rows):
        resident_id, check, grid_code = residents[n % len(residents)]
        values = [rounds[n // len(residents)], str(resident_id), check, grid_code, sampled,
                  "door_to_door", "negative", result_at]  # fmt: skip
        table.rows.append((n + 2, values))
    return table


def stock_table(engine: Engine, rows: int) -> Table:
    """`rows` receipts spread over the depots (of unique names) and the items."""
    tz = get_settings().tz
    with Session(engine) as session:
        depots = list(
            session.exec(
                select(Depot.name)
                .group_by(Depot.name)
                .having(func.count() == 1)
                .order_by(Depot.name)
            ).all()
        )
        items = list(session.exec(select(SupplyItem.code).order_by(SupplyItem.code)).all())
    when = local_text(utcnow() - timedelta(minutes=10), tz)
    table = Table(columns=list(STOCK_COLUMNS))
    for n in range(rows):
        values = [when, depots[n % len(depots)], items[(n // len(depots)) % len(items)],
                  "receipt", "1", "benchmark"]  # fmt: skip
        table.rows.append((n + 2, values))
    return table


def measure(engine: Engine, *, test_results: int, stock_movements: int) -> dict[str, Any]:
    """Each kind at a tenth of its size, then whole: rows/s and peak memory of each."""
    figures: dict[str, Any] = {}
    for kind, size in (("test-results", test_results), ("stock-movements", stock_movements)):
        runs = []
        for rows in (max(1, size // 10), size):
            if kind == "test-results":
                table = test_results_table(engine, rows, f"{rows}")
            else:
                table = stock_table(engine, rows)
            runs.append(_timed_import(engine, kind, table))
            del table
        small, whole = runs
        figures[kind] = {
            **whole,
            "tenth": small,
            "memory_flat": whole["rss_growth_mb"] <= max(2 * small["rss_growth_mb"], 50.0),
        }
    return figures
