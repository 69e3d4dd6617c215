"""Mass testing: rounds every three days, sampling sites, one record per resident sampled.

Past rounds reach about 98% of the residents at home; the latest round is still
going on at the story's present moment, about 70% sampled, its latest samples
waiting for their results.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gridcore.demo.geometry import points_inside
from gridcore.demo.population import GridPlan, People
from gridcore.demo.story import Outbreak
from gridcore.demo.world import Clock, Ids, Rows
from gridcore.models import (
    HealthStatus,
    SamplingMethod,
    TestRecord,
    TestResult,
    TestRound,
    TestRoundArea,
    TestSite,
    Vulnerability,
)

ROUND_DAYS: tuple[int, ...] = (-18, -15, -12, -9, -6, -3, 0)
# Share of on-site samples in each hour after a round opens (morning rush, evening bump).
SITE_CURVE: tuple[int, ...] = (10, 15, 14, 11, 8, 6, 5, 5, 5, 6, 6, 4, 3, 2)
_CUMULATIVE = [sum(SITE_CURVE[: i + 1]) for i in range(len(SITE_CURVE))]
DOOR_HOURS = (1.0, 13.0)  # door-to-door teams work through the day
SAMPLES_PER_DESK_HOUR = 100  # ten-in-one pooled swabbing
LATEST_ROUND_HOURS = 7.5  # how long the latest round has been open at the story's present
NEVER_SAMPLED = 0.02  # refusals and people not found, per round
LAB_HOURS = (3.0, 8.0)  # from swab to result


@dataclass(frozen=True)
class RoundPlan:
    """One round of the whole world (every street shares it)."""

    id: int
    number: int
    day: int
    start: datetime
    latest: bool


@dataclass(frozen=True)
class SitePlan:
    """A sampling site of one street (the same place in every round)."""

    grid: int  # grid index in the street
    name: str
    name_zh: str
    point: tuple[float, float]
    desks: int


def plan_rounds(*, clock: Clock, ids: Ids, rows: Rows) -> list[RoundPlan]:
    """The rounds of the story; the latest opened LATEST_ROUND_HOURS before the present."""
    plans = []
    for number, day in enumerate(ROUND_DAYS, start=1):
        latest = number == len(ROUND_DAYS)
        if latest:
            opened = clock.now - timedelta(hours=LATEST_ROUND_HOURS)
            start = opened.replace(minute=opened.minute - opened.minute % 15, second=0)
        else:
            start = clock.at(day, 7)
        round_id = ids.take(TestRound)
        local = start.astimezone(clock.tz)
        rows.add(
            TestRound,
            {
                "id": round_id,
                "name": f"Round {number} ({local:%m-%d})",
                "name_zh": f"第{number}轮全员核酸（{local.month}月{local.day}日）",
                "start_at": start,
                "deadline_at": start + timedelta(hours=24),
                "closed_at": None if latest else start + timedelta(hours=len(SITE_CURVE) + 1),
            },
        )
        plans.append(RoundPlan(id=round_id, number=number, day=day, start=start, latest=latest))
    return plans


def plan_sites(
    *,
    grids: list[GridPlan],
    people: People,
    community_names: list[tuple[str, str]],
    rng: random.Random,
) -> tuple[list[SitePlan], list[int]]:
    """About one site per 2,500 residents; returns the sites and each grid's site index."""
    count = max(1, round(len(people) / 2500))
    # Farthest-point choice spreads the sites over the street.
    chosen = [rng.randrange(len(grids))]
    while len(chosen) < count:
        far = max(
            (g for g in range(len(grids)) if g not in chosen),
            key=lambda g: min(_d2(grids[g].centre, grids[c].centre) for c in chosen),
        )
        chosen.append(far)
    served = [
        min(range(count), key=lambda s: _d2(grid.centre, grids[chosen[s]].centre)) for grid in grids
    ]
    sites = []
    for s, g in enumerate(chosen):
        residents = sum(len(people.by_grid[x]) for x in range(len(grids)) if served[x] == s)
        peak = residents * max(SITE_CURVE) / sum(SITE_CURVE)
        desks = max(2, math.ceil(peak / SAMPLES_PER_DESK_HOUR))
        point = points_inside(grids[g].shape, 1, rng, margin_m=20.0)[0]
        name_en, name_zh = community_names[grids[g].community]
        sites.append(
            SitePlan(
                grid=g,
                name=f"{name_en} – site {s + 1}",
                name_zh=f"{name_zh} 第{s + 1}采样点",
                point=point,
                desks=desks,
            )
        )
    return sites, served


