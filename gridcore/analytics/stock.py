"""Supply figures: minimum stock, shortages, daily use, days of cover, transfers and purchases.

Pure functions over plain numbers (no database): the queries hand in each depot's stock
of an item, its minimum and what it issued in the last `CONSUMPTION_DAYS` days (or, for
the minimums of every depot and item at once, columns of them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from gridcore.policy import TRANSFER_GIVER_COVER_DAYS

CONSUMPTION_DAYS = 7
# Stock under this many times its minimum is "low" (not yet short).
LOW_FACTOR = 1.5
# Shortage levels, worst first.
SHORTAGE_LEVELS: tuple[str, ...] = ("out", "short", "low", "ok", "none")
EARTH_RADIUS_KM = 6371.0088


def minimum_stock(*, depot_minimum: int | None, item_minimum: int) -> int:
    """The minimum that applies at a depot: its own setting, else the item's default."""
    return item_minimum if depot_minimum is None else depot_minimum


def below_minimum(*, stock: int, minimum: int) -> bool:
    """Whether stock has fallen under its minimum (a minimum of 0 is never breached)."""
    return stock < minimum


def minimum_stocks(*, depot_minimums: pd.Series, item_minimums: pd.Series) -> pd.Series:
    """`minimum_stock` for many pairs at once: each depot's own minimum where it has one
    (not missing), else the item's default."""
    return depot_minimums.fillna(item_minimums).astype("int64")


def below_minimums(*, stock: pd.Series, minimums: pd.Series) -> pd.Series:
    """`below_minimum` for many pairs at once."""
    return stock < minimums


def average_daily_use(*, issued: int, days: int = CONSUMPTION_DAYS) -> float:
    """Units issued per day on average over the last `days` days."""
    return max(issued, 0) / days


def days_of_cover(*, stock: int, issued: int, days: int = CONSUMPTION_DAYS) -> float | None:
    """Days the stock lasts at the average daily issue of the last `days` days.

    None when nothing was issued (the stock is not being used up); 0 when it is gone.
    """
    if issued <= 0:
        return None
    return max(stock, 0) / (issued / days)


def shortage_level(*, stock: int, minimum: int) -> str:
    """'out' (none left of a kept item), 'short' (under its minimum), 'low' (under 1.5×
    minimum), 'ok', or 'none' (no minimum is set, so nothing can be short)."""
    if minimum <= 0:
        return "none"
    if stock <= 0:
        return "out"
    if stock < minimum:
        return "short"
    if stock < LOW_FACTOR * minimum:
        return "low"
    return "ok"


