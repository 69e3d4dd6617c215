"""The stock ledger: signed movements, never below zero, transfers in pairs, all or nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import gridcore.services.base as write_path
import gridcore.services.stock as stock_service
from gridcore.access import PermissionDenied
from gridcore.models import Depot, StockBalance, StockMovement, SupplyItem, utcnow
from gridcore.services.base import ValidationFailed
from gridcore.services.stock import (
    count_stock,
    record_stock_movement,
    stock_level,
    transfer_stock,
)
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
    assert grown(before, session) == {
        "stockmovement": 2,
        "stockbalance": 1,
        "auditentry": 1,
        "replaykey": 1,
    }


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
    assert public == [
        "add_to_balance",
        "add_to_balances",
        "count_stock",
        "lock_balance",
        "lock_balances",
        "record_stock_movement",
        "stock_level",
        "transfer_stock",
    ]


# --------------------------------------------------------------------------- balances


def _balances_and_ledger(session: Session) -> tuple[dict[tuple[int, int], int], dict[Any, int]]:
    """Every balance row, and the ledger's sum per (depot, item), read afresh."""
    session.expire_all()
    balances = {
        (b.depot_id, b.item_id): b.quantity for b in session.exec(select(StockBalance)).all()
    }
    ledger = {
        (d, i): int(q)
        for d, i, q in session.exec(
            select(
                StockMovement.depot_id, StockMovement.item_id, func.sum(StockMovement.quantity)
            ).group_by(StockMovement.depot_id, StockMovement.item_id)
        ).all()
    }
    return balances, ledger


@pytest.mark.both_backends  # the balance row is locked and updated in the write's transaction
def test_the_balance_is_the_ledgers_sum_after_every_kind_of_write(
    session: Session, world: World, item: SupplyItem
) -> None:
    source = make_depot(session, area=world.grids[0], name="Grid 1 depot")
    target = make_depot(session, area=world.grids[1], name="Grid 2 depot")
    writes: list[tuple[str, Callable[[], Any], dict[tuple[int, int], int]]] = [
        ("receipt", lambda: receive(session, depot=source, item=item, quantity=40), {(1, 1): 40}),
        (
            "issue",
            lambda: record_stock_movement(
                session=session, data=_move(source, item, "issue", 7), actor=LEADER
            ),
            {(1, 1): 33},
        ),
        (
            "transfer",
            lambda: transfer_stock(
                session=session,
                item_id=item.id,
                from_depot_id=source.id,
                to_depot_id=target.id,
                quantity=13,
                actor=LEADER,
            ),
            {(1, 1): 20, (2, 1): 13},
        ),
        (
            "adjustment",
            lambda: record_stock_movement(
                session=session,
                data=_move(target, item, "adjustment", -3, note="3 found broken"),
                actor=LEADER,
            ),
            {(1, 1): 20, (2, 1): 10},
        ),
        (
            "count",
            lambda: count_stock(
                session=session,
                depot_id=source.id,
                item_id=item.id,
                counted=18,
                reason="monthly count",
                actor=LEADER,
            ),
            {(1, 1): 18, (2, 1): 10},
        ),
    ]
    ids = {1: source.id, 2: target.id}
    for kind, do, expected in writes:
        do()
        balances, ledger = _balances_and_ledger(session)
        assert balances == ledger, f"after the {kind}"
        assert balances == {(ids[d], item.id): q for (d, _), q in expected.items()}, kind
        assert _level(session, source, item) == expected[(1, 1)]


def test_a_count_adjusts_by_the_difference_and_needs_a_reason(
    session: Session, depot: Depot, item: SupplyItem
) -> None:
    receive(session, depot=depot, item=item, quantity=25)
    before = table_counts(session)
    args: dict[str, Any] = {"depot_id": depot.id, "item_id": item.id, "actor": LEADER}
    for counted, reason, errors in (
        (20, " ", {"note": "services.error.reason_required"}),
        (-1, "count", {"counted": "services.error.count_not_negative"}),
    ):
        with pytest.raises(ValidationFailed) as failed:
            count_stock(session=session, counted=counted, reason=reason, **args)
        assert failed.value.errors == errors
    assert grown(before, session) == {}
    found = count_stock(session=session, counted=21, reason="4 went missing", **args)
    assert found is not None
    assert (found.kind, found.quantity, found.note) == ("adjustment", -4, "4 went missing")
    # A count that matches writes no movement, only its audit entry.
    assert count_stock(session=session, counted=21, reason="weekly count", **args) is None
    assert grown(before, session) == {"stockmovement": 1, "auditentry": 2}
    assert _level(session, depot, item) == 21


