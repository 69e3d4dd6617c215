"""Stock-movement files on the tiny world (answers: gridcore/demo/tiny.py, "Supplies").

Depots "Tiny Street depot" (1) and "Grid 1-1 depot" (2, in T-C1-G1); stock: street MASK
350, KIT 140; grid MASK 30, KIT 18, RICE 20. The ledger has 21 movements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from factories import VIEWER, grid_worker, table_counts
from sqlalchemy import func
from sqlmodel import Session, select

from gridcore.access import SYSTEM, PermissionDenied
from gridcore.io.report import ImportReport
from gridcore.io.stock import COLUMNS, export_stock_movements, import_stock_movements
from gridcore.io.tabular import Table, read_table, write_table
from gridcore.models import Area, Household, StockBalance, StockMovement

if TYPE_CHECKING:
    from tiny_world import TinyWorld

pytestmark = pytest.mark.both_backends  # bulk import and export: the dialect matters

STREET, GRID = "Tiny Street depot", "Grid 1-1 depot"
HEADER = "occurred_at,depot,item_code,kind,quantity,counterpart_depot,household_id,note"


def _table(*lines: str, header: str = HEADER, fmt: str = "csv") -> Table:
    csv = "\n".join((header, *lines)).encode()
    if fmt == "csv":
        return read_table(data=csv, fmt="csv")
    plain = read_table(data=csv, fmt="csv")
    data = write_table(columns=plain.columns, rows=[cells for _, cells in plain.rows], fmt=fmt)
    return read_table(data=data, fmt=fmt)


def _import(session: Session, table: Table, actor: Any = SYSTEM, **kw: Any) -> ImportReport:
    return import_stock_movements(session=session, table=table, actor=actor, **kw)


def _stock(session: Session) -> dict[tuple[int, int], int]:
    session.expire_all()
    return {(b.depot_id, b.item_id): b.quantity for b in session.exec(select(StockBalance))}


def _ledger(session: Session) -> dict[tuple[int, int], int]:
    rows = session.exec(
        select(
            StockMovement.depot_id, StockMovement.item_id, func.sum(StockMovement.quantity)
        ).group_by(StockMovement.depot_id, StockMovement.item_id)
    ).all()
    return {(d, i): int(q) for d, i, q in rows}


def _problems(report: ImportReport) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.key) for p in report.problems]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_new_movements_are_appended_and_the_balances_follow(
    tiny_session: Session, fmt: str
) -> None:
    session = tiny_session
    household = session.exec(select(Household.id)).first()
    table = _table(
        f"2026-03-21T08:00:00+08:00,{STREET},RICE,入库,40,,,",
        f"2026-03-21 09:00,{STREET},RICE,transfer_out,15,{GRID},,",  # written positive
        f"2026-03-21T10:00:00+08:00,2,RICE,issue,-3,,{household},",  # the grid depot's number
        f"2026-03-21T11:00:00+08:00,{GRID},KIT,盘点调整,-1,,,one box wet",
        fmt=fmt,
    )
    before = table_counts(session)
    report = _import(session, table)
    assert report.ok, report.frame()
    assert (report.created, report.written) == (4, True)
    # Four rows, five movements (the transfer's two halves); one new balance (street RICE).
    grown = {k: v - before.get(k, 0) for k, v in table_counts(session).items()}
    assert {k: v for k, v in grown.items() if v} == {
        "stockmovement": 5,
        "stockbalance": 1,
        "auditentry": 1,
    }
    stock = _stock(session)
    assert (stock[(1, 3)], stock[(2, 3)], stock[(2, 2)]) == (25, 32, 17)
    assert stock == _ledger(session)
    issue = session.exec(select(StockMovement).where(StockMovement.quantity == -3)).one()
    assert (issue.kind, issue.household_id, issue.created_by) == ("issue", household, "system")


def test_a_movement_below_zero_is_refused_with_the_stock_and_nothing_is_written(
    tiny_session: Session,
) -> None:
    session = tiny_session
    before, stock = table_counts(session), _stock(session)
    table = _table(
        f"2026-03-21T08:00:00+08:00,{GRID},KIT,issue,10,,,",  # 18 → 8
        f"2026-03-21T09:00:00+08:00,{GRID},KIT,issue,9,,,",  # only 8 left
        f"2026-03-21T09:30:00+08:00,{GRID},MASK,transfer_out,31,{STREET},,",  # 30 there
    )
    report = _import(session, table)
    assert _problems(report) == [
        (3, "quantity", "io.problem.stock_below_zero"),
        (4, "quantity", "io.problem.stock_below_zero"),
    ]
    assert [p.params for p in report.problems] == [{"stock": 8}, {"stock": 30}]
    assert not report.written
    assert table_counts(session) == before and _stock(session) == stock


def test_every_problem_of_a_row_is_reported(tiny: TinyWorld, tiny_session: Session) -> None:
    table = _table(
        "2026-03-21T08:00:00+08:00,Nowhere,MASK,receipt,5,,,",
        f"2026-03-21T08:00:00+08:00,{GRID},SOAP,receipt,5,,,",
        f"2026-03-21T08:00:00+08:00,{GRID},MASK,gift,5,,,",
        f"2099-01-01T08:00:00+08:00,{GRID},MASK,receipt,-5,,,",
        f"2026-03-21T08:00:00+08:00,{GRID},MASK,adjustment,-2,,,",
        f"2026-03-21T08:00:00+08:00,{GRID},MASK,transfer_in,2,{STREET},,",
        f"2026-03-21T08:00:00+08:00,{GRID},MASK,transfer_out,2,,,",
        f"2026-03-21T08:00:00+08:00,{GRID},MASK,receipt,2,,99999,",
        f"2026-03-21T08:00:00+08:00,{GRID},MASK,issue,2,,99999,",
        f"2026-03-21T08:00:00+08:00,{GRID},MASK,issue,0,,,",
    )
    report = _import(tiny_session, table, dry_run=True)
    assert _problems(report) == [
        (2, "depot", "io.problem.unknown_depot"),
        (3, "item_code", "io.problem.unknown_item"),
        (4, "kind", "io.problem.bad_movement_kind"),
        (5, "occurred_at", "io.problem.in_future"),
        (5, "quantity", "io.problem.receipt_negative"),
        (6, "note", "io.problem.reason_required"),
        (7, "kind", "io.problem.transfer_in_alone"),
        (8, "counterpart_depot", "io.problem.counterpart_required"),
        (9, "household_id", "io.problem.recipient_only_for_issue"),
        (10, "household_id", "io.problem.unknown_household"),
        (11, "quantity", "io.problem.quantity_nonzero"),
    ]


def test_a_grid_worker_moves_stock_of_their_grids_depots_only(
    tiny: TinyWorld, tiny_session: Session
) -> None:
    session = tiny_session
    g1 = session.get(Area, tiny.gid("T-C1-G1"))
    assert g1 is not None
    worker = grid_worker(g1)
    table = _table(
        f"2026-03-21T08:00:00+08:00,{GRID},RICE,receipt,5,,,",
        f"2026-03-21T08:00:00+08:00,{STREET},RICE,receipt,5,,,",
        f"2026-03-21T08:00:00+08:00,{GRID},MASK,transfer_out,5,{STREET},,",
    )
    report = _import(session, table, actor=worker, dry_run=True)
    assert _problems(report) == [
        (3, "depot", "io.problem.outside_scope"),
        (4, "counterpart_depot", "io.problem.outside_scope"),
    ]
    _, rows = export_stock_movements(session=session, actor=worker)
    depots = {row[2] for row in rows}
    assert depots == {GRID}
    with pytest.raises(PermissionDenied):
        _import(session, table, actor=VIEWER)


def test_an_exported_row_that_was_changed_is_a_conflict(tiny_session: Session) -> None:
    session = tiny_session
    columns, rows = export_stock_movements(session=session, actor=SYSTEM)
    assert columns == list(COLUMNS)
    first = next(iter(rows))
    assert first[1:6] == ["2026-03-10T09:00:00+08:00", STREET, "MASK", "receipt", 500]
    first[5] = 600
    table = read_table(data=write_table(columns=columns, rows=[first], fmt="csv"), fmt="csv")
    report = _import(session, table)
    assert _problems(report) == [(2, "quantity", "io.problem.conflict")]
    assert report.problems[0].params == {"stored": 500}
