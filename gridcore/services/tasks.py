"""Tasks for grid workers: created by hand, from a request, from the roll call or for a visit;
given to a worker (the grid's workers in turn when many are made at once), started,
finished, and a one-tap step undone within a minute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from gridcore.access import Actor, require_grid
from gridcore.analytics.tasks import VISIT_TAGS, in_turn, undo_allowed
from gridcore.i18n import LANGUAGES, enum_label, pick_name, t
from gridcore.models import (
    OPEN_TASK_STATUSES,
    Building,
    Household,
    Resident,
    ResidentRequest,
    ResidentVulnerability,
    Task,
    TaskCreate,
    TaskKind,
    TaskStatus,
    Worker,
    WorkerGrid,
    utcnow,
)
from gridcore.policy import load_policy
from gridcore.queries._sql import select_columns
from gridcore.services.audit import common_area
from gridcore.services.base import (
    ValidationFailed,
    Write,
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
from gridcore.services.workforce import assignable_worker_error

# Status changes a task may make; done and cancelled are final.
TASK_STATUS_NEXT: dict[str, frozenset[str]] = {
    TaskStatus.open: frozenset({TaskStatus.in_progress, TaskStatus.done, TaskStatus.cancelled}),
    TaskStatus.in_progress: frozenset({TaskStatus.open, TaskStatus.done, TaskStatus.cancelled}),
    TaskStatus.done: frozenset(),
    TaskStatus.cancelled: frozenset(),
}


def _task_errors(session: Session, task_in: TaskCreate, now: datetime) -> dict[str, str]:
    """Domain checks of a new task: rows exist and belong to its grid, the due time is ahead."""
    errors: dict[str, str] = {}
    if grid_area(session, task_in.grid_id) is None:
        return {"grid_id": "services.error.grid_not_found"}
    if task_in.assigned_worker_id is not None:
        problem = assignable_worker_error(session, task_in.assigned_worker_id, task_in.grid_id)
        if problem is not None:
            errors["assigned_worker_id"] = problem
    request = get_row(session, ResidentRequest, task_in.request_id)
    if task_in.request_id is not None and request is None:
        errors["request_id"] = "services.error.request_not_found"
    elif request is not None and request.grid_id != task_in.grid_id:
        errors["request_id"] = "services.error.request_not_in_grid"
    resident = get_row(session, Resident, task_in.resident_id)
    if task_in.resident_id is not None and resident is None:
        errors["resident_id"] = "services.error.resident_not_found"
    elif resident is not None and resident.grid_id != task_in.grid_id:
        errors["resident_id"] = "services.error.resident_not_in_grid"
    if task_in.due_at is not None and as_utc(task_in.due_at) <= now:
        errors["due_at"] = "services.error.due_in_past"
    return errors


def create_task(
    *,
    session: Session,
    data: TaskCreate | Mapping[str, Any],
    actor: Actor,
    client_token: str | None = None,
    now: datetime | None = None,
) -> Task:
    """Create an open task in a grid (created at `now`, default the current time)."""
    with write(
        session, actor=actor, entity="task", action="create", client_token=client_token
    ) as op:
        if (earlier := op.replayed(Task)) is not None:
            return earlier
        task_in = validated(TaskCreate, data)
        moment = as_utc(now or utcnow())
        errors = _task_errors(session, task_in, moment)
        if errors:
            raise ValidationFailed(errors)
        require_grid(actor, task_in.grid_id)
        task = Task(**task_in.model_dump(), created_at=moment)
        if task.due_at is not None:
            task.due_at = as_utc(task.due_at)
        session.add(task)
        op.record(
            task,
            {
                "grid_id": task.grid_id,
                "kind": task.kind,
                "title": task.title,
                "assigned_worker_id": task.assigned_worker_id,
                "due_at": task.due_at,
                "request_id": task.request_id,
            },
        )
    return task


def _task_for_change(session: Session, task_id: int, actor: Actor) -> Task:
    """The task to change, locked for this transaction; the actor must hold its grid."""
    task = session.get(Task, task_id, with_for_update=True)
    if task is None:
        raise ValidationFailed({"task_id": "services.error.task_not_found"})
    require_grid(actor, task.grid_id)
    return task


def assign_task(*, session: Session, task_id: int, worker_id: int | None, actor: Actor) -> Task:
    """Give an open task to a worker of its grid (None takes it back)."""
    with write(session, actor=actor, entity="task") as op:
        task = _task_for_change(session, task_id, actor)
        if task.status not in (TaskStatus.open, TaskStatus.in_progress):
            raise ValidationFailed({"task_id": "services.error.task_closed"})
        if worker_id is not None:
            problem = assignable_worker_error(session, worker_id, task.grid_id)
            if problem is not None:
                raise ValidationFailed({"worker_id": problem})
        if task.assigned_worker_id == worker_id:
            return task
        old = task.assigned_worker_id
        task.assigned_worker_id = worker_id
        session.add(task)
        op.record(task, {"assigned_worker_id": changed(old, worker_id)})
    return task


def set_task_status(
    *,
    session: Session,
    task_id: int,
    status: TaskStatus | str,
    actor: Actor,
    now: datetime | None = None,
) -> Task:
    """Start, finish or cancel a task, stamping the time; the same status writes nothing.

    The step is remembered (the status before it and when) so that it can be undone for a
    minute with `undo_task_step`.
    """
    with write(session, actor=actor, entity="task") as op:
        new = choice(TaskStatus, status, "status")
        task = _task_for_change(session, task_id, actor)
        if new == task.status:
            return task
        if new not in TASK_STATUS_NEXT[task.status]:
            raise ValidationFailed({"status": "services.error.status_change"})
        moment = as_utc(now or utcnow())
        old = task.status
        task.status = new
        if new == TaskStatus.in_progress and task.started_at is None:
            task.started_at = moment
        if new == TaskStatus.done:
            task.done_at = moment
        task.previous_status = TaskStatus(old)
        task.status_changed_at = moment
        session.add(task)
        op.record(task, {"status": changed(old, new), "at": moment, "done_at": task.done_at})
    return task


def undo_task_step(
    *, session: Session, task_id: int, actor: Actor, now: datetime | None = None
) -> Task:
    """Put back the task's last step if it was taken less than a minute ago.

    Once undone (or after the minute) there is nothing to undo: a second undo writes nothing.
    """
    with write(session, actor=actor, entity="task", action="undo") as op:
        task = _task_for_change(session, task_id, actor)
        moment = as_utc(now or utcnow())
        changed_at = as_utc(task.status_changed_at) if task.status_changed_at else None
        if not undo_allowed(previous=task.previous_status, changed_at=changed_at, now=moment):
            return task
        assert task.previous_status is not None
        old, back = task.status, TaskStatus(task.previous_status)
        if old == TaskStatus.done:
            task.done_at = None
        if back == TaskStatus.open:
            task.started_at = None
        task.status = back
        task.previous_status = None
        task.status_changed_at = None
        session.add(task)
        op.record(task, {"status": changed(old, back), "at": moment})
    return task


# --------------------------------------------------------------------------- many at once


def grid_rota(session: Session, grid_id: int) -> list[int]:
    """The active workers of a grid, in turn: the one with the fewest open tasks there first.

    Ties (and the order after the first) go by the worker's number, so that handing out
    tasks in turn is fair and predictable.
    """
    workers = [
        int(w)
        for w in session.exec(
            select(WorkerGrid.worker_id)
            .join(Worker, col(Worker.id) == col(WorkerGrid.worker_id))
            .where(WorkerGrid.grid_id == grid_id, col(Worker.active).is_(True))
            .order_by(col(WorkerGrid.worker_id))
        ).all()
    ]
    open_counts = dict(
        session.execute(
            select(col(Task.assigned_worker_id), func.count())
            .where(
                col(Task.grid_id) == grid_id,
                col(Task.status).in_(OPEN_TASK_STATUSES),
                col(Task.assigned_worker_id).is_not(None),
            )
            .group_by(col(Task.assigned_worker_id))
        ).all()
    )
    return in_turn(workers, {int(k): int(v) for k, v in open_counts.items()})


def assign_in_turn(session: Session, tasks: Sequence[Task]) -> None:
    """Give unassigned `tasks` to their grid's workers in turn (round-robin), grid by grid."""
    by_grid: dict[int, list[Task]] = {}
    for task in tasks:
        if task.assigned_worker_id is None:
            by_grid.setdefault(task.grid_id, []).append(task)
    for grid_id, waiting in by_grid.items():
        rota = grid_rota(session, grid_id)
        if not rota:
            continue
        for i, task in enumerate(waiting):
            task.assigned_worker_id = rota[i % len(rota)]


