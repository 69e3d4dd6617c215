"""Workforce analytics on hand-worked numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gridcore.analytics import requests, workforce
from gridcore.policy import Policy

NOW = datetime(2026, 3, 21, 4, 0, tzinfo=UTC)


def test_households_per_full_time_worker() -> None:
    assert workforce.households_per_worker(households=600, full_time_workers=2) == 300.0
    assert workforce.households_per_worker(households=10, full_time_workers=1) == 10.0
    assert workforce.households_per_worker(households=10, full_time_workers=0) is None


def test_understaffed_against_the_policy_standard() -> None:
    policy = Policy(households_per_fulltime_worker=300)
    assert not workforce.understaffed(households=600, full_time_workers=2, policy=policy)
    assert workforce.understaffed(households=601, full_time_workers=2, policy=policy)
    assert workforce.understaffed(households=50, full_time_workers=0, policy=policy)
    assert not workforce.understaffed(households=0, full_time_workers=0, policy=policy)
    small = Policy(households_per_fulltime_worker=5)
    assert workforce.understaffed(households=10, full_time_workers=1, policy=small)


@pytest.mark.parametrize(
    ("category", "urgency", "hours"),
    [
        ("medical_care", "urgent", 2),
        ("medical_care", "normal", 24),
        ("medicine", "urgent", 24),
        ("medicine", "normal", 24),
        ("food", "urgent", 24),
        ("food", "normal", 24),
        ("other", "urgent", 72),
        ("other", "normal", 72),
    ],
)
def test_request_targets_follow_the_default_policy(category: str, urgency: str, hours: int) -> None:
    policy = Policy()
    assert requests.request_target_hours(category=category, urgency=urgency, policy=policy) == hours
    assert requests.request_targets(policy=policy)[(category, urgency)] == hours


def test_request_targets_follow_a_changed_policy() -> None:
    policy = Policy(target_hours_urgent_medical=1, target_hours_medicine=12,
                    target_hours_food=6, target_hours_other=48)  # fmt: skip
    assert (
        requests.request_target_hours(category="medical_care", urgency="urgent", policy=policy) == 1
    )
    assert requests.request_target_hours(category="food", urgency="normal", policy=policy) == 6
    assert requests.request_target_hours(category="other", urgency="urgent", policy=policy) == 48


def test_an_open_request_is_overdue_once_past_its_target() -> None:
    policy = Policy()

    def overdue(category: str, urgency: str, status: str, age_hours: float) -> bool:
        return requests.request_overdue(
            category=category, urgency=urgency, status=status,
            created_at=NOW - timedelta(hours=age_hours), now=NOW, policy=policy,
        )  # fmt: skip

    assert overdue("medical_care", "urgent", "new", 3)
    assert not overdue("medical_care", "urgent", "assigned", 1)
    assert not overdue("medical_care", "urgent", "new", 2)  # exactly on target
    assert overdue("medicine", "normal", "in_progress", 30)
    assert overdue("food", "urgent", "new", 25)
    assert not overdue("other", "normal", "in_progress", 50)
    assert overdue("other", "normal", "assigned", 80)


def test_closed_requests_are_never_overdue() -> None:
    for status in ("done", "cancelled"):
        assert not requests.request_overdue(
            category="medical_care", urgency="urgent", status=status,
            created_at=NOW - timedelta(hours=100), now=NOW, policy=Policy(),
        )  # fmt: skip


# --------------------------------------------------------------------------- workload


def test_workload_score_counts_an_overdue_task_three_times() -> None:
    assert workforce.workload_score(open_tasks=0, overdue_tasks=0) == 0
    assert workforce.workload_score(open_tasks=4, overdue_tasks=0) == 4
    assert workforce.workload_score(open_tasks=4, overdue_tasks=1) == 6  # 4 + 2×1
    assert workforce.workload_score(open_tasks=5, overdue_tasks=3) == 11  # 5 + 2×3
    assert workforce.task_weight(overdue=False) == 1
    assert workforce.task_weight(overdue=True) == 3


def test_imbalance_of_the_tiny_worlds_frontline() -> None:
    # The tiny world's six frontline workers: 3, 1, 3, 1, 3, 1 (see test_queries_workforce).
    spread = workforce.imbalance([3, 1, 3, 1, 3, 1])
    assert (spread.workers, spread.mean, spread.median, spread.max_score) == (6, 2.0, 2.0, 3)
    assert spread.cv == pytest.approx(0.5)  # population sd 1 / mean 2
    assert spread.max_over_median == pytest.approx(1.5)
    assert spread.target == 2.0


def test_imbalance_without_work_or_workers() -> None:
    idle = workforce.imbalance([0, 0, 0])
    assert (idle.mean, idle.cv, idle.max_over_median) == (0.0, None, None)
    even = workforce.imbalance([2, 2])
    assert (even.cv, even.max_over_median) == (0.0, 1.0)
    skew = workforce.imbalance([0, 0, 6])  # mean 2, sd √8, median 0
    assert skew.cv == pytest.approx(8**0.5 / 2)
    assert skew.max_over_median is None
    assert workforce.imbalance([]).workers == 0


# --------------------------------------------------------------------------- staffing


def test_staffing_gap_against_the_standard() -> None:
    policy = Policy(households_per_fulltime_worker=300)

    def gap(households: int, full_time: int) -> workforce.StaffingGap:
        return workforce.staffing_gap(
            grid_id=households, households=households, full_time_workers=full_time, policy=policy
        )

    g = gap(650, 2)  # ⌈650/300⌉ = 3 needed, 325 per worker
    assert (g.needed, g.gap, g.households_per_worker, g.understaffed) == (3, 1, 325.0, True)
    g = gap(600, 2)
    assert (g.needed, g.gap, g.understaffed) == (2, 0, False)
    g = gap(50, 0)
    assert (g.needed, g.gap, g.households_per_worker, g.understaffed) == (1, 1, None, True)
    g = gap(0, 0)
    assert (g.needed, g.gap, g.understaffed) == (0, 0, False)
    g = gap(100, 3)  # more than needed: no gap below zero
    assert (g.needed, g.gap, g.understaffed) == (1, 0, False)


def test_understaffed_grids_ranked_by_gap_then_households_per_worker() -> None:
    policy = Policy(households_per_fulltime_worker=300)
    gaps = [
        workforce.staffing_gap(grid_id=g, households=h, full_time_workers=f, policy=policy)
        for g, h, f in ((1, 650, 2), (2, 600, 2), (3, 50, 0), (4, 1000, 1), (5, 640, 2))
    ]
    ranked = workforce.ranked_understaffed(gaps)
    # Gap 3 (1000 on one worker); then gap 1: no full-time worker, 325, 320 per worker.
    assert [g.grid_id for g in ranked] == [4, 3, 1, 5]
    assert [g.gap for g in ranked] == [3, 1, 1, 1]


# --------------------------------------------------------------------------- reassignments

T0 = datetime(2026, 3, 21, 0, 0, tzinfo=UTC)


def _tasks(worker_id: int, grid_id: int, specs: list[tuple[int, bool, int | None]]) -> list:
    return [
        workforce.OpenTask(
            task_id=task_id,
            grid_id=grid_id,
            worker_id=worker_id,
            overdue=overdue,
            due_at=T0 + timedelta(hours=hour) if hour is not None else None,
        )
        for task_id, overdue, hour in specs
    ]


def _balancing_world() -> tuple[list, list, dict[int, int | None]]:
    """Grids 1 and 2 in community 100, grid 3 in community 200.

    A (1, grid 1): t10 overdue (3), t11 due 10:00, t12 due 12:00, t13 and t14 no due → 7
    B (2, grid 1): 1      C (3, grid 2): 0      D (4, grid 3): 0
    E (5, grid 3): t20 due 09:00, t21, t22, t23 no due → 4
    Scores 7, 1, 0, 0, 4: the balance (mean) is 12 / 5 = 2.4.
    """
    workers = [
        workforce.LoadedWorker(1, frozenset({1}), 7),
        workforce.LoadedWorker(2, frozenset({1}), 1),
        workforce.LoadedWorker(3, frozenset({2}), 0),
        workforce.LoadedWorker(4, frozenset({3}), 0),
        workforce.LoadedWorker(5, frozenset({3}), 4),
    ]
    tasks = _tasks(1, 1, [(13, False, None), (10, True, -2), (12, False, 12), (11, False, 10),
                          (14, False, None)])  # fmt: skip
    tasks += _tasks(5, 3, [(21, False, None), (20, False, 9), (22, False, None),
                           (23, False, None)])  # fmt: skip
    return workers, tasks, {1: 100, 2: 100, 3: 200}


def test_reassignments_move_work_to_the_balance_and_no_further() -> None:
    workers, tasks, communities = _balancing_world()
    moves = workforce.suggest_reassignments(
        workers=workers, tasks=tasks, community_of=communities, target=2.4
    )
    # Takers may end at ⌈2.4⌉ = 3 at most, and never above the giver.
    # 1. A (7) gives t10 (overdue, 3): B would end at 4; C of the neighbouring grid 2 ends
    #    at 3 (A at 4), adding grid 1. 2. A and E at 4, A first: t11 to B of grid 1 (2).
    # 3. E (4): t20 (due first) to D (1). 4. A (3): t12, t13, t14 would take B or C to 3
    #    or 4, above A's 2: A is passed over. E (3): t21 to D (2). E at 2 is not above 2.4.
    assert [
        (m.task_id, m.from_worker_id, m.to_worker_id, m.adds_grid, m.from_score_after,
         m.to_score_after)
        for m in moves
    ] == [
        (10, 1, 3, True, 4, 3),
        (11, 1, 2, False, 3, 2),
        (20, 5, 4, False, 3, 1),
        (21, 5, 4, False, 2, 2),
    ]  # fmt: skip
    assert all(m.grid_id == (1 if m.from_worker_id == 1 else 3) for m in moves)


def test_reassignments_stop_at_the_limit_and_never_cross_communities() -> None:
    workers, tasks, communities = _balancing_world()
    moves = workforce.suggest_reassignments(
        workers=workers, tasks=tasks, community_of=communities, target=2.4, limit=2
    )
    assert [m.task_id for m in moves] == [10, 11]
    # Grid 3 alone in its community, E's only colleague gone: nobody may take E's tasks.
    alone = [w for w in workers if w.worker_id != 4]
    moves = workforce.suggest_reassignments(
        workers=alone, tasks=tasks, community_of=communities, target=2.4
    )
    assert {m.from_worker_id for m in moves} == {1}


def test_no_reassignment_when_every_move_would_overshoot() -> None:
    # The tiny world: each busy worker holds one overdue task (3); moving it to a colleague
    # at 1 makes them 4, past the balance of 2.
    workers = [workforce.LoadedWorker(1, frozenset({1}), 3),
               workforce.LoadedWorker(2, frozenset({1}), 1)]  # fmt: skip
    tasks = _tasks(1, 1, [(1, True, -2)])
    assert (
        workforce.suggest_reassignments(
            workers=workers, tasks=tasks, community_of={1: 9}, target=2.0
        )
        == []
    )


# --------------------------------------------------------------------------- volunteer postings


def test_volunteers_needed_per_service_group() -> None:
    assert workforce.volunteers_needed(service_group="special_population_care", need=25) == 3
    assert workforce.volunteers_needed(service_group="special_population_care", need=10) == 1
    assert workforce.volunteers_needed(service_group="medical", need=4) == 2
    assert workforce.volunteers_needed(service_group="material_purchase", need=5) == 1
    assert workforce.volunteers_needed(service_group="psychological_counselling", need=0) == 0


def test_volunteer_postings_free_first_then_neighbours_surplus() -> None:
    # Grids 1, 2 in community 100, grid 3 in 200. Needed: grid 1 special care 25 → 3,
    # grid 2 special care 5 → 1, grid 1 medical 4 → 2, grid 3 medical 1 → 1.
    needs = {
        (1, "special_population_care"): 25,
        (2, "special_population_care"): 5,
        (1, "medical"): 4,
        (3, "medical"): 1,
    }
    v = workforce.Volunteer
    volunteers = [
        v(1, "special_population_care", frozenset({2})),
        v(2, "special_population_care", frozenset({2})),  # grid 2 has one to spare
        v(3, "special_population_care", frozenset({3})),  # grid 3 needs none: spare
        v(4, "special_population_care", frozenset({1})),
        v(5, "medical", frozenset()),  # posted nowhere yet
        v(6, "medical", frozenset({3})),
    ]
    postings = workforce.suggest_postings(
        needs=needs, volunteers=volunteers, community_of={1: 100, 2: 100, 3: 200}
    )
    # Both grid-1 shortfalls are 2; "medical" sorts first. Medical: volunteer 5 has no
    # grid. Special care: volunteer 1 from grid 2 (same community) before 3 from grid 3.
    assert postings == [
        workforce.Posting(1, "medical", need=4, needed=2, present=0, shortfall=2,
                          volunteer_id=5, from_grid_id=None),
        workforce.Posting(1, "special_population_care", need=25, needed=3, present=1,
                          shortfall=2, volunteer_id=1, from_grid_id=2),
    ]  # fmt: skip


def test_a_grid_short_with_no_one_to_spare_is_to_recruit() -> None:
    postings = workforce.suggest_postings(
        needs={(1, "psychological_counselling"): 12},
        volunteers=[workforce.Volunteer(7, "psychological_counselling", frozenset({2}))],
        community_of={1: 100, 2: 100},
    )
    # Grid 2 needs none of its own, so its volunteer is spare: 12 → 2 needed, 1 posted.
    assert [(p.volunteer_id, p.from_grid_id, p.shortfall) for p in postings] == [(7, 2, 2)]
    postings = workforce.suggest_postings(
        needs={(1, "psychological_counselling"): 12, (2, "psychological_counselling"): 3},
        volunteers=[workforce.Volunteer(7, "psychological_counselling", frozenset({2}))],
        community_of={1: 100, 2: 100},
    )
    assert [(p.grid_id, p.volunteer_id, p.shortfall) for p in postings] == [(1, None, 2)]


def test_a_fractional_balance_lets_an_idle_worker_take_one_task() -> None:
    # Mean 0.6 (3 + 0 + 0 + 0 + 0 over 5): ⌈0.6⌉ = 1, so each idle colleague may take one
    # task in time; the overdue one (3) fits no one; the giver never ends below a taker.
    workers = [workforce.LoadedWorker(w, frozenset({1}), s)
               for w, s in ((1, 3), (2, 0), (3, 0), (4, 0), (5, 0))]  # fmt: skip
    tasks = _tasks(1, 1, [(7, False, 5), (8, False, 6), (9, False, 7)])
    moves = workforce.suggest_reassignments(
        workers=workers, tasks=tasks, community_of={1: 9}, target=0.6
    )
    assert [(m.task_id, m.to_worker_id, m.from_score_after) for m in moves] == [
        (7, 2, 2), (8, 3, 1)
    ]  # fmt: skip


def _postings_by_the_rule(
    needs: dict[tuple[int, str], int],
    volunteers: list[workforce.Volunteer],
    community_of: dict[int, int | None],
) -> list[tuple[int, str, int | None, int | None]]:
    """suggest_postings' rule, step by step over every volunteer at every short grid:
    (grid, group, volunteer, from grid) per short grid, in order."""
    needed = {k: workforce.volunteers_needed(service_group=k[1], need=n) for k, n in needs.items()}
    serving = {v.worker_id: set(v.grid_ids) for v in volunteers}
    group_of = {v.worker_id: v.service_group for v in volunteers}

    def present(grid: int, group: str) -> int:
        return sum(1 for w, grids in serving.items() if group_of[w] == group and grid in grids)

    short = sorted(
        ((k, needed[k] - present(*k)) for k in needed if needed[k] > present(*k)),
        key=lambda item: (-item[1], item[0][0], item[0][1]),
    )
    spare_at_start = {k for k in {(g, v.service_group) for v in volunteers for g in v.grid_ids}
                      if present(*k) > needed.get(k, 0)}  # fmt: skip
    posted: set[int] = set()
    found = []
    for (grid, group), _ in short:
        free = sorted(w for w, grids in serving.items()
                      if group_of[w] == group and not grids and w not in posted)  # fmt: skip
        choice: tuple[int, int] | None = None
        if free:
            posted.add(free[0])
            found.append((grid, group, free[0], None))
            continue
        candidates = [
            (0 if community_of.get(grid) is not None
             and community_of.get(other) == community_of.get(grid) else 1, w, other)
            for w, grids in serving.items() for other in grids
            if group_of[w] == group and w not in posted and other != grid
            and (other, group) in spare_at_start
            and present(other, group) > needed.get((other, group), 0)
        ]  # fmt: skip
        if candidates:
            _, w, other = min(candidates)
            choice = (w, other)
            posted.add(w)
            serving[w].discard(other)
        found.append((grid, group, *(choice or (None, None))))
    return found


@pytest.mark.parametrize("seed", range(60))
def test_volunteer_postings_follow_the_rule_on_random_districts(seed: int) -> None:
    import random

    rng = random.Random(seed)
    groups = ["medical", "special_population_care", "psychological_counselling"]
    grids = range(1, rng.randint(2, 30))
    community_of: dict[int, int | None] = {g: rng.choice([100, 200, 300, None]) for g in grids}
    needs = {(g, grp): rng.randint(1, 40) for g in grids for grp in groups if rng.random() < 0.5}

    def served() -> frozenset[int]:
        return frozenset(rng.sample(list(grids), k=min(rng.choice([0, 1, 1, 1, 2]), len(grids))))

    volunteers = [
        workforce.Volunteer(w, rng.choice(groups), served())
        for w in rng.sample(range(1, 500), k=rng.randint(0, 80))
    ]
    postings = workforce.suggest_postings(
        needs=needs, volunteers=volunteers, community_of=community_of
    )
    assert [(p.grid_id, p.service_group, p.volunteer_id, p.from_grid_id) for p in postings] == (
        _postings_by_the_rule(needs, volunteers, community_of)
    )
