"""Buildings, households and residents of one street, with believable ages and needs."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

from gridcore.demo import names
from gridcore.demo.geometry import points_inside
from gridcore.demo.world import Ids, Rows
from gridcore.models import Building, HealthStatus, Household, Resident, Vulnerability

# Household size → share of households (mean size 2.4, as in central Shanghai).
_SIZES = (1, 2, 3, 4, 5)
_SIZE_WEIGHTS = (0.25, 0.33, 0.25, 0.11, 0.06)
# Building styles: (households per building, floors); walk-ups dominate the older estates.
_STYLES = {"walkup": ((18, 36), 6), "midrise": ((40, 70), 11), "tower": ((80, 150), 26)}


@dataclass
class GridPlan:
    """One grid of a street before its people are added."""

    id: int
    code: str
    name: str
    name_zh: str
    community: int  # index of the community in its street
    shape: BaseGeometry
    centre: tuple[float, float]
    households: int
    road: tuple[str, str]
    lane: int
    neighbours: set[int] = field(default_factory=set)  # indexes within the street


@dataclass
class People:
    """The residents of one street, column by column (index = position in the street)."""

    ids: list[int] = field(default_factory=list)
    grid: list[int] = field(default_factory=list)  # grid index in the street
    household: list[int] = field(default_factory=list)  # household index in the street
    building: list[int] = field(default_factory=list)  # building index in the street
    birth_year: list[int] = field(default_factory=list)
    female: list[bool] = field(default_factory=list)
    tags: list[tuple[str, ...]] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    phone: list[str | None] = field(default_factory=list)
    id_masked: list[str] = field(default_factory=list)
    id_suffix: list[str] = field(default_factory=list)
    # Where someone is for the whole story: at home, away from the city, or in hospital.
    base_status: list[str] = field(default_factory=list)
    household_ids: list[int] = field(default_factory=list)
    household_members: list[list[int]] = field(default_factory=list)
    household_grid: list[int] = field(default_factory=list)
    building_ids: list[int] = field(default_factory=list)
    building_grid: list[int] = field(default_factory=list)
    building_points: list[tuple[float, float]] = field(default_factory=list)
    building_address: list[str] = field(default_factory=list)
    building_members: list[list[int]] = field(default_factory=list)
    by_grid: list[list[int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def _members(rng: random.Random, year: int) -> list[tuple[int, bool, bool]]:
    """(age, female, lives alone and is elderly) for each member of one new household."""
    size = rng.choices(_SIZES, weights=_SIZE_WEIGHTS)[0]
    r = rng.random()

    def adult(lo: int, hi: int) -> int:
        return rng.randint(lo, hi)

    def child() -> int:
        return rng.randint(0, 2) if rng.random() < 0.085 else rng.randint(3, 17)

    if size == 1:
        if r < 0.3:
            return [(adult(70, 94), rng.random() < 0.65, True)]
        return [(adult(22, 45) if rng.random() < 0.6 else adult(46, 69), rng.random() < 0.5, False)]
    if size == 2:
        if r < 0.45:
            a = adult(60, 88)
            return [(a, False, False), (max(58, a + rng.randint(-5, 3)), True, False)]
        if r < 0.8:
            a = adult(24, 45)
            return [(a, False, False), (max(22, a + rng.randint(-4, 2)), True, False)]
        if r < 0.9:
            a = adult(45, 62)
            return [(a, False, False), (a + rng.randint(-4, 2), True, False)]
        return [(adult(28, 50), rng.random() < 0.7, False), (child(), rng.random() < 0.5, False)]
    if size == 3:
        if r < 0.7:
            a = adult(28, 48)
            return [
                (a, False, False),
                (a + rng.randint(-4, 2), True, False),
                (child(), rng.random() < 0.5, False),
            ]
        a = adult(50, 66)
        return [
            (a, False, False),
            (a - rng.randint(0, 4), True, False),
            (adult(20, 35), rng.random() < 0.5, False),
        ]
    a = adult(30, 45)
    family = [
        (a, False, False),
        (a + rng.randint(-4, 2), True, False),
        (child(), rng.random() < 0.5, False),
    ]
    g = a + rng.randint(24, 32)
    if size == 4:
        if r < 0.4:
            return [*family, (child(), rng.random() < 0.5, False)]
        return [
            (a, False, False),
            (child(), rng.random() < 0.5, False),
            (g, False, False),
            (g - rng.randint(0, 4), True, False),
        ]
    return [*family, (g, False, False), (g - rng.randint(0, 4), True, False)]


def _tags(rng: random.Random, age: int, female: bool, alone: bool) -> tuple[str, ...]:
    """Vulnerability tags at rates like a central Shanghai street."""
    tags: list[str] = []
    if alone:
        tags.append(Vulnerability.elderly_alone)
    chronic = 0.22 if age >= 60 else 0.06 if age >= 40 else 0.008
    if rng.random() < chronic:
        tags.append(Vulnerability.chronic_illness)
    if rng.random() < (0.025 if age >= 65 else 0.012):
        tags.append(Vulnerability.disabled)
    if age >= 75 and rng.random() < 0.05:
        tags.append(Vulnerability.bedridden)
    if female and 22 <= age <= 40 and rng.random() < 0.043:
        tags.append(Vulnerability.pregnant)
    if age <= 2:
        tags.append(Vulnerability.infant)
    return tuple(tags)


def populate(
    *, grids: list[GridPlan], rng: random.Random, ids: Ids, rows: Rows, year: int
) -> People:
    """Buildings, households and residents for `grids`; adds building and household rows."""
    people = People()
    people.by_grid = [[] for _ in grids]
    for g, grid in enumerate(grids):
        style = rng.choices(("walkup", "midrise", "tower"), weights=(0.6, 0.25, 0.15))[0]
        (low, high), floors = _STYLES[style]
        sizes: list[int] = []
        while sum(sizes) < grid.households:
            sizes.append(min(rng.randint(low, high), grid.households - sum(sizes)))
        points = points_inside(grid.shape, len(sizes), rng)
        for number, (size, point) in enumerate(zip(sizes, points, strict=True), start=1):
            _building(people, rows, ids, rng, grid, g, number, size, point, floors, year)
    return people


def _building(
    people: People,
    rows: Rows,
    ids: Ids,
    rng: random.Random,
    grid: GridPlan,
    g: int,
    number: int,
    size: int,
    point: tuple[float, float],
    floors: int,
    year: int,
) -> None:
    """One building with `size` households and their residents."""
    b = len(people.building_ids)
    building_id = ids.take(Building)
    road_en, road_zh = grid.road
    address = f"{road_zh}{grid.lane}弄{number}号 · No. {number}, Lane {grid.lane}, {road_en}"
    rows.add(
        Building,
        {
            "id": building_id,
            "code": f"{grid.code}-B{number:02d}",
            "name": f"No. {number}, Lane {grid.lane}",
            "name_zh": f"{road_zh}{grid.lane}弄{number}号",
            "grid_id": grid.id,
            "lng": point[0],
            "lat": point[1],
            "address": address,
        },
    )
    people.building_ids.append(building_id)
    people.building_grid.append(g)
    people.building_points.append(point)
    people.building_address.append(address)
    people.building_members.append([])
    per_floor = max(2, -(-size // floors))
    for flat in range(size):
        floor, door = divmod(flat, per_floor)
        household_id = ids.take(Household)
        rows.add(
            Household,
            {
                "id": household_id,
                "building_id": building_id,
                "grid_id": grid.id,
                "unit": f"{number}-{floor + 1}{door + 1:02d}",
            },
        )
        h = len(people.household_ids)
        people.household_ids.append(household_id)
        people.household_grid.append(g)
        people.household_members.append([])
        family = names.surname(rng)
        for age, female, alone in _members(rng, year):
            _resident(people, ids, rng, g, h, b, age, female, alone, family, year)


def _resident(
    people: People,
    ids: Ids,
    rng: random.Random,
    g: int,
    h: int,
    b: int,
    age: int,
    female: bool,
    alone: bool,
    family: str,
    year: int,
) -> None:
    index = len(people.ids)
    birth_year = year - age
    people.ids.append(ids.take(Resident))
    people.grid.append(g)
    people.household.append(h)
    people.building.append(b)
    people.birth_year.append(birth_year)
    people.female.append(female)
    people.tags.append(_tags(rng, age, female, alone))
    own = names.surname(rng) if female and age >= 20 else family
    people.name.append(names.person_name(rng, family=own, female=female, birth_year=birth_year))
    has_phone = age >= 12 and not (age >= 85 and rng.random() < 0.4)
    people.phone.append(names.mobile(rng) if has_phone else None)
    masked, suffix = names.masked_id(rng)
    people.id_masked.append(masked)
    people.id_suffix.append(suffix)
    if 18 <= age <= 60 and rng.random() < 0.04:
        base = HealthStatus.away
    elif age >= 70 and rng.random() < 0.008:
        base = HealthStatus.in_hospital
    else:
        base = HealthStatus.at_home
    people.base_status.append(base)
    people.household_members[h].append(index)
    people.building_members[b].append(index)
    people.by_grid[g].append(index)
