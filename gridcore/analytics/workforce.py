"""Workforce figures: workload per worker, staffing against the standard, imbalance, and
suggestions (task reassignments, volunteer postings). Pure: no database here."""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from gridcore.models import ServiceGroup
from gridcore.policy import Policy


def households_per_worker(*, households: int, full_time_workers: int) -> float | None:
    """Households per full-time worker; None without a full-time worker."""
    if full_time_workers <= 0:
        return None
    return households / full_time_workers


def understaffed(*, households: int, full_time_workers: int, policy: Policy) -> bool:
    """Whether a grid with households has no full-time worker or more per worker than standard."""
    if households <= 0:
        return False
    ratio = households_per_worker(households=households, full_time_workers=full_time_workers)
    return ratio is None or ratio > policy.households_per_fulltime_worker


# --------------------------------------------------------------------------- workload

# How much more an overdue task weighs than one still in time (it counts once as open too).
OVERDUE_WEIGHT = 2


def workload_score(*, open_tasks: int, overdue_tasks: int) -> int:
    """A worker's workload: open tasks + 2 × overdue tasks (overdue ones are also open).

    So a task in time counts 1 and an overdue one 3. Task kinds are not weighted: how long
    a delivery or a survey takes differs more between grids than between kinds, and the
    data holds no durations to weigh them by; a wrong weight would hide who is behind.
    """
    return open_tasks + OVERDUE_WEIGHT * overdue_tasks


def task_weight(*, overdue: bool) -> int:
    """What one open task adds to its worker's workload score (1, or 3 when overdue)."""
    return workload_score(open_tasks=1, overdue_tasks=1 if overdue else 0)


@dataclass(frozen=True)
class Imbalance:
    """How unevenly work is spread over the frontline workers (full- and part-time).

    `cv` is the coefficient of variation of their workload scores: the population
    standard deviation over the mean (0 when all carry the same; None when no one has any
    work). `max_over_median` is the busiest worker's score over the median score (None
    when the median is 0). `target` is the mean score: the balance reassignments aim at.
    """

    workers: int
    mean: float
    median: float
    max_score: int
    cv: float | None
    max_over_median: float | None

    @property
    def target(self) -> float:
        return self.mean


def imbalance(scores: Sequence[int]) -> Imbalance:
    """The spread of `scores` (one per frontline worker; see Imbalance)."""
    if not scores:
        return Imbalance(0, 0.0, 0.0, 0, None, None)
    mean = statistics.fmean(scores)
    median = float(statistics.median(scores))
    cv = statistics.pstdev(scores) / mean if mean > 0 else None
    top = max(scores)
    return Imbalance(
        workers=len(scores),
        mean=mean,
        median=median,
        max_score=top,
        cv=cv,
        max_over_median=top / median if median > 0 else None,
    )


# --------------------------------------------------------------------------- staffing


@dataclass(frozen=True)
class StaffingGap:
    """One grid's full-time staffing against the standard (households per full-time worker)."""

    grid_id: int
    households: int
    full_time_workers: int
    households_per_worker: float | None
    needed: int  # full-time workers the standard asks for: ⌈households ÷ standard⌉
    gap: int  # needed − present, never below 0
    understaffed: bool


def staffing_gap(
    *, grid_id: int, households: int, full_time_workers: int, policy: Policy
) -> StaffingGap:
    """A grid's staffing: needed = ⌈households ÷ standard⌉, gap = needed − full-time workers."""
    standard = policy.households_per_fulltime_worker
    needed = math.ceil(households / standard) if households > 0 else 0
    return StaffingGap(
        grid_id=grid_id,
        households=households,
        full_time_workers=full_time_workers,
        households_per_worker=households_per_worker(
            households=households, full_time_workers=full_time_workers
        ),
        needed=needed,
        gap=max(0, needed - full_time_workers),
        understaffed=understaffed(
            households=households, full_time_workers=full_time_workers, policy=policy
        ),
    )


def ranked_understaffed(gaps: Iterable[StaffingGap]) -> list[StaffingGap]:
    """The understaffed grids, the widest gap first; then the most households per worker
    (a grid with no full-time worker first), then the most households, then the grid id."""

    def key(gap: StaffingGap) -> tuple[float, ...]:
        ratio = gap.households_per_worker
        return (-gap.gap, -(math.inf if ratio is None else ratio), -gap.households, gap.grid_id)

    return sorted((g for g in gaps if g.understaffed), key=key)


