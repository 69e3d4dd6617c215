"""Supply analytics on hand-worked numbers."""

from __future__ import annotations

import pytest

from gridcore.analytics import stock as supplies


def test_depot_minimum_overrides_the_item_default() -> None:
    assert supplies.minimum_stock(depot_minimum=20, item_minimum=10) == 20
    assert supplies.minimum_stock(depot_minimum=0, item_minimum=10) == 0
    assert supplies.minimum_stock(depot_minimum=None, item_minimum=10) == 10


def test_below_minimum_is_strictly_under() -> None:
    assert supplies.below_minimum(stock=18, minimum=20)
    assert not supplies.below_minimum(stock=20, minimum=20)
    assert not supplies.below_minimum(stock=0, minimum=0)


def test_days_of_cover_at_the_average_daily_issue_of_seven_days() -> None:
    assert supplies.days_of_cover(stock=30, issued=70) == pytest.approx(3.0)
    assert supplies.days_of_cover(stock=18, issued=40) == pytest.approx(3.15)
    assert supplies.days_of_cover(stock=350, issued=50) == pytest.approx(49.0)
    assert supplies.days_of_cover(stock=10, issued=6, days=3) == pytest.approx(5.0)


def test_days_of_cover_when_nothing_is_issued_or_nothing_is_left() -> None:
    assert supplies.days_of_cover(stock=20, issued=0) is None
    assert supplies.days_of_cover(stock=0, issued=14) == 0.0
    assert supplies.days_of_cover(stock=-3, issued=14) == 0.0