def test_an_issue_names_its_household_or_request(
    session: Session, world: World, depot: Depot, item: SupplyItem
) -> None:
    resident = make_resident(session, building=world.buildings[0][0])
    other = make_resident(session, building=world.buildings[0][1], unit="2-202", name="李四")
    request = make_request(session, grid=world.grids[0], household_id=resident.household_id)
    receive(session, depot=depot, item=item, quantity=10)
    to_request = record_stock_movement(
        session=session, data=_move(depot, item, "issue", 2, request_id=request.id), actor=LEADER
    )
    # The request's household is recorded with it.
    assert (to_request.request_id, to_request.household_id) == (request.id, resident.household_id)
    to_home = record_stock_movement(
        session=session,
        data=_move(depot, item, "issue", 1, household_id=other.household_id),
        actor=LEADER,
    )
    assert (to_home.request_id, to_home.household_id) == (None, other.household_id)
    before = table_counts(session)
    for fields, errors in (
        ({"kind": "receipt", "household_id": other.household_id},
         {"household_id": "services.error.recipient_only_for_issue"}),
        ({"request_id": 999}, {"request_id": "services.error.request_not_found"}),
        ({"household_id": 999}, {"household_id": "services.error.household_not_found"}),
        ({"request_id": request.id, "household_id": other.household_id},
         {"household_id": "services.error.request_other_household"}),
    ):  # fmt: skip
        data = {**_move(depot, item, "issue", 1), **fields}
        with pytest.raises(ValidationFailed) as failed:
            record_stock_movement(session=session, data=data, actor=LEADER)
        assert failed.value.errors == errors
    # An issue the depot cannot cover is refused with what it holds.
    with pytest.raises(ValidationFailed) as failed:
        record_stock_movement(
            session=session, data=_move(depot, item, "issue", 8, request_id=request.id),
            actor=LEADER,
        )  # fmt: skip
    assert failed.value.errors == {"quantity": "services.error.stock_below_zero"}
    assert failed.value.values == {"stock": 7, "quantity": 8}
    assert grown(before, session) == {}


def _receipts(engine: Engine, depot: Depot, item: SupplyItem, writers: int, each: int) -> None:
    """`writers` sessions at once, each receiving 1 unit `each` times."""
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with Session(engine) as own:
                barrier.wait()
                for _ in range(each):
                    receive(own, depot=depot, item=item, quantity=1)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []


@pytest.mark.both_backends  # two connections writing the same balance row
def test_two_writers_on_one_depot_and_item_lose_no_update(
    engine: Engine, session: Session, depot: Depot, item: SupplyItem
) -> None:
    _receipts(engine, depot, item, writers=2, each=15)
    balances, ledger = _balances_and_ledger(session)
    assert balances == ledger == {(depot.id, item.id): 30}


@pytest.mark.both_backends  # the pairs as arrays (PostgreSQL) or per depot (SQLite), FOR UPDATE
@pytest.mark.counters_unchecked  # the balances move here without the ledger lines an import adds
@pytest.mark.parametrize("depots_per_statement", [900, 2])
def test_balances_locked_and_moved_together_are_those_locked_and_moved_one_by_one(
    session: Session,
    world: World,
    item: SupplyItem,
    depots_per_statement: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SQLite reads the balances of a few depots per statement; 2 makes three statements here.
    monkeypatch.setattr(stock_service, "_DEPOTS_PER_STATEMENT", depots_per_statement)
    other = make_item(session, code="GLOVE", name="Gloves")
    depots = [make_depot(session, area=world.grids[i % 2], name=f"Depot {i}") for i in range(5)]
    receive(session, depot=depots[0], item=item, quantity=40)
    receive(session, depot=depots[2], item=item, quantity=7)
    # Balances of the same depots that are not asked for: neither returned nor moved.
    receive(session, depot=depots[0], item=other, quantity=11)
    receive(session, depot=depots[4], item=other, quantity=3)
    pairs = [(int(d.id or 0), int(item.id or 0)) for d in depots]
    glove = (int(depots[4].id or 0), int(other.id or 0))
    # Pairs with and without a balance row, given unordered and twice.
    held = stock_service.lock_balances(session, [pairs[3], *pairs[:4], pairs[0], glove])
    assert held == {pairs[0]: 40, pairs[1]: 0, pairs[2]: 7, pairs[3]: 0, glove: 3}
    stock_service.add_to_balances(session, {pairs[0]: (-15, 2), pairs[1]: (9, 1), glove: (-3, 1)})
    session.commit()
    rows = {
        (b.depot_id, b.item_id): (b.quantity, b.movements)
        for b in session.exec(select(StockBalance)).all()
    }
    assert rows == {
        pairs[0]: (25, 3),
        pairs[1]: (9, 1),
        pairs[2]: (7, 1),
        pairs[3]: (0, 0),
        (int(depots[0].id or 0), int(other.id or 0)): (11, 1),
        glove: (0, 2),
    }
    assert stock_service.lock_balances(session, []) == {}