# --------------------------------------------------------------------------- reassignments


@dataclass(frozen=True)
class LoadedWorker:
    """A frontline worker as the balancing sees them: the grids they serve and their score."""

    worker_id: int
    grid_ids: frozenset[int]
    score: int


@dataclass(frozen=True)
class OpenTask:
    """An open task of a worker who may give work away."""

    task_id: int
    grid_id: int
    worker_id: int
    overdue: bool
    due_at: datetime | None = None


@dataclass(frozen=True)
class Reassignment:
    """Move one open task from a busy worker to a less busy one."""

    task_id: int
    grid_id: int
    from_worker_id: int
    to_worker_id: int
    # The receiver does not serve the task's grid yet (a neighbouring grid): taking the
    # task adds the grid to theirs.
    adds_grid: bool
    from_score_after: int
    to_score_after: int


MAX_REASSIGNMENTS = 20


def suggest_reassignments(
    *,
    workers: Sequence[LoadedWorker],
    tasks: Sequence[OpenTask],
    community_of: Mapping[int, int | None],
    target: float,
    limit: int = MAX_REASSIGNMENTS,
) -> list[Reassignment]:
    """Open tasks to move from overloaded workers to lightly loaded ones, never past balance.

    Greedy, one task at a time: the busiest worker above `target` (the mean score; ties:
    the lowest id) gives away the first of their open tasks, in order of pressure (overdue
    first, then the earliest due, no due time last, then the lowest id), that someone can
    take. The taker is a worker who serves the task's grid, or else a neighbouring grid —
    one in the same community (`community_of`: grid → its community) — the same grid
    first, then the least busy, then the lowest id. A move is allowed only when the taker
    ends at or below the balance rounded up (scores are whole: with a mean of 0.7 a worker
    at 0 may take one task) and no busier than the giver ends, so a move never overshoots
    the balance nor turns the imbalance around (an overdue task weighs 3, so it moves only
    to someone with room for it). A task moves once at most; a giver with no
    task anyone can take is passed over. Stops after `limit` moves.
    """
    scores = {w.worker_id: w.score for w in workers}
    grids = {w.worker_id: w.grid_ids for w in workers}
    # Who serves each grid, and each grid's neighbours: a district has thousands of workers,
    # and a task looks only at those of its grid and its neighbours.
    serving: dict[int, set[int]] = {}
    for worker_id, grid_ids in grids.items():
        for grid_id in grid_ids:
            serving.setdefault(grid_id, set()).add(worker_id)
    grids_of: dict[int | None, list[int]] = {}
    for grid_id, community in community_of.items():
        grids_of.setdefault(community, []).append(grid_id)
    near = Nearby(serving=serving, grids_of=grids_of, community_of=community_of)
    pending: dict[int, list[OpenTask]] = {}
    far = datetime.max.replace(tzinfo=UTC)
    for task in sorted(
        tasks,
        key=lambda t: (not t.overdue, t.due_at is None, _aware(t.due_at) or far, t.task_id),
    ):
        if task.worker_id in scores:
            pending.setdefault(task.worker_id, []).append(task)
    stuck: set[int] = set()
    moves: list[Reassignment] = []
    while len(moves) < limit:
        givers = [w for w in scores if scores[w] > target and pending.get(w) and w not in stuck]
        if not givers:
            break
        giver = min(givers, key=lambda w: (-scores[w], w))
        found = _first_movable(giver, pending[giver], scores, grids, near, target)
        if found is None:
            stuck.add(giver)
            continue
        task, taker, adds_grid = found
        weight = task_weight(overdue=task.overdue)
        pending[giver].remove(task)
        scores[giver] -= weight
        scores[taker] += weight
        if adds_grid:
            grids[taker] = grids[taker] | {task.grid_id}
            serving.setdefault(task.grid_id, set()).add(taker)
        moves.append(
            Reassignment(
                task_id=task.task_id,
                grid_id=task.grid_id,
                from_worker_id=giver,
                to_worker_id=taker,
                adds_grid=adds_grid,
                from_score_after=scores[giver],
                to_score_after=scores[taker],
            )
        )
    return moves


