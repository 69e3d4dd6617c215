"""Tasks: creating one for a grid, giving it to a worker, moving it to done."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from gridcore.access import PermissionDenied
from gridcore.models import Task, utcnow
from gridcore.services.base import ValidationFailed
from gridcore.services.tasks import (
    assign_in_turn,
    assign_task,
    create_due_visits,
    create_task,
    grid_rota,
    set_task_status,
    undo_task_step,
)
from tests.factories import (
    LEADER,
    VIEWER,
    World,
    grid_worker,
    grown,
    last_audit,
    make_request,
    make_resident,
    make_street_with_grids,
    make_task,
    make_worker,
    table_counts,
)

NOW = utcnow().replace(microsecond=0)


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], World]:
    """Street T: grids T-C1-G1 and T-C1-G2 with two buildings each (built once a run)."""
    return make_street_with_grids


@pytest.mark.both_backends  # all or nothing: the transaction
def test_a_task_for_a_worker_of_the_grid(session: Session, world: World) -> None:
    g1 = world.grids[0]
    worker = make_worker(session, grids=[g1])
    request = make_request(session, grid=g1)
    before = table_counts(session)
    task = create_task(
        session=session,
        data={
            "grid_id": g1.id,
            "kind": "delivery",
            "title": "Insulin for 3-502",
            "assigned_worker_id": worker.id,
            "request_id": request.id,
            "due_at": NOW + timedelta(hours=2),
        },
        actor=grid_worker(g1),
        now=NOW,
    )
    assert grown(before, session) == {"task": 1, "auditentry": 1}
    assert (task.status, task.created_at, task.due_at) == ("open", NOW, NOW + timedelta(hours=2))


def test_domain_checks(session: Session, world: World) -> None:
    g1, g2 = world.grids
    elsewhere = make_worker(session, grids=[g2])
    other_request = make_request(session, grid=g2)
    other_resident = make_resident(session, building=world.buildings[1][0])
    before = table_counts(session)
    base = {"grid_id": g1.id, "kind": "disinfection"}
    cases: list[tuple[dict[str, object], dict[str, str]]] = [
        ({"grid_id": world.street.id}, {"grid_id": "services.error.grid_not_found"}),
        (
            {"assigned_worker_id": elsewhere.id},
            {"assigned_worker_id": "services.error.worker_not_in_grid"},
        ),
        ({"assigned_worker_id": 999}, {"assigned_worker_id": "services.error.worker_not_found"}),
        ({"request_id": other_request.id}, {"request_id": "services.error.request_not_in_grid"}),
        ({"request_id": 999}, {"request_id": "services.error.request_not_found"}),
        (
            {"resident_id": other_resident.id},
            {"resident_id": "services.error.resident_not_in_grid"},
        ),
        ({"due_at": NOW - timedelta(minutes=1)}, {"due_at": "services.error.due_in_past"}),
        ({"kind": "party"}, {"kind": "services.error.invalid_choice"}),
        ({"due_at": "soon"}, {"due_at": "services.error.not_a_datetime"}),
    ]
    for fields, errors in cases:
        with pytest.raises(ValidationFailed) as failed:
            create_task(session=session, data={**base, **fields}, actor=LEADER, now=NOW)
        assert failed.value.errors == errors, fields
    assert grown(before, session) == {}


def test_permissions(session: Session, world: World) -> None:
    g1, g2 = world.grids
    data = {"grid_id": g1.id, "kind": "vulnerable_visit"}
    before = table_counts(session)
    for actor in (VIEWER, grid_worker(g2)):
        with pytest.raises(PermissionDenied):
            create_task(session=session, data=data, actor=actor)
    assert grown(before, session) == {}
    task = create_task(session=session, data=data, actor=grid_worker(g1))
    create_task(session=session, data=data, actor=LEADER)
    assert grown(before, session) == {"task": 2, "auditentry": 2}
    for actor in (VIEWER, grid_worker(g2)):
        with pytest.raises(PermissionDenied):
            set_task_status(session=session, task_id=task.id, status="done", actor=actor)


@pytest.mark.both_backends  # the replay check searches the audit log with LIKE
def test_a_double_click_creates_one_task(session: Session, world: World) -> None:
    data = {"grid_id": world.grids[0].id, "kind": "delivery"}
    before = table_counts(session)
    for _ in range(2):
        create_task(session=session, data=data, actor=LEADER, client_token="task-0001")
    assert grown(before, session) == {"task": 1, "auditentry": 1, "replaykey": 1}


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_status_flow(session: Session, world: World) -> None:
    g1 = world.grids[0]
    task = make_task(session, grid=g1)
    before = table_counts(session)
    set_task_status(session=session, task_id=task.id, status="in_progress", actor=LEADER)
    done = set_task_status(session=session, task_id=task.id, status="done", actor=LEADER, now=NOW)
    set_task_status(session=session, task_id=task.id, status="done", actor=LEADER)
    assert (done.status, done.done_at) == ("done", NOW)
    assert grown(before, session) == {"auditentry": 2}
    for status in ("open", "cancelled"):
        with pytest.raises(ValidationFailed) as failed:
            set_task_status(session=session, task_id=task.id, status=status, actor=LEADER)
        assert failed.value.errors == {"status": "services.error.status_change"}
    with pytest.raises(ValidationFailed):
        set_task_status(session=session, task_id=999, status="done", actor=LEADER)


def test_assigning_a_task(session: Session, world: World) -> None:
    g1, g2 = world.grids
    worker = make_worker(session, grids=[g1])
    elsewhere = make_worker(session, grids=[g2], name="外网格")
    task = make_task(session, grid=g1)
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        assign_task(session=session, task_id=task.id, worker_id=elsewhere.id, actor=LEADER)
    assert failed.value.errors == {"worker_id": "services.error.worker_not_in_grid"}
    with pytest.raises(PermissionDenied):
        assign_task(session=session, task_id=task.id, worker_id=worker.id, actor=grid_worker(g2))
    given = assign_task(session=session, task_id=task.id, worker_id=worker.id, actor=LEADER)
    assign_task(session=session, task_id=task.id, worker_id=worker.id, actor=LEADER)
    assert given.assigned_worker_id == worker.id
    taken_back = assign_task(session=session, task_id=task.id, worker_id=None, actor=LEADER)
    assert taken_back.assigned_worker_id is None
    assert grown(before, session) == {"auditentry": 2}
    set_task_status(session=session, task_id=task.id, status="cancelled", actor=LEADER)
    with pytest.raises(ValidationFailed) as failed:
        assign_task(session=session, task_id=task.id, worker_id=worker.id, actor=LEADER)
    assert failed.value.errors == {"task_id": "services.error.task_closed"}


# --------------------------------------------------------------------------- one tap, undo


def test_start_finish_and_undo_within_a_minute(session: Session, world: World) -> None:
    g1 = world.grids[0]
    task = make_task(session, grid=g1, now=NOW - timedelta(hours=1))
    actor = grid_worker(g1)
    started = set_task_status(session=session, task_id=task.id, status="in_progress",
                              actor=actor, now=NOW)  # fmt: skip
    assert (started.status, started.started_at, started.previous_status) == (
        "in_progress", NOW, "open",
    )  # fmt: skip
    done = set_task_status(session=session, task_id=task.id, status="done", actor=actor,
                           now=NOW + timedelta(minutes=5))  # fmt: skip
    assert (done.done_at, done.previous_status) == (NOW + timedelta(minutes=5), "in_progress")
    before = table_counts(session)
    # 59 s after finishing: undone, back to in progress with its start kept.
    undone = undo_task_step(session=session, task_id=task.id, actor=actor,
                            now=NOW + timedelta(minutes=5, seconds=59))  # fmt: skip
    assert (undone.status, undone.done_at, undone.started_at) == ("in_progress", None, NOW)
    assert grown(before, session) == {"auditentry": 1}
    assert last_audit(session).action == "undo"
    # Undoing twice does nothing: the step before is not undone too.
    again = undo_task_step(session=session, task_id=task.id, actor=actor,
                           now=NOW + timedelta(minutes=6))  # fmt: skip
    assert again.status == "in_progress"
    assert grown(before, session) == {"auditentry": 1}


def test_no_undo_after_a_minute(session: Session, world: World) -> None:
    g1 = world.grids[0]
    task = make_task(session, grid=g1, now=NOW - timedelta(hours=1))
    set_task_status(session=session, task_id=task.id, status="in_progress", actor=LEADER, now=NOW)
    before = table_counts(session)
    late = undo_task_step(session=session, task_id=task.id, actor=LEADER,
                          now=NOW + timedelta(seconds=61))  # fmt: skip
    assert (late.status, late.started_at) == ("in_progress", NOW)
    assert grown(before, session) == {}
    with pytest.raises(PermissionDenied):
        undo_task_step(session=session, task_id=task.id, actor=grid_worker(world.grids[1]), now=NOW)


# --------------------------------------------------------------------------- in turn, visits


def test_tasks_made_at_once_go_to_the_grids_workers_in_turn(session: Session, world: World) -> None:
    """Workers A, B, C (in that order); A holds 2 open tasks, B 1, C 1, so B (the first of
    the least busy) comes first: five new tasks go B, C, A, B, C."""
    g2 = world.grids[1]
    a, b, c = (make_worker(session, grids=[g2], name=n) for n in ("A", "B", "C"))
    make_worker(session, grids=[g2], name="stood down", active=False)
    for worker, n in ((a, 2), (b, 1), (c, 1)):
        for _ in range(n):
            make_task(session, grid=g2, worker=worker)
    assert grid_rota(session, g2.id) == [b.id, c.id, a.id]
    tasks = [Task(grid_id=g2.id, kind="disinfection", title=f"Stairwell {i}") for i in range(5)]
    assign_in_turn(session, tasks)
    assert [t.assigned_worker_id for t in tasks] == [b.id, c.id, a.id, b.id, c.id]


def test_due_visits_are_made_once_per_interval(session: Session, world: World) -> None:
    """Elderly-alone (at home) and bedridden residents get a visit; a pregnant one, and an
    elderly one in hospital, do not. The policy's interval is 3 days."""
    g1 = world.grids[0]
    building = world.buildings[0][1]
    worker = make_worker(session, grids=[g1])
    alone = make_resident(session, building=building, unit="5-1", vulnerability=["elderly_alone"])
    bedridden = make_resident(session, building=building, unit="5-2", name="李卧",
                              vulnerability=["bedridden", "chronic_illness"])  # fmt: skip
    make_resident(session, building=building, unit="5-3", name="孕妇", vulnerability=["pregnant"])
    make_resident(session, building=building, unit="5-4", name="住院", health_status="in_hospital",
                  vulnerability=["elderly_alone"])  # fmt: skip
    before = table_counts(session)
    assert create_due_visits(session=session, actor=grid_worker(g1), now=NOW) == 2
    assert grown(before, session) == {"task": 2, "auditentry": 1}
    visits = session.exec(select(Task).where(Task.kind == "vulnerable_visit")).all()
    assert sorted(v.resident_id for v in visits) == sorted([alone.id, bedridden.id])
    assert {(v.assigned_worker_id, v.due_at) for v in visits} == {
        (worker.id, NOW + timedelta(days=1))
    }
    # Again, and again after the visits are done: nothing until 3 days have passed.
    assert create_due_visits(session=session, actor=LEADER, now=NOW + timedelta(hours=1)) == 0
    for visit in visits:
        set_task_status(session=session, task_id=visit.id, status="done", actor=LEADER,
                        now=NOW + timedelta(hours=2))  # fmt: skip
    assert create_due_visits(session=session, actor=LEADER, now=NOW + timedelta(days=2)) == 0
    assert (
        create_due_visits(session=session, actor=LEADER, now=NOW + timedelta(days=3, hours=1)) == 2
    )
    # A grid worker of another grid makes none of these.
    assert create_due_visits(session=session, actor=grid_worker(world.grids[1]),
                             now=NOW + timedelta(days=9)) == 0  # fmt: skip
