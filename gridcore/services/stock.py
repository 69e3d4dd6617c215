"""The stock ledger: receipts, issues, counts and transfers, appended and never changed.

The user enters a positive amount for a receipt, an issue or a transfer; the ledger stores
the signed change (an issue of 5 is -5). An adjustment is signed as entered (a count that
found 3 fewer is -3) and says why; `count_stock` turns a counted figure into one. No
movement may take a depot's stock of an item below zero. There is no update or delete of
a movement: a mistake is corrected by an adjustment.

Each depot and item has a balance row (models.StockBalance) that every movement adds its
change to in the same transaction. The balance row is locked before the stock is read
(SELECT … FOR UPDATE on PostgreSQL; on SQLite the first write takes the database's write
lock), so two issues cannot both spend the same last units and no update is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col, select

from gridcore.access import Actor, require_grid
from gridcore.models import (
    Depot,
    Household,
    MovementKind,
    RequestStatus,
    ResidentRequest,
    StockBalance,
    StockMovement,
    StockMovementCreate,
    SupplyItem,
    utcnow,
)
from gridcore.services.base import ValidationFailed, Write, validated, write
from gridcore.services.checks import (
    as_utc,
    get_row,
    time_in_future,
)

# Kinds record_stock_movement writes; transfers go through transfer_stock.
SINGLE_KINDS: tuple[MovementKind, ...] = (
    MovementKind.receipt,
    MovementKind.issue,
    MovementKind.adjustment,
)
NOTE_MAX = 300

_BALANCES = StockBalance.__table__  # type: ignore[attr-defined]


def lock_balance(session: Session, depot_id: int, item_id: int) -> int:
    """The depot's stock of the item, its balance row locked until the transaction ends.

    Every writer of the ledger calls it (inside its transaction) before it reads the stock
    it checks, then `add_to_balance` for each movement it appends. A pair with no movement
    yet gets a balance row of 0 first (a concurrent first movement of the same pair waits
    on it, or finds it).
    """
    return lock_balances(session, [(depot_id, item_id)])[(depot_id, item_id)]


def add_to_balance(
    session: Session, depot_id: int, item_id: int, change: int, movements: int = 1
) -> None:
    """Add `movements` movements' signed `change` to their (locked) balance row."""
    add_to_balances(session, {(depot_id, item_id): (change, movements)})


# Depots per statement when SQLite reads many balances at once: one bound parameter each,
# well below SQLite's limit.
_DEPOTS_PER_STATEMENT = 900

# A balance row of 0 for a pair that has none yet (executemany: one compiled statement
# however many pairs; a pair that has its row is left alone).
_NEW_BALANCE = (
    sqlite_insert(_BALANCES)
    .values(
        depot_id=bindparam("b_depot"), item_id=bindparam("b_item"), quantity=0, movements=0,
        updated_at=bindparam("b_at"),
    )
    .on_conflict_do_nothing()
)  # fmt: skip

# PostgreSQL takes the pairs as two arrays: a statement of three parameters for any number.
_PAIRS = "unnest(CAST(:depots AS INTEGER[]), CAST(:items AS INTEGER[]))"
_NEW_BALANCES_PG = text(
    "INSERT INTO stockbalance (depot_id, item_id, quantity, movements, updated_at) "
    f"SELECT d, i, 0, 0, :at FROM {_PAIRS} AS w(d, i) ON CONFLICT DO NOTHING"
)
_LOCK_BALANCES_PG = text(
    "SELECT depot_id, item_id, quantity FROM stockbalance "
    f"WHERE (depot_id, item_id) IN (SELECT * FROM {_PAIRS}) "
    "ORDER BY depot_id, item_id FOR UPDATE"
)
_ADD_TO_BALANCES_PG = text(
    "UPDATE stockbalance AS b SET quantity = b.quantity + c.change, "
    "movements = b.movements + c.n, updated_at = :at "
    "FROM unnest(CAST(:depots AS INTEGER[]), CAST(:items AS INTEGER[]), "
    "CAST(:changes AS INTEGER[]), CAST(:counts AS INTEGER[])) AS c(d, i, change, n) "
    "WHERE b.depot_id = c.d AND b.item_id = c.i"
)