def record_tasks(op: Write, tasks: Iterable[Task], **details: Any) -> None:
    """One audit entry for tasks made at once: their ids and who got them."""
    made = list(tasks)
    op.record(
        None,
        {
            **details,
            "task_ids": [row_id(task) for task in made],
            "assigned_worker_ids": [task.assigned_worker_id for task in made],
        },
        area_id=common_area(op.session, [task.grid_id for task in made]),
    )


# --------------------------------------------------------------------------- from a request


REQUEST_TASK_KIND: dict[str, TaskKind] = {
    "medicine": TaskKind.delivery,
    "food": TaskKind.delivery,
    "medical_care": TaskKind.vulnerable_visit,
    "other": TaskKind.information_collection,
}


def titles(make: Callable[[str], str]) -> tuple[str, str]:
    """A task's `title` (English) and `title_zh` (Chinese), each made by `make(lang)`: a task
    the system makes reads in the language of whoever opens it, not of whoever made it."""
    made = {lang: make(lang)[:200] for lang in LANGUAGES}
    return made["en"], made["zh"]


def task_from_request(
    *,
    session: Session,
    request_id: int,
    actor: Actor,
    due_at: datetime | None = None,
    client_token: str | None = None,
    now: datetime | None = None,
) -> Task:
    """A task for an open request: its grid, its worker, a kind that fits its category.

    Due at the request's target unless `due_at` says otherwise; titled in both languages.
    """
    from gridcore.analytics.requests import request_target_hours

    with write(
        session, actor=actor, entity="task", action="create", client_token=client_token
    ) as op:
        if (earlier := op.replayed(Task)) is not None:
            return earlier
        moment = as_utc(now or utcnow())
        request = session.get(ResidentRequest, request_id)
        if request is None:
            raise ValidationFailed({"request_id": "services.error.request_not_found"})
        require_grid(actor, request.grid_id)
        if request.status not in ("new", "assigned", "in_progress"):
            raise ValidationFailed({"request_id": "services.error.request_closed"})
        if due_at is None:
            hours = request_target_hours(
                category=request.category, urgency=request.urgency, policy=load_policy(session)
            )
            due = max(as_utc(request.created_at) + timedelta(hours=hours), moment)
        else:
            due = as_utc(due_at)
            if due <= moment:
                raise ValidationFailed({"due_at": "services.error.due_in_past"})
        title, title_zh = titles(
            lambda lang: t(
                "tasks.title.from_request",
                lang,
                id=row_id(request),
                category=enum_label("request_category", request.category, lang),
            )
        )
        task = Task(
            grid_id=request.grid_id,
            kind=REQUEST_TASK_KIND.get(request.category, TaskKind.delivery),
            title=title,
            title_zh=title_zh,
            assigned_worker_id=request.assigned_worker_id,
            due_at=due,
            request_id=row_id(request),
            resident_id=request.resident_id,
            created_at=moment,
        )
        session.add(task)
        op.record(
            task,
            {
                "grid_id": task.grid_id,
                "kind": task.kind,
                "request_id": task.request_id,
                "assigned_worker_id": task.assigned_worker_id,
                "due_at": due,
            },
        )
    return task


