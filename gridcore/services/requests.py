"""Residents' requests for help and their progress: new → assigned → in progress → done.

A request may be cancelled while it is open. Each step stamps its time (assigned_at,
started_at, done_at, cancelled_at) and is audited; a step to the status a request already
has writes nothing. A supply request (an item and a quantity) is done only by delivering
it from a depot (`deliver_request`): the stock service issues the stock, and the request
keeps the movement that delivered it. The request's open tasks end with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel

from gridcore.access import Actor, require_grid
from gridcore.models import (
    Depot,
    Household,
    MovementKind,
    RequestStatus,
    Resident,
    ResidentRequest,
    ResidentRequestCreate,
    SupplyItem,
    TaskStatus,
    utcnow,
)
from gridcore.services.base import (
    ValidationFailed,
    choice,
    validated,
    write,
)
from gridcore.services.checks import (
    as_utc,
    changed,
    get_row,
    grid_area,
    row_id,
)
from gridcore.services.stock import record_stock_movement
from gridcore.services.tasks import close_request_tasks
from gridcore.services.workforce import assignable_worker_error

# The steps set_request_status may take; `assigned` is reached through assign_request.
REQUEST_STATUS_NEXT: dict[str, frozenset[str]] = {
    RequestStatus.new: frozenset({RequestStatus.cancelled}),
    RequestStatus.assigned: frozenset({RequestStatus.in_progress, RequestStatus.cancelled}),
    RequestStatus.in_progress: frozenset({RequestStatus.done, RequestStatus.cancelled}),
    RequestStatus.done: frozenset(),
    RequestStatus.cancelled: frozenset(),
}


def _request_input(
    session: Session, data: ResidentRequestCreate | Mapping[str, Any]
) -> ResidentRequestCreate:
    """The validated input; a resident of the grid fills in the household and grid if left out."""
    raw = data.model_dump() if isinstance(data, SQLModel) else dict(data)
    resident_id = raw.get("resident_id")
    resident = get_row(session, Resident, resident_id) if isinstance(resident_id, int) else None
    if resident is not None and raw.get("grid_id") in (None, "", resident.grid_id):
        raw["grid_id"] = resident.grid_id
        if raw.get("household_id") in (None, ""):
            raw["household_id"] = resident.household_id
    return validated(ResidentRequestCreate, raw)


def _request_errors(session: Session, request_in: ResidentRequestCreate) -> dict[str, str]:
    """Domain checks of a new request: the grid, household and resident exist and agree."""
    errors: dict[str, str] = {}
    if grid_area(session, request_in.grid_id) is None:
        errors["grid_id"] = "services.error.grid_not_found"
    household = get_row(session, Household, request_in.household_id)
    if request_in.household_id is not None and household is None:
        errors["household_id"] = "services.error.household_not_found"
    elif household is not None and household.grid_id != request_in.grid_id:
        errors["household_id"] = "services.error.household_not_in_grid"
    resident = get_row(session, Resident, request_in.resident_id)
    if request_in.resident_id is not None and resident is None:
        errors["resident_id"] = "services.error.resident_not_found"
    elif resident is not None and resident.grid_id != request_in.grid_id:
        errors["resident_id"] = "services.error.resident_not_in_grid"
    elif resident is not None and household is not None and resident.household_id != household.id:
        errors["resident_id"] = "services.error.resident_not_in_household"
    if request_in.item_id is not None and get_row(session, SupplyItem, request_in.item_id) is None:
        errors["item_id"] = "services.error.item_not_found"
    if request_in.item_id is not None and request_in.quantity is None:
        errors["quantity"] = "requests.error.quantity_needed"
    if request_in.quantity is not None and request_in.item_id is None:
        errors["item_id"] = "requests.error.item_needed"
    return errors


def create_request(
    *,
    session: Session,
    data: ResidentRequestCreate | Mapping[str, Any],
    actor: Actor,
    client_token: str | None = None,
    now: datetime | None = None,
) -> ResidentRequest:
    """Log a household's request as new (created at `now`, default the current time)."""
    with write(
        session, actor=actor, entity="request", action="create", client_token=client_token
    ) as op:
        if (earlier := op.replayed(ResidentRequest)) is not None:
            return earlier
        request_in = _request_input(session, data)
        errors = _request_errors(session, request_in)
        if errors:
            raise ValidationFailed(errors)
        require_grid(actor, request_in.grid_id)
        request = ResidentRequest(**request_in.model_dump(), created_at=as_utc(now or utcnow()))
        session.add(request)
        op.record(
            request,
            {
                "grid_id": request.grid_id,
                "household_id": request.household_id,
                "category": request.category,
                "urgency": request.urgency,
                "item_id": request.item_id,
                "quantity": request.quantity,
            },
        )
    return request


def _request_for_change(session: Session, request_id: int, actor: Actor) -> ResidentRequest:
    """The request to change, locked for this transaction; the actor must hold its grid."""
    request = session.get(ResidentRequest, request_id, with_for_update=True)
    if request is None:
        raise ValidationFailed({"request_id": "services.error.request_not_found"})
    require_grid(actor, request.grid_id)
    return request


