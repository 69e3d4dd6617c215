"""Places: grids with their people counts, map shapes, buildings, depots and test sites."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from gridcore.models import (
    Area,
    AreaLevel,
    Building,
    Resident,
)
from gridcore.queries._sql import select_columns
from gridcore.queries.counters import grid_counts
from gridcore.queries.shared import shared

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
BUILDING_COLUMNS: list[str] = [
    "building_id", "code", "name", "grid_id", "lng", "lat", "residents", "name_zh",
]  # fmt: skip


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
    """Households per grid (only grids that have households), from the grids' counters."""
    return {
        g: counts["households"]
        for g, counts in shared(grid_counts, session=session, grid_id=grid_id).items()
        if counts["households"]
    }


def resident_counts(*, session: Session, grid_id: int | None = None) -> dict[int, tuple[int, int]]:
    """Residents, and those at home (expected at a testing round), per grid (the counters)."""
    return {
        g: (counts["residents"], counts["at_home"])
        for g, counts in shared(grid_counts, session=session, grid_id=grid_id).items()
        if counts["residents"]
    }


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
            Building.name_zh,
        )
        .outerjoin(counts, counts.c.building_id == col(Building.id))
        .order_by(col(Building.code))
    )
    if grid_id is not None:
        stmt = stmt.where(Building.grid_id == grid_id)
    return pd.DataFrame(session.exec(stmt).all(), columns=BUILDING_COLUMNS)
