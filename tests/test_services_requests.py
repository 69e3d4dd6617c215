"""Residents' requests: logging one, and the status flow new → assigned → in progress → done."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session

from gridcore.access import PermissionDenied
from gridcore.models import ResidentRequest, utcnow
from gridcore.services.base import ValidationFailed
from gridcore.services.requests import assign_request, create_request, set_request_status
from gridcore.services.workforce import set_worker_active
from tests.factories import (
    LEADER,
    VIEWER,
    World,
    grid_worker,
    grown,
    make_request,
    make_resident,
    make_street_with_grids,
    make_worker,
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
