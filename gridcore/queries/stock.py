"""Stock as it stands: balances per depot and item, the week's use, shortages, the ledger.

Current stock is read from the balance rows (models.StockBalance), never summed from the
ledger; stock as it stood at an earlier moment is the balance less the movements since.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, or_, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from gridcore.analytics.stock import (
    CONSUMPTION_DAYS,
    Position,
    below_minimums,
    minimum_stocks,
    purchase_orders,
    shortage_level,
    suggest_transfers,
)
from gridcore.i18n import Named
from gridcore.models import (
    Area,
    Depot,
    DepotLevel,
    DepotMinimum,
    MovementKind,
    StockBalance,
    StockMovement,
    SupplyItem,
)
from gridcore.queries._sql import count_if, select_columns
from gridcore.queries.shared import shared

DEPOT_COLUMNS: list[str] = [
    "depot_id", "name", "level", "area_id", "lng", "lat", "items_below_min", "name_zh",
]  # fmt: skip


STOCK_COLUMNS: list[str] = ["depot_id", "item_id", "stock", "min_stock", "below_min"]


def stock_levels(*, session: Session, at: datetime | None = None) -> pd.DataFrame:
    """Stock per depot and item against its minimum (now, or as it stood at `at`).

    Only pairs that have a ledger line (before `at`, when given) or a depot minimum are
    listed.
    """
    return stock_levels_at(session=session, moments=[at])[0]


_PAIR = ["depot_id", "item_id"]


def _int_frame(rows: Sequence[Any], columns: list[str]) -> pd.DataFrame:
    """Rows of whole numbers as a frame of int64 columns (also when there are none). The rows
    go in as plain tuples: a frame made from result rows asks each row for attributes."""
    return pd.DataFrame.from_records(
        [tuple(row) for row in rows], columns=columns, nrows=len(rows)
    ).astype("int64")


def stock_levels_at(*, session: Session, moments: Sequence[datetime | None]) -> list[pd.DataFrame]:
    """`stock_levels` as at each of `moments`: the balances less the movements since each.

    Column by column (a district has 19,600 depot-item pairs): the rules are analytics'
    minimum_stocks and below_minimums.
    """
    connection = session.connection()
    balances = _int_frame(
        connection.execute(
            select_columns(
                col(StockBalance.depot_id),
                col(StockBalance.item_id),
                col(StockBalance.quantity),
                col(StockBalance.movements),
            )
        ).all(),
        [*_PAIR, "quantity", "movements"],
    )
    depot_min = _int_frame(
        connection.execute(
            select_columns(
                col(DepotMinimum.depot_id), col(DepotMinimum.item_id), col(DepotMinimum.min_stock)
            )
        ).all(),
        [*_PAIR, "depot_min"],
    )
    item_min = {
        int(i or 0): int(m) for i, m in session.exec(select(SupplyItem.id, SupplyItem.min_stock))
    }
    frames = []
    for moment in moments:
        stock = balances
        if moment is not None:
            later = _int_frame(
                connection.execute(
                    select_columns(
                        col(StockMovement.depot_id),
                        col(StockMovement.item_id),
                        func.sum(col(StockMovement.quantity)),
                        count_if(true()),
                    )
                    .where(col(StockMovement.occurred_at) >= moment)
                    .group_by(col(StockMovement.depot_id), col(StockMovement.item_id))
                ).all(),
                [*_PAIR, "change", "lines"],
            )
            stock = balances.merge(later, on=_PAIR, how="left").fillna({"change": 0, "lines": 0})
            stock["quantity"] = stock["quantity"] - stock["change"]
            stock["movements"] = stock["movements"] - stock["lines"]
        # A pair is listed when it had a ledger line by then, or a depot minimum.
        held = stock.loc[stock["movements"] > 0, [*_PAIR, "quantity"]]
        pairs = held.merge(depot_min, on=_PAIR, how="outer").sort_values(_PAIR)
        level = pairs["quantity"].fillna(0).astype("int64")
        minimum = minimum_stocks(
            depot_minimums=pairs["depot_min"], item_minimums=pairs["item_id"].map(item_min)
        )
        frames.append(
            pd.DataFrame(
                {
                    "depot_id": pairs["depot_id"].astype("int64"),
                    "item_id": pairs["item_id"].astype("int64"),
                    "stock": level,
                    "min_stock": minimum,
                    "below_min": below_minimums(stock=level, minimums=minimum),
                }
            ).reset_index(drop=True)
        )
    return frames


def items_below_min(stock: pd.DataFrame) -> dict[int, int]:
    """Depot id → how many items are below minimum, from a `stock_levels` frame."""
    short: dict[int, int] = {}
    for depot_id in stock.loc[stock["below_min"].astype(bool), "depot_id"]:
        short[int(depot_id)] = short.get(int(depot_id), 0) + 1
    return short


def depots(*, session: Session) -> pd.DataFrame:
    """Every depot with the number of items below their minimum stock."""
    short = items_below_min(shared(stock_levels, session=session))
    rows = [
        (d.id, d.name, d.level, d.area_id, d.lng, d.lat, short.get(d.id or 0, 0), d.name_zh)
        for d in session.exec(select(Depot).order_by(col(Depot.id)))
    ]
    return pd.DataFrame(rows, columns=DEPOT_COLUMNS)


GRID_STOCK_COLUMNS = [
    "depot_id",
    "depot",
    "item_code",
    "item",
    "item_zh",
    "unit",
    "stock",
    "min_stock",
    "below_min",
    "depot_zh",
]


def grid_stock(*, session: Session, grid_id: int) -> pd.DataFrame:
    """Stock of every item at the grid's depots (their balances) against its minimum."""
    minimum = func.coalesce(col(DepotMinimum.min_stock), col(SupplyItem.min_stock))
    stock = func.coalesce(col(StockBalance.quantity), 0)
    rows = session.execute(
        sa_select(
            col(Depot.id),
            col(Depot.name),
            col(SupplyItem.code),
            col(SupplyItem.name),
            col(SupplyItem.name_zh),
            col(SupplyItem.unit),
            stock,
            minimum,
            col(Depot.name_zh),
        )
        .select_from(Depot)
        .join(SupplyItem, true())
        .outerjoin(
            StockBalance,
            and_(
                col(StockBalance.depot_id) == col(Depot.id),
                col(StockBalance.item_id) == col(SupplyItem.id),
            ),
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
    records = [(*r[:6], int(r[6]), int(r[7]), int(r[6]) < int(r[7]), r[8]) for r in rows]
    return pd.DataFrame(records, columns=GRID_STOCK_COLUMNS)


def grid_depot_shortages(session: Session, now: datetime) -> dict[int, list[tuple[Named, int]]]:
    """Per grid: (depot name, items below minimum) of its grid-level depots that are short."""
    short = items_below_min(shared(stock_levels, session=session))
    grid_depots = session.exec(
        select(Depot.id, Depot.name, Depot.name_zh, Depot.area_id)
        .where(Depot.level == DepotLevel.grid)
        .order_by(col(Depot.id))
    )
    found: dict[int, list[tuple[Named, int]]] = {}
    for depot_id, name, name_zh, area_id in grid_depots:
        n = short.get(depot_id or 0, 0)
        if n:
            found.setdefault(area_id, []).append((Named(name, name_zh), n))
    return found


# --------------------------------------------------------------------------- the Supplies page


DEPOT_LIST_COLUMNS = [
    "depot_id",
    "name",
    "level",
    "area_id",
    "area_code",
    "area_name_zh",
    "lng",
    "lat",
    "name_zh",
]
ITEM_COLUMNS = ["item_id", "code", "name", "name_zh", "unit", "category", "min_stock"]


def depot_list(*, session: Session) -> pd.DataFrame:
    """Every depot with its area's code and Chinese name and its point, in id order."""
    rows = session.execute(
        sa_select(
            col(Depot.id),
            col(Depot.name),
            col(Depot.level),
            col(Depot.area_id),
            col(Area.code),
            col(Area.name_zh),
            col(Depot.lng),
            col(Depot.lat),
            col(Depot.name_zh),
        )
        .join(Area, col(Area.id) == col(Depot.area_id))
        .order_by(col(Depot.id))
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=DEPOT_LIST_COLUMNS)


def item_list(*, session: Session) -> pd.DataFrame:
    """Every supply item, by code."""
    rows = session.exec(
        select(
            SupplyItem.id,
            SupplyItem.code,
            SupplyItem.name,
            SupplyItem.name_zh,
            SupplyItem.unit,
            SupplyItem.category,
            SupplyItem.min_stock,
        ).order_by(col(SupplyItem.code))  # type: ignore[call-overload]
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=ITEM_COLUMNS)


POSITION_COLUMNS = [
    "depot_id",
    "item_id",
    "stock",
    "min_stock",
    "issued_7d",
    "daily_use",
    "days_of_cover",
    "level",
]
TRANSFER_COLUMNS = ["item_id", "from_depot_id", "to_depot_id", "quantity", "distance_km"]
PURCHASE_COLUMNS = ["item_id", "quantity", "stock", "min_stock", "daily_use", "days_of_cover"]


@dataclass(frozen=True)
class SupplyPicture:
    """Everything the Supplies page shows of stock: positions, suggestions, purchases."""

    positions: pd.DataFrame  # POSITION_COLUMNS, one row per depot and item
    transfers: pd.DataFrame  # TRANSFER_COLUMNS, in the order they should be made
    purchases: pd.DataFrame  # PURCHASE_COLUMNS, one row per item the street must buy


def issued_since(
    *, session: Session, since: datetime, until: datetime
) -> dict[tuple[int, int], int]:
    """Units issued per (depot, item) in [since, until)."""
    rows = session.exec(
        select_columns(
            StockMovement.depot_id,
            StockMovement.item_id,
            -func.sum(col(StockMovement.quantity)),
        )
        .where(
            StockMovement.kind == MovementKind.issue,
            col(StockMovement.occurred_at) >= since,
            col(StockMovement.occurred_at) < until,
        )
        .group_by(col(StockMovement.depot_id), col(StockMovement.item_id))
    ).all()
    return {(int(r[0]), int(r[1])): int(r[2] or 0) for r in rows}


def supply_picture(*, session: Session, now: datetime) -> SupplyPicture:
    """Stock, the week's use and cover per depot and item; suggested transfers; purchases."""
    levels = shared(stock_levels, session=session)
    issued = issued_since(session=session, since=now - timedelta(days=CONSUMPTION_DAYS), until=now)
    positions = [
        Position(
            depot_id=depot_id,
            item_id=item_id,
            stock=level,
            minimum=minimum,
            issued=issued.get((depot_id, item_id), 0),
        )
        for depot_id, item_id, level, minimum in zip(
            levels["depot_id"].astype(int).tolist(),
            levels["item_id"].astype(int).tolist(),
            levels["stock"].astype(int).tolist(),
            levels["min_stock"].astype(int).tolist(),
            strict=True,
        )
    ]
    points: dict[int, tuple[float, float] | None] = {}
    ranks: dict[int, int] = {}
    for d, lng, lat, level in session.exec(select(Depot.id, Depot.lng, Depot.lat, Depot.level)):
        points[int(d or 0)] = (
            (float(lng), float(lat)) if lng is not None and lat is not None else None
        )
        ranks[int(d or 0)] = DEPOT_RANKS.get(str(level), len(DEPOT_RANKS))
    transfers = suggest_transfers(positions, points, ranks=ranks)
    purchases = purchase_orders(positions, transfers)
    return SupplyPicture(
        positions=pd.DataFrame(
            [
                (
                    p.depot_id,
                    p.item_id,
                    p.stock,
                    p.minimum,
                    p.issued,
                    p.daily_use,
                    p.cover,
                    shortage_level(stock=p.stock, minimum=p.minimum),
                )
                for p in positions
            ],
            columns=POSITION_COLUMNS,
        ),
        transfers=pd.DataFrame(
            [
                (t.item_id, t.from_depot_id, t.to_depot_id, t.quantity, t.distance_km)
                for t in transfers
            ],
            columns=TRANSFER_COLUMNS,
        ),
        purchases=pd.DataFrame(
            [(p.item_id, p.quantity, p.stock, p.minimum, p.daily_use, p.cover) for p in purchases],
            columns=PURCHASE_COLUMNS,
        ),
    )


# Stock moves down these levels or across, never up (analytics.stock.suggest_transfers).
DEPOT_RANKS: dict[str, int] = {DepotLevel.street: 0, DepotLevel.community: 1, DepotLevel.grid: 2}

HISTORY_COLUMNS = [
    "movement_id",
    "occurred_at",
    "depot_id",
    "item_id",
    "kind",
    "quantity",
    "counterpart_depot_id",
    "household_id",
    "request_id",
    "note",
    "created_by",
]
HISTORY_LIMIT = 200


@dataclass(frozen=True)
class History:
    """One page of the ledger, newest first, and how many movements match in all."""

    rows: pd.DataFrame  # HISTORY_COLUMNS
    total: int


def movement_history(
    *,
    session: Session,
    depot_id: int | None = None,
    item_id: int | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = HISTORY_LIMIT,
    offset: int = 0,
) -> History:
    """Movements matching the filters, newest first, `limit` from `offset` (in SQL).

    `kind` "transfer" matches both halves of transfers. The ledger holds no personal
    data (a household or request is named by its number only): every reader sees it all.
    """
    conditions: list[Any] = []
    if depot_id is not None:
        conditions.append(col(StockMovement.depot_id) == depot_id)
    if item_id is not None:
        conditions.append(col(StockMovement.item_id) == item_id)
    if kind == "transfer":
        conditions.append(
            or_(
                col(StockMovement.kind) == MovementKind.transfer_in,
                col(StockMovement.kind) == MovementKind.transfer_out,
            )
        )
    elif kind:
        conditions.append(col(StockMovement.kind) == kind)
    if since is not None:
        conditions.append(col(StockMovement.occurred_at) >= since)
    if until is not None:
        conditions.append(col(StockMovement.occurred_at) < until)
    where = and_(true(), *conditions)
    total = session.exec(select(func.count()).select_from(StockMovement).where(where)).one()
    rows = session.execute(
        sa_select(
            col(StockMovement.id),
            col(StockMovement.occurred_at),
            col(StockMovement.depot_id),
            col(StockMovement.item_id),
            col(StockMovement.kind),
            col(StockMovement.quantity),
            col(StockMovement.counterpart_depot_id),
            col(StockMovement.household_id),
            col(StockMovement.request_id),
            col(StockMovement.note),
            col(StockMovement.created_by),
        )
        .where(where)
        .order_by(col(StockMovement.occurred_at).desc(), col(StockMovement.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return History(
        rows=pd.DataFrame([tuple(r) for r in rows], columns=HISTORY_COLUMNS), total=int(total)
    )


SERVING_COLUMNS = ["depot_id", "name", "own", "name_zh"]


def serving_depots(*, session: Session, grid_id: int) -> pd.DataFrame:
    """The depots that serve a grid: its own, else its community's (own = False)."""
    own = session.exec(
        select(Depot.id, Depot.name, Depot.name_zh)
        .where(Depot.area_id == grid_id)
        .order_by(col(Depot.id))
    ).all()
    if own:
        return pd.DataFrame([(i, n, True, z) for i, n, z in own], columns=SERVING_COLUMNS)
    parent = session.exec(select(Area.parent_id).where(Area.id == grid_id)).first()
    if parent is None:
        return pd.DataFrame([], columns=SERVING_COLUMNS)
    found = session.exec(
        select(Depot.id, Depot.name, Depot.name_zh)
        .where(Depot.area_id == parent)
        .order_by(col(Depot.id))
    ).all()
    return pd.DataFrame([(i, n, False, z) for i, n, z in found], columns=SERVING_COLUMNS)
