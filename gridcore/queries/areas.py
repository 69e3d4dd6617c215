"""Places: grids with their people counts, map shapes, buildings, depots and test sites."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import case, func, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from gridcore.analytics.supplies import below_minimum, minimum_stock
from gridcore.analytics.testing import EXPECTED_STATUS
from gridcore.models import (
    Area,
    AreaLevel,
    Building,
    Depot,
    DepotMinimum,
    Household,
    Resident,
    StockMovement,
    SupplyItem,
    TestRecord,
    TestRound,
    TestSite,
)
from gridcore.queries._sql import count_if, select_columns

GRID_COLUMNS: list[str] = [
    "grid_id", "code", "name", "name_zh", "community_id", "community_code", "community_name",
    "community_name_zh", "households", "residents", "center_lng", "center_lat",
]  # fmt: skip
SHAPE_COLUMNS: list[str] = [
    "area_id",
    "code",
    "name",
    "name_zh",
    "shape",
    "center_lng",
    "center_lat",
]
BUILDING_COLUMNS: list[str] = ["building_id", "code", "name", "grid_id", "lng", "lat", "residents"]
DEPOT_COLUMNS: list[str] = ["depot_id", "name", "level", "area_id", "lng", "lat", "items_below_min"]
SITE_COLUMNS: list[str] = ["site_id", "name", "lng", "lat", "hourly_capacity", "sampled"]
STOCK_COLUMNS: list[str] = ["depot_id", "item_id", "stock", "min_stock", "below_min"]


@dataclass(frozen=True)
class GridInfo:
    """One grid with its community, people counts and map shape."""

    id: int
    code: str
    name: str
    name_zh: str | None
    community_code: str | None
    community_name: str | None
    community_name_zh: str | None
    households: int
    residents: int
    center_lng: float | None
    center_lat: float | None
    shape: dict[str, Any] | None


def parse_shape(text: str | None) -> dict[str, Any] | None:
    """A stored GeoJSON geometry as a dict (None when absent)."""
    return json.loads(text) if text else None


def household_counts(*, session: Session, grid_id: int | None = None) -> dict[int, int]:
    """Households per grid (only grids that have households)."""
    stmt = select(Household.grid_id, func.count()).group_by(col(Household.grid_id))
    if grid_id is not None:
        stmt = stmt.where(Household.grid_id == grid_id)
    return dict(session.exec(stmt).all())


def resident_counts(*, session: Session, grid_id: int | None = None) -> dict[int, tuple[int, int]]:
    """Residents, and those at home (expected at a testing round), per grid."""
    stmt = select(
        Resident.grid_id,
        func.count(),
        count_if(col(Resident.health_status) == EXPECTED_STATUS),
    ).group_by(col(Resident.grid_id))
    if grid_id is not None:
        stmt = stmt.where(Resident.grid_id == grid_id)
    return {g: (n, at_home) for g, n, at_home in session.exec(stmt)}


def _grid_rows(session: Session, code: str | None = None) -> list[Any]:
    community = aliased(Area)
    stmt = (
        select_columns(
            Area.id,
            Area.code,
            Area.name,
            Area.name_zh,
            community.id,
            community.code,
            community.name,
            community.name_zh,
            Area.center_lng,
            Area.center_lat,
            Area.shape,
        )
        .outerjoin(community, col(community.id) == col(Area.parent_id))
        .where(Area.level == AreaLevel.grid)
        .order_by(col(Area.code))
    )
    if code is not None:
        stmt = stmt.where(Area.code == code)
    return list(session.exec(stmt).all())


def grid_rows(*, session: Session) -> list[dict[str, Any]]:
    """Every grid with its community and centre (no counts), in code order."""
    columns = [c for c in GRID_COLUMNS if c not in ("households", "residents")]
    return [dict(zip(columns, row[:-1], strict=True)) for row in _grid_rows(session)]


def grids(*, session: Session) -> pd.DataFrame:
    """One row per grid: its community, households, residents and centre."""
    households = household_counts(session=session)
    residents = resident_counts(session=session)
    rows = [
        {
            **grid,
            "households": households.get(grid["grid_id"], 0),
            "residents": residents.get(grid["grid_id"], (0, 0))[0],
        }
        for grid in grid_rows(session=session)
    ]
    return pd.DataFrame(rows, columns=GRID_COLUMNS)


def grid_by_code(*, session: Session, code: str) -> GridInfo | None:
    """The grid with `code`, or None."""
    found = _grid_rows(session, code)
    if not found:
        return None
    gid, code, name, name_zh, _, ccode, cname, cname_zh, lng, lat, shape = found[0]
    return GridInfo(
        id=gid,
        code=code,
        name=name,
        name_zh=name_zh,
        community_code=ccode,
        community_name=cname,
        community_name_zh=cname_zh,
        households=household_counts(session=session, grid_id=gid).get(gid, 0),
        residents=resident_counts(session=session, grid_id=gid).get(gid, (0, 0))[0],
        center_lng=lng,
        center_lat=lat,
        shape=parse_shape(shape),
    )


def area_shapes(*, session: Session, level: AreaLevel) -> pd.DataFrame:
    """The areas of `level` that have a map shape; `shape` is the parsed GeoJSON geometry."""
    stmt = (
        select_columns(
            Area.id,
            Area.code,
            Area.name,
            Area.name_zh,
            Area.shape,
            Area.center_lng,
            Area.center_lat,
        )
        .where(Area.level == level, col(Area.shape).is_not(None))
        .order_by(col(Area.code))
    )
    rows = [(i, c, n, nz, parse_shape(s), x, y) for i, c, n, nz, s, x, y in session.exec(stmt)]
    return pd.DataFrame(rows, columns=SHAPE_COLUMNS)


def _positions(coordinates: Any) -> Iterator[tuple[float, float]]:
    """Every (lng, lat) in nested GeoJSON coordinate arrays."""
    if coordinates and isinstance(coordinates[0], (int, float)):
        yield float(coordinates[0]), float(coordinates[1])
        return
    for part in coordinates:
        yield from _positions(part)


def bounds(*, session: Session) -> tuple[float, float, float, float] | None:
    """(min_lng, min_lat, max_lng, max_lat) over every grid's shape; None when no grid has one."""
    shapes = session.exec(
        select(Area.shape).where(Area.level == AreaLevel.grid, col(Area.shape).is_not(None))
    ).all()
    points = [
        p for text in shapes for p in _positions((parse_shape(text) or {}).get("coordinates", []))
    ]
    if not points:
        return None
    lngs, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lngs), min(lats), max(lngs), max(lats)


