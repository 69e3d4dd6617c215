"""Tasks in and out: the same columns both ways.

Columns (row 1 is the header; names are matched without regard to case, or by the
Chinese name in brackets):

    task_id      (任务编号) the task's number in GridCore; empty for a new task
    grid_code    (网格编码) the grid                                                required
    kind         (类型) door_to_door_testing | vulnerable_visit | delivery |
                 epidemiological_survey | disinfection | information_collection
                 (上门采样 | 重点人群走访 | 配送 | 流调 | 消杀 | 信息采集)            required
    title        (任务内容) what to do, up to 200 characters                          required
    worker_id    (工作人员编号) the worker it is given to (one of the grid's); empty: nobody
    worker       (工作人员) the worker's name: written for people, not read back
    due_at       (截止时间) when it is due; empty: no due time
    request_id   (诉求编号) the request it serves (in the same grid)
    status       (状态)       \\ written for people, not read back: a task moves on in the
    done_at      (完成时间)   /  app (My tasks); an import only adds new ones

A row without a task_id adds an open task, given to the grid's workers in turn when its
worker_id is empty and the grid has workers; unless the grid already has a task of the
same kind, title and due time (that one is the row's task). A row with a task_id must say
what is stored. So importing an exported file, or the same file twice, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlmodel import Session, col

from gridcore.access import Actor, PermissionDenied
from gridcore.config import get_settings
from gridcore.io.cells import ignored, local_text, text, to_second
from gridcore.io.importer import (
    Column,
    Exchange,
    Importer,
    Merge,
    Plan,
    Row,
    Rows,
    Written,
    column_names,
    in_chunks,
    run_import,
)
from gridcore.io.report import ImportReport
from gridcore.io.requests import choice_parser, moment, number
from gridcore.io.tabular import Table
from gridcore.models import (
    Area,
    AreaLevel,
    ResidentRequest,
    Task,
    TaskKind,
    UserRole,
    Worker,
    WorkerGrid,
    utcnow,
)
from gridcore.services.tasks import assign_in_turn

KIND = "tasks"
TITLE_MAX = 200
KIND_WORDS: dict[str, str] = {
    "上门采样": "door_to_door_testing",
    "重点人群走访": "vulnerable_visit",
    "走访": "vulnerable_visit",
    "配送": "delivery",
    "流调": "epidemiological_survey",
    "流行病学调查": "epidemiological_survey",
    "消杀": "disinfection",
    "信息采集": "information_collection",
}

COLUMN_RULES: tuple[Column, ...] = (
    Column("task_id", "任务编号", number),
    Column("grid_code", "网格编码", text(), required=True, filled=True),
    Column(
        "kind",
        "类型",
        choice_parser(tuple(k.value for k in TaskKind), KIND_WORDS, None),
        required=True,
        filled=True,
    ),
    Column("title", "任务内容", text(max_length=TITLE_MAX), required=True, filled=True),
    Column("worker_id", "工作人员编号", number),
    Column("worker", "工作人员", ignored),
    Column("due_at", "截止时间", moment),
    Column("request_id", "诉求编号", number),
    Column("status", "状态", ignored),
    Column("done_at", "完成时间", ignored),
)
COLUMNS: tuple[str, ...] = column_names(COLUMN_RULES)
FIELDS: tuple[str, ...] = ("grid_id", "kind", "title", "assigned_worker_id", "due_at", "request_id")
_TASKS = Task.__table__  # type: ignore[attr-defined]


def export_tasks(*, session: Session, actor: Actor) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of a tasks file (a grid worker's grids; viewers may not)."""
    if not actor.sees_personal_data:
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not export personal data")
    grid = Area.__table__.alias("grid")  # type: ignore[attr-defined]
    query = (
        select(
            _TASKS.c.id, grid.c.code, _TASKS.c.kind, _TASKS.c.title, _TASKS.c.assigned_worker_id,
            col(Worker.name), _TASKS.c.due_at, _TASKS.c.request_id, _TASKS.c.status,
            _TASKS.c.done_at,
        )
        .join(grid, grid.c.id == _TASKS.c.grid_id)
        .outerjoin(Worker, col(Worker.id) == _TASKS.c.assigned_worker_id)
        .order_by(_TASKS.c.id)
    )  # fmt: skip
    if actor.role == UserRole.grid_worker:
        query = query.where(_TASKS.c.grid_id.in_(sorted(actor.grid_ids or ())))
    rows = session.execute(query).all()
    tz = get_settings().tz

    def generate() -> Iterator[list[Any]]:
        for r in rows:
            cells = ["" if v is None else v for v in r]
            cells[6] = local_text(r[6], tz) if r[6] is not None else ""
            cells[9] = local_text(r[9], tz) if r[9] is not None else ""
            yield cells

    return list(COLUMNS), generate()


class _Work(NamedTuple):
    row: int
    task_id: int | None
    values: dict[str, Any]


@dataclass
class _Lookups:
    grid_ids: dict[str, int]
    worker_grids: dict[int, set[int]]  # active worker → grids
    request_grids: dict[int, int]
    stored: dict[int, dict[str, Any]]
    by_identity: dict[tuple[Any, ...], int]


def _identity(values: dict[str, Any]) -> tuple[Any, ...]:
    return values["grid_id"], values["kind"], values["title"], values["due_at"]