@dataclass(frozen=True)
class Nearby:
    """Who serves each grid (kept up to date as tasks move) and the grids of each community."""

    serving: dict[int, set[int]]
    grids_of: Mapping[int | None, list[int]]
    community_of: Mapping[int, int | None]

    def takers(self, grid_id: int) -> set[int]:
        """The workers serving `grid_id` or another grid of its community (a grid without one
        has no neighbours)."""
        found = set(self.serving.get(grid_id, ()))
        community = self.community_of.get(grid_id)
        if community is not None:
            for other in self.grids_of.get(community, ()):
                found |= self.serving.get(other, set())
        return found


def _first_movable(
    giver: int,
    tasks: Sequence[OpenTask],
    scores: Mapping[int, int],
    grids: Mapping[int, frozenset[int]],
    near: Nearby,
    target: float,
) -> tuple[OpenTask, int, bool] | None:
    """The giver's first task (in order) that someone may take: (task, taker, adds grid)."""
    for task in tasks:
        weight = task_weight(overdue=task.overdue)
        best: tuple[tuple[int, int, int], int, bool] | None = None
        for taker in near.takers(task.grid_id):
            if taker == giver:
                continue
            same = task.grid_id in grids[taker]
            after = scores[taker] + weight
            if after > math.ceil(target) or after > scores[giver] - weight:
                continue
            rank = (0 if same else 1, scores[taker], taker)
            if best is None or rank < best[0]:
                best = (rank, taker, not same)
        if best is not None:
            return task, best[1], best[2]
    return None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- volunteer postings

# What each service group answers, and how much of it one volunteer covers. The need of
# a grid is read from what it holds now:
#   special_population_care   vulnerable residents (any vulnerability tag)         10 each
#   medical                   open medical-care requests                             3 each
#   material_purchase         open medicine and food requests                        5 each
#   information_collection    open information-collection and survey tasks           5 each
#   psychological_counselling people in quarantine (contacts) and active cases      10 each
NEED_PER_VOLUNTEER: dict[str, int] = {
    ServiceGroup.special_population_care: 10,
    ServiceGroup.medical: 3,
    ServiceGroup.material_purchase: 5,
    ServiceGroup.information_collection: 5,
    ServiceGroup.psychological_counselling: 10,
}


@dataclass(frozen=True)
class Volunteer:
    """An active volunteer: their service group and the grids they serve."""

    worker_id: int
    service_group: str
    grid_ids: frozenset[int]


@dataclass(frozen=True)
class Posting:
    """A grid short of volunteers of one service group, and who could go there.

    `volunteer_id` is a volunteer of that group from a grid with more than it needs (a
    neighbouring grid first) or with no grid at all; None when there is no one to spare:
    then `shortfall` volunteers are to be recruited.
    """

    grid_id: int
    service_group: str
    need: int
    needed: int
    present: int
    shortfall: int
    volunteer_id: int | None = None
    from_grid_id: int | None = None


def volunteers_needed(*, service_group: str, need: int) -> int:
    """Volunteers of `service_group` that a need of `need` asks for: ⌈need ÷ per volunteer⌉."""
    if need <= 0:
        return 0
    return math.ceil(need / NEED_PER_VOLUNTEER[service_group])


