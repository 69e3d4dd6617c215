"""The outbreak of one street: cases day by day, their contacts, and the zone orders.

The story starts `onset` days before the anchor with a cluster in one or two
neighbouring grids, grows for about ten days, then declines: by the last week most
new cases are found among contacts already in quarantine. Orders follow the policy's
rules: a grid with a cluster is sealed until seven days pass without a new infection
in the community, then controlled for seven more; its neighbours are controlled.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from gridcore.demo.geometry import distance_m
from gridcore.demo.population import GridPlan, People
from gridcore.models import (
    CaseKind,
    CaseStatus,
    ContactStatus,
    ContactType,
    FoundVia,
    HealthStatus,
    ZoneLevel,
)
from gridcore.policy import DEFAULT_POLICY

POLICY = DEFAULT_POLICY
CLOSE_DAYS = POLICY.close_central_days + POLICY.close_home_monitoring_days
HOT_CLUSTER = 3  # community cases that make a grid a cluster to seal

REASONS: dict[str, str] = {
    "cluster": "Cluster of community cases · 社区聚集性疫情",
    "stepdown": "Seven days without a new community case · 连续7天无社会面新增",
    "cases": "Community case in the grid · 网格内出现社会面病例",
    "neighbour": "Next to a sealed grid · 毗邻封控区",
    "precaution": "Street-wide precaution · 全街道防范",
    "building": "Positive case in this building · 楼内出现阳性病例",
}


@dataclass
class CaseInfo:
    resident: int  # index in the street's people
    day: int
    kind: str
    found_via: str
    status: str = CaseStatus.active


@dataclass
class ContactInfo:
    resident: int
    case: int  # index in Outbreak.cases
    contact_type: str
    day: int  # identified = start
    end: int  # planned end day
    status: str = ContactStatus.in_quarantine


@dataclass
class Outbreak:
    """What happened in one street; days count from the anchor (0) backwards."""

    onset: int
    origin: int = 0  # the grid of the first cluster
    cases: list[CaseInfo] = field(default_factory=list)
    contacts: list[ContactInfo] = field(default_factory=list)
    # resident index → [(first day, day after last, where)] away from the household.
    stays: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)
    # resident index → [(first day, day after last)] isolated or monitored at home.
    home: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    grid_levels: list[dict[int, tuple[str, str]]] = field(default_factory=list)
    building_sealed: dict[int, set[int]] = field(default_factory=dict)
    # round day → residents whose sample in that round was positive
    positives: dict[int, set[int]] = field(default_factory=dict)

    def status_on(self, people: People, i: int, k: int) -> str:
        """Where resident `i` is on day `k` (the health status the register shows)."""
        base = people.base_status[i]
        if base != HealthStatus.at_home:
            return base
        for start, stop, where in self.stays.get(i, ()):
            if start <= k < stop:
                return where
        return HealthStatus.at_home

    def home_isolated_on(self, i: int, k: int) -> bool:
        """Whether resident `i` is isolated or monitored at home on day `k`."""
        return any(start <= k < stop for start, stop in self.home.get(i, ()))

    def sealed_on(self, grid: int, building: int, k: int) -> bool:
        """Whether a building, or the grid around it, is sealed on day `k`."""
        if k in self.building_sealed.get(building, ()):
            return True
        return self.grid_levels[grid].get(k, ("", ""))[0] == ZoneLevel.sealed

    def level_on(self, grid: int, k: int) -> str:
        """The zone level of a grid on day `k` ('' before any order)."""
        return self.grid_levels[grid].get(k, ("", ""))[0]


def daily_counts(*, onset: int, intensity: float, rng: np.random.Generator) -> dict[int, int]:
    """New cases per day: growth for half the story, then decline to a trickle."""
    length = -onset
    peak_day = max(2, round(length * 0.5))
    start, peak = 2.0, max(3.0, 30.0 * intensity)
    final = max(1.0, 1.6 * intensity)
    counts: dict[int, int] = {}
    for t in range(length + 1):
        if t <= peak_day:
            expected = start * (peak / start) ** (t / peak_day)
        else:
            expected = peak * (final / peak) ** ((t - peak_day) / (length - peak_day))
        counts[onset + t] = int(rng.poisson(expected))
    counts[onset] = max(counts[onset], 2)
    counts[0] = max(counts[0], 1)
    return counts


class _Builder:
    """Plays the outbreak forward one day at a time."""

    def __init__(
        self,
        people: People,
        grids: list[GridPlan],
        rng: random.Random,
        onset: int,
        round_days: list[int],
    ):
        self.people = people
        self.grids = grids
        self.rng = rng
        self.round_days = set(round_days)
        self.out = Outbreak(onset=onset)
        self.is_case: set[int] = set()
        self.quarantined_until: dict[int, int] = {}  # resident → planned end of quarantine
        self.open: list[int] = []  # contacts in quarantine
        self.origin = rng.randrange(len(grids))
        self.out.origin = self.origin
        near = sorted(grids[self.origin].neighbours)
        self.seeds = {self.origin} | ({rng.choice(near)} if near else set())
        centre = grids[self.origin].centre
        self.distance = [distance_m(centre, g.centre) for g in grids]

    # ------------------------------------------------------------------ who can be chosen

    def _free(self, i: int, k: int) -> bool:
        """Not a case, not in quarantine on day `k`, and living at home."""
        return (
            i not in self.is_case
            and self.quarantined_until.get(i, -10_000) < k
            and self.people.base_status[i] == HealthStatus.at_home
        )

    def _community_resident(self, k: int) -> int:
        """A resident infected in the community: near the first cluster, spreading out."""
        t = k - self.out.onset
        radius = 250.0 + 70.0 * t
        weights = [
            math.exp(-d / radius) * (4.0 if g in self.seeds else 1.0)
            for g, d in enumerate(self.distance)
        ]
        while True:
            g = self.rng.choices(range(len(self.grids)), weights=weights)[0]
            residents = self.people.by_grid[g]
            for _ in range(30):
                i = self.rng.choice(residents)
                if self._free(i, k):
                    return i

    def _quarantined_resident(self, k: int) -> int | None:
        """A contact in quarantine on day `k` whose test turned positive."""
        self.open = [c for c in self.open if self.out.contacts[c].end >= k]
        candidates = [
            c
            for c in self.open
            if self.out.contacts[c].day < k and self.out.contacts[c].resident not in self.is_case
        ]
        if not candidates:
            return None
        close = [c for c in candidates if self.out.contacts[c].contact_type == ContactType.close]
        chosen = self.rng.choice(close if close and self.rng.random() < 0.85 else candidates)
        self.out.contacts[chosen].status = ContactStatus.became_case
        return chosen

    # ------------------------------------------------------------------ one day

    def day(self, k: int, count: int) -> None:
        t = (k - self.out.onset) / max(1, -self.out.onset)
        in_quarantine_share = min(0.9, 0.05 + 0.9 * t)
        new: list[int] = []
        via: str
        for n in range(count):
            contact = None
            # The first case of the anchor day is a positive of the round going on today.
            today_first = k == 0 and n == 0
            if (
                k > self.out.onset + 2
                and not today_first
                and self.rng.random() < in_quarantine_share
            ):
                contact = self._quarantined_resident(k)
            if contact is not None:
                resident = self.out.contacts[contact].resident
                via = FoundVia.quarantine
            else:
                resident = self._community_resident(k)
                via = self._community_via(k, force_testing=today_first)
            self.is_case.add(resident)
            kind = self._kind(k)
            self.out.cases.append(CaseInfo(resident=resident, day=k, kind=kind, found_via=via))
            new.append(len(self.out.cases) - 1)
            self._isolate(resident, k, kind, via)
            if via == FoundVia.mass_testing:
                round_day = k if k in self.round_days else k - 1
                self.out.positives.setdefault(round_day, set()).add(resident)
        for c in new:
            if self.out.cases[c].kind != CaseKind.suspected:
                self._trace(c, k)

    def _community_via(self, k: int, *, force_testing: bool) -> str:
        testing_day = k in self.round_days or (k - 1) in self.round_days
        if testing_day and (force_testing or self.rng.random() < 0.55):
            return FoundVia.mass_testing
        if self.rng.random() < 0.6:
            return FoundVia.screening
        return FoundVia.community

    def _kind(self, k: int) -> str:
        if k >= -1 and self.rng.random() < 0.05:
            return CaseKind.suspected
        return CaseKind.confirmed if self.rng.random() < 0.18 else CaseKind.asymptomatic

    def _isolate(self, i: int, k: int, kind: str, via: str) -> None:
        """A case leaves home: to hospital if ill, to a shelter hospital if asymptomatic."""
        stays = self.out.stays.setdefault(i, [])
        # A quarantined case is moved at once; others wait a day for transfer at home.
        start = k if via == FoundVia.quarantine else k + 1
        stays[:] = [(a, min(b, k), w) for a, b, w in stays if a < k]
        days = 14 if kind == CaseKind.confirmed else 10
        where = (
            HealthStatus.central_isolation
            if kind == CaseKind.asymptomatic
            else HealthStatus.in_hospital
        )
        stays.append((start, k + days, where))

    # ------------------------------------------------------------------ tracing

    def _trace(self, c: int, k: int) -> None:
        """Close contacts (household, building, grid, next grids) and their households."""
        case = self.out.cases[c]
        people = self.people
        identified = k if k == 0 or self.rng.random() < 0.7 else k + 1
        wanted = self.rng.randint(5, 15)
        chosen: list[int] = []
        seen = {case.resident}

        def take(pool: list[int], limit: int) -> None:
            pool = [i for i in pool if i not in seen]
            self.rng.shuffle(pool)
            for i in pool:
                if len(chosen) >= limit:
                    return
                seen.add(i)
                if self._free(i, identified):
                    chosen.append(i)

        g = people.grid[case.resident]
        take(people.household_members[people.household[case.resident]], wanted)
        take(
            people.building_members[people.building[case.resident]],
            len(chosen) + (wanted - len(chosen)) * 2 // 3,
        )
        near = [j for n in self.grids[g].neighbours for j in self.rng.sample(people.by_grid[n], 20)]
        take(self.rng.sample(people.by_grid[g], 40) + near, wanted)
        for i in chosen:
            self._quarantine(i, c, ContactType.close, identified)
        for i in chosen:
            for j in people.household_members[people.household[i]]:
                if j not in seen and self._free(j, identified):
                    seen.add(j)
                    self._quarantine(j, c, ContactType.secondary, identified)

    def _quarantine(self, i: int, c: int, contact_type: str, day: int) -> None:
        days = CLOSE_DAYS if contact_type == ContactType.close else POLICY.secondary_home_days
        contact = ContactInfo(
            resident=i, case=c, contact_type=contact_type, day=day, end=day + days
        )
        self.out.contacts.append(contact)
        self.open.append(len(self.out.contacts) - 1)
        self.quarantined_until[i] = contact.end
        if contact_type == ContactType.close:
            central_end = day + POLICY.close_central_days
            self.out.stays.setdefault(i, []).append(
                (day, central_end, HealthStatus.central_isolation)
            )
            self.out.home.setdefault(i, []).append((central_end, contact.end))
        else:
            self.out.home.setdefault(i, []).append((day, contact.end))

    # ------------------------------------------------------------------ the end

    def finish(self) -> Outbreak:
        """Statuses as they stand on the anchor day, and the zone orders."""
        for case in self.out.cases:
            days = 14 if case.kind == CaseKind.confirmed else 10
            if case.kind != CaseKind.suspected and case.day + days <= 0:
                case.status = CaseStatus.recovered
        found_on = {case.resident: case.day for case in self.out.cases}
        for contact in self.out.contacts:
            if contact.status == ContactStatus.became_case:
                # Quarantine at home ends the day the case is found.
                found = found_on[contact.resident]
                self.out.home[contact.resident] = [
                    (a, min(b, found)) for a, b in self.out.home.get(contact.resident, [])
                ]
            elif contact.end < 0:
                contact.status = ContactStatus.released
        self._zones()
        return self.out

    def _zones(self) -> None:
        """Each grid's level per day, from community cases (cases in quarantine do not count)."""
        onset = self.out.onset
        community: list[list[int]] = [[] for _ in self.grids]
        for case in self.out.cases:
            if case.found_via != FoundVia.quarantine and case.kind != CaseKind.suspected:
                community[self.people.grid[case.resident]].append(case.day)
        levels: list[dict[int, tuple[str, str]]] = [{} for _ in self.grids]
        for g, days in enumerate(community):
            days.sort()
            hot_from = onset + 1 if g in self.seeds else None
            if hot_from is None and len(days) >= HOT_CLUSTER:
                hot_from = days[HOT_CLUSTER - 1] + 1
            was_sealed = False
            for k in range(onset + 1, 1):
                past = [d for d in days if d < k]
                level, reason = ZoneLevel.precaution, "precaution"
                if past:
                    quiet = k - past[-1]
                    hot = hot_from is not None and k >= hot_from
                    if hot and quiet <= POLICY.sealed_stepdown_days:
                        level, reason = ZoneLevel.sealed, "cluster"
                        was_sealed = True
                    elif was_sealed and quiet <= (
                        POLICY.sealed_stepdown_days + POLICY.controlled_stepdown_days
                    ):
                        level, reason = ZoneLevel.controlled, "stepdown"
                    elif quiet <= POLICY.controlled_stepdown_days:
                        level, reason = ZoneLevel.controlled, "cases"
                levels[g][k] = (level, reason)
        for k in range(onset + 1, 1):
            for g, grid in enumerate(self.grids):
                if levels[g][k][0] == ZoneLevel.sealed:
                    for n in grid.neighbours:
                        if levels[n][k][0] == ZoneLevel.precaution:
                            levels[n][k] = (ZoneLevel.controlled, "neighbour")
        self.out.grid_levels = levels
        for case in self.out.cases:
            if case.found_via == FoundVia.quarantine or case.kind == CaseKind.suspected:
                continue
            g = self.people.grid[case.resident]
            if case.day < 0 and levels[g][case.day + 1][0] == ZoneLevel.sealed:
                continue
            b = self.people.building[case.resident]
            sealed = self.out.building_sealed.setdefault(b, set())
            sealed.update(range(case.day + 1, min(0, case.day + POLICY.sealed_stepdown_days) + 1))
        self.out.building_sealed = {b: d for b, d in self.out.building_sealed.items() if d}


def play(
    *,
    people: People,
    grids: list[GridPlan],
    rng: random.Random,
    np_rng: np.random.Generator,
    onset: int,
    intensity: float,
    round_days: list[int],
) -> Outbreak:
    """The street's outbreak from `onset` to the anchor day."""
    builder = _Builder(people, grids, rng, onset, round_days)
    for k, count in sorted(daily_counts(onset=onset, intensity=intensity, rng=np_rng).items()):
        builder.day(k, count)
    return builder.finish()


def runs(days: dict[int, tuple[str, str]]) -> list[tuple[int, int | None, str, str]]:
    """Consecutive days with the same (level, reason) as orders: (first, last or None, …)."""
    orders: list[tuple[int, int | None, str, str]] = []
    for k in sorted(days):
        level, reason = days[k]
        if orders and orders[-1][2] == level and orders[-1][3] == reason and orders[-1][1] == k - 1:
            first = orders[-1][0]
            orders[-1] = (first, k, level, reason)
        else:
            orders.append((k, k, level, reason))
    return [(a, None if b == 0 else b, level, reason) for a, b, level, reason in orders]
