"""Supply figures: minimum stock, shortages and days of cover, from ledger sums."""

from __future__ import annotations

CONSUMPTION_DAYS = 7


def minimum_stock(*, depot_minimum: int | None, item_minimum: int) -> int:
    """The minimum that applies at a depot: its own setting, else the item's default."""
    return item_minimum if depot_minimum is None else depot_minimum


def below_minimum(*, stock: int, minimum: int) -> bool:
    """Whether stock has fallen under its minimum (a minimum of 0 is never breached)."""
    return stock < minimum


def days_of_cover(*, stock: int, issued: int, days: int = CONSUMPTION_DAYS) -> float | None:
    """Days the stock lasts at the average daily issue of the last `days` days.

    None when nothing was issued (the stock is not being used up); 0 when it is gone.
    """
    if issued <= 0:
        return None
    return max(stock, 0) / (issued / days)
