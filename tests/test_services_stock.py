"""The stock ledger: signed movements, never below zero, transfers in pairs, all or nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

import gridcore.services.base as write_path
import gridcore.services.stock as stock_service
from gridcore.access import PermissionDenied
from gridcore.models import Depot, SupplyItem, utcnow
from gridcore.services.base import ValidationFailed
from gridcore.services.stock import record_stock_movement, stock_level, transfer_stock
from tests.factories import (
    LEADER,
    VIEWER,
    World,
    grid_worker,
    grown,
    make_depot,
    make_item,
    make_street_with_grids,
    receive,
    table_counts,
)


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], World]:
    """Street T: grids T-C1-G1 and T-C1-G2 with two buildings each (built once a run)."""
    return make_street_with_grids


@pytest.fixture
def item(session: Session, world: World) -> SupplyItem:
    return make_item(session)


@pytest.fixture
def depot(session: Session, world: World) -> Depot:
    return make_depot(session, area=world.grids[0], name="Grid 1 depot")


def _move(
    depot: Depot, item: SupplyItem, kind: str, quantity: Any, **fields: Any
) -> dict[str, Any]:
    return {"depot_id": depot.id, "item_id": item.id, "kind": kind, "quantity": quantity, **fields}


def _level(session: Session, depot: Depot, item: SupplyItem) -> int:
    assert depot.id is not None and item.id is not None
    return stock_level(session=session, depot_id=depot.id, item_id=item.id)


@pytest.mark.both_backends  # the stock level summed in the write's transaction
def test_receipts_and_issues_store_the_signed_change(
    session: Session, depot: Depot, item: SupplyItem
) -> None:
    before = table_counts(session)
    receipt = record_stock_movement(
        session=session, data=_move(depot, item, "receipt", 100), actor=LEADER
    )
    issue = record_stock_movement(
        session=session, data=_move(depot, item, "issue", 30), actor=LEADER
    )
    count = record_stock_movement(
        session=session,
        data=_move(depot, item, "adjustment", -5, note="counted 65"),
        actor=LEADER,
    )
    assert (receipt.quantity, issue.quantity, count.quantity) == (100, -30, -5)
    assert issue.created_by == "lee"
    assert _level(session, depot, item) == 65
    assert grown(before, session) == {"stockmovement": 3, "stockbalance": 1, "auditentry": 3}


@pytest.mark.both_backends  # row locks (FOR UPDATE) and the transaction
def test_an_issue_may_empty_the_depot_but_not_go_below_zero(
    session: Session, depot: Depot, item: SupplyItem
) -> None:
    receive(session, depot=depot, item=item, quantity=10)
    before = table_counts(session)
    for kind, quantity in (("issue", 11), ("adjustment", -11)):
        with pytest.raises(ValidationFailed) as failed:
            record_stock_movement(
                session=session,
                data=_move(depot, item, kind, quantity, note="lost"),
                actor=LEADER,
            )
        assert failed.value.errors == {"quantity": "services.error.stock_below_zero"}
    assert grown(before, session) == {}
    record_stock_movement(session=session, data=_move(depot, item, "issue", 10), actor=LEADER)
    assert _level(session, depot, item) == 0


@pytest.mark.parametrize(
    ("kind", "quantity", "fields", "errors"),
    [
        ("issue", -5, {}, {"quantity": "services.error.quantity_positive"}),
        ("receipt", 0, {}, {"quantity": "services.error.quantity_positive"}),
        ("adjustment", 0, {"note": "x"}, {"quantity": "services.error.quantity_nonzero"}),
        ("adjustment", -2, {"note": "  "}, {"note": "services.error.reason_required"}),
        ("transfer_out", 5, {}, {"kind": "services.error.use_transfer"}),
        ("gift", 5, {}, {"kind": "services.error.invalid_choice"}),
        ("receipt", "many", {}, {"quantity": "services.error.not_a_whole_number"}),
        ("receipt", 5, {"depot_id": 999}, {"depot_id": "services.error.depot_not_found"}),
        ("receipt", 5, {"item_id": 999}, {"item_id": "services.error.item_not_found"}),
        (
            "receipt",
            5,
            {"counterpart_depot_id": 1},
            {"counterpart_depot_id": "services.error.no_counterpart"},
        ),
        (
            "receipt",
            5,
            {"occurred_at": utcnow() + timedelta(hours=1)},
            {"occurred_at": "services.error.time_in_future"},
        ),
    ],
)
def test_bad_movements_write_nothing(
    session: Session,
    depot: Depot,
    item: SupplyItem,
    kind: str,
    quantity: Any,
    fields: dict[str, Any],
    errors: dict[str, str],
) -> None:
    before = table_counts(session)
    with pytest.raises(ValidationFailed) as failed:
        record_stock_movement(
            session=session, data=_move(depot, item, kind, quantity, **fields), actor=LEADER
        )
    assert failed.value.errors == errors
    assert grown(before, session) == {}


def test_permissions(session: Session, world: World, item: SupplyItem) -> None:
    g1, g2 = world.grids
    grid_depot = make_depot(session, area=g1)
    street_depot = make_depot(session, area=world.street, name="Street store", level="street")
    before = table_counts(session)
    for actor, depot in (
        (VIEWER, grid_depot),
        (grid_worker(g2), grid_depot),
        (grid_worker(g1), street_depot),  # the street's store is not a grid's
    ):
        with pytest.raises(PermissionDenied):
            record_stock_movement(
                session=session, data=_move(depot, item, "receipt", 5), actor=actor
            )
    assert grown(before, session) == {}
    record_stock_movement(
        session=session, data=_move(grid_depot, item, "receipt", 5), actor=grid_worker(g1)
    )
    record_stock_movement(
        session=session, data=_move(street_depot, item, "receipt", 5), actor=LEADER
    )
    assert grown(before, session) == {"stockmovement": 2, "stockbalance": 2, "auditentry": 2}


@pytest.mark.both_backends  # the replay check searches the audit log with LIKE
def test_a_double_click_issues_once(session: Session, depot: Depot, item: SupplyItem) -> None:
    receive(session, depot=depot, item=item, quantity=10)
    before = table_counts(session)
    first = record_stock_movement(
        session=session, data=_move(depot, item, "issue", 4), actor=LEADER, client_token="issue-001"
    )
    again = record_stock_movement(
        session=session, data=_move(depot, item, "issue", 4), actor=LEADER, client_token="issue-001"
    )
    assert again.id == first.id
    assert _level(session, depot, item) == 6
    assert grown(before, session) == {"stockmovement": 1, "auditentry": 1, "replaykey": 1}


@pytest.mark.both_backends  # all or nothing: the transaction
def test_a_transfer_writes_a_pair_in_one_transaction(
    session: Session, world: World, item: SupplyItem
) -> None:
    source = make_depot(session, area=world.street, name="Street store", level="street")
    target = make_depot(session, area=world.grids[0])
    receive(session, depot=source, item=item, quantity=50)
    before = table_counts(session)
    out, into = transfer_stock(
        session=session,
        item_id=item.id,
        from_depot_id=source.id,
        to_depot_id=target.id,
        quantity=20,
        actor=LEADER,
    )
    assert grown(before, session) == {"stockmovement": 2, "stockbalance": 1, "auditentry": 1}
    assert (out.kind, out.quantity, out.counterpart_depot_id) == ("transfer_out", -20, target.id)
    assert (into.kind, into.quantity, into.counterpart_depot_id) == ("transfer_in", 20, source.id)
    assert out.occurred_at == into.occurred_at
    assert (_level(session, source, item), _level(session, target, item)) == (30, 20)


@pytest.mark.both_backends  # all or nothing: the transaction
def test_a_transfer_that_fails_half_way_writes_nothing(
    session: Session, world: World, item: SupplyItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_depot(session, area=world.grids[0], name="Grid 1 depot")
    target = make_depot(session, area=world.grids[1], name="Grid 2 depot")
    receive(session, depot=source, item=item, quantity=50)
    before = table_counts(session)

    def broken_audit(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(write_path, "audit", broken_audit)
    with pytest.raises(RuntimeError):
        transfer_stock(
            session=session,
            item_id=item.id,
            from_depot_id=source.id,
            to_depot_id=target.id,
            quantity=20,
            actor=LEADER,
        )
    assert grown(before, session) == {}
    assert (_level(session, source, item), _level(session, target, item)) == (50, 0)


def test_transfer_checks(session: Session, world: World, item: SupplyItem) -> None:
    g1, g2 = world.grids
    source = make_depot(session, area=g1, name="Grid 1 depot")
    target = make_depot(session, area=g2, name="Grid 2 depot")
    receive(session, depot=source, item=item, quantity=5)
    before = table_counts(session)
    for quantity, to_depot, errors in (
        (6, target.id, {"quantity": "services.error.stock_below_zero"}),
        (0, target.id, {"quantity": "services.error.quantity_positive"}),
        (2, source.id, {"to_depot_id": "services.error.same_depot"}),
        (2, 999, {"to_depot_id": "services.error.depot_not_found"}),
    ):
        with pytest.raises(ValidationFailed) as failed:
            transfer_stock(
                session=session,
                item_id=item.id,
                from_depot_id=source.id,
                to_depot_id=to_depot,
                quantity=quantity,
                actor=LEADER,
            )
        assert failed.value.errors == errors
    # A grid worker of the source grid cannot push stock into another grid's depot.
    with pytest.raises(PermissionDenied):
        transfer_stock(
            session=session,
            item_id=item.id,
            from_depot_id=source.id,
            to_depot_id=target.id,
            quantity=2,
            actor=grid_worker(g1),
        )
    assert grown(before, session) == {}
    transfer_stock(
        session=session,
        item_id=item.id,
        from_depot_id=source.id,
        to_depot_id=target.id,
        quantity=2,
        actor=grid_worker(g1, g2),
    )
    assert grown(before, session) == {"stockmovement": 2, "stockbalance": 1, "auditentry": 1}


def test_a_double_click_transfers_once(session: Session, world: World, item: SupplyItem) -> None:
    source = make_depot(session, area=world.grids[0], name="Grid 1 depot")
    target = make_depot(session, area=world.grids[1], name="Grid 2 depot")
    receive(session, depot=source, item=item, quantity=5)
    args: dict[str, Any] = {
        "item_id": item.id,
        "from_depot_id": source.id,
        "to_depot_id": target.id,
        "quantity": 3,
        "actor": LEADER,
        "client_token": "move-0001",
    }
    before = table_counts(session)
    first = transfer_stock(session=session, **args)
    again = transfer_stock(session=session, **args)
    assert [m.id for m in again] == [m.id for m in first]
    assert grown(before, session) == {"stockmovement": 2, "stockbalance": 1, "auditentry": 1, "replaykey": 1}


def _race(engine: Engine, depot: Depot, item: SupplyItem, quantity: int) -> list[str]:
    """Two sessions issue `quantity` at the same moment; what each was told."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def issue() -> None:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                record_stock_movement(
                    session=own, data=_move(depot, item, "issue", quantity), actor=LEADER
                )
                outcomes.append("issued")
            except ValidationFailed as exc:
                outcomes.append(exc.errors["quantity"])

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