def buildings(*, session: Session, grid_id: int | None = None) -> pd.DataFrame:
    """Buildings (of one grid, or all) with their residents."""
    counts = (
        select(Resident.building_id, func.count().label("n"))
        .group_by(col(Resident.building_id))
        .subquery()
    )
    stmt = (
        select_columns(
            Building.id,
            Building.code,
            Building.name,
            Building.grid_id,
            Building.lng,
            Building.lat,
            func.coalesce(counts.c.n, 0),
        )
        .outerjoin(counts, counts.c.building_id == col(Building.id))
        .order_by(col(Building.code))
    )
    if grid_id is not None:
        stmt = stmt.where(Building.grid_id == grid_id)
    return pd.DataFrame(session.exec(stmt).all(), columns=BUILDING_COLUMNS)


def stock_levels(*, session: Session, at: datetime | None = None) -> pd.DataFrame:
    """Stock per depot and item (the ledger's sum) against its minimum.

    Only pairs that have a ledger line (before `at`, when given) or a depot minimum are
    listed; `at` counts the ledger up to that moment (exclusive), else all of it.
    """
    return stock_levels_at(session=session, moments=[at])[0]


def stock_levels_at(*, session: Session, moments: Sequence[datetime | None]) -> list[pd.DataFrame]:
    """`stock_levels` as at each of `moments`, from one pass over the ledger."""
    quantity = col(StockMovement.quantity)
    sums: list[Any] = []
    for moment in moments:
        before = col(StockMovement.occurred_at) < moment if moment is not None else true()
        sums += [func.sum(case((before, quantity), else_=0)), count_if(before)]
    ledger = session.exec(
        select_columns(StockMovement.depot_id, StockMovement.item_id, *sums).group_by(
            col(StockMovement.depot_id), col(StockMovement.item_id)
        )
    ).all()
    depot_min = {
        (d, i): m
        for d, i, m in session.exec(
            select(DepotMinimum.depot_id, DepotMinimum.item_id, DepotMinimum.min_stock)
        )
    }
    item_min = dict(session.exec(select(SupplyItem.id, SupplyItem.min_stock)).all())
    frames = []
    for k in range(len(moments)):
        stock = {(r[0], r[1]): int(r[2 + 2 * k] or 0) for r in ledger if r[3 + 2 * k]}
        rows = []
        for depot_id, item_id in sorted(stock.keys() | depot_min.keys()):
            level = stock.get((depot_id, item_id), 0)
            minimum = minimum_stock(
                depot_minimum=depot_min.get((depot_id, item_id)), item_minimum=item_min[item_id]
            )
            rows.append(
                (depot_id, item_id, level, minimum, below_minimum(stock=level, minimum=minimum))
            )
        frames.append(pd.DataFrame(rows, columns=STOCK_COLUMNS))
    return frames


