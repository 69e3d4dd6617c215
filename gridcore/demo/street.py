"""The realistic demo worlds: one Shanghai street (~50,000 residents) or a district of 20.

Each street has 8–10 communities and 50–70 grids of 250–500 households, drawn as
shapes that tile their parent exactly, and lives through the same three-week
outbreak ending on the anchor day (see gridcore.demo.story). Rows are written with
bulk inserts, one transaction per street.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from gridcore.demo import names, rounds, supplies, work
from gridcore.demo.accounts import create_demo_accounts
from gridcore.demo.geometry import Cell, Frame, centre, geojson, neighbours, outline, snap, split
from gridcore.demo.population import GridPlan, People, populate
from gridcore.demo.story import REASONS, Outbreak, play, runs
from gridcore.demo.world import Clock, Ids, Rows, add_counts, reset_sequences, story_clock
from gridcore.models import (
    Area,
    AreaLevel,
    Case,
    Contact,
    ContactType,
    QuarantinePlace,
    Resident,
    ResidentVulnerability,
    Sex,
    User,
    ZoneLevel,
    ZoneOrder,
)
from gridcore.services.counters import rebuild_counters

CITY = ("SH", "Shanghai", "上海市")
DISTRICT = ("SH-XH", "Xuhui District", "徐汇区")
STREET_CENTRE = (121.4255, 31.1712)  # around Tianlin, Xuhui (WGS-84)
DISTRICT_CENTRE = (121.4380, 31.1760)
STREET_SIZE_M = (2300.0, 1800.0)
DISTRICT_SIZE_M = (9200.0, 7600.0)
HOUSEHOLDS_PER_STREET = (19_800, 21_600)
STREETS_IN_DISTRICT = 20
STORY_DAYS = 20  # the first cluster is found this many days before the anchor


@dataclass
class StreetPlan:
    """One street: its cell in the tiling, its areas' ids, and the story it lives."""

    index: int
    code: str
    name: str
    name_zh: str
    cell: Cell
    id: int = 0
    community_ids: list[int] = field(default_factory=list)
    community_names: list[tuple[str, str]] = field(default_factory=list)
    grid_counts: list[int] = field(default_factory=list)
    households: list[list[int]] = field(default_factory=list)
    grids: list[GridPlan] = field(default_factory=list)
    onset: int = -STORY_DAYS
    intensity: float = 1.0


def build(*, engine: Engine, seed: int, anchor: date | None) -> dict[str, int]:
    """The street world: one street of about 50,000 residents; returns row counts."""
    return _build(engine=engine, seed=seed, anchor=anchor, streets=1)


def build_district(
    *, engine: Engine, seed: int, anchor: date | None, streets: int = STREETS_IN_DISTRICT
) -> dict[str, int]:
    """The district world: `streets` streets (about 1,000,000 residents for 20)."""
    return _build(engine=engine, seed=seed, anchor=anchor, streets=streets)


def _build(*, engine: Engine, seed: int, anchor: date | None, streets: int) -> dict[str, int]:
    clock = story_clock(anchor)
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    plans = _plan_geometry(streets, rng, np_rng)
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        ids = Ids(connection)
        rows = Rows()
        _areas(plans, rng, ids, rows)
        item_ids = supplies.add_items(ids=ids, rows=rows)
        round_plans = rounds.plan_rounds(clock=clock, ids=ids, rows=rows)
        add_counts(counts, rows.write(connection))
    worker_grid = ""
    for plan in plans:
        if plan.index > 0:
            plan.onset = -rng.randint(STORY_DAYS - 7, STORY_DAYS - 1)
            plan.intensity = rng.uniform(0.1, 0.8)
        outbreak = _street(
            plan=plan,
            seed=seed,
            clock=clock,
            item_ids=item_ids,
            round_plans=round_plans,
            ids=ids,
            rows=rows,
        )
        if plan.index == 0:
            worker_grid = plan.grids[outbreak.origin].code
        # The street is made in memory first: the database is locked only while it is written.
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                # A bigger page cache keeps the indexes of a growing file in memory.
                connection.exec_driver_sql("PRAGMA cache_size = -131072")
            add_counts(counts, rows.write(connection))
    with engine.begin() as connection:
        reset_sequences(connection)
        # The world is written past the services that keep the counters: count it once.
        rebuild_counters(connection)
    with Session(engine, expire_on_commit=False) as session:
        create_demo_accounts(session, worker_grid_code=worker_grid)
        counts["user"] = len(session.exec(select(User.id)).all())
    return counts


