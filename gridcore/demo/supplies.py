"""Supplies: items, depots at three levels, and the stock ledger of the whole story.

The street depot receives deliveries every third day; community depots are topped
up from it and grid depots from their community; depots issue to residents and
workers every day. Nothing is issued or moved that a depot does not hold, so stock
never goes below zero. Deliveries of a few items stopped in the last week, and
some grid depots were not topped up on the last days, so a few are short today.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from shapely.geometry.base import BaseGeometry

from gridcore.demo.geometry import points_inside
from gridcore.demo.population import GridPlan, People
from gridcore.demo.world import Clock, Ids, Rows
from gridcore.models import (
    Depot,
    DepotLevel,
    DepotMinimum,
    MovementKind,
    StockMovement,
    SupplyItem,
)


@dataclass(frozen=True)
class ItemPlan:
    code: str
    name: str
    name_zh: str
    unit: str
    category: str
    per_1000: float  # used per 1,000 residents per day
    at_grid: bool  # also kept in grid depots


ITEMS: tuple[ItemPlan, ...] = (
    ItemPlan("MASK-N95", "N95 respirators", "N95口罩", "pcs", "protection", 6, True),
    ItemPlan("MASK-SURG", "Surgical masks", "医用外科口罩", "pcs", "protection", 40, True),
    ItemPlan("AG-KIT", "Antigen test kits", "抗原检测试剂盒", "kits", "testing", 30, True),
    ItemPlan("SWAB", "Sampling swabs", "采样拭子", "pcs", "testing", 120, True),
    ItemPlan("TUBE-10", "Sample tubes (10-in-1)", "十混一采样管", "pcs", "testing", 12, True),
    ItemPlan("PPE-SUIT", "Protective suits", "防护服", "sets", "protection", 3, True),
    ItemPlan("SHIELD", "Face shields", "防护面屏", "pcs", "protection", 2, True),
    ItemPlan("GLOVES", "Nitrile gloves", "丁腈手套", "pairs", "protection", 12, True),
    ItemPlan("SHOE-COV", "Shoe covers", "鞋套", "pairs", "protection", 8, True),
    ItemPlan(
        "DISINF-84", "Chlorine disinfectant (84)", "84消毒液", "bottles", "disinfection", 4, True
    ),
    ItemPlan("ALCOHOL", "Alcohol 75%", "75%酒精", "bottles", "disinfection", 3, True),
    ItemPlan("WASTE-BAG", "Medical waste bags", "医疗废物袋", "pcs", "disinfection", 6, True),
    ItemPlan("THERMO", "Thermometers", "体温计", "pcs", "medical", 1, True),
    ItemPlan("IBUPROFEN", "Ibuprofen", "布洛芬", "boxes", "medicine", 2, True),
    ItemPlan("LIANHUA", "Lianhua Qingwen capsules", "连花清瘟胶囊", "boxes", "medicine", 3, False),
    ItemPlan("BP-MED", "Blood-pressure medicine", "降压药", "boxes", "medicine", 3, False),
    ItemPlan("INSULIN", "Insulin pens", "胰岛素笔", "pens", "medicine", 0.6, False),
    ItemPlan("RICE", "Rice (5 kg)", "大米（5公斤）", "bags", "food", 8, False),
    ItemPlan("OIL", "Cooking oil (5 L)", "食用油（5升）", "bottles", "food", 4, False),
    ItemPlan("VEG-BOX", "Vegetable boxes", "蔬菜包", "boxes", "food", 25, False),
    ItemPlan("NOODLES", "Instant noodles (case)", "方便面（箱）", "cases", "food", 5, False),
    ItemPlan("EGGS", "Eggs (tray of 30)", "鸡蛋（30枚）", "trays", "food", 6, False),
    ItemPlan("MILK", "Milk (box of 12)", "牛奶（12盒装）", "boxes", "food", 4, False),
    ItemPlan("FORMULA", "Infant formula", "婴儿配方奶粉", "tins", "food", 0.5, False),
    ItemPlan("DIAPERS", "Adult diapers", "成人纸尿裤", "packs", "care", 1.5, False),
)
# Deliveries of these stopped a week before the anchor: the shortage the demo shows.
SHORT_ITEMS = frozenset({"AG-KIT", "LIANHUA", "FORMULA"})
TYPICAL_GRID_RESIDENTS = 850
COVER_DAYS = {DepotLevel.grid: 3, DepotLevel.community: 3, DepotLevel.street: 4}
TOP_UP_DAYS = {DepotLevel.grid: 5, DepotLevel.community: 6}


def add_items(*, ids: Ids, rows: Rows) -> dict[str, int]:
    """The supply items; returns code → id."""
    found = {}
    for item in ITEMS:
        item_id = ids.take(SupplyItem)
        found[item.code] = item_id
        minimum = math.ceil(
            COVER_DAYS[DepotLevel.grid] * item.per_1000 * TYPICAL_GRID_RESIDENTS / 1000
        )
        rows.add(
            SupplyItem,
            {
                "id": item_id,
                "code": item.code,
                "name": item.name,
                "name_zh": item.name_zh,
                "unit": item.unit,
                "category": item.category,
                "min_stock": minimum,
            },
        )
    return found


@dataclass
class _Depot:
    id: int
    name: str
    name_zh: str
    area_id: int
    level: str
    point: tuple[float, float]
    parent: int | None  # index of the depot that tops this one up
    served: int  # residents this depot issues food, medicine and care items to
    served_grid_items: int  # residents it issues grid items (masks, kits, …) to
    items: list[int]  # indexes into ITEMS
    stock: dict[int, int] = field(default_factory=dict)
    minimum: dict[int, int] = field(default_factory=dict)
    passed_on: dict[int, float] = field(default_factory=dict)  # daily need of depots it tops up

    def per_day(self, n: int) -> float:
        """Expected daily issues of item `n` (the street depot only supplies depots)."""
        if self.level == DepotLevel.street:
            return 0.0
        item = ITEMS[n]
        return item.per_1000 * (self.served_grid_items if item.at_grid else self.served) / 1000

    def throughput(self, n: int) -> float:
        """Daily issues of item `n` here plus the daily need of the depots it tops up."""
        return self.per_day(n) + self.passed_on.get(n, 0.0)


def stock_ledger(
    *,
    street_id: int,
    street_names: tuple[str, str],
    street_shape: BaseGeometry,
    community_ids: list[int],
    community_names: list[tuple[str, str]],
    grids: list[GridPlan],
    people: People,
    item_ids: dict[str, int],
    onset: int,
    round_days: tuple[int, ...],
    clock: Clock,
    rng: random.Random,
    np_rng: np.random.Generator,
    ids: Ids,
    rows: Rows,
) -> None:
    """Depots of one street and every movement of stock from the day before the onset."""
    residents = [len(people.by_grid[g]) for g in range(len(grids))]
    with_depot = sorted(rng.sample(range(len(grids)), len(grids) // 2))
    grid_items = [n for n, item in enumerate(ITEMS) if item.at_grid]
    depots = [
        _Depot(
            id=ids.take(Depot),
            name=f"{street_names[0]} central depot",
            name_zh=f"{street_names[1]}物资仓库",
            area_id=street_id,
            level=DepotLevel.street,
            point=points_inside(street_shape, 1, rng, margin_m=25.0)[0],
            parent=None,
            served=0,
            served_grid_items=0,
            items=list(range(len(ITEMS))),
        )
    ]
    community_depot: dict[int, int] = {}
    for c, (area_id, (name, name_zh)) in enumerate(
        zip(community_ids, community_names, strict=True)
    ):
        members = [g for g in range(len(grids)) if grids[g].community == c]
        community_depot[c] = len(depots)
        depots.append(
            _Depot(
                id=ids.take(Depot),
                name=f"{name} depot",
                name_zh=f"{name_zh}物资点",
                area_id=area_id,
                level=DepotLevel.community,
                point=points_inside(grids[rng.choice(members)].shape, 1, rng, margin_m=25.0)[0],
                parent=0,
                served=sum(residents[g] for g in members),
                served_grid_items=sum(residents[g] for g in members if g not in with_depot),
                items=list(range(len(ITEMS))),
            )
        )
    for g in with_depot:
        grid = grids[g]
        depots.append(
            _Depot(
                id=ids.take(Depot),
                name=f"{grid.name} depot",
                name_zh=f"{grid.name_zh}物资点",
                area_id=grid.id,
                level=DepotLevel.grid,
                point=points_inside(grid.shape, 1, rng, margin_m=25.0)[0],
                parent=community_depot[grid.community],
                served=0,
                served_grid_items=residents[g],
                items=grid_items,
            )
        )
    total = {n: sum(d.per_day(n) for d in depots) for n in range(len(ITEMS))}
    for depot in depots:
        # What a depot passes on counts towards what it must hold.
        if depot.parent is not None:
            for n in depot.items:
                depots[depot.parent].passed_on[n] = depots[depot.parent].passed_on.get(
                    n, 0.0
                ) + depot.per_day(n)
    for depot in depots:
        rows.add(
            Depot,
            {
                "id": depot.id,
                "name": depot.name,
                "name_zh": depot.name_zh,
                "area_id": depot.area_id,
                "level": depot.level,
                "lng": depot.point[0],
                "lat": depot.point[1],
            },
        )
        for n in depot.items:
            per_day = total[n] if depot.level == DepotLevel.street else depot.throughput(n)
            depot.minimum[n] = max(1, math.ceil(COVER_DAYS[DepotLevel(depot.level)] * per_day))
            depot.stock[n] = 0
            rows.add(
                DepotMinimum,
                {
                    "depot_id": depot.id,
                    "item_id": item_ids[ITEMS[n].code],
                    "min_stock": depot.minimum[n],
                },
            )
    _simulate(depots, total, item_ids, onset, round_days, clock, rng, np_rng, ids, rows)


def _simulate(
    depots: list[_Depot],
    total: dict[int, float],
    item_ids: dict[str, int],
    onset: int,
    round_days: tuple[int, ...],
    clock: Clock,
    rng: random.Random,
    np_rng: np.random.Generator,
    ids: Ids,
    rows: Rows,
) -> None:
    street = depots[0]

    def move(
        depot: _Depot,
        n: int,
        kind: str,
        quantity: int,
        when: datetime,
        counterpart: _Depot | None = None,
        note: str | None = None,
    ) -> None:
        if quantity == 0 or when >= clock.now:
            return
        depot.stock[n] += quantity
        rows.add(
            StockMovement,
            {
                "id": ids.take(StockMovement),
                "item_id": item_ids[ITEMS[n].code],
                "depot_id": depot.id,
                "kind": kind,
                "quantity": quantity,
                "occurred_at": when,
                "counterpart_depot_id": None if counterpart is None else counterpart.id,
                "note": note,
                "created_at": when,
                "created_by": "system",
            },
        )

    def transfer(source: _Depot, target: _Depot, n: int, wanted: int, when: datetime) -> None:
        quantity = min(wanted, source.stock[n])
        if quantity <= 0 or when >= clock.now:
            return
        move(source, n, MovementKind.transfer_out, -quantity, when, target)
        move(target, n, MovementKind.transfer_in, quantity, when, source)

    for k in range(onset - 1, 1):
        t = (k - onset) / max(1, -onset)
        demand = 0.7 + 0.6 * math.sin(math.pi * min(1.0, max(0.0, t)))
        # 08:00 deliveries at the street depot, every third day.
        if (k - onset + 1) % 3 == 0:
            for n in street.items:
                if ITEMS[n].code in SHORT_ITEMS and k > -7:
                    continue
                days = 14 if k == onset - 1 else 4
                quantity = math.ceil(total[n] * days * rng.uniform(0.85, 1.2))
                move(
                    street,
                    n,
                    MovementKind.receipt,
                    quantity,
                    clock.at(k, 8 + rng.random()),
                    note="Delivery from the district · 区级调拨",
                )
        # 09:00 communities, 10:00 grids: topped up when under one and a half times their minimum.
        for level, hour in ((DepotLevel.community, 9), (DepotLevel.grid, 10)):
            for depot in depots:
                if depot.level != level or depot.parent is None:
                    continue
                if level == DepotLevel.grid and k >= -1 and rng.random() < 0.35:
                    continue  # no driver that day
                source = depots[depot.parent]
                for n in depot.items:
                    if depot.stock[n] < 1.5 * depot.minimum[n]:
                        target = math.ceil(
                            TOP_UP_DAYS[DepotLevel(level)] * depot.throughput(n) * 1.2
                        )
                        target = max(target, 2 * depot.minimum[n])
                        transfer(
                            source,
                            depot,
                            n,
                            target - depot.stock[n],
                            clock.at(k, hour + rng.random()),
                        )
        if k < onset:
            continue
        # Issues through the day, more at the peak; swabs and tubes on testing days.
        for depot in depots[1:]:
            for n in depot.items:
                expected = depot.per_day(n) * demand
                if ITEMS[n].category == "testing" and ITEMS[n].code != "AG-KIT":
                    expected = expected * 3 if k in round_days else expected * 0.2
                wanted = int(np_rng.poisson(expected))
                quantity = min(wanted, depot.stock[n])
                move(depot, n, MovementKind.issue, -quantity, clock.at(k, 11 + 7 * rng.random()))