def lock_balances(session: Session, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """`lock_balance` for many (depot, item) pairs at once: their stock, each row locked.

    Missing balance rows are made first, then the rows are read — locked in (depot, item)
    order on PostgreSQL, the order every writer locks them in; on SQLite the first write
    took the database's write lock. A few statements however many pairs: an import of
    10,000 movements locks every depot and item it touches in two (PostgreSQL) or a dozen
    (SQLite), each compiled once.
    """
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    moment = utcnow()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        arrays = {"depots": [d for d, _ in wanted], "items": [i for _, i in wanted]}
        connection.execute(_NEW_BALANCES_PG, {**arrays, "at": moment})
        rows = connection.execute(_LOCK_BALANCES_PG, arrays).all()
        return {(int(d), int(i)): int(q) for d, i, q in rows}
    connection.execute(
        _NEW_BALANCE, [{"b_depot": d, "b_item": i, "b_at": moment} for d, i in wanted]
    )
    # Every balance of the depots asked for (a depot has one per item, 25 in the demo),
    # then the pairs asked for among them: a bound parameter per depot, not per pair.
    asked = set(wanted)
    depots = sorted({d for d, _ in wanted})
    stock: dict[tuple[int, int], int] = {}
    for start in range(0, len(depots), _DEPOTS_PER_STATEMENT):
        rows = connection.execute(
            select(_BALANCES.c.depot_id, _BALANCES.c.item_id, _BALANCES.c.quantity).where(
                _BALANCES.c.depot_id.in_(depots[start : start + _DEPOTS_PER_STATEMENT])
            )
        ).all()
        stock.update({(int(d), int(i)): int(q) for d, i, q in rows if (d, i) in asked})
    return stock


# One statement for every balance an import moves (executemany with these parameters).
_ADD_TO_BALANCES = (
    update(_BALANCES)
    .where(_BALANCES.c.depot_id == bindparam("b_depot"), _BALANCES.c.item_id == bindparam("b_item"))
    .values(
        quantity=_BALANCES.c.quantity + bindparam("b_change"),
        movements=_BALANCES.c.movements + bindparam("b_movements"),
        updated_at=bindparam("b_at"),
    )
)


def add_to_balances(session: Session, changes: Mapping[tuple[int, int], tuple[int, int]]) -> None:
    """`add_to_balance` for many locked pairs: (depot, item) → (signed change, movements)."""
    if not changes:
        return
    moment = utcnow()
    moves = sorted(changes.items())
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            _ADD_TO_BALANCES_PG,
            {
                "depots": [d for (d, _), _ in moves],
                "items": [i for (_, i), _ in moves],
                "changes": [change for _, (change, _) in moves],
                "counts": [n for _, (_, n) in moves],
                "at": moment,
            },
        )
        return
    connection.execute(
        _ADD_TO_BALANCES,
        [
            {"b_depot": d, "b_item": i, "b_change": change, "b_movements": n, "b_at": moment}
            for (d, i), (change, n) in moves
        ],
    )


def stock_level(*, session: Session, depot_id: int, item_id: int) -> int:
    """The current stock of an item at a depot: its balance (0 when it never had any)."""
    found = session.exec(
        select(StockBalance.quantity).where(
            StockBalance.depot_id == depot_id, StockBalance.item_id == item_id
        )
    ).first()
    return int(found or 0)


def _signed(kind: MovementKind, quantity: int) -> tuple[int, str | None]:
    """The signed change for a movement entered as `quantity`, or the key of what is wrong."""
    if kind == MovementKind.adjustment:
        return quantity, None if quantity != 0 else "services.error.quantity_nonzero"
    if quantity <= 0:
        return 0, "services.error.quantity_positive"
    return (quantity if kind == MovementKind.receipt else -quantity), None


