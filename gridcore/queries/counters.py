"""The counters dashboards read instead of counting records, and their check against the records.

Four tables hold them (gridcore.models): `roundgridcount` — a round's samples per grid by
result, and those of residents exempt now —, `roundsitehour` — a round's samples per site
and hour —, `gridcount` — a grid's residents, those at home, households, active
full-time workers and residents with a vulnerability tag — and `stockbalance`, stock per
depot and item. gridcore.services.counters keeps them in the same transaction as every
write of the records; `recount` here says what they should hold. The recounts are plain
SQL shared with the migrations that made the tables and with the rebuild after a bulk
load, so all three agree on what a counter means.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from gridcore.models import GridCount, RoundGridCount
from gridcore.queries._sql import dialect_name

ROUND_GRID_KEYS: tuple[str, ...] = ("round_id", "grid_id")
ROUND_GRID_COLUMNS: tuple[str, ...] = (
    "sampled", "pending", "negative", "positive", "invalid", "exempt",
)  # fmt: skip
ROUND_SITE_HOUR_KEYS: tuple[str, ...] = ("round_id", "site_key", "hour")
GRID_KEYS: tuple[str, ...] = ("grid_id",)
GRID_COLUMNS: tuple[str, ...] = (
    "residents", "at_home", "households", "full_time_workers", "vulnerable",
)  # fmt: skip

# What each counter table should hold, counted from the records (one row per key).
RECOUNT: dict[str, str] = {
    "roundgridcount": (
        "SELECT t.round_id, t.grid_id, COUNT(*),"
        " SUM(CASE WHEN t.result = 'pending' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN t.result = 'negative' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN t.result = 'positive' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN t.result = 'invalid' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN r.health_status <> 'at_home' THEN 1 ELSE 0 END)"
        " FROM testrecord t JOIN resident r ON r.id = t.resident_id"
        " GROUP BY t.round_id, t.grid_id"
    ),
    # Samples per round, site (0: door to door) and hour ({hour}: HOUR_SQL of sampled_at).
    "roundsitehour": (
        "SELECT t.round_id, COALESCE(t.site_id, 0), {hour}, COUNT(*) FROM testrecord t"
        " GROUP BY t.round_id, COALESCE(t.site_id, 0), {hour}"
    ),
    # Counts per grid, each table grouped once and joined to the grids. (Correlated counts,
    # one subquery per grid, were planned by PostgreSQL as a scan of every vulnerability tag
    # per grid when the tables had no statistics yet, as after a bulk load: 1,167 grids took
    # minutes.)
    "gridcount": (
        "SELECT a.id, COALESCE(res.n, 0), COALESCE(res.home, 0), COALESCE(hh.n, 0),"
        " COALESCE(wk.n, 0), COALESCE(vul.n, 0)"
        " FROM area a"
        " LEFT JOIN (SELECT grid_id, COUNT(*) AS n,"
        "  SUM(CASE WHEN health_status = 'at_home' THEN 1 ELSE 0 END) AS home"
        "  FROM resident GROUP BY grid_id) res ON res.grid_id = a.id"
        " LEFT JOIN (SELECT grid_id, COUNT(*) AS n FROM household GROUP BY grid_id) hh"
        "  ON hh.grid_id = a.id"
        " LEFT JOIN (SELECT g.grid_id, COUNT(*) AS n FROM workergrid g"
        "  JOIN worker w ON w.id = g.worker_id"
        "  WHERE w.employment = 'full_time' AND w.active GROUP BY g.grid_id) wk"
        "  ON wk.grid_id = a.id"
        " LEFT JOIN (SELECT r.grid_id, COUNT(*) AS n FROM resident r"
        "  WHERE r.id IN (SELECT v.resident_id FROM residentvulnerability v)"
        "  GROUP BY r.grid_id) vul ON vul.grid_id = a.id"
        " WHERE a.level = 'grid'"
    ),
    # Stock per depot and item: the ledger's sum (kept by gridcore.services.stock).
    "stockbalance": (
        "SELECT depot_id, item_id, SUM(quantity), COUNT(*) FROM stockmovement"
        " GROUP BY depot_id, item_id"
    ),
}
COUNTER_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "roundgridcount": (ROUND_GRID_KEYS, ROUND_GRID_COLUMNS),
    "roundsitehour": (ROUND_SITE_HOUR_KEYS, ("sampled",)),
    "gridcount": (GRID_KEYS, GRID_COLUMNS),
    "stockbalance": (("depot_id", "item_id"), ("quantity", "movements")),
}

# A sample's hour as whole hours since 1970-01-01 UTC (timestamps are UTC text on SQLite).
HOUR_SQL: dict[str, str] = {
    "sqlite": "CAST(strftime('%s', {0}) AS INTEGER) / 3600",
    "postgresql": "CAST(FLOOR(EXTRACT(EPOCH FROM {0}) / 3600) AS INTEGER)",
}

Figures = dict[tuple[int, ...], tuple[int, ...]]


def recount_sql(connection: Connection | Session, table: str) -> str:
    """RECOUNT[table] in the connection's SQL."""
    return RECOUNT[table].replace(
        "{hour}", HOUR_SQL[dialect_name(connection)].format("t.sampled_at")
    )


