"""Stock queries on the tiny world (answers: gridcore/demo/tiny.py, "Supplies"), both backends.

Depot 1 is the street's, 2 the grid's; items 1 MASK, 2 KIT, 3 RICE (insertion order).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session

from gridcore.analytics.stock import below_minimum, minimum_stock
from gridcore.models import DepotMinimum, MovementKind, StockMovement, utcnow
from gridcore.queries import stock
from gridcore.services.counters import rebuild_counters
from tests.factories import make_depot, make_item, make_street_with_grids

if TYPE_CHECKING:
    from tiny_world import TinyWorld

pytestmark = pytest.mark.both_backends  # queries: the dialect matters

STREET, GRID = 1, 2
MASK, KIT, RICE = 1, 2, 3


def test_cover_and_shortages_per_depot_and_item(tiny: TinyWorld, tiny_session: Session) -> None:
    picture = stock.supply_picture(session=tiny_session, now=tiny.now)
    rows = {
        (r.depot_id, r.item_id): (
            r.stock,
            r.min_stock,
            r.issued_7d,
            None if r.days_of_cover != r.days_of_cover else round(r.days_of_cover, 2),
            r.level,
        )
        for r in picture.positions.itertuples()
    }
    # Days of cover: stock ÷ (issued in 7 days ÷ 7); None where nothing was issued.
    assert rows == {
        (STREET, MASK): (350, 100, 50, 49.0, "ok"),
        (STREET, KIT): (140, 10, 0, None, "ok"),
        (GRID, MASK): (30, 20, 70, 3.0, "ok"),
        (GRID, KIT): (18, 20, 40, 3.15, "short"),
        (GRID, RICE): (20, 5, 0, None, "ok"),
    }
    # The grid's kits are 2 short; the street holds 140 it does not use (keeps its 10).
    assert picture.transfers[["item_id", "from_depot_id", "to_depot_id", "quantity"]].to_dict(
        "records"
    ) == [{"item_id": KIT, "from_depot_id": STREET, "to_depot_id": GRID, "quantity": 2}]
    assert picture.purchases.empty


def test_stock_is_read_from_the_balances(tiny: TinyWorld, tiny_session: Session) -> None:
    levels = stock.stock_levels(session=tiny_session)
    assert list(zip(levels["depot_id"], levels["item_id"], levels["stock"], strict=True)) == [
        (STREET, MASK, 350),
        (STREET, KIT, 140),
        (GRID, MASK, 30),
        (GRID, KIT, 18),
        (GRID, RICE, 20),
    ]
    grid = stock.grid_stock(session=tiny_session, grid_id=tiny.gid("T-C1-G1"))
    assert list(grid["item_code"]) == ["KIT", "MASK", "RICE"]
    assert list(grid["stock"]) == [18, 30, 20]
    assert set(grid["depot_id"]) == {GRID}


def test_movement_history_filtered_and_paged_in_sql(tiny: TinyWorld, tiny_session: Session) -> None:
    every = stock.movement_history(session=tiny_session)
    assert every.total == 21
    assert list(every.rows.columns) == stock.HISTORY_COLUMNS
    kits = stock.movement_history(session=tiny_session, depot_id=GRID, item_id=KIT, kind="issue")
    assert kits.total == 5
    assert list(kits.rows["quantity"]) == [-8] * 5
    # Newest first, three at a time.
    first = stock.movement_history(session=tiny_session, kind="transfer", limit=3)
    second = stock.movement_history(session=tiny_session, kind="transfer", limit=3, offset=3)
    assert (first.total, len(first.rows), len(second.rows)) == (4, 3, 1)
    # The two halves of a transfer share their moment: the later row (the transfer in) first.
    assert list(first.rows["quantity"]) == [60, -60, 100]
    # The last day: grid MASK and KIT issues at 10:00 (the anchor day, local time).
    today = stock.movement_history(session=tiny_session, since=tiny.now - timedelta(hours=12))
    assert sorted(today.rows["quantity"]) == [-10, -8]
    until = stock.movement_history(session=tiny_session, until=tiny.now - timedelta(days=10))
    assert list(until.rows["quantity"]) == [500]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stock_levels_follow_the_rule_pair_by_pair_on_a_random_ledger(
    session: Session, seed: int
) -> None:
    """Random depots, items, minimums and ledger lines: each listed pair, its stock, its
    minimum and whether it is below, now and as at a moment, are those the one-pair rules
    (analytics' minimum_stock and below_minimum) give from the ledger itself."""
    rng = random.Random(seed)
    world = make_street_with_grids(session, grids=2, buildings_per_grid=1, prefix=f"R{seed}")
    items = [make_item(session, code=f"I{n}", name=f"Item {n}", min_stock=rng.randint(0, 30))
             for n in range(4)]  # fmt: skip
    depots = [make_depot(session, area=world.grids[n % 2], name=f"Depot {n}") for n in range(5)]
    now = utcnow()
    pairs = [(int(d.id or 0), int(i.id or 0)) for d in depots for i in items]
    depot_min = {pair: rng.randint(0, 40) for pair in rng.sample(pairs, 7)}
    session.add_all(
        DepotMinimum(depot_id=d, item_id=i, min_stock=m) for (d, i), m in depot_min.items()
    )
    ledger = [
        (pair, rng.randint(-20, 60), now - timedelta(hours=rng.randint(0, 72)))
        for pair in rng.sample(pairs, 12)
        for _ in range(rng.randint(1, 4))
    ]
    session.add_all(
        StockMovement(depot_id=d, item_id=i, kind=MovementKind.adjustment, quantity=q,
                      occurred_at=at, note="random")
        for (d, i), q, at in ledger
    )  # fmt: skip
    session.flush()
    rebuild_counters(session.connection(), tables=("stockbalance",))
    session.commit()
    item_min = {int(i.id or 0): i.min_stock for i in items}
    moment = now - timedelta(hours=36)
    for at, levels in zip(
        [None, moment], stock.stock_levels_at(session=session, moments=[None, moment]), strict=True
    ):
        held: dict[tuple[int, int], int] = {}
        for pair, quantity, when in ledger:
            if at is None or when < at:
                held[pair] = held.get(pair, 0) + quantity
        expected = []
        for pair in sorted(held.keys() | depot_min.keys()):
            level = held.get(pair, 0)
            minimum = minimum_stock(
                depot_minimum=depot_min.get(pair), item_minimum=item_min[pair[1]]
            )
            expected.append((*pair, level, minimum, below_minimum(stock=level, minimum=minimum)))
        got = [tuple(r) for r in levels.itertuples(index=False)]
        assert got == expected
        assert [str(t) for t in levels.dtypes] == ["int64", "int64", "int64", "int64", "bool"]
        assert levels.equals(stock.stock_levels(session=session, at=at))