# --------------------------------------------------------------------------- geometry


def _plan_geometry(
    streets: int, rng: random.Random, np_rng: np.random.Generator
) -> list[StreetPlan]:
    """The tiling: district → streets → communities → grids, snapped to shared edges."""
    if streets == 1:
        frame = Frame(*STREET_CENTRE)
        root = Cell(rough=outline(width=STREET_SIZE_M[0], height=STREET_SIZE_M[1], rng=rng))
        street_cells = [root]
    else:
        frame = Frame(*DISTRICT_CENTRE)
        scale = (streets / STREETS_IN_DISTRICT) ** 0.5
        root = Cell(
            rough=outline(
                width=DISTRICT_SIZE_M[0] * scale, height=DISTRICT_SIZE_M[1] * scale, rng=rng
            )
        )
        root.children = [Cell(rough=piece) for piece in split(root.rough, streets, np_rng)]
        street_cells = root.children
    plans = []
    for s, cell in enumerate(street_cells):
        code, name, name_zh = names.STREETS[s % len(names.STREETS)]
        plan = StreetPlan(
            index=s, code=f"{DISTRICT[0]}-{code}", name=name, name_zh=name_zh, cell=cell
        )
        _plan_street(plan, rng, np_rng)
        plans.append(plan)
    snap(root, frame)
    return plans


def _plan_street(plan: StreetPlan, rng: random.Random, np_rng: np.random.Generator) -> None:
    """Communities and grids of one street, with household numbers for each grid."""
    households = rng.randint(*HOUSEHOLDS_PER_STREET)
    grids = min(68, max(52, round(households / rng.uniform(340, 380))))
    communities = rng.randint(8, 10)
    plan.cell.children = [Cell(rough=p) for p in split(plan.cell.rough, communities, np_rng)]
    areas = [c.rough.area for c in plan.cell.children]
    plan.grid_counts = _share(grids, areas, low=4, high=9)
    for community, count in zip(plan.cell.children, plan.grid_counts, strict=True):
        community.children = [Cell(rough=p) for p in split(community.rough, count, np_rng)]
    sizes = [rng.uniform(270, 470) for _ in range(grids)]
    factor = households / sum(sizes)
    flat = [min(500, max(250, round(s * factor))) for s in sizes]
    plan.households = []
    for count in plan.grid_counts:
        plan.households.append(flat[:count])
        flat = flat[count:]


def _share(total: int, weights: list[float], *, low: int, high: int) -> list[int]:
    """`total` split in proportion to `weights`, each part within [low, high]."""
    parts = [min(high, max(low, round(total * w / sum(weights)))) for w in weights]
    order = sorted(range(len(parts)), key=lambda i: weights[i], reverse=True)
    while sum(parts) != total:
        step = 1 if sum(parts) < total else -1
        changed = False
        for i in order if step > 0 else reversed(order):
            if low <= parts[i] + step <= high:
                parts[i] += step
                changed = True
                break
        if not changed:
            break
    return parts


