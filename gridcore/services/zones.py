"""Zone orders (sealed / controlled / precaution): issued, extended, stepped down and lifted
by command only (administrators and leaders); everyone else may read them.

An order is in force on day d when start_date <= d and (end_date is None or d <= end_date).
A grid or a building has at most one order in force: a new order ends the one before it
on the day before it starts. Lifting an order on day d makes d - 1 its last day. Stepping
an order down on day d is the same as issuing the next lower level from d (sealed →
controlled → precaution): the order's history stays readable as a run of orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from gridcore.access import COMMAND_ROLES, Actor
from gridcore.analytics.zones import next_level
from gridcore.config import local_today
from gridcore.models import Building, ZoneOrder, ZoneOrderCreate
from gridcore.services.base import ValidationFailed, validated, write
from gridcore.services.checks import changed, get_row, grid_area


def _order_errors(session: Session, order_in: ZoneOrderCreate) -> dict[str, str]:
    """Domain checks: exactly one of grid or building, which exists; dates in order."""
    errors: dict[str, str] = {}
    if (order_in.area_id is None) == (order_in.building_id is None):
        errors["area_id"] = "services.error.area_or_building"
    elif order_in.area_id is not None and grid_area(session, order_in.area_id) is None:
        errors["area_id"] = "services.error.grid_not_found"
    elif order_in.area_id is None and get_row(session, Building, order_in.building_id) is None:
        errors["building_id"] = "services.error.building_not_found"
    if order_in.end_date is not None and order_in.end_date < order_in.start_date:
        errors["end_date"] = "services.error.end_before_start"
    return errors


def _orders_replaced(session: Session, order_in: ZoneOrderCreate) -> list[ZoneOrder]:
    """Orders on the same grid or building still in force when the new one starts."""
    target = (
        ZoneOrder.area_id == order_in.area_id
        if order_in.area_id is not None
        else ZoneOrder.building_id == order_in.building_id
    )
    return list(
        session.exec(
            select(ZoneOrder)
            .where(
                target,
                ZoneOrder.start_date <= order_in.start_date,
                or_(
                    col(ZoneOrder.end_date).is_(None),
                    col(ZoneOrder.end_date) >= order_in.start_date,
                ),
            )
            .with_for_update()
        )
    )


def issue_zone_order(
    *,
    session: Session,
    data: ZoneOrderCreate | Mapping[str, Any],
    actor: Actor,
    client_token: str | None = None,
) -> ZoneOrder:
    """Put a grid or a building under an order (leaders and administrators)."""
    with write(
        session,
        actor=actor,
        entity="zone_order",
        action="create",
        roles=COMMAND_ROLES,
        client_token=client_token,
    ) as op:
        if (earlier := op.replayed(ZoneOrder)) is not None:
            return earlier
        order_in = validated(ZoneOrderCreate, data)
        errors = _order_errors(session, order_in)
        if errors:
            raise ValidationFailed(errors)
        replaced = _orders_replaced(session, order_in)
        for old in replaced:
            old.end_date = order_in.start_date - timedelta(days=1)
            session.add(old)
        order = ZoneOrder(**order_in.model_dump())
        session.add(order)
        op.record(
            order,
            {
                "area_id": order.area_id,
                "building_id": order.building_id,
                "level": order.level,
                "start_date": order.start_date,
                "end_date": order.end_date,
                "reason": order.reason,
                "replaces": [o.id for o in replaced],
            },
        )
    return order


def _order_in_force(session: Session, order_id: Any, day: date) -> ZoneOrder:
    """The order `order_id`, locked, which must be in force on `day`; else ValidationFailed."""
    order = session.get(ZoneOrder, order_id, with_for_update=True) if order_id is not None else None
    if order is None:
        raise ValidationFailed({"order_id": "services.error.order_not_found"})
    if order.end_date is not None and order.end_date < day:
        raise ValidationFailed({"order_id": "services.error.order_not_in_force"})
    if order.start_date > day:
        raise ValidationFailed({"order_id": "zones.error.not_started"})
    return order


def lift_zone_order(
    *,
    session: Session,
    order_id: int,
    actor: Actor,
    on: date | None = None,
    client_token: str | None = None,
) -> ZoneOrder:
    """End an order so that it is no longer in force from `on` (default today, local).

    Lifting twice on the same day writes once; an order that ended earlier cannot be lifted.
    """
    with write(
        session, actor=actor, entity="zone_order", roles=COMMAND_ROLES, client_token=client_token
    ) as op:
        if (earlier := op.replayed(ZoneOrder)) is not None:
            return earlier
        day = on or local_today()
        order = session.get(ZoneOrder, order_id, with_for_update=True)
        if order is None:
            raise ValidationFailed({"order_id": "services.error.order_not_found"})
        if order.end_date == day - timedelta(days=1):
            return order
        if order.end_date is not None and order.end_date < day:
            raise ValidationFailed({"order_id": "services.error.order_not_in_force"})
        old_end = order.end_date
        order.end_date = day - timedelta(days=1)
        session.add(order)
        op.record(order, {"end_date": changed(old_end, order.end_date)}, action="lift")
    return order


def extend_zone_order(
    *,
    session: Session,
    order_id: int,
    end_date: date | None,
    actor: Actor,
    today: date | None = None,
    client_token: str | None = None,
) -> ZoneOrder:
    """Give an order in force a new last day, later than its present one (and not past).

    `end_date` None makes it open-ended again (in force until lifted or stepped down).
    """
    with write(
        session,
        actor=actor,
        entity="zone_order",
        action="extend",
        roles=COMMAND_ROLES,
        client_token=client_token,
    ) as op:
        if (earlier := op.replayed(ZoneOrder)) is not None:
            return earlier
        day = today or local_today()
        order = _order_in_force(session, order_id, day)
        if end_date is not None:
            if not isinstance(end_date, date):
                raise ValidationFailed({"end_date": "services.error.not_a_date"})
            if end_date < max(day, order.start_date):
                raise ValidationFailed({"end_date": "zones.error.end_in_past"})
            if order.end_date is not None and end_date <= order.end_date:
                raise ValidationFailed({"end_date": "zones.error.not_later"})
        elif order.end_date is None:
            raise ValidationFailed({"end_date": "zones.error.already_open"})
        old_end = order.end_date
        order.end_date = end_date
        session.add(order)
        op.record(order, {"end_date": changed(old_end, end_date)})
    return order


def step_down_zone_order(
    *,
    session: Session,
    order_id: int,
    actor: Actor,
    on: date | None = None,
    reason: str = "",
    client_token: str | None = None,
) -> ZoneOrder:
    """Replace an order by one at the next lower level from `on` (default today); the new order.

    Sealed becomes controlled, controlled becomes precaution; a precaution order is lifted
    instead. The old order ends the day before; the audit entry names both.
    """
    with write(
        session,
        actor=actor,
        entity="zone_order",
        action="step_down",
        roles=COMMAND_ROLES,
        client_token=client_token,
    ) as op:
        if (earlier := op.replayed(ZoneOrder)) is not None:
            return earlier
        day = on or local_today()
        old = _order_in_force(session, order_id, day)
        lower = next_level(old.level)
        if lower is None:
            raise ValidationFailed({"order_id": "zones.error.lowest_level"})
        if day <= old.start_date:
            raise ValidationFailed({"on": "zones.error.step_down_on_start"})
        order_in = validated(
            ZoneOrderCreate,
            {
                "area_id": old.area_id,
                "building_id": old.building_id,
                "level": lower,
                "start_date": day,
                "reason": reason.strip(),
            },
        )
        replaced = _orders_replaced(session, order_in)
        for row in replaced:
            row.end_date = day - timedelta(days=1)
            session.add(row)
        order = ZoneOrder(**order_in.model_dump())
        session.add(order)
        op.record(
            order,
            {
                "area_id": order.area_id,
                "building_id": order.building_id,
                "from_level": old.level,
                "level": order.level,
                "start_date": day,
                "reason": order.reason,
                "replaces": [row.id for row in replaced],
            },
        )
    return order
