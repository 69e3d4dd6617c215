"""Tasks: creating one for a grid, giving it to a worker, moving it to done."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session

from gridcore.access import PermissionDenied
from gridcore.models import utcnow
from gridcore.services.base import ValidationFailed
from gridcore.services.tasks import assign_task, create_task, set_task_status
from tests.factories import (
    LEADER,
    VIEWER,
    World,
    grid_worker,
    grown,
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