@pytest.mark.both_backends  # locking between two connections
def test_two_issues_at_once_cannot_spend_the_same_units(
    engine: Engine, session: Session, depot: Depot, item: SupplyItem
) -> None:
    """Two users issue 6 of the last 10 at the same moment: one wins, the other is refused."""
    for _ in range(3):
        receive(session, depot=depot, item=item, quantity=10 - _level(session, depot, item))
        assert _race(engine, depot, item, 6) == ["issued", "services.error.stock_below_zero"]
        session.expire_all()
        assert _level(session, depot, item) == 4


def test_the_ledger_is_only_ever_appended_to(
    engine: Engine, session: Session, world: World, item: SupplyItem
) -> None:
    """No statement the stock services send updates or deletes a movement."""
    source = make_depot(session, area=world.grids[0], name="Grid 1 depot")
    target = make_depot(session, area=world.grids[1], name="Grid 2 depot")
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.lower())

    event.listen(engine, "before_cursor_execute", record)
    try:
        receive(session, depot=source, item=item, quantity=9)
        record_stock_movement(session=session, data=_move(source, item, "issue", 2), actor=LEADER)
        record_stock_movement(
            session=session,
            data=_move(source, item, "adjustment", -1, note="broken"),
            actor=LEADER,
        )
        transfer_stock(
            session=session,
            item_id=item.id,
            from_depot_id=source.id,
            to_depot_id=target.id,
            quantity=3,
            actor=LEADER,
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert sum("insert into stockmovement" in s for s in statements) == 5
    assert [s for s in statements if "update stockmovement" in s or "delete from stock" in s] == []
    public = sorted(
        name
        for name, value in vars(stock_service).items()
        if callable(value)
        and getattr(value, "__module__", "") == stock_service.__name__
        and not name.startswith("_")
    )
    assert public == ["count_stock", "record_stock_movement", "stock_level", "transfer_stock"]