def worst_level(levels: Iterable[str]) -> str:
    """The worst of some shortage levels ('none' when there are none)."""
    found = set(levels)
    return next((level for level in SHORTAGE_LEVELS if level in found), "none")


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lng, lat) points, in kilometres."""
    lng1, lat1, lng2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


@dataclass(frozen=True)
class Position:
    """One item at one depot: its stock, its minimum and what it issued in the last week."""

    depot_id: int
    item_id: int
    stock: int
    minimum: int
    issued: int = 0

    @property
    def daily_use(self) -> float:
        return average_daily_use(issued=self.issued)

    @property
    def cover(self) -> float | None:
        return days_of_cover(stock=self.stock, issued=self.issued)

    @property
    def shortfall(self) -> int:
        """What brings the depot back to its minimum (0 when it is not short)."""
        return max(0, self.minimum - self.stock)


def giver_keeps(position: Position, cover_days: int = TRANSFER_GIVER_COVER_DAYS) -> int:
    """What a giving depot keeps of an item: `cover_days` of its own use, and its minimum."""
    return max(position.minimum, math.ceil(cover_days * position.daily_use))


def surplus(position: Position, cover_days: int = TRANSFER_GIVER_COVER_DAYS) -> int:
    """What a depot can give of an item: only with more than `cover_days` days of cover
    (or stock it does not use at all), and only above what it keeps."""
    cover = position.cover
    if position.stock <= 0 or (cover is not None and cover <= cover_days):
        return 0
    return max(0, position.stock - giver_keeps(position, cover_days))


@dataclass(frozen=True)
class Transfer:
    """A suggested transfer: `quantity` of an item from one depot to another `distance_km` away."""

    item_id: int
    from_depot_id: int
    to_depot_id: int
    quantity: int
    distance_km: float | None


def suggest_transfers(
    positions: Sequence[Position],
    points: Mapping[int, tuple[float, float] | None],
    cover_days: int = TRANSFER_GIVER_COVER_DAYS,
    ranks: Mapping[int, int] | None = None,
) -> list[Transfer]:
    """Transfers from depots with surplus to depots short of the same item, nearest first.

    Short depots are served worst first (lowest share of their minimum, then item and depot
    id); each takes what it lacks from the nearest giver, then the next nearest, until it
    has its minimum or no giver has any left. A depot without a point on the map is
    farthest. Givers keep `giver_keeps` (see `surplus`). With `ranks` (depot → its level:
    0 street, 1 community, 2 grid) stock moves down or across, never up: a short street
    store is restocked by purchase, not from the communities it supplies.
    """
    left = {(p.depot_id, p.item_id): surplus(p, cover_days) for p in positions}
    givers: dict[int, list[int]] = {}
    for p in positions:
        if left[(p.depot_id, p.item_id)] > 0:
            givers.setdefault(p.item_id, []).append(p.depot_id)
    short = sorted(
        (p for p in positions if p.shortfall > 0),
        key=lambda p: (p.stock / p.minimum, p.item_id, p.depot_id),
    )
    found: list[Transfer] = []
    for receiver in short:
        need = receiver.shortfall
        here = points.get(receiver.depot_id)

        def far(depot_id: int, here: tuple[float, float] | None = here) -> tuple[float, int]:
            there = points.get(depot_id)
            if here is None or there is None:
                return (math.inf, depot_id)
            return (distance_km(here, there), depot_id)

        for giver in sorted(givers.get(receiver.item_id, []), key=far):
            if need <= 0:
                break
            if giver == receiver.depot_id or not _downhill(ranks, giver, receiver.depot_id):
                continue
            quantity = min(need, left[(giver, receiver.item_id)])
            if quantity <= 0:
                continue
            left[(giver, receiver.item_id)] -= quantity
            need -= quantity
            km = far(giver)[0]
            found.append(
                Transfer(
                    item_id=receiver.item_id,
                    from_depot_id=giver,
                    to_depot_id=receiver.depot_id,
                    quantity=quantity,
                    distance_km=None if math.isinf(km) else km,
                )
            )
    return found


def _downhill(ranks: Mapping[int, int] | None, giver: int, receiver: int) -> bool:
    """Whether stock may move from `giver` to `receiver`: down the levels or across."""
    if ranks is None:
        return True
    return ranks.get(giver, 0) <= ranks.get(receiver, 0)


@dataclass(frozen=True)
class PurchaseLine:
    """What the whole street must buy of an item: what its short depots still lack after
    the suggested transfers, with the street's stock, minimum and use beside it."""

    item_id: int
    quantity: int
    stock: int
    minimum: int
    daily_use: float
    cover: float | None


def purchase_orders(
    positions: Sequence[Position], transfers: Sequence[Transfer]
) -> list[PurchaseLine]:
    """Per item, the shortfall of its short depots that no suggested transfer covers."""
    moved: dict[int, int] = {}
    for transfer in transfers:
        moved[transfer.item_id] = moved.get(transfer.item_id, 0) + transfer.quantity
    by_item: dict[int, list[Position]] = {}
    for p in positions:
        by_item.setdefault(p.item_id, []).append(p)
    lines = []
    for item_id in sorted(by_item):
        group = by_item[item_id]
        lacking = sum(p.shortfall for p in group) - moved.get(item_id, 0)
        if lacking <= 0:
            continue
        stock = sum(max(p.stock, 0) for p in group)
        issued = sum(p.issued for p in group)
        lines.append(
            PurchaseLine(
                item_id=item_id,
                quantity=lacking,
                stock=stock,
                minimum=sum(p.minimum for p in group),
                daily_use=average_daily_use(issued=issued),
                cover=days_of_cover(stock=stock, issued=issued),
            )
        )
    return sorted(lines, key=lambda line: (-line.quantity, line.item_id))
