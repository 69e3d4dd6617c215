"""Supply analytics on hand-worked numbers."""

from __future__ import annotations

import pandas as pd
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


def test_the_column_rules_are_the_one_pair_rules() -> None:
    depot = pd.Series([20, 0, None, None, 5])
    item = pd.Series([10, 10, 10, 0, 7])
    stock = pd.Series([18, 0, 9, 0, 5])
    minimums = supplies.minimum_stocks(depot_minimums=depot, item_minimums=item)
    assert list(minimums) == [20, 0, 10, 0, 5]
    assert str(minimums.dtype) == "int64"
    assert list(minimums) == [
        supplies.minimum_stock(depot_minimum=None if pd.isna(d) else int(d), item_minimum=i)
        for d, i in zip(depot, item, strict=True)
    ]
    below = supplies.below_minimums(stock=stock, minimums=minimums)
    assert list(below) == [True, False, True, False, False]
    assert list(below) == [
        supplies.below_minimum(stock=s, minimum=m) for s, m in zip(stock, minimums, strict=True)
    ]


def test_days_of_cover_at_the_average_daily_issue_of_seven_days() -> None:
    assert supplies.days_of_cover(stock=30, issued=70) == pytest.approx(3.0)
    assert supplies.days_of_cover(stock=18, issued=40) == pytest.approx(3.15)
    assert supplies.days_of_cover(stock=350, issued=50) == pytest.approx(49.0)
    assert supplies.days_of_cover(stock=10, issued=6, days=3) == pytest.approx(5.0)


def test_days_of_cover_when_nothing_is_issued_or_nothing_is_left() -> None:
    assert supplies.days_of_cover(stock=20, issued=0) is None
    assert supplies.days_of_cover(stock=0, issued=14) == 0.0
    assert supplies.days_of_cover(stock=-3, issued=14) == 0.0


def test_average_daily_use_over_seven_days() -> None:
    assert supplies.average_daily_use(issued=70) == 10.0
    assert supplies.average_daily_use(issued=3) == pytest.approx(3 / 7)
    assert supplies.average_daily_use(issued=0) == 0.0


def test_shortage_levels_and_the_worst_of_them() -> None:
    level = supplies.shortage_level
    assert level(stock=0, minimum=12) == "out"
    assert level(stock=5, minimum=40) == "short"
    assert level(stock=25, minimum=20) == "low"  # under 1.5 × 20 = 30
    assert level(stock=30, minimum=20) == "ok"
    assert level(stock=0, minimum=0) == "none"
    assert supplies.worst_level(["ok", "low", "short"]) == "short"
    assert supplies.worst_level([]) == "none"


def test_distance_between_depot_points() -> None:
    # 0.01° of longitude on the equator: 6371.0088 km × 0.01 × π / 180 = 1.11195 km.
    assert supplies.distance_km((0.0, 0.0), (0.01, 0.0)) == pytest.approx(1.11195, abs=1e-5)
    assert supplies.distance_km((0.0, 0.0), (0.03, 0.0)) == pytest.approx(3.33585, abs=1e-5)


# Depots on the equator, 0.01° (1.112 km) apart: A 0.00, C 0.01, E 0.02, B 0.03, D 0.04.
POINTS: dict[int, tuple[float, float] | None] = {
    1: (0.00, 0.0),  # A
    2: (0.03, 0.0),  # B
    3: (0.01, 0.0),  # C
    4: (0.04, 0.0),  # D
    5: (0.02, 0.0),  # E
    6: None,  # F: no point on the map
}
MASK, KIT = 1, 2
POSITIONS = [
    # Masks. A: 10 a day, 10 days of cover > 7: keeps max(20, 7 × 10) = 70, gives 30.
    supplies.Position(depot_id=1, item_id=MASK, stock=100, minimum=20, issued=70),
    # B: unused stock: keeps its minimum 20, gives 180.
    supplies.Position(depot_id=2, item_id=MASK, stock=200, minimum=20, issued=0),
    # C: 5 of 40, short by 35 (1/8 of its minimum); D: 10 of 20, short by 10 (1/2).
    supplies.Position(depot_id=3, item_id=MASK, stock=5, minimum=40, issued=14),
    supplies.Position(depot_id=4, item_id=MASK, stock=10, minimum=20, issued=7),
    # E: 7 a day, 50 / 7 = 7.14 days of cover > 7: keeps max(10, 49) = 49, gives 1.
    supplies.Position(depot_id=5, item_id=MASK, stock=50, minimum=10, issued=49),
    # F: 4 a day, 7.0 days of cover is not more than 7: gives nothing.
    supplies.Position(depot_id=6, item_id=MASK, stock=28, minimum=10, issued=28),
    # Kits. C has none of 12 (the worst of all); A keeps its minimum 2 of 3 (unused), gives 1.
    supplies.Position(depot_id=3, item_id=KIT, stock=0, minimum=12, issued=7),
    supplies.Position(depot_id=1, item_id=KIT, stock=3, minimum=2, issued=0),
]