def epoch_hour(moment: datetime) -> int:
    """An aware moment's hour as roundsitehour counts it (whole hours since 1970 UTC)."""
    return math.floor(moment.timestamp() / 3600)


def hour_start(hour: int) -> datetime:
    """The UTC start of a roundsitehour hour."""
    return datetime.fromtimestamp(hour * 3600, UTC)


@dataclass(frozen=True)
class CounterDifference:
    """One counter that does not match its records: where, what it holds, what it should."""

    table: str
    key: tuple[int, ...]
    column: str
    stored: int
    counted: int


def _figures(rows: Iterable[Iterable[object]], keys: int) -> Figures:
    """{key: counts} from rows of (*key, *counts), rows of only zeros left out."""
    found: Figures = {}
    for row in rows:
        values = tuple(int(v or 0) for v in row)  # type: ignore[call-overload]
        if any(values[keys:]):
            found[values[:keys]] = values[keys:]
    return found


def recount(connection: Connection | Session, table: str) -> Figures:
    """What the counter `table` should hold, counted from the records."""
    keys, _ = COUNTER_TABLES[table]
    return _figures(connection.execute(text(recount_sql(connection, table))).all(), len(keys))


def stored(connection: Connection | Session, table: str) -> Figures:
    """What the counter `table` holds."""
    keys, columns = COUNTER_TABLES[table]
    names = ", ".join((*keys, *columns))
    return _figures(connection.execute(text(f"SELECT {names} FROM {table}")).all(), len(keys))


def counter_differences(*, session: Session) -> list[CounterDifference]:
    """Every counter that differs from a count of its records (none when all is well)."""
    found: list[CounterDifference] = []
    for table, (_, columns) in COUNTER_TABLES.items():
        have, want = stored(session, table), recount(session, table)
        zero = (0,) * len(columns)
        for key in sorted(have.keys() | want.keys()):
            held, counted = have.get(key, zero), want.get(key, zero)
            found += [
                CounterDifference(table, key, name, h, c)
                for name, h, c in zip(columns, held, counted, strict=True)
                if h != c
            ]
    return found


# --------------------------------------------------------------------------- reading


# A round's grid: samples, positives, negatives, pending, invalid (as testing reads them).
ResultCounts = tuple[int, int, int, int, int]


def round_grid_results(
    *, session: Session, round_id: int | None = None
) -> dict[tuple[int, int], tuple[ResultCounts, int]]:
    """(round, grid) → ((samples, positives, negatives, pending, invalid), exempt samples)."""
    stmt = select(
        col(RoundGridCount.round_id),
        col(RoundGridCount.grid_id),
        col(RoundGridCount.sampled),
        col(RoundGridCount.positive),
        col(RoundGridCount.negative),
        col(RoundGridCount.pending),
        col(RoundGridCount.invalid),
        col(RoundGridCount.exempt),
    )
    if round_id is not None:
        stmt = stmt.where(col(RoundGridCount.round_id) == round_id)
    return {
        (int(r[0]), int(r[1])): ((int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6])), int(r[7]))
        for r in session.execute(stmt).all()
    }


def grid_counts(*, session: Session, grid_id: int | None = None) -> dict[int, Mapping[str, int]]:
    """grid → residents, at_home, households, full_time_workers, vulnerable (grids with a
    counter row)."""
    stmt = select(
        col(GridCount.grid_id),
        col(GridCount.residents),
        col(GridCount.at_home),
        col(GridCount.households),
        col(GridCount.full_time_workers),
        col(GridCount.vulnerable),
    )
    if grid_id is not None:
        stmt = stmt.where(col(GridCount.grid_id) == grid_id)
    return {
        int(r[0]): dict(zip(GRID_COLUMNS, (int(v) for v in r[1:]), strict=True))
        for r in session.execute(stmt).all()
    }