def _areas(plans: list[StreetPlan], rng: random.Random, ids: Ids, rows: Rows) -> None:
    """Area rows for the whole tree, parents first, households summed up the tree."""
    taken: set[str] = set()
    street_rows = []
    total = 0
    city_id, district_id = ids.take(Area), ids.take(Area)
    for plan in plans:
        plan.id = ids.take(Area)
        street_households = 0
        plan.community_names = names.community_names(rng, len(plan.cell.children), taken)
        community_rows = []
        for c, community in enumerate(plan.cell.children):
            community_id = ids.take(Area)
            plan.community_ids.append(community_id)
            code = f"{plan.code}-C{c + 1:02d}"
            road = rng.choice(names.ROADS)
            community_households = 0
            grid_rows = []
            for j, grid in enumerate(community.children):
                assert grid.shape is not None
                households = plan.households[c][j]
                community_households += households
                grid_plan = GridPlan(
                    id=ids.take(Area),
                    code=f"{code}-G{j + 1:02d}",
                    name=f"Grid {c + 1}-{j + 1:02d}",
                    name_zh=f"第{c + 1}-{j + 1:02d}网格",
                    community=c,
                    shape=grid.shape,
                    centre=centre(grid.shape),
                    households=households,
                    road=road,
                    lane=100 + 40 * j + rng.randint(0, 30),
                )
                plan.grids.append(grid_plan)
                grid_rows.append(
                    _area_row(
                        grid_plan.id,
                        grid_plan.code,
                        grid_plan.name,
                        grid_plan.name_zh,
                        AreaLevel.grid,
                        community_id,
                        grid.shape,
                        households,
                    )
                )
            name_en, name_zh = plan.community_names[c]
            community_rows.append(
                _area_row(
                    community_id,
                    code,
                    name_en,
                    name_zh,
                    AreaLevel.community,
                    plan.id,
                    community.shape,
                    community_households,
                )
            )
            community_rows.extend(grid_rows)
            street_households += community_households
        for g, near in enumerate(neighbours([grid.shape for grid in plan.grids])):
            plan.grids[g].neighbours = near
        street_rows.append(
            _area_row(
                plan.id,
                plan.code,
                plan.name,
                plan.name_zh,
                AreaLevel.street,
                district_id,
                plan.cell.shape,
                street_households,
            )
        )
        street_rows.extend(community_rows)
        total += street_households
    shape = shapely.unary_union([plan.cell.shape for plan in plans])
    rows.add(
        Area, _area_row(city_id, CITY[0], CITY[1], CITY[2], AreaLevel.city, None, shape, total)
    )
    rows.add(
        Area,
        _area_row(
            district_id,
            DISTRICT[0],
            DISTRICT[1],
            DISTRICT[2],
            AreaLevel.district,
            city_id,
            shape,
            total,
        ),
    )
    # Streets first, then each street's communities and grids, so parents precede children.
    streets_only = [r for r in street_rows if r["level"] == AreaLevel.street]
    rows.extend(Area, streets_only)
    rows.extend(Area, [r for r in street_rows if r["level"] != AreaLevel.street])


def _area_row(
    area_id: int,
    code: str,
    name: str,
    name_zh: str,
    level: AreaLevel,
    parent_id: int | None,
    shape: BaseGeometry | None,
    households: int,
) -> dict[str, Any]:
    """One area row; the shape as GeoJSON and its centre as the label point."""
    assert shape is not None
    lng, lat = centre(shape)
    return {
        "id": area_id,
        "code": code,
        "name": name,
        "name_zh": name_zh,
        "level": level,
        "parent_id": parent_id,
        "shape": geojson(shape),
        "center_lng": lng,
        "center_lat": lat,
        "households": households,
    }


# --------------------------------------------------------------------------- one street


def _street(
    *,
    plan: StreetPlan,
    seed: int,
    clock: Clock,
    item_ids: dict[str, int],
    round_plans: list[rounds.RoundPlan],
    ids: Ids,
    rows: Rows,
) -> Outbreak:
    """Everything that lives in one street; rows are left in `rows`."""
    rng = random.Random(f"{seed}:{plan.index}")
    np_rng = np.random.default_rng([seed, plan.index])
    year = clock.anchor.year
    grids = plan.grids
    people = populate(grids=grids, rng=rng, ids=ids, rows=rows, year=year)
    round_days = [r.day for r in round_plans]
    outbreak = play(
        people=people,
        grids=grids,
        rng=rng,
        np_rng=np_rng,
        onset=plan.onset,
        intensity=plan.intensity,
        round_days=round_days,
    )
    _residents(people, outbreak, grids, rows)
    case_ids = _cases(people, outbreak, grids, clock, rng, ids, rows)
    _zone_orders(people, outbreak, grids, clock, ids, rows)
    sites, served = rounds.plan_sites(
        grids=grids, people=people, community_names=plan.community_names, rng=rng
    )
    for round_plan in round_plans:
        rounds.record_round(
            plan=round_plan,
            street=plan.index,
            grids=grids,
            people=people,
            outbreak=outbreak,
            sites=sites,
            served=served,
            clock=clock,
            rng=rng,
            ids=ids,
            rows=rows,
        )
    supplies.stock_ledger(
        street_id=plan.id,
        street_names=(plan.name, plan.name_zh),
        street_shape=plan.cell.shape,
        community_ids=plan.community_ids,
        community_names=plan.community_names,
        grids=grids,
        people=people,
        item_ids=item_ids,
        onset=min(plan.onset, -STORY_DAYS),
        round_days=tuple(round_days),
        clock=clock,
        rng=rng,
        np_rng=np_rng,
        ids=ids,
        rows=rows,
    )
    staff = work.add_workers(
        grids=grids, communities=len(plan.community_ids), rng=rng, ids=ids, rows=rows, year=year
    )
    work.add_requests(
        grids=grids,
        people=people,
        outbreak=outbreak,
        staff=staff,
        clock=clock,
        rng=rng,
        np_rng=np_rng,
        ids=ids,
        rows=rows,
    )
    work.add_tasks(
        grids=grids,
        people=people,
        outbreak=outbreak,
        staff=staff,
        rounds=round_plans,
        case_ids=case_ids,
        clock=clock,
        rng=rng,
        ids=ids,
        rows=rows,
    )
    return outbreak


