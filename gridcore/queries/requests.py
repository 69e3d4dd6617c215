"""Residents' requests: open and overdue per grid, one grid's list."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from gridcore.access import TEXT, Actor, mask_personal
from gridcore.analytics.requests import request_overdue, request_targets
from gridcore.models import (
    OPEN_REQUEST_STATUSES,
    ResidentRequest,
    Worker,
)
from gridcore.policy import Policy, load_policy
from gridcore.queries._sql import Counter, by_grid, count_if, select_columns

REQUEST_COLUMNS = [
    "request_id",
    "created_at",
    "category",
    "urgency",
    "status",
    "description",
    "assigned_worker",
    "age_hours",
    "overdue",
]


def grid_requests(
    *, session: Session, grid_id: int, now: datetime, actor: Actor, open_only: bool = False
) -> pd.DataFrame:
    """The grid's requests: open ones first, oldest first; then closed ones, newest first.

    age_hours runs from creation to done (or to `now` while open; empty when cancelled);
    overdue means open for longer than the policy's target for its category and urgency.
    """
    query = (
        select(
            col(ResidentRequest.id),
            col(ResidentRequest.created_at),
            col(ResidentRequest.category),
            col(ResidentRequest.urgency),
            col(ResidentRequest.status),
            col(ResidentRequest.description),
            col(Worker.name),
            col(ResidentRequest.done_at),
        )
        .outerjoin(Worker, col(Worker.id) == col(ResidentRequest.assigned_worker_id))
        .where(col(ResidentRequest.grid_id) == grid_id)
    )
    if open_only:
        query = query.where(col(ResidentRequest.status).in_(OPEN_REQUEST_STATUSES))
    rows = session.execute(query).all()
    policy = load_policy(session)
    records = []
    for r in rows:
        is_open = r[4] in OPEN_REQUEST_STATUSES
        end = now if is_open else r[7]
        age = (end - r[1]).total_seconds() / 3600 if end is not None else math.nan
        overdue = request_overdue(
            category=r[2], urgency=r[3], status=r[4], created_at=r[1], now=now, policy=policy
        )
        records.append((*r[:7], age, overdue))
    records.sort(key=lambda rec: (rec[4] not in OPEN_REQUEST_STATUSES, _age_order(rec)))
    frame = pd.DataFrame(records, columns=REQUEST_COLUMNS)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["age_hours"] = frame["age_hours"].astype(float)
    frame = mask_personal(frame, actor=actor, grid_id=grid_id, columns={"description": TEXT})
    return frame


def _age_order(record: tuple[Any, ...]) -> float:
    """Open requests oldest first, closed ones newest first."""
    stamp = record[1].timestamp()
    return stamp if record[4] in OPEN_REQUEST_STATUSES else -stamp


def request_open_and_overdue(*, at: datetime, policy: Policy) -> tuple[Any, Any]:
    """Conditions for a request open at `at`, and open and past its target at `at`.

    A request counts as open at `at` if it was created before and is open now, or was
    closed at or after `at` (its done_at); one cancelled without a time counts as closed.
    """
    is_open = and_(
        col(ResidentRequest.created_at) < at,
        or_(
            col(ResidentRequest.status).in_(OPEN_REQUEST_STATUSES),
            col(ResidentRequest.done_at) >= at,
        ),
    )
    late = or_(
        *(
            and_(
                col(ResidentRequest.category) == category,
                col(ResidentRequest.urgency) == urgency,
                col(ResidentRequest.created_at) < at - timedelta(hours=hours),
            )
            for (category, urgency), hours in request_targets(policy=policy).items()
        )
    )
    return is_open, and_(is_open, late)


def request_counts(*, session: Session, at: datetime, policy: Policy) -> Counter:
    """Per grid: requests open at `at`, and how many of them were past their target."""
    is_open, overdue = request_open_and_overdue(at=at, policy=policy)
    stmt = (
        select_columns(ResidentRequest.grid_id, func.count(), count_if(overdue))
        .where(is_open)
        .group_by(col(ResidentRequest.grid_id))
    )
    return by_grid(session.execute(stmt).all(), ["open_requests", "overdue_requests"])
