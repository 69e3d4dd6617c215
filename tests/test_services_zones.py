"""Zone orders: issued and lifted by command only; one order in force per grid or building."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session

from gridcore.access import PermissionDenied
from gridcore.models import ZoneOrder
from gridcore.services.base import ValidationFailed
from gridcore.services.zones import issue_zone_order, lift_zone_order
from tests.factories import (
    ADMIN,
    LEADER,
    VIEWER,
    World,
    days_ago,
    grid_worker,
    grown,
    last_audit,
    make_street_with_grids,
    make_zone_order,
    table_counts,
    today,
)


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], World]:
    """Street T: grids T-C1-G1 and T-C1-G2 with two buildings each (built once a run)."""
    return make_street_with_grids


def _data(**fields: object) -> dict[str, object]:
    return {"level": "sealed", "start_date": today(), "reason": "two new cases", **fields}


def test_only_command_issues_orders(session: Session, world: World) -> None:
    g1 = world.grids[0]
    before = table_counts(session)
    for actor in (VIEWER, grid_worker(g1)):  # a grid worker may not, even in their own grid
        with pytest.raises(PermissionDenied):
            issue_zone_order(session=session, data=_data(area_id=g1.id), actor=actor)
    assert grown(before, session) == {}
    order = issue_zone_order(session=session, data=_data(area_id=g1.id), actor=LEADER)
    issue_zone_order(session=session, data=_data(building_id=world.buildings[1][0].id), actor=ADMIN)
    assert grown(before, session) == {"zoneorder": 2, "auditentry": 2}
    assert (order.level, order.end_date) == ("sealed", None)


def test_domain_checks(session: Session, world: World) -> None:
    g1 = world.grids[0]
    building = world.buildings[0][0]
    before = table_counts(session)
    cases: list[tuple[dict[str, object], dict[str, str]]] = [
        ({}, {"area_id": "services.error.area_or_building"}),
        (
            {"area_id": g1.id, "building_id": building.id},
            {"area_id": "services.error.area_or_building"},
        ),
        ({"area_id": world.community.id}, {"area_id": "services.error.grid_not_found"}),
        ({"building_id": 999}, {"building_id": "services.error.building_not_found"}),
        (
            {"area_id": g1.id, "end_date": days_ago(1)},
            {"end_date": "services.error.end_before_start"},
        ),
        ({"area_id": g1.id, "level": "lockdown"}, {"level": "services.error.invalid_choice"}),
    ]
    for fields, errors in cases:
        with pytest.raises(ValidationFailed) as failed:
            issue_zone_order(session=session, data=_data(**fields), actor=LEADER)
        assert failed.value.errors == errors, fields
    assert grown(before, session) == {}


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_a_new_order_ends_the_one_before_it(session: Session, world: World) -> None:
    g1, g2 = world.grids
    sealed = make_zone_order(session, grid=g1, level="sealed", start_date=days_ago(9))
    other_grid = make_zone_order(session, grid=g2, level="sealed", start_date=days_ago(9))
    controlled = make_zone_order(session, grid=g1, level="controlled", start_date=today())
    session.expire_all()
    old = session.get(ZoneOrder, sealed.id)
    untouched = session.get(ZoneOrder, other_grid.id)
    assert old is not None and old.end_date == days_ago(1)
    assert untouched is not None and untouched.end_date is None
    assert json.loads(last_audit(session).changes)["replaces"] == [sealed.id]
    assert controlled.end_date is None


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_lifting(session: Session, world: World) -> None:
    order = make_zone_order(session, grid=world.grids[0], start_date=days_ago(7))
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        lift_zone_order(session=session, order_id=order.id, actor=grid_worker(world.grids[0]))
    lifted = lift_zone_order(session=session, order_id=order.id, actor=LEADER)
    assert lifted.end_date == days_ago(1)  # not in force from today
    lift_zone_order(session=session, order_id=order.id, actor=LEADER)  # a double click
    assert grown(before, session) == {"auditentry": 1}
    with pytest.raises(ValidationFailed) as failed:
        lift_zone_order(
            session=session, order_id=order.id, actor=LEADER, on=today() + timedelta(days=3)
        )
    assert failed.value.errors == {"order_id": "services.error.order_not_in_force"}
    with pytest.raises(ValidationFailed):
        lift_zone_order(session=session, order_id=999, actor=LEADER)
