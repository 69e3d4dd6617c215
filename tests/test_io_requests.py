"""Requests and tasks files: new rows added in one transaction, problems by row, dry runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from factories import (
    LEADER,
    VIEWER,
    World,
    count,
    grid_worker,
    make_item,
    make_resident,
    make_street_with_grids,
    make_worker,
)
from sqlmodel import Session, select

from gridcore.access import PermissionDenied
from gridcore.io import requests as request_files
from gridcore.io import tasks as task_files
from gridcore.io.tabular import Table, read_table, write_table
from gridcore.models import AuditEntry, ResidentRequest, Task

pytestmark = pytest.mark.both_backends  # bulk import: the dialect matters


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], World]:
    """Street T: grids T-C1-G1 and T-C1-G2 with two buildings each (built once a run)."""
    return make_street_with_grids


def _table(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Table:
    data = write_table(
        columns=list(columns), rows=[[r.get(c, "") for c in columns] for r in rows], fmt="csv"
    )
    return read_table(data=data, fmt="csv")


def test_new_requests_in_one_transaction_and_problems_by_row(
    session: Session, world: World
) -> None:
    g1, g2 = world.grids
    make_resident(session, building=world.buildings[0][0], unit="3-502")
    make_item(session, code="RICE", name="Rice")
    good = [
        {"grid_code": g1.code, "building_code": world.buildings[0][0].code, "unit": "3-502",
         "category": "食品", "item_code": "RICE", "quantity": "2",
         "created_at": "2026-03-20 08:00"},
        {"grid_code": g1.code, "category": "medical_care", "urgency": "紧急",
         "description": "needs a doctor"},
    ]  # fmt: skip
    bad = [
        {"grid_code": g2.code, "category": "other"},  # outside the worker's grid
        {"grid_code": g1.code, "category": "money"},
        {"grid_code": g1.code, "category": "food", "quantity": "2"},  # no item
        {"grid_code": g1.code, "category": "food", "item_code": "NONE", "quantity": "1"},
        {"grid_code": g1.code, "building_code": world.buildings[0][0].code, "unit": "9-9",
         "category": "food"},  # no such flat
    ]  # fmt: skip
    worker = grid_worker(g1)
    table = _table(request_files.COLUMNS, good + bad)
    report = request_files.import_requests(session=session, table=table, actor=worker)
    assert not report.ok and not report.written
    assert [(p.row, p.key) for p in report.problems] == [
        (4, "io.problem.outside_scope"),
        (5, "io.problem.bad_choice"),
        (6, "io.problem.item_needed"),
        (7, "io.problem.unknown_item"),
        (8, "io.problem.unknown_flat"),
    ]
    assert count(session, ResidentRequest) == 0
    dry = request_files.import_requests(
        session=session, table=_table(request_files.COLUMNS, good), actor=worker, dry_run=True
    )
    assert (dry.ok, dry.created, dry.written) == (True, 2, False)
    assert count(session, ResidentRequest) == 0
    done = request_files.import_requests(
        session=session, table=_table(request_files.COLUMNS, good), actor=worker
    )
    assert (done.created, done.written) == (2, True)
    stored = session.exec(select(ResidentRequest).order_by(ResidentRequest.id)).all()
    assert [(r.category, r.urgency, r.quantity, r.status) for r in stored] == [
        ("food", "normal", 2, "new"),
        ("medical_care", "urgent", None, "new"),
    ]
    assert stored[0].household_id is not None and stored[1].household_id is None
    audit = session.exec(select(AuditEntry).where(AuditEntry.action == "import")).one()
    assert audit.entity == "request"
    # Its own export, imported again, changes nothing.
    columns, rows = request_files.export_requests(session=session, actor=LEADER)
    exported = [dict(zip(columns, r, strict=True)) for r in rows]
    again = request_files.import_requests(
        session=session, table=_table(tuple(columns), exported), actor=LEADER
    )
    assert (again.ok, again.created, again.unchanged) == (True, 0, 2)
    with pytest.raises(PermissionDenied):
        request_files.export_requests(session=session, actor=VIEWER)


def test_new_tasks_go_to_the_grids_workers_in_turn(session: Session, world: World) -> None:
    g1 = world.grids[0]
    a, b = make_worker(session, grids=[g1], name="A"), make_worker(session, grids=[g1], name="B")
    rows = [
        {"grid_code": g1.code, "kind": "消杀", "title": f"Stairwell {i}",
         "due_at": "2030-01-01T18:00:00+08:00"}
        for i in range(3)
    ]  # fmt: skip
    rows.append({"grid_code": g1.code, "kind": "delivery", "title": "Rice", "worker_id": str(b.id)})
    rows.append({"grid_code": g1.code, "kind": "delivery", "title": "Rice", "worker_id": "9999"})
    report = task_files.import_tasks(
        session=session, table=_table(task_files.COLUMNS, rows), actor=LEADER, skip_bad_rows=True
    )
    assert [(p.row, p.key) for p in report.problems] == [(6, "io.problem.worker_not_in_grid")]
    assert (report.created, report.written) == (4, True)
    tasks = session.exec(select(Task).order_by(Task.id)).all()
    assert [t.assigned_worker_id for t in tasks] == [a.id, b.id, a.id, b.id]
    assert {t.kind for t in tasks[:3]} == {"disinfection"}
    again = task_files.import_tasks(
        session=session, table=_table(task_files.COLUMNS, rows[:4]), actor=LEADER
    )
    assert (again.created, again.unchanged) == (0, 4)
