"""Zone orders: issued, extended, stepped down and lifted by command only; one in force each."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session

from gridcore.access import PermissionDenied
from gridcore.models import ZoneOrder
from gridcore.services.base import ValidationFailed
from gridcore.services.zones import (
    extend_zone_order,
    issue_zone_order,
    lift_zone_order,
    step_down_zone_order,
)
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


TOKEN = "zone-form-0001"


def test_extending_an_order(session: Session, world: World) -> None:
    g1 = world.grids[0]
    order = make_zone_order(
        session, grid=g1, start_date=days_ago(3), end_date=today() + timedelta(days=2)
    )
    before = table_counts(session)
    for actor in (VIEWER, grid_worker(g1)):
        with pytest.raises(PermissionDenied):
            extend_zone_order(session=session, order_id=order.id, end_date=today(), actor=actor)
    bad: list[tuple[object, object, dict[str, str]]] = [
        (order.id, days_ago(1), {"end_date": "zones.error.end_in_past"}),
        (order.id, today() + timedelta(days=1), {"end_date": "zones.error.not_later"}),
        (999, today(), {"order_id": "services.error.order_not_found"}),
    ]
    for order_id, end, errors in bad:
        with pytest.raises(ValidationFailed) as failed:
            extend_zone_order(
                session=session,
                order_id=order_id,
                end_date=end,
                actor=LEADER,  # type: ignore[arg-type]
            )
        assert failed.value.errors == errors
    assert grown(before, session) == {}
    new_end = today() + timedelta(days=9)
    for _ in range(2):  # a double click: written once
        extended = extend_zone_order(
            session=session, order_id=order.id, end_date=new_end, actor=LEADER, client_token=TOKEN
        )
        assert extended.end_date == new_end
    assert grown(before, session) == {"auditentry": 1, "replaykey": 1}
    entry = last_audit(session)
    assert (entry.action, json.loads(entry.changes)["end_date"]) == (
        "extend",
        [(today() + timedelta(days=2)).isoformat(), new_end.isoformat()],
    )
    opened = extend_zone_order(session=session, order_id=order.id, end_date=None, actor=ADMIN)
    assert opened.end_date is None
    with pytest.raises(ValidationFailed) as failed:
        extend_zone_order(session=session, order_id=order.id, end_date=None, actor=ADMIN)
    assert failed.value.errors == {"end_date": "zones.error.already_open"}


@pytest.mark.both_backends  # the old order locked, the new one written, in one transaction
def test_stepping_down_replaces_the_order_by_the_next_level(session: Session, world: World) -> None:
    g1 = world.grids[0]
    sealed = make_zone_order(session, grid=g1, level="sealed", start_date=days_ago(8))
    before = table_counts(session)
    with pytest.raises(PermissionDenied):
        step_down_zone_order(session=session, order_id=sealed.id, actor=grid_worker(g1))
    with pytest.raises(ValidationFailed) as failed:
        step_down_zone_order(session=session, order_id=sealed.id, actor=LEADER, on=days_ago(8))
    assert failed.value.errors == {"on": "zones.error.step_down_on_start"}
    assert grown(before, session) == {}
    for _ in range(2):  # a double click: one new order
        controlled = step_down_zone_order(
            session=session, order_id=sealed.id, actor=LEADER, reason="7 quiet days",
            client_token=TOKEN,
        )  # fmt: skip
    assert grown(before, session) == {"zoneorder": 1, "auditentry": 1, "replaykey": 1}
    session.expire_all()
    old = session.get(ZoneOrder, sealed.id)
    assert old is not None and old.end_date == days_ago(1)
    assert (controlled.area_id, controlled.level, controlled.start_date) == (
        g1.id, "controlled", today(),
    )  # fmt: skip
    entry = last_audit(session)
    changes = json.loads(entry.changes)
    assert entry.action == "step_down"
    assert (changes["from_level"], changes["level"], changes["replaces"]) == (
        "sealed", "controlled", [sealed.id],
    )  # fmt: skip
    # The stepped-down order has ended: it cannot step down again.
    with pytest.raises(ValidationFailed) as failed:
        step_down_zone_order(session=session, order_id=sealed.id, actor=LEADER)
    assert failed.value.errors == {"order_id": "services.error.order_not_in_force"}


def test_precaution_is_lifted_not_stepped_down(session: Session, world: World) -> None:
    building = world.buildings[1][0]
    order = make_zone_order(session, building=building, level="controlled", start_date=days_ago(10))
    precaution = step_down_zone_order(session=session, order_id=order.id, actor=ADMIN)
    assert (precaution.building_id, precaution.level) == (building.id, "precaution")
    with pytest.raises(ValidationFailed) as failed:
        step_down_zone_order(
            session=session, order_id=precaution.id, actor=ADMIN, on=today() + timedelta(days=1)
        )
    assert failed.value.errors == {"order_id": "zones.error.lowest_level"}
    lifted = lift_zone_order(
        session=session, order_id=precaution.id, actor=ADMIN, on=today() + timedelta(days=1),
        client_token=TOKEN,
    )  # fmt: skip
    assert lifted.end_date == today()
    assert last_audit(session).action == "lift"