def _short(before: int, change: int) -> ValidationFailed:
    """The refusal of a movement the depot has not got the stock for (nothing is written)."""
    return ValidationFailed(
        {"quantity": "services.error.stock_below_zero"},
        {"stock": before, "quantity": -change},
    )


def _append(
    session: Session,
    op: Write,
    *,
    actor: Actor,
    movement: StockMovement,
    before: int,
    audit: dict[str, Any] | None = None,
) -> StockMovement:
    """Add a movement to the ledger and its change to the balance; audit it."""
    session.add(movement)
    add_to_balance(session, movement.depot_id, movement.item_id, movement.quantity)
    op.record(
        movement,
        {
            "depot_id": movement.depot_id,
            "item_id": movement.item_id,
            "kind": movement.kind,
            "quantity": movement.quantity,
            "stock_after": before + movement.quantity,
            **(audit or {}),
        },
    )
    return movement


def _recipient_errors(
    session: Session, movement_in: StockMovementCreate, errors: dict[str, str]
) -> int | None:
    """Check the household and request an issue went to; the household it names, if any."""
    household_id, request_id = movement_in.household_id, movement_in.request_id
    if movement_in.kind != MovementKind.issue:
        if household_id is not None:
            errors["household_id"] = "services.error.recipient_only_for_issue"
        if request_id is not None:
            errors["request_id"] = "services.error.recipient_only_for_issue"
        return None
    if household_id is not None and get_row(session, Household, household_id) is None:
        errors["household_id"] = "services.error.household_not_found"
    request = get_row(session, ResidentRequest, request_id)
    if request_id is not None and request is None:
        errors["request_id"] = "services.error.request_not_found"
    elif request is not None and request.status == RequestStatus.cancelled:
        errors["request_id"] = "services.error.request_cancelled"
    if request is not None and request.household_id is not None:
        if household_id is not None and household_id != request.household_id:
            errors["household_id"] = "services.error.request_other_household"
        return request.household_id
    return household_id


def record_stock_movement(
    *,
    session: Session,
    data: StockMovementCreate | Mapping[str, Any],
    actor: Actor,
    client_token: str | None = None,
) -> StockMovement:
    """Append a receipt, an issue or an adjustment (occurred_at defaults to now).

    An issue may name the household it went to, or the resident request it fulfils (the
    request's household is then recorded too). An adjustment needs a reason (note).
    """
    with write(
        session, actor=actor, entity="stock_movement", action="create", client_token=client_token
    ) as op:
        if (earlier := op.replayed(StockMovement)) is not None:
            return earlier
        raw = data.model_dump() if isinstance(data, SQLModel) else dict(data)
        if raw.get("occurred_at") in (None, ""):
            raw["occurred_at"] = utcnow()
        if isinstance(raw.get("note"), str):
            raw["note"] = raw["note"].strip() or None
        movement_in = validated(StockMovementCreate, raw)
        errors: dict[str, str] = {}
        if movement_in.kind not in SINGLE_KINDS:
            errors["kind"] = "services.error.use_transfer"
        signed, problem = _signed(movement_in.kind, movement_in.quantity)
        if problem is not None:
            errors["quantity"] = problem
        if movement_in.counterpart_depot_id is not None:
            errors["counterpart_depot_id"] = "services.error.no_counterpart"
        if movement_in.kind == MovementKind.adjustment and not movement_in.note:
            errors["note"] = "services.error.reason_required"
        if time_in_future(movement_in.occurred_at):
            errors["occurred_at"] = "services.error.time_in_future"
        household_id = _recipient_errors(session, movement_in, errors)
        depot = get_row(session, Depot, movement_in.depot_id)
        if depot is None:
            errors["depot_id"] = "services.error.depot_not_found"
        if get_row(session, SupplyItem, movement_in.item_id) is None:
            errors["item_id"] = "services.error.item_not_found"
        if errors or depot is None:
            raise ValidationFailed(errors)
        require_grid(actor, depot.area_id)
        before = lock_balance(session, movement_in.depot_id, movement_in.item_id)
        if before + signed < 0:
            raise _short(before, signed)
        movement = StockMovement(
            **movement_in.model_dump(exclude={"quantity", "occurred_at", "household_id"}),
            quantity=signed,
            occurred_at=as_utc(movement_in.occurred_at),
            household_id=household_id,
            created_by=actor.username,
        )
        recipient = {
            k: v
            for k, v in (("household_id", household_id), ("request_id", movement_in.request_id))
            if v is not None
        }
        _append(session, op, actor=actor, movement=movement, before=before, audit=recipient)
    return movement


