"""Workforce queries against the tiny world (answers: gridcore/demo/tiny.py), on both backends.

The tiny world's workers at its "now" (A 12:00), tasks in brackets (overdue ones count 3):

    王丽  FT  T-C1-G1   survey, 2 h overdue                       open 1  overdue 1  score 3
    李强  FT  T-C1-G1   door-to-door due in 6 h (disinfection done yesterday)      score 1
    张敏  vol T-C1-G1, T-C1-G2   visit, no due time                                score 1
    刘洋  PT  T-C1-G2   delivery, 1 h overdue                                      score 3
    陈静  vol T-C1-G2   —                                                          score 0
    杨军  FT  T-C2-G1   information due in 24 h (a visit cancelled)                score 1
    黄磊  PT  T-C2-G1   delivery, 30 h overdue                                     score 3
    赵芳  FT  T-C2-G2   visit due in 48 h                                          score 1
    (吴伟 is stood down: not listed)

Frontline (full- and part-time): 3, 1, 3, 1, 3, 1 → mean 2, CV 0.5.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session, select

from gridcore.access import KIOSK, SYSTEM, Actor
from gridcore.models import Area, Task, UserRole, Worker
from gridcore.queries import workforce as wq
from gridcore.services.tasks import create_task, set_task_status

if TYPE_CHECKING:
    from tiny_world import TinyWorld

pytestmark = pytest.mark.both_backends  # queries: the dialect matters


def _worker_id(session: Session, name: str) -> int:
    return int(session.exec(select(Worker.id).where(Worker.name == name)).one() or 0)


def test_workload_per_worker(tiny: TinyWorld, tiny_session: Session) -> None:
    s = tiny_session
    # Finish 李强's door-to-door task now: done today, no longer open.
    door = s.exec(select(Task).where(Task.kind == "door_to_door_testing")).one()
    set_task_status(session=s, task_id=int(door.id or 0), status="done", actor=SYSTEM,
                    now=tiny.now)  # fmt: skip
    frame = wq.worker_workload(session=s, now=tiny.now, today=tiny.anchor, actor=SYSTEM)
    rows = {r.name: (r.open_tasks, r.overdue_tasks, r.done_today, r.score)
            for r in frame.itertuples()}  # fmt: skip
    assert rows == {
        "王丽": (1, 1, 0, 3),
        "刘洋": (1, 1, 0, 3),
        "黄磊": (1, 1, 0, 3),
        "张敏": (1, 0, 0, 1),
        "杨军": (1, 0, 0, 1),
        "赵芳": (1, 0, 0, 1),
        "李强": (0, 0, 1, 0),
        "陈静": (0, 0, 0, 0),
    }
    # Busiest first; equal scores by name.
    assert list(frame["score"]) == sorted(frame["score"], reverse=True)
    zhang = frame[frame["name"] == "张敏"].iloc[0]
    assert (zhang.grid_codes, bool(zhang.frontline)) == ("T-C1-G1, T-C1-G2", False)
    assert bool(frame[frame["name"] == "刘洋"].iloc[0].frontline)


def test_worker_phones_are_masked_outside_the_readers_grids(
    tiny: TinyWorld, tiny_session: Session
) -> None:
    worker = Actor("w", UserRole.grid_worker, grid_ids=frozenset({tiny.gid("T-C1-G1")}))
    frame = wq.worker_workload(session=tiny_session, now=tiny.now, today=tiny.anchor, actor=worker)
    phones = dict(zip(frame["name"], frame["phone"], strict=True))
    assert phones["王丽"] == "13800002000"  # T-C1-G1: the reader's grid
    assert phones["张敏"] == "13800002002"  # serves T-C1-G1 among others
    assert phones["刘洋"] == "***"  # T-C1-G2 only
    kiosk = wq.worker_workload(session=tiny_session, now=tiny.now, today=tiny.anchor, actor=KIOSK)
    assert all(p == "***" for p in kiosk["phone"])
    # Everything but the phones is everyone's load, rows in the same order.
    every = wq.worker_workload(session=tiny_session, now=tiny.now, today=tiny.anchor, actor=SYSTEM)
    assert frame.drop(columns="phone").equals(every.drop(columns="phone"))
    assert list(every["phone"]) != list(frame["phone"])


def test_staffing_ranks_the_understaffed_grids(tiny_session: Session) -> None:
    every = wq.staffing(session=tiny_session)
    assert list(every["code"]) == ["T-C1-G1", "T-C1-G2", "T-C2-G1", "T-C2-G2"]
    assert list(every["needed"]) == [2, 2, 2, 1]  # ⌈8/5⌉, ⌈6/5⌉, ⌈10/5⌉, ⌈4/5⌉
    assert list(every["gap"]) == [0, 2, 1, 0]
    ranked = wq.staffing(session=tiny_session, understaffed_only=True)
    assert list(ranked["code"]) == ["T-C1-G2", "T-C2-G1"]
    assert (
        ranked["households_per_worker"].iloc[0] is None
        or ranked["households_per_worker"].isna().iloc[0]
    )
    assert ranked["households_per_worker"].iloc[1] == 10.0


def test_summary(tiny: TinyWorld, tiny_session: Session) -> None:
    summary = wq.workforce_summary(session=tiny_session, now=tiny.now, today=tiny.anchor)
    assert (summary.active_workers, summary.full_time, summary.volunteers) == (8, 4, 2)
    assert (summary.open_tasks, summary.overdue_tasks, summary.unassigned_open_tasks) == (7, 3, 0)
    assert (summary.understaffed_grids, summary.standard) == (2, 5)
    assert summary.balance.mean == 2.0
    assert summary.balance.cv == pytest.approx(0.5)


def test_no_reassignment_in_the_tiny_world(tiny: TinyWorld, tiny_session: Session) -> None:
    # Each busy worker holds one overdue task (3): given to a colleague at 1 it makes 4 > 2.
    found = wq.suggested_reassignments(session=tiny_session, now=tiny.now, today=tiny.anchor)
    assert found.empty


def test_reassignments_after_黄磊_gets_two_more_tasks(
    tiny: TinyWorld, tiny_session: Session
) -> None:
    s = tiny_session
    huang = _worker_id(s, "黄磊")
    new = [
        create_task(
            session=s,
            data={"grid_id": tiny.gid("T-C2-G1"), "kind": "delivery", "title": f"Rice {n}",
                  "assigned_worker_id": huang, "due_at": tiny.now + timedelta(hours=10 + n)},
            actor=SYSTEM, now=tiny.now,
        ).id
        for n in (1, 2)
    ]  # fmt: skip
    # Frontline 3, 1, 3, 1, 5, 1: balance 14/6 = 2.33, so takers may end at 3. 黄磊 (5)
    # gives both tasks in time to 杨军 of his grid (2, then 3: the same grid comes first);
    # his overdue delivery (3) fits no one, nor do the others' overdue tasks.
    found = wq.suggested_reassignments(session=s, now=tiny.now, today=tiny.anchor)
    assert [
        (r.task_id, r.from_name, r.to_name, bool(r.adds_grid), r.from_score_after,
         r.to_score_after, r.grid_code, bool(r.overdue))
        for r in found.itertuples()
    ] == [
        (new[0], "黄磊", "杨军", False, 4, 2, "T-C2-G1", False),
        (new[1], "黄磊", "杨军", False, 3, 3, "T-C2-G1", False),
    ]  # fmt: skip


def test_volunteer_needs_per_grid_and_group(tiny: TinyWorld, tiny_session: Session) -> None:
    needs = wq.volunteer_needs(session=tiny_session)
    g1, g2, g3, g4 = (tiny.gid(c) for c in ("T-C1-G1", "T-C1-G2", "T-C2-G1", "T-C2-G2"))
    assert needs == {
        # vulnerable residents
        (g1, "special_population_care"): 3,
        (g2, "special_population_care"): 2,
        (g3, "special_population_care"): 3,
        (g4, "special_population_care"): 1,
        # open medical-care requests (R01, R02); open medicine and food (R03; R05; R07, R08)
        (g1, "medical"): 2,
        (g1, "material_purchase"): 1,
        (g2, "material_purchase"): 1,
        (g3, "material_purchase"): 2,
        # open surveys and information tasks
        (g1, "information_collection"): 1,
        (g3, "information_collection"): 1,
        # in quarantine + active cases (suspected C09 included): G1 4+4, G2 2+1, G3 2+3
        (g1, "psychological_counselling"): 8,
        (g2, "psychological_counselling"): 3,
        (g3, "psychological_counselling"): 5,
    }
    postings = wq.volunteer_postings(session=tiny_session)
    # 张敏 covers special care in G1 and G2, 陈静 material purchase in G2; no one is spare,
    # so the other 10 of the 13 (grid, group) needs each ask for one volunteer to recruit.
    assert len(postings) == 10
    assert postings["volunteer_id"].isna().all()
    assert set(postings["shortfall"]) == {1}
    codes = {(r.grid_code, r.service_group) for r in postings.itertuples()}
    assert ("T-C1-G1", "special_population_care") not in codes
    assert ("T-C2-G2", "special_population_care") in codes


def test_worker_choices_list_everyone_with_their_grids(tiny_session: Session) -> None:
    choices = wq.worker_choices(session=tiny_session)
    assert len(choices) == 9
    wu = choices[choices["name"] == "吴伟"].iloc[0]
    assert (bool(wu.active), wu.grid_codes) == (False, "T-C1-G2")
    area_ids = set(tiny_session.exec(select(Area.id)).all())
    assert all(set(ids) <= area_ids for ids in choices["grid_ids"])