def _stored(session: Session, where: Any) -> dict[int, dict[str, Any]]:
    rows = session.execute(select(_TASKS.c.id, *(_TASKS.c[f] for f in FIELDS)).where(where)).all()
    found = {int(r[0]): dict(zip(FIELDS, r[1:], strict=True)) for r in rows}
    for values in found.values():
        if values["due_at"] is not None:
            values["due_at"] = to_second(values["due_at"])
    return found


class TasksImport(Importer[_Lookups, _Work, None]):
    """A tasks file: new tasks; stored ones must be as stored."""

    kind = KIND
    entity = "task"
    columns = COLUMN_RULES

    def __init__(self, *, actor: Actor) -> None:
        super().__init__(actor=actor)
        self.now = to_second(utcnow())
        self.first_row: dict[Any, int] = {}

    def load(self, *, session: Session, rows: Rows) -> _Lookups:
        grids = session.execute(
            select(col(Area.code), col(Area.id)).where(col(Area.level) == AreaLevel.grid)
        ).all()
        worker_grids: dict[int, set[int]] = {}
        for worker_id, grid_id in session.execute(
            select(col(WorkerGrid.worker_id), col(WorkerGrid.grid_id))
            .join(Worker, col(Worker.id) == col(WorkerGrid.worker_id))
            .where(col(Worker.active).is_(True))
        ).all():
            worker_grids.setdefault(int(worker_id), set()).add(int(grid_id))
        request_grids: dict[int, int] = {}
        for chunk in in_chunks(sorted(set(rows.column("request_id")) - {None})):
            request_grids.update(
                (int(i), int(g))
                for i, g in session.execute(
                    select(col(ResidentRequest.id), col(ResidentRequest.grid_id)).where(
                        col(ResidentRequest.id).in_(chunk)
                    )
                ).all()
            )
        stored: dict[int, dict[str, Any]] = {}
        for chunk in in_chunks(sorted(set(rows.column("task_id")) - {None})):
            stored.update(_stored(session, _TASKS.c.id.in_(chunk)))
        grid_ids = {str(c): int(i) for c, i in grids}
        by_identity: dict[tuple[Any, ...], int] = {}
        wanted = {grid_ids[c] for c in set(rows.column("grid_code")) - {None} if c in grid_ids}
        for chunk in in_chunks(sorted(wanted)):
            for task_id, values in _stored(session, _TASKS.c.grid_id.in_(chunk)).items():
                by_identity.setdefault(_identity(values), task_id)
        return _Lookups(grid_ids, worker_grids, request_grids, stored, by_identity)

    def check(self, *, row: Row, lookups: _Lookups) -> _Work | None:
        code = row["grid_code"]
        grid_id = lookups.grid_ids.get(code) if code else None
        if code and grid_id is None:
            row.problem("grid_code", "io.problem.unknown_grid")
        elif grid_id is not None and not self.actor.may_write_grid(grid_id):
            row.problem("grid_code", "io.problem.outside_scope")
        worker_id = row["worker_id"]
        if worker_id is not None and grid_id not in lookups.worker_grids.get(worker_id, set()):
            row.problem("worker_id", "io.problem.worker_not_in_grid", grid=row.text("grid_code"))
        request_id = row["request_id"]
        if request_id is not None and lookups.request_grids.get(request_id) != grid_id:
            row.problem("request_id", "io.problem.request_not_in_grid", grid=row.text("grid_code"))
        due: datetime | None = row["due_at"]
        values = {
            "grid_id": grid_id,
            "kind": row["kind"],
            "title": row["title"],
            "assigned_worker_id": worker_id,
            "due_at": due,
            "request_id": request_id,
        }
        if row.problems:
            return None
        task_id = row["task_id"]
        if task_id is not None and task_id not in lookups.stored:
            row.problem("task_id", "io.problem.unknown_task")
            return None
        if task_id is None:
            task_id = lookups.by_identity.get(_identity(values))
        key = task_id if task_id is not None else _identity(values)
        first = self.first_row.setdefault(key, row.number)
        if first != row.number:
            row.problem("task_id", "io.problem.duplicate_task", first=first)
            return None
        return _Work(row.number, task_id, values)

    def merge(self, *, item: _Work, row: Row, lookups: _Lookups) -> Merge | None:
        if item.task_id is None:
            return Merge.NEW
        stored = lookups.stored.get(item.task_id)
        if stored is None:
            return Merge.SAME  # found by identity: the same task
        given = dict(item.values)
        if row["task_id"] is None and given["assigned_worker_id"] is None:
            given["assigned_worker_id"] = stored["assigned_worker_id"]
        differs = [f for f in FIELDS if given[f] != stored[f]]
        if differs:
            row.problem("task_id", "io.problem.task_differs", fields=", ".join(differs))
            return Merge.CONFLICT
        return Merge.SAME

    def write(self, *, session: Session, plan: Plan[_Work, None], lookups: _Lookups) -> Written:
        tasks = [Task(**work.values, created_at=self.now) for work in plan.creates]
        assign_in_turn(session, tasks)
        session.add_all(tasks)
        session.flush()
        return Written(details={"tasks_added": len(tasks)})


def import_tasks(
    *,
    session: Session,
    table: Table,
    actor: Actor,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
) -> ImportReport:
    """Check every row of a tasks table and, unless told otherwise, add the new ones."""
    return run_import(
        session=session,
        importer=TasksImport(actor=actor),
        table=table,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        source=source,
    )


EXCHANGE = Exchange(kind=KIND, columns=COLUMN_RULES, export=export_tasks, load=import_tasks)
