"""Importing and exporting workers: new ones, changes, problems, masked phones, who may.

The world: street T with grids T-C1-G1, T-C1-G2 and T-C1-G3 (factories), and two
workers made through the service: 王丽 (full-time grid leader of G1, 13800002000) and
陈静 (volunteer, material purchase, G1 and G2, 13800002001).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from factories import (
    LEADER,
    VIEWER,
    World,
    grid_worker,
    grown,
    last_audit,
    make_street_with_grids,
    make_worker,
    table_counts,
)
from sqlmodel import Session, select

from gridcore.access import SYSTEM, Actor, PermissionDenied
from gridcore.io.tabular import Table, read_table, write_table
from gridcore.io.workforce import COLUMNS, export_workers, import_workers
from gridcore.models import Area, Worker, WorkerGrid

pytestmark = pytest.mark.both_backends  # bulk import and export: the dialect matters


@dataclass
class Staffed:
    world: World
    wang: int
    chen: int


def _build(session: Session) -> Staffed:
    world = make_street_with_grids(session, grids=3)
    g1, g2, _ = world.grids
    wang = make_worker(session, grids=[g1], name="王丽", role="grid_leader", phone="13800002000")
    chen = make_worker(session, grids=[g1, g2], name="陈静", role="volunteer",
                       employment="volunteer", service_group="material_purchase",
                       phone="13800002001")  # fmt: skip
    return Staffed(world, int(wang.id or 0), int(chen.id or 0))


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], Staffed]:
    return _build


def _table(
    rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS, fmt: str = "csv"
) -> Table:
    data = write_table(
        columns=list(columns), rows=[[r.get(c, "") for c in columns] for r in rows], fmt=fmt
    )
    return read_table(data=data, fmt=fmt)


def _grids(session: Session, worker_id: int) -> list[str]:
    return sorted(
        session.exec(
            select(Area.code).join(WorkerGrid, WorkerGrid.grid_id == Area.id)
            .where(WorkerGrid.worker_id == worker_id)
        ).all()
    )  # fmt: skip


def _export(session: Session, actor: Actor) -> list[dict[str, Any]]:
    columns, rows = export_workers(session=session, actor=actor)
    return [dict(zip(columns, r, strict=True)) for r in rows]


def test_export_has_every_worker_with_grid_codes(session: Session, world: Staffed) -> None:
    rows = _export(session, SYSTEM)
    assert rows == [
        {"worker_id": world.wang, "name": "王丽", "phone": "13800002000", "role": "grid_leader",
         "employment": "full_time", "grid_codes": "T-C1-G1", "service_group": "", "active": "yes"},
        {"worker_id": world.chen, "name": "陈静", "phone": "13800002001", "role": "volunteer",
         "employment": "volunteer", "grid_codes": "T-C1-G1, T-C1-G2",
         "service_group": "material_purchase", "active": "yes"},
    ]  # fmt: skip


def test_export_masks_phones_the_reader_may_not_see(session: Session, world: Staffed) -> None:
    g1, g2, g3 = world.world.grids
    assert {r["phone"] for r in _export(session, VIEWER)} == {"***"}
    of_g2 = {r["name"]: r["phone"] for r in _export(session, grid_worker(g2))}
    assert of_g2 == {"王丽": "***", "陈静": "13800002001"}


def test_new_workers_in_english_and_chinese_written_once(session: Session, world: Staffed) -> None:
    before = table_counts(session)
    rows = [
        {"name": "刘洋", "phone": "139 0000 1111", "role": "grid_member",
         "employment": "part_time", "grid_codes": "T-C1-G2"},
        {"name": "赵芳", "role": "网格员", "employment": "专职", "grid_codes": "T-C1-G2，T-C1-G3"},
        {"name": "黄磊", "role": "志愿者", "employment": "志愿者", "grid_codes": "T-C1-G3",
         "service_group": "医疗组", "active": "否"},
    ]  # fmt: skip
    dry = import_workers(session=session, table=_table(rows), actor=LEADER, dry_run=True)
    assert dry.ok and dry.created == 3 and not dry.written
    assert grown(before, session) == {}
    report = import_workers(session=session, table=_table(rows), actor=LEADER, source="w.csv")
    assert report.ok and report.written and report.created == 3
    assert grown(before, session) == {"worker": 3, "workergrid": 4, "auditentry": 1}
    huang = session.exec(select(Worker).where(Worker.name == "黄磊")).one()
    assert (huang.role, huang.employment, huang.service_group, huang.active) == (
        "volunteer", "volunteer", "medical", False)  # fmt: skip
    zhao = session.exec(select(Worker).where(Worker.name == "赵芳")).one()
    assert _grids(session, int(zhao.id or 0)) == ["T-C1-G2", "T-C1-G3"]
    entry = last_audit(session)
    assert (entry.action, entry.entity) == ("import", "worker")
    assert json.loads(entry.changes)["created"] == 3
    # The same file again: each row finds its worker by name and phone.
    again = import_workers(session=session, table=_table(rows), actor=LEADER)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_a_row_with_an_id_changes_fields_and_grids(session: Session, world: Staffed) -> None:
    rows = _export(session, SYSTEM)
    for row in rows:
        if row["worker_id"] == world.chen:
            row["grid_codes"] = "T-C1-G3"
            row["active"] = "no"
    report = import_workers(session=session, table=_table(rows), actor=LEADER)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert _grids(session, world.chen) == ["T-C1-G3"]
    chen = session.get(Worker, world.chen)
    assert chen is not None and chen.active is False


def test_a_masked_phone_keeps_the_stored_one(session: Session, world: Staffed) -> None:
    g1, g2, _ = world.world.grids
    actor = grid_worker(g2)  # sees 陈静's phone, not 王丽's
    rows = [r for r in _export(session, VIEWER) if r["worker_id"] == world.chen]
    assert rows[0]["phone"] == "***"
    report = import_workers(session=session, table=_table(rows), actor=actor)
    assert report.ok and report.unchanged == 1
    chen = session.get(Worker, world.chen)
    assert chen is not None and chen.phone == "13800002001"
    rows[0]["phone"] = "138****9999"
    bad = import_workers(session=session, table=_table(rows), actor=actor)
    assert [(p.column, p.key) for p in bad.problems] == [("phone", "io.problem.bad_phone")]


def test_problems_write_nothing(session: Session, world: Staffed) -> None:
    before = table_counts(session)
    rows = [
        {"name": "甲", "role": "boss", "employment": "full_time", "grid_codes": "T-C1-G1"},
        {"name": "乙", "role": "grid_member", "employment": "full_time", "grid_codes": "T-X"},
        {"name": "丙", "role": "volunteer", "employment": "volunteer", "grid_codes": "T-C1-G1"},
        {"name": "丁", "phone": "12", "role": "grid_member", "employment": "full_time"},
        {"worker_id": "999", "name": "戊", "role": "grid_member", "employment": "full_time"},
        {"name": "己", "role": "grid_member", "employment": "full_time", "grid_codes": "T-C1-G1"},
        {"name": "己", "role": "grid_member", "employment": "full_time", "grid_codes": "T-C1-G1"},
    ]  # fmt: skip
    report = import_workers(session=session, table=_table(rows), actor=LEADER)
    assert [(p.row, p.column, p.key) for p in report.problems] == [
        (2, "role", "io.problem.bad_choice"),
        (3, "grid_codes", "io.problem.unknown_grid"),
        (4, "service_group", "io.problem.service_group_required"),
        (5, "phone", "io.problem.bad_phone"),
        (6, "worker_id", "io.problem.unknown_worker"),
        (8, "name", "io.problem.duplicate"),
    ]
    assert not report.written
    assert grown(before, session) == {}


def test_grid_workers_import_only_in_their_grids(session: Session, world: Staffed) -> None:
    g1, g2, g3 = world.world.grids
    before = table_counts(session)
    rows = [
        {"name": "甲", "role": "grid_member", "employment": "full_time", "grid_codes": "T-C1-G3"},
        {"name": "乙", "role": "grid_member", "employment": "full_time"},  # no grid
        {"worker_id": str(world.wang), "name": "王丽", "role": "grid_leader",
         "employment": "full_time", "grid_codes": "T-C1-G1"},  # not in the scope of g2
    ]  # fmt: skip
    report = import_workers(session=session, table=_table(rows), actor=grid_worker(g2))
    assert [(p.row, p.key) for p in report.problems] == [
        (2, "io.problem.outside_scope"),
        (3, "io.problem.outside_scope"),
        (4, "io.problem.outside_scope"),
    ]
    assert grown(before, session) == {}
    with pytest.raises(PermissionDenied):
        import_workers(session=session, table=_table(rows), actor=VIEWER)
