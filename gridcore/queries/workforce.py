"""Workers: who serves each grid, their open and overdue tasks, full-time staffing."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from gridcore.access import PHONE, Actor, mask_personal
from gridcore.analytics import workforce
from gridcore.models import (
    OPEN_TASK_STATUSES,
    Employment,
    Task,
    Worker,
    WorkerGrid,
    WorkerRole,
    utcnow,
)
from gridcore.policy import Policy
from gridcore.queries import areas
from gridcore.queries import workforce as workforce_queries
from gridcore.queries._sql import Counter, by_grid, count_if, select_columns

WORKER_COLUMNS = [
    "worker_id",
    "name",
    "phone",
    "role",
    "employment",
    "service_group",
    "open_tasks",
    "overdue_tasks",
]


_ROLE_RANK = {role.value: rank for rank, role in enumerate(WorkerRole)}


def grid_workers(
    *, session: Session, grid_id: int, actor: Actor, now: datetime | None = None
) -> pd.DataFrame:
    """The grid's active workers with their open and overdue tasks in this grid."""
    now = now or utcnow()
    open_task = col(Task.status).in_(OPEN_TASK_STATUSES)
    load = (
        select(
            col(Task.assigned_worker_id).label("worker_id"),
            count_if(open_task).label("open_tasks"),
            count_if(and_(open_task, col(Task.due_at) < now)).label("overdue_tasks"),
        )
        .where(col(Task.grid_id) == grid_id, col(Task.assigned_worker_id).is_not(None))
        .group_by(col(Task.assigned_worker_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(Worker.id),
            col(Worker.name),
            col(Worker.phone),
            col(Worker.role),
            col(Worker.employment),
            col(Worker.service_group),
            func.coalesce(load.c.open_tasks, 0),
            func.coalesce(load.c.overdue_tasks, 0),
        )
        .join(WorkerGrid, col(WorkerGrid.worker_id) == col(Worker.id))
        .outerjoin(load, load.c.worker_id == col(Worker.id))
        .where(col(WorkerGrid.grid_id) == grid_id, col(Worker.active).is_(True))
        .order_by(col(Worker.name), col(Worker.id))
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=WORKER_COLUMNS)
    frame["open_tasks"] = frame["open_tasks"].astype(int)
    frame["overdue_tasks"] = frame["overdue_tasks"].astype(int)
    frame = frame.sort_values(
        "role", key=lambda roles: roles.map(_ROLE_RANK), kind="stable"
    ).reset_index(drop=True)
    frame = mask_personal(frame, actor=actor, grid_id=grid_id, columns={"phone": PHONE})
    return frame


def fulltime_workers(*, session: Session) -> Counter:
    """Per grid: active full-time workers assigned to it."""
    stmt = (
        select_columns(WorkerGrid.grid_id, func.count())
        .join(Worker, col(Worker.id) == col(WorkerGrid.worker_id))
        .where(Worker.employment == Employment.full_time, col(Worker.active).is_(True))
        .group_by(col(WorkerGrid.grid_id))
    )
    return by_grid(session.execute(stmt).all(), ["full_time_workers"])


def understaffed_grid_count(session: Session, policy: Policy) -> int:
    households = areas.household_counts(session=session)
    workers = workforce_queries.fulltime_workers(session=session)
    return sum(
        workforce.understaffed(
            households=households.get(grid["grid_id"], 0),
            full_time_workers=workers.get(grid["grid_id"], {}).get("full_time_workers", 0),
            policy=policy,
        )
        for grid in areas.grid_rows(session=session)
    )
