"""Adding workers with the grids they serve, and standing them down."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from gridcore.access import PermissionDenied
from gridcore.models import WorkerGrid
from gridcore.services.base import ValidationFailed
from gridcore.services.workforce import create_worker, set_worker_active, set_worker_grids
from tests.factories import (
    LEADER,
    VIEWER,
    World,
    grid_worker,
    grown,
    last_audit,
    make_street_with_grids,
    make_worker,
    table_counts,
)


def _three_grids(session: Session) -> World:
    return make_street_with_grids(session, grids=3)


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], World]:
    """Street T: grids T-C1-G1 to T-C1-G3 with two buildings each (built once a run)."""
    return _three_grids


def _data(*grid_ids: int | None, **fields: object) -> dict[str, object]:
    return {
        "name": "李网格",
        "role": "grid_member",
        "employment": "full_time",
        "grid_ids": list(grid_ids),
        **fields,
    }


@pytest.mark.both_backends  # all or nothing: the transaction
def test_a_worker_is_added_with_the_grids_they_serve(session: Session, world: World) -> None:
    g1, g2, _ = world.grids
    before = table_counts(session)
    worker = create_worker(session=session, data=_data(g1.id, g2.id), actor=LEADER)
    assert grown(before, session) == {"worker": 1, "workergrid": 2, "auditentry": 1}
    grids = session.exec(select(WorkerGrid.grid_id).where(WorkerGrid.worker_id == worker.id)).all()
    assert sorted(grids) == sorted([g1.id, g2.id])
    entry = last_audit(session)
    assert (entry.entity, entry.entity_id, entry.username) == ("worker", str(worker.id), "lee")
    assert json.loads(entry.changes)["grid_ids"] == [g1.id, g2.id]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"name": ""}, {"name": "services.error.required"}),
        ({"role": "boss"}, {"role": "services.error.invalid_choice"}),
        ({"employment": None}, {"employment": "services.error.invalid_choice"}),
        ({"phone": "12"}, {"phone": "services.error.phone_invalid"}),
        ({"grid_ids": "all"}, {"grid_ids": "services.error.not_a_list"}),
        (
            {"role": "volunteer", "employment": "volunteer"},
            {"service_group": "services.error.service_group_required"},
        ),
    ],
)
def test_bad_input_writes_nothing(
    session: Session, world: World, fields: dict[str, object], errors: dict[str, str]
) -> None:
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        create_worker(session=session, data=_data(world.grids[0].id, **fields), actor=LEADER)
    assert failed.value.errors == errors
    assert grown(before, session) == {}


def test_grids_must_be_grids_and_distinct(session: Session, world: World) -> None:
    g1 = world.grids[0]
    before = table_counts(session)
    for grid_ids, key in (
        ((world.community.id,), "services.error.grid_not_found"),
        ((999,), "services.error.grid_not_found"),
        ((g1.id, g1.id), "services.error.duplicate_grids"),
    ):
        with pytest.raises(ValidationFailed) as failed:
            create_worker(session=session, data=_data(*grid_ids), actor=LEADER)
        assert failed.value.errors == {"grid_ids": key}
    assert grown(before, session) == {}


def test_permissions(session: Session, world: World) -> None:
    g1, g2, _ = world.grids
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        create_worker(session=session, data=_data(g1.id), actor=VIEWER)
    with pytest.raises(PermissionDenied):  # one grid of two outside the scope
        create_worker(session=session, data=_data(g1.id, g2.id), actor=grid_worker(g1))
    with pytest.raises(PermissionDenied):  # a worker without grids is the street's business
        create_worker(session=session, data=_data(), actor=grid_worker(g1))
    assert grown(before, session) == {}
    create_worker(session=session, data=_data(g1.id), actor=grid_worker(g1))
    create_worker(session=session, data=_data(), actor=LEADER)
    assert grown(before, session) == {"worker": 2, "workergrid": 1, "auditentry": 2}


@pytest.mark.both_backends  # the replay check searches the audit log with LIKE
def test_a_double_click_adds_one_worker(session: Session, world: World) -> None:
    before = table_counts(session)
    for _ in range(2):
        create_worker(
            session=session, data=_data(world.grids[0].id), actor=LEADER, client_token="w-000001"
        )
    assert grown(before, session) == {"worker": 1, "workergrid": 1, "auditentry": 1, "replaykey": 1}


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_standing_a_worker_down(session: Session, world: World) -> None:
    g1, g2, _ = world.grids
    worker = make_worker(session, grids=[g1])
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        set_worker_active(session=session, worker_id=worker.id, active=False, actor=grid_worker(g2))
    down = set_worker_active(
        session=session, worker_id=worker.id, active=False, actor=grid_worker(g1)
    )
    assert down.active is False
    set_worker_active(session=session, worker_id=worker.id, active=False, actor=LEADER)
    assert grown(before, session) == {"auditentry": 1}
    with pytest.raises(ValidationFailed):
        set_worker_active(session=session, worker_id=999, active=False, actor=LEADER)


def test_a_volunteer_is_added_with_a_service_group(session: Session, world: World) -> None:
    before = table_counts(session)
    volunteer = create_worker(
        session=session,
        data=_data(world.grids[0].id, role="volunteer", employment="volunteer",
                   service_group="medical"),
        actor=LEADER,
    )  # fmt: skip
    assert (volunteer.employment, volunteer.service_group) == ("volunteer", "medical")
    assert grown(before, session) == {"worker": 1, "workergrid": 1, "auditentry": 1}


def _grids_of(session: Session, worker_id: int | None) -> list[int]:
    return sorted(
        session.exec(select(WorkerGrid.grid_id).where(WorkerGrid.worker_id == worker_id)).all()
    )


@pytest.mark.both_backends  # deletes and inserts in one transaction
def test_changing_a_workers_grids(session: Session, world: World) -> None:
    g1, g2, g3 = world.grids
    worker = make_worker(session, grids=[g1, g2])
    before = table_counts(session)
    set_worker_grids(session=session, worker_id=worker.id, grid_ids=[g2.id, g3.id], actor=LEADER)
    assert _grids_of(session, worker.id) == sorted([g2.id, g3.id])
    assert grown(before, session) == {"auditentry": 1}  # one link out, one in
    changes = json.loads(last_audit(session).changes)
    assert (changes["added"], changes["removed"]) == ([g3.id], [g1.id])
    set_worker_grids(session=session, worker_id=worker.id, grid_ids=[g3.id, g2.id], actor=LEADER)
    assert grown(before, session) == {"auditentry": 1}  # the same grids: nothing written


def test_changing_grids_checks_input_and_scope(session: Session, world: World) -> None:
    g1, g2, g3 = world.grids
    worker = make_worker(session, grids=[g1])
    before = table_counts(session)
    for grid_ids, errors in (
        ([g1.id, g1.id], {"grid_ids": "services.error.duplicate_grids"}),
        ([world.community.id], {"grid_ids": "services.error.grid_not_found"}),
    ):
        with pytest.raises(ValidationFailed) as failed:
            set_worker_grids(session=session, worker_id=worker.id, grid_ids=grid_ids,
                             actor=LEADER)  # fmt: skip
        assert failed.value.errors == errors
    with pytest.raises(ValidationFailed):
        set_worker_grids(session=session, worker_id=999, grid_ids=[g1.id], actor=LEADER)
    with pytest.raises(PermissionDenied):  # adding a grid outside the scope
        set_worker_grids(session=session, worker_id=worker.id, grid_ids=[g1.id, g2.id],
                         actor=grid_worker(g1))  # fmt: skip
    with pytest.raises(PermissionDenied):  # no grid left: command's business
        set_worker_grids(session=session, worker_id=worker.id, grid_ids=[],
                         actor=grid_worker(g1))  # fmt: skip
    with pytest.raises(PermissionDenied):
        set_worker_grids(session=session, worker_id=worker.id, grid_ids=[g3.id], actor=VIEWER)
    assert grown(before, session) == {}
    assert _grids_of(session, worker.id) == [g1.id]
    # Within the scope: a grid worker of g1 and g2 moves the worker from g1 to g2.
    set_worker_grids(session=session, worker_id=worker.id, grid_ids=[g2.id],
                     actor=grid_worker(g1, g2), client_token="grids-0001")  # fmt: skip
    set_worker_grids(session=session, worker_id=worker.id, grid_ids=[g2.id],
                     actor=grid_worker(g1, g2), client_token="grids-0001")  # fmt: skip
    assert _grids_of(session, worker.id) == [g2.id]
    assert grown(before, session) == {"auditentry": 1, "replaykey": 1}