def close_request_tasks(
    session: Session, op: Write, request_id: int, status: TaskStatus, moment: datetime
) -> None:
    """Inside a request's write: its open tasks end with it (done or cancelled)."""
    for task in session.exec(
        select(Task).where(Task.request_id == request_id, col(Task.status).in_(OPEN_TASK_STATUSES))
    ).all():
        old = task.status
        task.status = status
        if status == TaskStatus.done:
            task.done_at = moment
        session.add(task)
        op.record(
            task,
            {"status": changed(old, status), "at": moment, "request_id": request_id},
            entity="task",
            action="update",
        )


# --------------------------------------------------------------------------- vulnerable visits


def _visit_candidates(
    session: Session, actor: Actor
) -> list[tuple[int, int, tuple[str, str | None], str, str]]:
    """(resident, grid, building's (name, name_zh), flat, tags) of every at-home resident who
    needs visits."""
    rows = session.execute(
        select_columns(
            col(Resident.id),
            col(Resident.grid_id),
            col(Building.name),
            col(Building.name_zh),
            col(Household.unit),
            col(ResidentVulnerability.tag),
        )
        .join(ResidentVulnerability, col(ResidentVulnerability.resident_id) == col(Resident.id))
        .join(Household, col(Household.id) == col(Resident.household_id))
        .join(Building, col(Building.id) == col(Resident.building_id))
        .where(col(ResidentVulnerability.tag).in_(VISIT_TAGS), Resident.health_status == "at_home")
        .order_by(col(Resident.grid_id), col(Resident.id))
    ).all()
    found: dict[int, tuple[int, int, tuple[str, str | None], str, list[str]]] = {}
    for resident_id, grid_id, building, building_zh, unit, tag in rows:
        if not actor.may_write_grid(int(grid_id)):
            continue
        entry = found.setdefault(
            int(resident_id),
            (int(resident_id), int(grid_id), (building, building_zh), str(unit), []),
        )
        entry[4].append(str(tag))
    return [(r, g, b, u, ",".join(sorted(tags))) for r, g, b, u, tags in found.values()]