def _d2(a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def _site_hour(rng: random.Random) -> float:
    """Hours after the round opens at which one on-site sample is taken."""
    hour = bisect_right(_CUMULATIVE, rng.random() * _CUMULATIVE[-1])
    return hour + rng.random()


def record_round(
    *,
    plan: RoundPlan,
    street: int,
    grids: list[GridPlan],
    people: People,
    outbreak: Outbreak,
    sites: list[SitePlan],
    served: list[int],
    clock: Clock,
    rng: random.Random,
    ids: Ids,
    rows: Rows,
) -> None:
    """The sites and the records of one street in one round."""
    site_ids = []
    for site in sites:
        site_id = ids.take(TestSite)
        site_ids.append(site_id)
        rows.add(
            TestSite,
            {
                "id": site_id,
                "round_id": plan.id,
                "name": site.name,
                "name_zh": site.name_zh,
                "area_id": grids[site.grid].id,
                "lng": site.point[0],
                "lat": site.point[1],
                "hourly_capacity": site.desks * SAMPLES_PER_DESK_HOUR,
                "desks": site.desks,
            },
        )
    for grid in grids:
        rows.add(TestRoundArea, {"round_id": plan.id, "grid_id": grid.id})
    positives = outbreak.positives.get(plan.day, set())
    uncertain = set(outbreak.stays) | set(outbreak.home)
    sealed = {b for b, days in outbreak.building_sealed.items() if plan.day in days}
    random_ = rng.random
    samples: dict[int, list[tuple[datetime, int, bool]]] = {}
    for i, base in enumerate(people.base_status):
        if base != HealthStatus.at_home:
            continue
        if i in uncertain and outbreak.status_on(people, i, plan.day) != HealthStatus.at_home:
            continue
        positive = i in positives
        if not positive and random_() < NEVER_SAMPLED:
            continue
        # Residents of a sealed grid (not a sealed building) queue at their site in turns.
        door = (
            people.building[i] in sealed
            or (i in uncertain and outbreak.home_isolated_on(i, plan.day))
            or _cannot_go_out(people.tags[i], random_)
        )
        if positive:
            hours = rng.uniform(0.2, 2.0)
        elif door:
            hours = rng.uniform(*DOOR_HOURS)
        else:
            hours = _site_hour(rng)
        sampled = plan.start + timedelta(hours=hours)
        if plan.latest and sampled >= clock.now and not positive:
            continue
        samples.setdefault(-1 if door else served[people.grid[i]], []).append(
            (sampled, i, positive)
        )
    for key, taken in samples.items():
        taken.sort()
        first = ids.take(TestRecord, len(taken))
        record_site = None if key < 0 else site_ids[key]
        method = SamplingMethod.door_to_door if key < 0 else SamplingMethod.site
        tube_prefix = f"{plan.number:02d}{street + 1:02d}{'DD' if key < 0 else f'{key + 1:02d}'}"
        for n, (sampled, i, positive) in enumerate(taken):
            result, result_at = _result(plan, sampled, positive, clock, random_)
            rows.add_values(
                TestRecord,
                RECORD_COLUMNS,
                (
                    first + n,
                    plan.id,
                    people.ids[i],
                    grids[people.grid[i]].id,
                    record_site,
                    method,
                    sampled,
                    f"{tube_prefix}{n // 10:05d}",
                    result,
                    result_at,
                ),
            )


RECORD_COLUMNS = (
    "id",
    "round_id",
    "resident_id",
    "grid_id",
    "site_id",
    "method",
    "sampled_at",
    "tube_code",
    "result",
    "result_at",
)


def _cannot_go_out(tags: tuple[str, ...], random_: Callable[[], float]) -> bool:
    """Bedridden residents, and half the disabled and elderly living alone, are visited."""
    if not tags:
        return random_() < 0.015
    if Vulnerability.bedridden in tags:
        return True
    if (Vulnerability.disabled in tags or Vulnerability.elderly_alone in tags) and random_() < 0.5:
        return True
    return random_() < 0.015


def _result(
    plan: RoundPlan,
    sampled: datetime,
    positive: bool,
    clock: Clock,
    random_: Callable[[], float],
) -> tuple[str, datetime | None]:
    """The result of one sample and when it came back (pending in the latest round)."""
    low, high = LAB_HOURS
    result_at: datetime | None = sampled + timedelta(hours=low + (high - low) * random_())
    if positive:
        if plan.latest:
            result_at = min(sampled + timedelta(hours=4), clock.now)
        return TestResult.positive, result_at
    if plan.latest and result_at is not None and result_at > clock.now:
        return TestResult.pending, None
    if random_() < 0.0005:
        return TestResult.invalid, result_at
    return TestResult.negative, result_at
