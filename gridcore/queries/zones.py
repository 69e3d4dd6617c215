"""Zone orders: those in force, drawn on the map and counted per grid."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from gridcore.models import (
    Area,
    Building,
    ZoneLevel,
    ZoneOrder,
)
from gridcore.queries._sql import Counter, by_grid, select_columns

ZONE_COLUMNS = [
    "order_id",
    "area_id",
    "area_code",
    "building_id",
    "level",
    "start_date",
    "end_date",
    "reason",
    "shape",
    "lng",
    "lat",
]


_LEVEL_RANK = {level.value: rank for rank, level in enumerate(ZoneLevel)}


def zone_orders(*, session: Session, today: date) -> pd.DataFrame:
    """Every order in force on `today`, most severe first.

    In force: start_date <= today and (no end_date or today <= end_date). For an order on
    a building, area_id/area_code are the building's grid, shape is None and lng/lat
    the building's point; for an order on a grid, shape is its GeoJSON geometry.
    """
    grid = Area.__table__.alias("order_grid")  # type: ignore[attr-defined]
    building_grid = Area.__table__.alias("building_grid")  # type: ignore[attr-defined]
    rows = session.execute(
        select(
            col(ZoneOrder.id),
            func.coalesce(col(ZoneOrder.area_id), col(Building.grid_id)),
            func.coalesce(grid.c.code, building_grid.c.code),
            col(ZoneOrder.building_id),
            col(ZoneOrder.level),
            col(ZoneOrder.start_date),
            col(ZoneOrder.end_date),
            col(ZoneOrder.reason),
            grid.c.shape,
            col(Building.lng),
            col(Building.lat),
        )
        .outerjoin(grid, grid.c.id == col(ZoneOrder.area_id))
        .outerjoin(Building, col(Building.id) == col(ZoneOrder.building_id))
        .outerjoin(building_grid, building_grid.c.id == col(Building.grid_id))
        .where(
            col(ZoneOrder.start_date) <= today,
            or_(col(ZoneOrder.end_date).is_(None), col(ZoneOrder.end_date) >= today),
        )
        .order_by(col(ZoneOrder.start_date), col(ZoneOrder.id))
    ).all()
    records = [(*r[:8], json.loads(r[8]) if r[8] else None, r[9], r[10]) for r in rows]
    frame = pd.DataFrame(records, columns=ZONE_COLUMNS)
    return frame.sort_values(
        "level", key=lambda levels: levels.map(_LEVEL_RANK), kind="stable"
    ).reset_index(drop=True)


ZONE_SEVERITY: tuple[str, ...] = (ZoneLevel.sealed, ZoneLevel.controlled, ZoneLevel.precaution)


def grid_zone_orders(*, session: Session, today: date) -> Counter:
    """Per grid: the most severe area order in force today, and since when (its latest start)."""
    stmt = select_columns(ZoneOrder.area_id, ZoneOrder.level, ZoneOrder.start_date).where(
        col(ZoneOrder.area_id).is_not(None),
        col(ZoneOrder.start_date) <= today,
        or_(col(ZoneOrder.end_date).is_(None), col(ZoneOrder.end_date) >= today),
    )
    # Most severe first; within a level, the latest start.
    ordered = sorted(
        session.execute(stmt), key=lambda r: (ZONE_SEVERITY.index(r[1]), -r[2].toordinal())
    )
    best: dict[int, tuple[str, date]] = {}
    for area_id, level, start in ordered:
        if area_id is not None:
            best.setdefault(area_id, (str(level), start))
    return by_grid(
        ((a, level, start) for a, (level, start) in best.items()), ["zone_level", "zone_since"]
    )