def count_stock(
    *,
    session: Session,
    depot_id: int,
    item_id: int,
    counted: int,
    reason: str,
    actor: Actor,
    occurred_at: datetime | None = None,
    client_token: str | None = None,
) -> StockMovement | None:
    """Record a stock count: an adjustment by the difference from the balance, with a reason.

    A count that finds what the balance says writes no movement (the count is audited) and
    returns None.
    """
    with write(
        session, actor=actor, entity="stock_count", action="create", client_token=client_token
    ) as op:
        if op.replayed_id is not None:
            return op.replayed(StockMovement)
        moment = as_utc(occurred_at or utcnow())
        note = (reason or "").strip()
        errors: dict[str, str] = {}
        if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0:
            errors["counted"] = "services.error.count_not_negative"
        if not note:
            errors["note"] = "services.error.reason_required"
        elif len(note) > NOTE_MAX:
            errors["note"] = "services.error.too_long"
        if time_in_future(moment):
            errors["occurred_at"] = "services.error.time_in_future"
        depot = get_row(session, Depot, depot_id)
        if depot is None:
            errors["depot_id"] = "services.error.depot_not_found"
        if get_row(session, SupplyItem, item_id) is None:
            errors["item_id"] = "services.error.item_not_found"
        if errors or depot is None:
            raise ValidationFailed(errors)
        require_grid(actor, depot.area_id)
        before = lock_balance(session, depot_id, item_id)
        difference = counted - before
        if difference == 0:
            op.record(
                None,
                {"depot_id": depot_id, "item_id": item_id, "counted": counted, "difference": 0},
            )
            return None
        movement = StockMovement(
            item_id=item_id,
            depot_id=depot_id,
            kind=MovementKind.adjustment,
            quantity=difference,
            occurred_at=moment,
            note=note,
            created_by=actor.username,
        )
        _append(
            session, op, actor=actor, movement=movement, before=before, audit={"counted": counted}
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
        note = (note or "").strip() or None
        errors: dict[str, str] = {}
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            errors["quantity"] = "services.error.quantity_positive"
        if from_depot_id == to_depot_id:
            errors["to_depot_id"] = "services.error.same_depot"
        if time_in_future(moment):
            errors["occurred_at"] = "services.error.time_in_future"
        if note is not None and len(note) > NOTE_MAX:
            errors["note"] = "services.error.too_long"
        source = get_row(session, Depot, from_depot_id)
        target = get_row(session, Depot, to_depot_id)
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
        # Lock in depot order, so that two opposite transfers cannot wait on each other.
        levels = {
            d: lock_balance(session, d, item_id) for d in sorted({from_depot_id, to_depot_id})
        }
        before = levels[from_depot_id]
        if before < quantity:
            raise _short(before, -quantity)
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
        add_to_balance(session, from_depot_id, item_id, -quantity)
        add_to_balance(session, to_depot_id, item_id, quantity)
        op.record(
            out,
            {
                "item_id": item_id,
                "from_depot_id": from_depot_id,
                "to_depot_id": to_depot_id,
                "quantity": quantity,
                "transfer_in_id": into.id,
                "stock_after": before - quantity,
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
