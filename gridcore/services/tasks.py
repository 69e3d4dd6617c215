"""Tasks for grid workers: creating one, giving it to a worker, and moving it to done."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from gridcore.access import Actor, require_grid
from gridcore.models import Resident, ResidentRequest, Task, TaskCreate, TaskStatus, utcnow
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
    """Start, finish or cancel a task; done stamps done_at. The same status writes nothing."""
    with write(session, actor=actor, entity="task") as op:
        new = choice(TaskStatus, status, "status")
        task = _task_for_change(session, task_id, actor)
        if new == task.status:
            return task
        if new not in TASK_STATUS_NEXT[task.status]:
            raise ValidationFailed({"status": "services.error.status_change"})
        old = task.status
        task.status = new
        if new == TaskStatus.done:
            task.done_at = as_utc(now or utcnow())
        session.add(task)
        op.record(task, {"status": changed(old, new), "done_at": task.done_at})
    return task