def _residents(people: People, outbreak: Outbreak, grids: list[GridPlan], rows: Rows) -> None:
    for i in range(len(people)):
        for tag in people.tags[i]:
            rows.add(ResidentVulnerability, {"resident_id": people.ids[i], "tag": tag})
        rows.add(
            Resident,
            {
                "id": people.ids[i],
                "household_id": people.household_ids[people.household[i]],
                "name": people.name[i],
                "id_number_masked": people.id_masked[i],
                "id_suffix": people.id_suffix[i],
                "phone": people.phone[i],
                "birth_year": people.birth_year[i],
                "sex": Sex.female if people.female[i] else Sex.male,
                "health_status": outbreak.status_on(people, i, 0),
                "grid_id": grids[people.grid[i]].id,
                "building_id": people.building_ids[people.building[i]],
            },
        )


def _cases(
    people: People,
    outbreak: Outbreak,
    grids: list[GridPlan],
    clock: Clock,
    rng: random.Random,
    ids: Ids,
    rows: Rows,
) -> list[int]:
    """Case and contact rows; returns the case ids in story order."""
    case_ids = []
    for case in outbreak.cases:
        case_id = ids.take(Case)
        case_ids.append(case_id)
        i = case.resident
        b = people.building[i]
        rows.add(
            Case,
            {
                "id": case_id,
                "resident_id": people.ids[i],
                "address": people.building_address[b],
                "grid_id": grids[people.grid[i]].id,
                "building_id": people.building_ids[b],
                "kind": case.kind,
                "status": case.status,
                "reported_date": clock.day(case.day),
                "found_via": case.found_via,
                "note": None,
                "created_at": min(clock.at(case.day, rng.uniform(7.0, 11.0)), clock.now),
            },
        )
    for contact in outbreak.contacts:
        i = contact.resident
        rows.add(
            Contact,
            {
                "id": ids.take(Contact),
                "case_id": case_ids[contact.case],
                "resident_id": people.ids[i],
                "person_name": people.name[i],
                "phone": people.phone[i],
                "grid_id": grids[people.grid[i]].id,
                "contact_type": contact.contact_type,
                "identified_date": clock.day(contact.day),
                "quarantine_place": (
                    QuarantinePlace.central
                    if contact.contact_type == ContactType.close
                    else QuarantinePlace.home
                ),
                "start_date": clock.day(contact.day),
                "planned_end_date": clock.day(contact.end),
                "status": contact.status,
            },
        )
    return case_ids


def _zone_orders(
    people: People, outbreak: Outbreak, grids: list[GridPlan], clock: Clock, ids: Ids, rows: Rows
) -> None:
    """Grid orders as runs of the same level; building orders where a case lived."""

    def order(
        area_id: int | None,
        building_id: int | None,
        first: int,
        last: int | None,
        level: str,
        reason: str,
    ) -> None:
        rows.add(
            ZoneOrder,
            {
                "id": ids.take(ZoneOrder),
                "area_id": area_id,
                "building_id": building_id,
                "level": level,
                "start_date": clock.day(first),
                "end_date": None if last is None else clock.day(last),
                "reason": REASONS[reason],
                "created_at": min(clock.at(first - 1, 20), clock.now),
            },
        )

    for g, days in enumerate(outbreak.grid_levels):
        for first, last, level, reason in runs(days):
            order(grids[g].id, None, first, last, level, reason)
    for b, sealed in sorted(outbreak.building_sealed.items()):
        marked: dict[int, tuple[str, str]] = {k: (ZoneLevel.sealed, "building") for k in sealed}
        for first, last, level, reason in runs(marked):
            order(None, people.building_ids[b], first, last, level, reason)