def suggest_postings(
    *,
    needs: Mapping[tuple[int, str], int],
    volunteers: Sequence[Volunteer],
    community_of: Mapping[int, int | None],
) -> list[Posting]:
    """Where volunteers are short, by service group, and whom to post there.

    `needs` is (grid, service group) → the need (see NEED_PER_VOLUNTEER). A grid is short
    when its volunteers of the group are fewer than volunteers_needed. Short grids are
    served the largest shortfall first (then the grid id); each gets at most one volunteer
    per group and suggestion: one with no grid first, else one from a grid of the same
    community with more than it needs, else one from any grid with more than it needs
    (the lowest id among equals). A posting moves the volunteer: their old grid keeps
    enough. Grids still short after that get a posting with no volunteer (to recruit).
    """
    present: dict[tuple[int, str], list[int]] = {}
    free: dict[str, list[int]] = {}
    for v in sorted(volunteers, key=lambda v: v.worker_id):
        if not v.grid_ids:
            free.setdefault(v.service_group, []).append(v.worker_id)
        for grid_id in v.grid_ids:
            present.setdefault((grid_id, v.service_group), []).append(v.worker_id)
    needed = {
        key: volunteers_needed(service_group=key[1], need=need) for key, need in needs.items()
    }
    short = [
        (key, needed[key] - len(present.get(key, [])))
        for key in needed
        if needed[key] > len(present.get(key, []))
    ]
    short.sort(key=lambda item: (-item[1], item[0][0], item[0][1]))
    # Grids with more volunteers of a group than they need, by group (a district has
    # thousands of short grids: each looks only at these).
    spare_grids: dict[str, dict[int, list[int]]] = {}
    for (other, other_group), ids in present.items():
        if len(ids) > needed.get((other, other_group), 0):
            spare_grids.setdefault(other_group, {})[other] = ids
    moved: set[int] = set()
    unposted = {group: iter(ids) for group, ids in free.items()}  # free ones, lowest id first
    finders: dict[str, _SpareFinder] = {}
    postings: list[Posting] = []
    for (grid_id, group), shortfall in short:
        volunteer_id: int | None = None
        from_grid: int | None = None
        volunteer_id = next(unposted.get(group, iter(())), None)
        if volunteer_id is None:
            spares = spare_grids.get(group, {})
            if group not in finders:
                finders[group] = _SpareFinder(spares, community_of)
            found = finders[group].take(grid_id, moved)
            if found is not None:
                volunteer_id, from_grid = found
                present[(from_grid, group)].remove(volunteer_id)
                if len(present[(from_grid, group)]) <= needed.get((from_grid, group), 0):
                    del spares[from_grid]
        if volunteer_id is not None:
            moved.add(volunteer_id)
        postings.append(
            Posting(
                grid_id=grid_id,
                service_group=group,
                need=needs[(grid_id, group)],
                needed=needed[(grid_id, group)],
                present=len(present.get((grid_id, group), [])),
                shortfall=shortfall,
                volunteer_id=volunteer_id,
                from_grid_id=from_grid,
            )
        )
    return postings


class _SpareFinder:
    """The volunteer to post from grids with more volunteers of one group than they need:
    the lowest id in a grid of the short grid's community, else the lowest id anywhere (then
    the lowest grid id).

    `spares` (grid → its volunteers of the group) shrinks as volunteers are posted; a pair
    that can no longer be taken (its volunteer posted, or its grid no longer spare) never
    can again, so each list is read past it once: a district's thousands of short grids
    cost a pass over the spare volunteers, not one each.
    """

    def __init__(self, spares: Mapping[int, list[int]], community_of: Mapping[int, int | None]):
        self._spares = spares
        self._community_of = community_of
        self._everywhere = sorted((w, grid) for grid, ids in spares.items() for w in ids)
        self._by_community: dict[int | None, list[tuple[int, int]]] = {}
        for w, grid in self._everywhere:
            self._by_community.setdefault(community_of.get(grid), []).append((w, grid))
        self._first: dict[int | None, int] = {}

    def take(self, grid_id: int, moved: set[int]) -> tuple[int, int] | None:
        """(volunteer, their grid) for `grid_id`, or None when no grid has one to spare."""
        community = self._community_of.get(grid_id)
        if community is not None:
            near = self._lowest(community, self._by_community.get(community, []), grid_id, moved)
            if near is not None:
                return near
        return self._lowest(None, self._everywhere, grid_id, moved)

    def _lowest(
        self, key: int | None, pairs: list[tuple[int, int]], grid_id: int, moved: set[int]
    ) -> tuple[int, int] | None:
        start = self._first.get(key, 0)
        while start < len(pairs) and not self._open(pairs[start], moved):
            start += 1
        self._first[key] = start
        for w, grid in itertools.islice(pairs, start, None):
            if grid != grid_id and self._open((w, grid), moved):
                return w, grid
        return None

    def _open(self, pair: tuple[int, int], moved: set[int]) -> bool:
        w, grid = pair
        return w not in moved and w in self._spares.get(grid, ())
