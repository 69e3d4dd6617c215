"""Tasks: open and overdue per grid, one grid's list, task lists (My tasks), an account's worker."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from gridcore.access import TEXT, Actor, mask_personal, mask_personal_per_grid
from gridcore.models import (
    OPEN_TASK_STATUSES,
    Area,
    Task,
    TaskStatus,
    User,
    Worker,
)
from gridcore.queries._sql import Counter, by_grid, count_if, select_columns

TASK_COLUMNS = [
    "task_id", "kind", "title", "status", "assigned_worker", "due_at", "overdue", "title_zh",
]  # fmt: skip


def grid_tasks(
    *, session: Session, grid_id: int, now: datetime, actor: Actor, open_only: bool = False
) -> pd.DataFrame:
    """The grid's tasks: open ones first by due time, then closed ones; overdue if past due."""
    query = (
        select(
            col(Task.id),
            col(Task.kind),
            col(Task.title),
            col(Task.status),
            col(Worker.name),
            col(Task.due_at),
            col(Task.title_zh),
        )
        .outerjoin(Worker, col(Worker.id) == col(Task.assigned_worker_id))
        .where(col(Task.grid_id) == grid_id)
        .order_by(
            case((col(Task.status).in_(OPEN_TASK_STATUSES), 0), else_=1),
            case((col(Task.due_at).is_(None), 1), else_=0),
            col(Task.due_at),
            col(Task.id),
        )
    )
    if open_only:
        query = query.where(col(Task.status).in_(OPEN_TASK_STATUSES))
    records = [
        (*r[:6], bool(r[3] in OPEN_TASK_STATUSES and r[5] is not None and r[5] < now), r[6])
        for r in session.execute(query).all()
    ]
    frame = pd.DataFrame(records, columns=TASK_COLUMNS)
    frame["due_at"] = pd.to_datetime(frame["due_at"], utc=True)
    frame = mask_personal(
        frame, actor=actor, grid_id=grid_id, columns={"title": TEXT, "title_zh": TEXT}
    )
    return frame


def task_counts(*, session: Session, now: datetime) -> Counter:
    """Per grid: open tasks, and those past their due time."""
    stmt = (
        select_columns(Task.grid_id, func.count(), count_if(col(Task.due_at) < now))
        .where(col(Task.status).in_(OPEN_TASK_STATUSES))
        .group_by(col(Task.grid_id))
    )
    return by_grid(session.execute(stmt).all(), ["open_tasks", "overdue_tasks"])


MY_TASK_COLUMNS = [
    "task_id",
    "grid_id",
    "grid_code",
    "kind",
    "title",
    "status",
    "assigned_worker_id",
    "assigned_worker",
    "due_at",
    "started_at",
    "done_at",
    "overdue",
    "previous_status",
    "status_changed_at",
    "request_id",
    "title_zh",
]


def task_list(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    grid_ids: tuple[int, ...] | None = None,
    worker_id: int | None = None,
    due_before: datetime | None = None,
    done_since: datetime | None = None,
) -> pd.DataFrame:
    """Tasks for a list: open ones (due before `due_before`, or with no due time, when given),
    and those finished since `done_since`; overdue ones first, then by due time.

    `grid_ids` None means every grid; `worker_id` keeps one worker's tasks. Titles are
    masked for readers who may not see the grid's residents.
    """
    is_open = col(Task.status).in_(OPEN_TASK_STATUSES)
    open_part: ColumnElement[bool] = is_open
    if due_before is not None:
        open_part = and_(is_open, or_(col(Task.due_at).is_(None), col(Task.due_at) < due_before))
    wanted: ColumnElement[bool] = open_part
    if done_since is not None:
        wanted = or_(
            open_part,
            and_(col(Task.status) == TaskStatus.done, col(Task.done_at) >= done_since),
        )
    query = (
        select_columns(
            col(Task.id), col(Task.grid_id), col(Area.code), col(Task.kind), col(Task.title),
            col(Task.status), col(Task.assigned_worker_id), col(Worker.name), col(Task.due_at),
            col(Task.started_at), col(Task.done_at), col(Task.previous_status),
            col(Task.status_changed_at), col(Task.request_id), col(Task.title_zh),
        )
        .join(Area, col(Area.id) == col(Task.grid_id))
        .outerjoin(Worker, col(Worker.id) == col(Task.assigned_worker_id))
        .where(wanted)
        .order_by(
            case((is_open, 0), else_=1),
            case((col(Task.due_at).is_(None), 1), else_=0),
            col(Task.due_at),
            col(Task.id),
        )
    )  # fmt: skip
    if grid_ids is not None:
        query = query.where(col(Task.grid_id).in_(grid_ids))
    if worker_id is not None:
        query = query.where(col(Task.assigned_worker_id) == worker_id)
    records = [
        (*r[:11], bool(r[5] in OPEN_TASK_STATUSES and r[8] is not None and r[8] < now), *r[11:])
        for r in session.execute(query).all()
    ]
    frame = pd.DataFrame(records, columns=MY_TASK_COLUMNS)
    for column in ("due_at", "started_at", "done_at", "status_changed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return mask_personal_per_grid(frame, actor=actor, columns={"title": TEXT, "title_zh": TEXT})


def account_worker(*, session: Session, user_id: int | None) -> int | None:
    """The worker an account is linked to (for its own task list), if any."""
    if user_id is None:
        return None
    found = session.execute(select(col(User.worker_id)).where(col(User.id) == user_id)).first()
    return None if found is None or found[0] is None else int(found[0])