def _visited_recently(session: Session, since: datetime) -> set[int]:
    """Residents with an open visit task, or one made since `since` (not cancelled)."""
    rows = session.execute(
        select(col(Task.resident_id)).where(
            col(Task.kind) == TaskKind.vulnerable_visit,
            col(Task.resident_id).is_not(None),
            col(Task.status) != TaskStatus.cancelled,
            (col(Task.status).in_(OPEN_TASK_STATUSES)) | (col(Task.created_at) >= since),
        )
    ).all()
    return {int(r[0]) for r in rows}


def _visit_title(lang: str, *, building: tuple[str, str | None], unit: str, tags: str) -> str:
    return t(
        "tasks.title.visit",
        lang,
        building=pick_name(*building, lang),
        unit=unit,
        tags=("、" if lang == "zh" else ", ").join(
            enum_label("vulnerability", tag, lang) for tag in tags.split(",")
        ),
    )


def create_due_visits(*, session: Session, actor: Actor, now: datetime | None = None) -> int:
    """A visit task for each vulnerable resident due one; returns how many were made.

    Due: elderly living alone, bedridden or disabled residents at home who have no open
    visit task and none made in the policy's interval (vulnerable_visit_days). Running it
    again makes nothing new. Each task is due a day after it is made and goes to the
    grid's workers in turn; only the actor's grids are looked at.
    """
    with write(session, actor=actor, entity="task", action="create") as op:
        moment = as_utc(now or utcnow())
        days = load_policy(session).vulnerable_visit_days
        recent = _visited_recently(session, moment - timedelta(days=days))
        tasks = []
        for resident_id, grid_id, building, unit, tags in _visit_candidates(session, actor):
            if resident_id in recent:
                continue
            title, title_zh = titles(partial(_visit_title, building=building, unit=unit, tags=tags))
            tasks.append(
                Task(
                    grid_id=grid_id,
                    kind=TaskKind.vulnerable_visit,
                    title=title,
                    title_zh=title_zh,
                    resident_id=resident_id,
                    due_at=moment + timedelta(days=1),
                    created_at=moment,
                )
            )
        if not tasks:
            return 0
        assign_in_turn(session, tasks)
        session.add_all(tasks)
        session.flush()
        record_tasks(op, tasks, kind=TaskKind.vulnerable_visit, interval_days=days)
    return len(tasks)
