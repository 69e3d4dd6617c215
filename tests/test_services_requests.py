"""Residents' requests: logging one, and the status flow new → assigned → in progress → done."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from gridcore.access import PermissionDenied
from gridcore.models import AuditEntry, Depot, ResidentRequest, StockMovement, utcnow
from gridcore.services.base import ValidationFailed
from gridcore.services.requests import (
    assign_request,
    create_request,
    deliver_request,
    set_request_status,
)
from gridcore.services.stock import stock_level
from gridcore.services.tasks import task_from_request
from gridcore.services.workforce import set_worker_active
from tests.factories import (
    LEADER,
    VIEWER,
    World,
    grid_worker,
    grown,
    make_depot,
    make_item,
    make_request,
    make_resident,
    make_street_with_grids,
    make_worker,
    receive,
    table_counts,
)

NOW = utcnow().replace(microsecond=0)


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], World]:
    """Street T: grids T-C1-G1 and T-C1-G2 with two buildings each (built once a run)."""
    return make_street_with_grids


def test_a_request_of_a_resident_takes_the_household_and_grid(
    session: Session, world: World
) -> None:
    resident = make_resident(session, building=world.buildings[1][0])
    before = table_counts(session)
    request = create_request(
        session=session,
        data={"resident_id": resident.id, "category": "medicine", "urgency": "urgent"},
        actor=grid_worker(world.grids[1]),
        now=NOW,
    )
    assert grown(before, session) == {"residentrequest": 1, "auditentry": 1}
    assert (request.grid_id, request.household_id) == (world.grids[1].id, resident.household_id)
    assert (request.status, request.created_at) == ("new", NOW)


def test_domain_checks(session: Session, world: World) -> None:
    g1 = world.grids[0]
    here = make_resident(session, building=world.buildings[0][0], unit="1-101")
    neighbour = make_resident(session, building=world.buildings[0][0], unit="1-102", name="李四")
    there = make_resident(session, building=world.buildings[1][0], name="王五")
    before = table_counts(session)
    base = {"grid_id": g1.id, "category": "food"}
    cases: list[tuple[dict[str, object], dict[str, str]]] = [
        ({"grid_id": 999}, {"grid_id": "services.error.grid_not_found"}),
        (
            {"household_id": there.household_id},
            {"household_id": "services.error.household_not_in_grid"},
        ),
        ({"household_id": 999}, {"household_id": "services.error.household_not_found"}),
        ({"resident_id": there.id}, {"resident_id": "services.error.resident_not_in_grid"}),
        (
            {"resident_id": here.id, "household_id": neighbour.household_id},
            {"resident_id": "services.error.resident_not_in_household"},
        ),
        ({"category": "money"}, {"category": "services.error.invalid_choice"}),
        ({"description": "x" * 501}, {"description": "services.error.too_long"}),
    ]
    for fields, errors in cases:
        with pytest.raises(ValidationFailed) as failed:
            create_request(session=session, data={**base, **fields}, actor=LEADER)
        assert failed.value.errors == errors, fields
    assert grown(before, session) == {}


def test_permissions(session: Session, world: World) -> None:
    g1, g2 = world.grids
    data = {"grid_id": g1.id, "category": "food"}
    before = table_counts(session)
    for actor in (VIEWER, grid_worker(g2)):
        with pytest.raises(PermissionDenied):
            create_request(session=session, data=data, actor=actor)
    assert grown(before, session) == {}
    create_request(session=session, data=data, actor=grid_worker(g1))
    create_request(session=session, data=data, actor=LEADER)
    assert grown(before, session) == {"residentrequest": 2, "auditentry": 2}


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_the_status_flow_stamps_each_step(session: Session, world: World) -> None:
    g1 = world.grids[0]
    worker = make_worker(session, grids=[g1])
    request = make_request(session, grid=g1, now=NOW - timedelta(hours=5))
    actor = grid_worker(g1)
    before = table_counts(session)

    with pytest.raises(ValidationFailed) as failed:  # not before someone has it
        set_request_status(
            session=session, request_id=request.id, status="in_progress", actor=actor
        )
    assert failed.value.errors == {"status": "services.error.status_change"}
    with pytest.raises(ValidationFailed) as failed:
        set_request_status(session=session, request_id=request.id, status="assigned", actor=actor)
    assert failed.value.errors == {"status": "services.error.assign_needs_worker"}

    assign_request(
        session=session,
        request_id=request.id,
        worker_id=worker.id,
        actor=actor,
        now=NOW - timedelta(hours=4),
    )
    set_request_status(
        session=session,
        request_id=request.id,
        status="in_progress",
        actor=actor,
        now=NOW - timedelta(hours=3),
    )
    with pytest.raises(ValidationFailed):  # done is reached only from in progress
        set_request_status(session=session, request_id=request.id, status="new", actor=actor)
    set_request_status(session=session, request_id=request.id, status="done", actor=actor, now=NOW)
    set_request_status(session=session, request_id=request.id, status="done", actor=actor)
    assert grown(before, session) == {"auditentry": 3}

    session.expire_all()
    stored = session.get(ResidentRequest, request.id)
    assert stored is not None
    assert (stored.status, stored.assigned_worker_id) == ("done", worker.id)
    assert stored.assigned_at == NOW - timedelta(hours=4)
    assert stored.started_at == NOW - timedelta(hours=3)
    assert stored.done_at == NOW
    for status in ("cancelled", "in_progress"):
        with pytest.raises(ValidationFailed):
            set_request_status(session=session, request_id=request.id, status=status, actor=actor)
    with pytest.raises(ValidationFailed) as failed:
        assign_request(session=session, request_id=request.id, worker_id=worker.id, actor=actor)
    assert failed.value.errors == {"request_id": "services.error.request_closed"}


def test_cancel_from_any_open_status(session: Session, world: World) -> None:
    g1 = world.grids[0]
    worker = make_worker(session, grids=[g1])
    fresh = make_request(session, grid=g1)
    taken = make_request(session, grid=g1)
    assign_request(session=session, request_id=taken.id, worker_id=worker.id, actor=LEADER)
    for request in (fresh, taken):
        done = set_request_status(
            session=session, request_id=request.id, status="cancelled", actor=LEADER
        )
        assert done.status == "cancelled"
        assert done.done_at is None


def test_assignment_checks_the_worker(session: Session, world: World) -> None:
    g1, g2 = world.grids
    here = make_worker(session, grids=[g1], name="甲")
    there = make_worker(session, grids=[g2], name="乙")
    gone = make_worker(session, grids=[g1], name="丙")
    set_worker_active(session=session, worker_id=gone.id, active=False, actor=LEADER)
    request = make_request(session, grid=g1)
    before = table_counts(session)
    for worker_id, key in (
        (there.id, "services.error.worker_not_in_grid"),
        (gone.id, "services.error.worker_inactive"),
        (999, "services.error.worker_not_found"),
    ):
        with pytest.raises(ValidationFailed) as failed:
            assign_request(
                session=session, request_id=request.id, worker_id=worker_id, actor=LEADER
            )
        assert failed.value.errors == {"worker_id": key}
    with pytest.raises(PermissionDenied):
        assign_request(
            session=session, request_id=request.id, worker_id=here.id, actor=grid_worker(g2)
        )
    with pytest.raises(PermissionDenied):
        assign_request(session=session, request_id=request.id, worker_id=here.id, actor=VIEWER)
    assert grown(before, session) == {}
    first = assign_request(session=session, request_id=request.id, worker_id=here.id, actor=LEADER)
    stamped = first.assigned_at
    assign_request(session=session, request_id=request.id, worker_id=here.id, actor=LEADER)
    assert grown(before, session) == {"auditentry": 1}
    assert first.status == "assigned" and stamped is not None
    with pytest.raises(ValidationFailed):
        set_request_status(session=session, request_id=999, status="done", actor=LEADER)


# --------------------------------------------------------------------------- timers and delivery


def test_each_step_is_timed_and_audited(session: Session, world: World) -> None:
    """Taken at T, assigned at T+1 h, started at T+2 h, done at T+5 h: 5 h to resolve."""
    g1 = world.grids[0]
    worker = make_worker(session, grids=[g1])
    taken = NOW - timedelta(hours=6)
    request = make_request(session, grid=g1, category="other", now=taken)
    assign_request(
        session=session, request_id=request.id, worker_id=worker.id, actor=LEADER,
        now=taken + timedelta(hours=1),
    )  # fmt: skip
    set_request_status(session=session, request_id=request.id, status="in_progress",
                       actor=LEADER, now=taken + timedelta(hours=2))  # fmt: skip
    done = deliver_request(
        session=session, request_id=request.id, depot_id=None, actor=LEADER,
        now=taken + timedelta(hours=5),
    )  # fmt: skip
    assert (done.assigned_at, done.started_at, done.done_at) == (
        taken + timedelta(hours=1),
        taken + timedelta(hours=2),
        taken + timedelta(hours=5),
    )
    assert done.stock_movement_id is None
    steps = session.exec(
        select(AuditEntry).where(
            AuditEntry.entity == "request", AuditEntry.entity_id == str(request.id)
        )
    ).all()
    assert [json.loads(a.changes).get("status") for a in steps] == [
        None,
        ["new", "assigned"],
        ["assigned", "in_progress"],
        ["in_progress", "done"],
    ]


def _supply(session: Session, world: World, *, stock: int) -> tuple[ResidentRequest, Depot, Any]:
    g1 = world.grids[0]
    item = make_item(session, code=f"RICE{stock}", name="Rice")
    depot = make_depot(session, area=g1, name=f"Depot {stock}")
    if stock:
        receive(session, depot=depot, item=item, quantity=stock)
    worker = make_worker(session, grids=[g1])
    resident = make_resident(session, building=world.buildings[0][0], unit=f"2-{stock}")
    request = make_request(
        session, grid=g1, category="food", resident_id=resident.id, item_id=item.id, quantity=4,
        now=NOW - timedelta(hours=3),
    )  # fmt: skip
    assign_request(session=session, request_id=request.id, worker_id=worker.id, actor=LEADER)
    return request, depot, item


def test_a_supply_request_is_delivered_from_the_depot_through_the_ledger(
    session: Session, world: World
) -> None:
    request, depot, item = _supply(session, world, stock=10)
    task = task_from_request(session=session, request_id=request.id, actor=LEADER, now=NOW)
    before = table_counts(session)
    done = deliver_request(
        session=session, request_id=request.id, depot_id=depot.id,
        actor=grid_worker(world.grids[0]), client_token="deliver-1", now=NOW,
    )  # fmt: skip
    # One issue of 4 (−4 in the ledger), the request done and its task done with it.
    assert grown(before, session) == {"stockmovement": 1, "auditentry": 3, "replaykey": 1}
    movement = session.get(StockMovement, done.stock_movement_id)
    assert movement is not None
    assert (movement.kind, movement.quantity, movement.depot_id) == ("issue", -4, depot.id)
    assert stock_level(session=session, depot_id=depot.id, item_id=item.id) == 6
    assert (done.status, done.done_at) == ("done", NOW)
    session.refresh(task)
    assert (task.status, task.done_at) == ("done", NOW)
    # The same form sent again: written once.
    again = deliver_request(
        session=session, request_id=request.id, depot_id=depot.id,
        actor=grid_worker(world.grids[0]), client_token="deliver-1", now=NOW,
    )  # fmt: skip
    assert again.stock_movement_id == movement.id
    assert stock_level(session=session, depot_id=depot.id, item_id=item.id) == 6


def test_a_depot_without_the_stock_refuses_and_nothing_is_written(
    session: Session, world: World
) -> None:
    request, depot, item = _supply(session, world, stock=3)
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as refused:
        deliver_request(
            session=session, request_id=request.id, depot_id=depot.id, actor=LEADER,
            client_token="deliver-2",
        )  # fmt: skip
    assert refused.value.errors == {"quantity": "services.error.stock_below_zero"}
    assert grown(before, session) == {}
    session.refresh(request)
    assert (request.status, request.done_at, request.stock_movement_id) == ("assigned", None, None)
    with pytest.raises(ValidationFailed) as no_depot:
        deliver_request(session=session, request_id=request.id, depot_id=None, actor=LEADER)
    assert no_depot.value.errors == {"depot_id": "requests.error.depot_needed"}
    with pytest.raises(ValidationFailed) as by_status:
        set_request_status(session=session, request_id=request.id, status="in_progress",
                           actor=LEADER)  # fmt: skip
        set_request_status(session=session, request_id=request.id, status="done", actor=LEADER)
    assert by_status.value.errors == {"status": "requests.error.deliver_from_depot"}
    assert grown(before, session) == {"auditentry": 1}  # only the step to in progress


def test_a_supply_request_names_its_item_and_quantity_together(
    session: Session, world: World
) -> None:
    g1 = world.grids[0]
    item = make_item(session, code="MILK", name="Milk")
    before = table_counts(session)
    for fields, errors in (
        ({"item_id": item.id}, {"quantity": "requests.error.quantity_needed"}),
        ({"quantity": 2}, {"item_id": "requests.error.item_needed"}),
        ({"item_id": 999, "quantity": 2}, {"item_id": "services.error.item_not_found"}),
        ({"item_id": item.id, "quantity": 0}, {"quantity": "services.error.too_small"}),
    ):
        with pytest.raises(ValidationFailed) as failed:
            make_request(session, grid=g1, **fields)
        assert failed.value.errors == errors, fields
    assert grown(before, session) == {}


def test_cancelling_stamps_the_time_and_cancels_the_requests_tasks(
    session: Session, world: World
) -> None:
    g1 = world.grids[0]
    request = make_request(session, grid=g1, category="other", now=NOW - timedelta(hours=1))
    task = task_from_request(session=session, request_id=request.id, actor=LEADER, now=NOW)
    # No worker yet, due at the target: taken 1 h ago, "other" has 72 h.
    assert (task.kind, task.assigned_worker_id) == ("information_collection", None)
    assert task.due_at == NOW + timedelta(hours=71)
    cancelled = set_request_status(
        session=session, request_id=request.id, status="cancelled", actor=LEADER, now=NOW
    )
    assert (cancelled.status, cancelled.cancelled_at) == ("cancelled", NOW)
    session.refresh(task)
    assert task.status == "cancelled"
    with pytest.raises(ValidationFailed):
        deliver_request(session=session, request_id=request.id, depot_id=None, actor=LEADER)
