"""The stock ledger: receipts, issues, adjustments and transfers, appended and never changed.

The user enters a positive amount for a receipt, an issue or a transfer; the ledger stores
the signed change (an issue of 5 is -5). An adjustment is signed as entered (a count that
found 3 fewer is -3). No movement may take a depot's stock of an item below zero. There is
no update or delete of a movement: a mistake is corrected by an adjustment.

Writes to one depot are serialised: the depot row is locked (an UPDATE touching it, which
on SQLite also takes the write lock) before its stock is read, so two issues cannot both
spend the same last units.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, update
from sqlmodel import Session, SQLModel, col, select

from gridcore.access import Actor, require_grid
from gridcore.models import (
    Depot,
    MovementKind,
    StockMovement,
    StockMovementCreate,
    SupplyItem,
    utcnow,
)
from gridcore.services.base import ValidationFailed, validated, write
from gridcore.services.checks import (
    as_utc,
    get_row,
    row_id,
    time_in_future,
)

# Kinds record_stock_movement writes; transfers go through transfer_stock.
SINGLE_KINDS: tuple[MovementKind, ...] = (
    MovementKind.receipt,
    MovementKind.issue,
    MovementKind.adjustment,
)


def _lock_depot(session: Session, depot_id: int) -> Depot | None:
    """The depot, with its row locked until the transaction ends (None if there is none)."""
    result = session.execute(
        update(Depot)
        .where(Depot.id == depot_id)  # type: ignore[arg-type]
        .values(name=Depot.name)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount == 0:
        return None
    return session.get(Depot, depot_id)


def stock_level(*, session: Session, depot_id: int, item_id: int) -> int:
    """The current stock of an item at a depot: the sum of its ledger."""
    total = session.exec(
        select(func.coalesce(func.sum(StockMovement.quantity), 0)).where(
            StockMovement.depot_id == depot_id, StockMovement.item_id == item_id
        )
    ).one()
    return int(total)


def _signed(kind: MovementKind, quantity: int) -> tuple[int, str | None]:
    """The signed change for a movement entered as `quantity`, or the key of what is wrong."""
    if kind == MovementKind.adjustment:
        return quantity, None if quantity != 0 else "services.error.quantity_nonzero"
    if quantity <= 0:
        return 0, "services.error.quantity_positive"
    return (quantity if kind == MovementKind.receipt else -quantity), None


def record_stock_movement(
    *,
    session: Session,
    data: StockMovementCreate | Mapping[str, Any],
    actor: Actor,
    client_token: str | None = None,
) -> StockMovement:
    """Append a receipt, an issue or an adjustment (occurred_at defaults to now)."""
    with write(
        session, actor=actor, entity="stock_movement", action="create", client_token=client_token
    ) as op:
        if (earlier := op.replayed(StockMovement)) is not None:
            return earlier
        raw = data.model_dump() if isinstance(data, SQLModel) else dict(data)
        if raw.get("occurred_at") in (None, ""):
            raw["occurred_at"] = utcnow()
        movement_in = validated(StockMovementCreate, raw)
        errors: dict[str, str] = {}
        if movement_in.kind not in SINGLE_KINDS:
            errors["kind"] = "services.error.use_transfer"
        signed, problem = _signed(movement_in.kind, movement_in.quantity)
        if problem is not None:
            errors["quantity"] = problem
        if movement_in.counterpart_depot_id is not None:
            errors["counterpart_depot_id"] = "services.error.no_counterpart"
        if time_in_future(movement_in.occurred_at):
            errors["occurred_at"] = "services.error.time_in_future"
        depot = _lock_depot(session, movement_in.depot_id)
        if depot is None:
            errors["depot_id"] = "services.error.depot_not_found"
        if get_row(session, SupplyItem, movement_in.item_id) is None:
            errors["item_id"] = "services.error.item_not_found"
        if errors or depot is None:
            raise ValidationFailed(errors)
        require_grid(actor, depot.area_id)
        before = stock_level(session=session, depot_id=row_id(depot), item_id=movement_in.item_id)
        if before + signed < 0:
            raise ValidationFailed({"quantity": "services.error.stock_below_zero"})
        movement = StockMovement(
            **movement_in.model_dump(exclude={"quantity", "occurred_at"}),
            quantity=signed,
            occurred_at=as_utc(movement_in.occurred_at),
            created_by=actor.username,
        )
        session.add(movement)
        op.record(
            movement,
            {
                "depot_id": movement.depot_id,
                "item_id": movement.item_id,
                "kind": movement.kind,
                "quantity": signed,
                "stock_after": before + signed,
            },
        )
    return movement


def transfer_stock(
    *,
    session: Session,
    item_id: int,
    from_depot_id: int,
    to_depot_id: int,
    quantity: int,
    actor: Actor,
    occurred_at: datetime | None = None,
    note: str | None = None,
    client_token: str | None = None,
) -> tuple[StockMovement, StockMovement]:
    """Move stock between depots: a transfer_out and a transfer_in, in one transaction.

    The actor needs both depots in scope; the source may not go below zero.
    """
    with write(
        session, actor=actor, entity="stock_transfer", action="create", client_token=client_token
    ) as op:
        if op.replayed_id is not None:
            return _transfer_pair(session, int(op.replayed_id))
        moment = as_utc(occurred_at or utcnow())
        errors: dict[str, str] = {}
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            errors["quantity"] = "services.error.quantity_positive"
        if from_depot_id == to_depot_id:
            errors["to_depot_id"] = "services.error.same_depot"
        if time_in_future(moment):
            errors["occurred_at"] = "services.error.time_in_future"
        if note is not None and len(note) > 300:
            errors["note"] = "services.error.too_long"
        # Lock in id order, so that two opposite transfers cannot wait on each other.
        locked = {d: _lock_depot(session, d) for d in sorted({from_depot_id, to_depot_id})}
        source, target = locked[from_depot_id], locked[to_depot_id]
        if source is None:
            errors["from_depot_id"] = "services.error.depot_not_found"
        if target is None:
            errors["to_depot_id"] = "services.error.depot_not_found"
        if get_row(session, SupplyItem, item_id) is None:
            errors["item_id"] = "services.error.item_not_found"
        if errors or source is None or target is None:
            raise ValidationFailed(errors)
        require_grid(actor, source.area_id)
        require_grid(actor, target.area_id)
        before = stock_level(session=session, depot_id=from_depot_id, item_id=item_id)
        if before < quantity:
            raise ValidationFailed({"quantity": "services.error.stock_below_zero"})
        shared: dict[str, Any] = {"item_id": item_id, "occurred_at": moment, "note": note}
        out = StockMovement(
            **shared,
            depot_id=from_depot_id,
            kind=MovementKind.transfer_out,
            quantity=-quantity,
            counterpart_depot_id=to_depot_id,
            created_by=actor.username,
        )
        session.add(out)
        session.flush()
        into = StockMovement(
            **shared,
            depot_id=to_depot_id,
            kind=MovementKind.transfer_in,
            quantity=quantity,
            counterpart_depot_id=from_depot_id,
            created_by=actor.username,
        )
        session.add(into)
        session.flush()
        op.record(
            out,
            {
                "item_id": item_id,
                "from_depot_id": from_depot_id,
                "to_depot_id": to_depot_id,
                "quantity": quantity,
                "transfer_in_id": into.id,
            },
        )
    return out, into


def _transfer_pair(session: Session, out_id: int) -> tuple[StockMovement, StockMovement]:
    """The two rows of an earlier transfer, found from its transfer_out row."""
    out = session.get(StockMovement, out_id)
    into = None
    if out is not None:
        into = session.exec(
            select(StockMovement)
            .where(
                col(StockMovement.id) > out_id,
                StockMovement.kind == MovementKind.transfer_in,
                StockMovement.depot_id == out.counterpart_depot_id,
                StockMovement.counterpart_depot_id == out.depot_id,
                StockMovement.item_id == out.item_id,
                StockMovement.quantity == -out.quantity,
                StockMovement.occurred_at == out.occurred_at,
            )
            .order_by(col(StockMovement.id))
        ).first()
    if out is None or into is None:
        raise RuntimeError(f"transfer {out_id} is missing from the ledger")
    return out, into