def test_what_a_giver_keeps_and_can_give() -> None:
    a, b, _, _, e, f, _, a_kit = POSITIONS
    assert [supplies.giver_keeps(p) for p in (a, b, e, a_kit)] == [70, 20, 49, 2]
    assert [supplies.surplus(p) for p in (a, b, e, f, a_kit)] == [30, 180, 1, 0, 1]
    assert supplies.surplus(a, cover_days=10) == 0  # 10 days of cover is not more than 10


def test_transfers_go_to_the_worst_short_first_from_the_nearest_giver() -> None:
    found = supplies.suggest_transfers(POSITIONS, POINTS)
    near, far = pytest.approx(1.11195, abs=1e-5), pytest.approx(2.2239, abs=1e-4)
    assert [(t.item_id, t.from_depot_id, t.to_depot_id, t.quantity) for t in found] == [
        (KIT, 1, 3, 1),  # C's kits (0 of 12): A's one spare kit, 1.1 km away
        (MASK, 1, 3, 30),  # C's masks (5 of 40): A and E are both 1.1 km away, A first (id)
        (MASK, 5, 3, 1),  # E's one spare
        (MASK, 2, 3, 4),  # then B, 2.2 km away, for the last 4
        (MASK, 2, 4, 10),  # D's masks (10 of 20): B, 1.1 km away
    ]
    assert [t.distance_km for t in found] == [near, near, near, far, near]


def test_a_depot_without_a_point_gives_last() -> None:
    positions = [
        supplies.Position(depot_id=6, item_id=MASK, stock=50, minimum=10),  # F: no point
        supplies.Position(depot_id=2, item_id=MASK, stock=25, minimum=20),  # B: 5 spare
        supplies.Position(depot_id=4, item_id=MASK, stock=0, minimum=8),
    ]
    found = supplies.suggest_transfers(positions, POINTS)
    assert [(t.from_depot_id, t.quantity, t.distance_km) for t in found] == [
        (2, 5, pytest.approx(1.11195, abs=1e-5)),
        (6, 3, None),
    ]


def test_purchase_orders_cover_what_transfers_cannot() -> None:
    transfers = supplies.suggest_transfers(POSITIONS, POINTS)
    orders = supplies.purchase_orders(POSITIONS, transfers)
    # Masks: short 35 + 10 = 45, all moved. Kits: short 12, 1 moved: buy 11. Street kits:
    # 0 + 3 in stock, minimum 12 + 2, 7 issued in the week: 1 a day, 3 days of cover.
    assert orders == [
        supplies.PurchaseLine(
            item_id=KIT, quantity=11, stock=3, minimum=14, daily_use=1.0, cover=3.0
        )
    ]
    assert supplies.purchase_orders(POSITIONS, []) == [
        supplies.PurchaseLine(
            item_id=MASK, quantity=45, stock=393, minimum=120, daily_use=24.0, cover=393 / 24
        ),
        supplies.PurchaseLine(
            item_id=KIT, quantity=12, stock=3, minimum=14, daily_use=1.0, cover=3.0
        ),
    ]


def test_stock_moves_down_the_levels_or_across_never_up() -> None:
    # A street store (rank 0) short of kits; a community (1) and a grid depot (2) with spare.
    positions = [
        supplies.Position(depot_id=1, item_id=KIT, stock=10, minimum=100),
        supplies.Position(depot_id=3, item_id=KIT, stock=50, minimum=10),
        supplies.Position(depot_id=5, item_id=KIT, stock=30, minimum=10),
        supplies.Position(depot_id=4, item_id=KIT, stock=0, minimum=15),  # another grid's
    ]
    ranks = {1: 0, 3: 1, 5: 2, 4: 2}
    found = supplies.suggest_transfers(positions, POINTS, ranks=ranks)
    # Grid 4 (0 of 15, at 0.04°) takes its 15 from the nearest giver: grid 5 (0.02° away),
    # not community 3 (0.03° away). Nobody may give up the levels to the street store.
    assert [(t.from_depot_id, t.to_depot_id, t.quantity) for t in found] == [(5, 4, 15)]
    # The street store's 90 are bought, not taken back from the depots it supplies.
    orders = supplies.purchase_orders(positions, found)
    assert [(o.item_id, o.quantity) for o in orders] == [(KIT, 90)]
    # Without levels the street store (at 0.00°) is served too: community 3 (0.01° away)
    # gives its 40 spare, then grid 5 its last 5.
    plain = supplies.suggest_transfers(positions, POINTS)
    assert [(t.from_depot_id, t.to_depot_id, t.quantity) for t in plain] == [
        (5, 4, 15),
        (3, 1, 40),
        (5, 1, 5),
    ]
