"""Tasks: open and overdue per grid, one grid's list."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from gridcore.access import TEXT, Actor, mask_personal
from gridcore.models import (
    OPEN_TASK_STATUSES,
    Task,
    Worker,
)
from gridcore.queries._sql import Counter, by_grid, count_if, select_columns

TASK_COLUMNS = ["task_id", "kind", "title", "status", "assigned_worker", "due_at", "overdue"]


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
        (*r, bool(r[3] in OPEN_TASK_STATUSES and r[5] is not None and r[5] < now))
        for r in session.execute(query).all()
    ]
    frame = pd.DataFrame(records, columns=TASK_COLUMNS)
    frame["due_at"] = pd.to_datetime(frame["due_at"], utc=True)
    frame = mask_personal(frame, actor=actor, grid_id=grid_id, columns={"title": TEXT})
    return frame


def task_counts(*, session: Session, now: datetime) -> Counter:
    """Per grid: open tasks, and those past their due time."""
    stmt = (
        select_columns(Task.grid_id, func.count(), count_if(col(Task.due_at) < now))
        .where(col(Task.status).in_(OPEN_TASK_STATUSES))
        .group_by(col(Task.grid_id))
    )
    return by_grid(session.execute(stmt).all(), ["open_tasks", "overdue_tasks"])
