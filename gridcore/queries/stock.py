"""Stock read from the ledger: levels per depot and item, depots on the map, shortages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, func, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from gridcore.analytics.stock import below_minimum, minimum_stock
from gridcore.models import (
    Depot,
    DepotLevel,
    DepotMinimum,
    StockMovement,
    SupplyItem,
)
from gridcore.queries import stock
from gridcore.queries._sql import count_if, select_columns

DEPOT_COLUMNS: list[str] = ["depot_id", "name", "level", "area_id", "lng", "lat", "items_below_min"]


STOCK_COLUMNS: list[str] = ["depot_id", "item_id", "stock", "min_stock", "below_min"]


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


GRID_STOCK_COLUMNS = [
    "depot",
    "item_code",
    "item",
    "item_zh",
    "unit",
    "stock",
    "min_stock",
    "below_min",
]


def grid_stock(*, session: Session, grid_id: int) -> pd.DataFrame:
    """Stock of every item at the grid's depots (summed from the ledger) against its minimum."""
    sums = (
        sa_select(
            col(StockMovement.depot_id),
            col(StockMovement.item_id),
            func.sum(col(StockMovement.quantity)).label("stock"),
        )
        .join(Depot, col(Depot.id) == col(StockMovement.depot_id))
        .where(col(Depot.area_id) == grid_id)
        .group_by(col(StockMovement.depot_id), col(StockMovement.item_id))
        .subquery()
    )
    minimum = func.coalesce(col(DepotMinimum.min_stock), col(SupplyItem.min_stock))
    stock = func.coalesce(sums.c.stock, 0)
    rows = session.execute(
        sa_select(
            col(Depot.name),
            col(SupplyItem.code),
            col(SupplyItem.name),
            col(SupplyItem.name_zh),
            col(SupplyItem.unit),
            stock,
            minimum,
        )
        .select_from(Depot)
        .join(SupplyItem, true())
        .outerjoin(
            sums, and_(sums.c.depot_id == col(Depot.id), sums.c.item_id == col(SupplyItem.id))
        )
        .outerjoin(
            DepotMinimum,
            and_(
                col(DepotMinimum.depot_id) == col(Depot.id),
                col(DepotMinimum.item_id) == col(SupplyItem.id),
            ),
        )
        .where(col(Depot.area_id) == grid_id)
        .order_by(col(Depot.name), col(Depot.id), col(SupplyItem.code))
    ).all()
    records = [(*r[:5], int(r[5]), int(r[6]), int(r[5]) < int(r[6])) for r in rows]
    return pd.DataFrame(records, columns=GRID_STOCK_COLUMNS)


def grid_depot_shortages(session: Session, now: datetime) -> dict[int, list[tuple[str, int]]]:
    """Per grid: (depot name, items below minimum) of its grid-level depots that are short."""
    short = stock.items_below_min(stock.stock_levels(session=session, at=now))
    grid_depots = session.exec(
        select(Depot.id, Depot.name, Depot.area_id)
        .where(Depot.level == DepotLevel.grid)
        .order_by(col(Depot.id))
    )
    found: dict[int, list[tuple[str, int]]] = {}
    for depot_id, name, area_id in grid_depots:
        n = short.get(depot_id or 0, 0)
        if n:
            found.setdefault(area_id, []).append((name, n))
    return found