def assign_request(
    *,
    session: Session,
    request_id: int,
    worker_id: int,
    actor: Actor,
    now: datetime | None = None,
) -> ResidentRequest:
    """Give an open request to a worker of its grid; a new request becomes assigned."""
    with write(session, actor=actor, entity="request") as op:
        request = _request_for_change(session, request_id, actor)
        if request.status not in (
            RequestStatus.new,
            RequestStatus.assigned,
            RequestStatus.in_progress,
        ):
            raise ValidationFailed({"request_id": "services.error.request_closed"})
        problem = assignable_worker_error(session, worker_id, request.grid_id)
        if problem is not None:
            raise ValidationFailed({"worker_id": problem})
        if request.assigned_worker_id == worker_id:
            return request
        old_worker, old_status = request.assigned_worker_id, request.status
        request.assigned_worker_id = worker_id
        if request.status == RequestStatus.new:
            request.status = RequestStatus.assigned
        if request.assigned_at is None:
            request.assigned_at = as_utc(now or utcnow())
        session.add(request)
        op.record(
            request,
            {
                "assigned_worker_id": changed(old_worker, worker_id),
                "status": changed(old_status, request.status),
            },
        )
    return request


def set_request_status(
    *,
    session: Session,
    request_id: int,
    status: RequestStatus | str,
    actor: Actor,
    now: datetime | None = None,
) -> ResidentRequest:
    """Move a request one step on (in progress, done) or cancel it, stamping the time."""
    with write(session, actor=actor, entity="request") as op:
        new = choice(RequestStatus, status, "status")
        request = _request_for_change(session, request_id, actor)
        if new == request.status:
            return request
        if new == RequestStatus.assigned:
            raise ValidationFailed({"status": "services.error.assign_needs_worker"})
        if new not in REQUEST_STATUS_NEXT[request.status]:
            raise ValidationFailed({"status": "services.error.status_change"})
        if new == RequestStatus.done and request.item_id is not None:
            raise ValidationFailed({"status": "requests.error.deliver_from_depot"})
        moment = as_utc(now or utcnow())
        old = request.status
        request.status = new
        if new == RequestStatus.in_progress:
            request.started_at = moment
        elif new == RequestStatus.done:
            request.done_at = moment
        elif new == RequestStatus.cancelled:
            request.cancelled_at = moment
        session.add(request)
        op.record(request, {"status": changed(old, new), "at": moment})
        if new in (RequestStatus.done, RequestStatus.cancelled):
            ended = TaskStatus.done if new == RequestStatus.done else TaskStatus.cancelled
            close_request_tasks(session, op, row_id(request), ended, moment)
    return request


def deliver_request(
    *,
    session: Session,
    request_id: int,
    depot_id: int | None,
    actor: Actor,
    client_token: str | None = None,
    now: datetime | None = None,
) -> ResidentRequest:
    """Close an assigned or in-progress request as done; a supply request from `depot_id`.

    For a supply request the stock service issues its item and quantity from the depot
    first: a depot without the stock (or outside the actor's grids) refuses it with the
    reason, and nothing is written. The request then keeps the movement's id.
    """
    with write(session, actor=actor, entity="request", client_token=client_token) as op:
        if (earlier := op.replayed(ResidentRequest)) is not None:
            return earlier
        request = _request_for_change(session, request_id, actor)
        if request.status not in (RequestStatus.assigned, RequestStatus.in_progress):
            key = (
                "requests.error.assign_first"
                if request.status == RequestStatus.new
                else "services.error.request_closed"
            )
            raise ValidationFailed({"request_id": key})
        moment = as_utc(now or utcnow())
        old = request.status
        request.status = RequestStatus.done
        request.done_at = moment
        if request.started_at is None:
            request.started_at = moment
        session.add(request)
        movement_id: int | None = None
        if request.item_id is not None:
            if depot_id is None or get_row(session, Depot, depot_id) is None:
                raise ValidationFailed({"depot_id": "requests.error.depot_needed"})
            # The issue is written by the stock service; its refusal (not enough stock, a
            # depot outside the actor's grids) rolls this request back with it.
            movement = record_stock_movement(
                session=session,
                data={
                    "item_id": request.item_id,
                    "depot_id": depot_id,
                    "kind": MovementKind.issue,
                    "quantity": request.quantity,
                    "occurred_at": moment,
                    "note": f"request #{request_id}",
                    "request_id": request_id,
                },
                actor=actor,
            )
            movement_id = row_id(movement)
            request.stock_movement_id = movement_id
            session.add(request)
        op.record(
            request,
            {
                "status": changed(old, RequestStatus.done),
                "at": moment,
                "depot_id": depot_id if movement_id is not None else None,
                "stock_movement_id": movement_id,
            },
        )
        close_request_tasks(session, op, row_id(request), TaskStatus.done, moment)
    return request