def items_below_min(stock: pd.DataFrame) -> dict[int, int]:
    """Depot id → how many items are below minimum, from a `stock_levels` frame."""
    short: dict[int, int] = {}
    for depot_id in stock.loc[stock["below_min"].astype(bool), "depot_id"]:
        short[int(depot_id)] = short.get(int(depot_id), 0) + 1
    return short


def depots(*, session: Session) -> pd.DataFrame:
    """Every depot with the number of items below their minimum stock."""
    short = items_below_min(stock_levels(session=session))
    rows = [
        (d.id, d.name, d.level, d.area_id, d.lng, d.lat, short.get(d.id or 0, 0))
        for d in session.exec(select(Depot).order_by(col(Depot.id)))
    ]
    return pd.DataFrame(rows, columns=DEPOT_COLUMNS)


def latest_round_id(*, session: Session, at: datetime | None = None) -> int | None:
    """The round that started last (by `at`, if given); None when there is none."""
    stmt = select(TestRound.id).order_by(col(TestRound.start_at).desc(), col(TestRound.id).desc())
    if at is not None:
        stmt = stmt.where(TestRound.start_at <= at)
    return session.exec(stmt.limit(1)).first()


def test_sites(*, session: Session, round_id: int | None) -> pd.DataFrame:
    """The sites of a round (None: the latest round) with how many each has sampled."""
    if round_id is None:
        round_id = latest_round_id(session=session)
        if round_id is None:
            return pd.DataFrame([], columns=SITE_COLUMNS)
    sampled = (
        select(TestRecord.site_id, func.count().label("n"))
        .where(TestRecord.round_id == round_id, col(TestRecord.site_id).is_not(None))
        .group_by(col(TestRecord.site_id))
        .subquery()
    )
    stmt = (
        select_columns(
            TestSite.id,
            TestSite.name,
            TestSite.lng,
            TestSite.lat,
            TestSite.hourly_capacity,
            func.coalesce(sampled.c.n, 0),
        )
        .outerjoin(sampled, sampled.c.site_id == col(TestSite.id))
        .where(TestSite.round_id == round_id)
        .order_by(col(TestSite.id))
    )
    return pd.DataFrame(session.exec(stmt).all(), columns=SITE_COLUMNS)
