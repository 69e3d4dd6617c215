"""Residents' requests: open and overdue per grid, one grid's list, the board, time to resolve."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from gridcore.access import TEXT, Actor, mask_personal, mask_personal_per_grid
from gridcore.analytics.requests import (
    hours_to_resolve,
    likely_duplicates,
    request_overdue,
    request_target_hours,
    request_targets,
    resolution_by_category,
)
from gridcore.models import (
    OPEN_REQUEST_STATUSES,
    Area,
    Building,
    Household,
    ResidentRequest,
    SupplyItem,
    Urgency,
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


def overdue_urgent_count(*, session: Session, at: datetime) -> int:
    """Urgent requests open at `at` and past their target time."""
    _, overdue = request_open_and_overdue(at=at, policy=load_policy(session))
    n = session.execute(
        select(func.count()).where(overdue, col(ResidentRequest.urgency) == Urgency.urgent)
    ).scalar_one()
    return int(n or 0)


# --------------------------------------------------------------------------- the requests page

BOARD_COLUMNS = [
    "request_id",
    "grid_id",
    "grid_code",
    "household",
    "created_at",
    "category",
    "urgency",
    "status",
    "description",
    "item",
    "quantity",
    "assigned_worker_id",
    "assigned_worker",
    "age_hours",
    "target_hours",
    "overdue",
    "duplicate_of",
    "stock_movement_id",
]


def _scope(query: Any, grid_ids: tuple[int, ...] | None) -> Any:
    return query if grid_ids is None else query.where(col(ResidentRequest.grid_id).in_(grid_ids))


def request_board(
    *,
    session: Session,
    now: datetime,
    actor: Actor,
    grid_ids: tuple[int, ...] | None = None,
    closed_since_hours: int = 24,
) -> pd.DataFrame:
    """Open requests, and those closed in the last `closed_since_hours`, for the board.

    Oldest first. `overdue` as for the grid's list; `duplicate_of` names an earlier request
    of the same household for the same thing that was still open when this one came in
    (analytics.requests.likely_duplicates); the household and description are masked
    for readers who may not see the grid's residents.
    """
    grid = Area.__table__.alias("grid")  # type: ignore[attr-defined]
    closed_at = func.coalesce(col(ResidentRequest.done_at), col(ResidentRequest.cancelled_at))
    query = (
        select_columns(
            col(ResidentRequest.id),
            col(ResidentRequest.grid_id),
            grid.c.code,
            col(Building.name),
            col(Household.unit),
            col(ResidentRequest.created_at),
            col(ResidentRequest.category),
            col(ResidentRequest.urgency),
            col(ResidentRequest.status),
            col(ResidentRequest.description),
            col(SupplyItem.name),
            col(SupplyItem.name_zh),
            col(ResidentRequest.quantity),
            col(ResidentRequest.assigned_worker_id),
            col(Worker.name),
            col(ResidentRequest.household_id),
            col(ResidentRequest.item_id),
            closed_at,
            col(ResidentRequest.stock_movement_id),
            col(Building.name_zh),
        )
        .join(grid, grid.c.id == col(ResidentRequest.grid_id))
        .outerjoin(Household, col(Household.id) == col(ResidentRequest.household_id))
        .outerjoin(Building, col(Building.id) == col(Household.building_id))
        .outerjoin(SupplyItem, col(SupplyItem.id) == col(ResidentRequest.item_id))
        .outerjoin(Worker, col(Worker.id) == col(ResidentRequest.assigned_worker_id))
        .where(
            or_(
                col(ResidentRequest.status).in_(OPEN_REQUEST_STATUSES),
                closed_at >= now - timedelta(hours=closed_since_hours),
            )
        )
        .order_by(col(ResidentRequest.created_at), col(ResidentRequest.id))
    )
    rows = session.execute(_scope(query, grid_ids)).all()
    policy = load_policy(session)
    duplicates = likely_duplicates(_household_history(session, {r[15] for r in rows} - {None}))
    records = []
    for r in rows:
        is_open = r[8] in OPEN_REQUEST_STATUSES
        end = now if is_open else r[17]
        records.append(
            (
                r[0], r[1], r[2],
                f"{r[3]} {r[4]}" if r[4] is not None else "",
                r[5], r[6], r[7], r[8], r[9],
                r[10] if r[10] is not None else "",
                r[12], r[13], r[14],
                (end - r[5]).total_seconds() / 3600 if end is not None else math.nan,
                request_target_hours(category=r[6], urgency=r[7], policy=policy),
                request_overdue(category=r[6], urgency=r[7], status=r[8], created_at=r[5],
                                now=now, policy=policy),
                duplicates.get(int(r[0])), r[18],
            )
        )  # fmt: skip
    frame = pd.DataFrame(records, columns=BOARD_COLUMNS)
    frame["item_zh"] = [r[11] for r in rows]
    frame["household_zh"] = [
        f"{r[19] or r[3]} {r[4]}" if r[4] is not None and (r[19] or r[3]) else "" for r in rows
    ]
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["age_hours"] = frame["age_hours"].astype(float)
    frame["duplicate_of"] = frame["duplicate_of"].astype("Int64")
    return _masked_by_grid(frame, actor)


def _masked_by_grid(frame: pd.DataFrame, actor: Actor) -> pd.DataFrame:
    """Each grid's rows as `actor` may see them (household and description are personal)."""
    return mask_personal_per_grid(
        frame, actor=actor, columns={"household": TEXT, "household_zh": TEXT, "description": TEXT}
    )


def _household_history(session: Session, household_ids: set[Any]) -> list[dict[str, Any]]:
    """Every request of these households, as likely_duplicates reads them."""
    closed_at = func.coalesce(col(ResidentRequest.done_at), col(ResidentRequest.cancelled_at))
    found: list[dict[str, Any]] = []
    ids = sorted(int(h) for h in household_ids)
    for start in range(0, len(ids), 900):
        rows = session.execute(
            select(
                col(ResidentRequest.id),
                col(ResidentRequest.household_id),
                col(ResidentRequest.category),
                col(ResidentRequest.item_id),
                col(ResidentRequest.created_at),
                closed_at,
                col(ResidentRequest.status),
            ).where(col(ResidentRequest.household_id).in_(ids[start : start + 900]))
        ).all()
        for r in rows:
            closed = r[5]
            if closed is None and r[6] not in OPEN_REQUEST_STATUSES:
                closed = r[4]  # closed without a time: never open alongside a later one
            found.append(
                {"id": r[0], "household_id": r[1], "category": r[2], "item_id": r[3],
                 "created_at": r[4], "closed_at": closed}
            )  # fmt: skip
    return found


RESOLUTION_COLUMNS = [
    "category",
    "done",
    "median_hours",
    "max_hours",
    "within_target",
    "target_hours",
]


def resolution_times(
    *, session: Session, since: datetime, grid_ids: tuple[int, ...] | None = None
) -> pd.DataFrame:
    """Per category: requests done since `since`, hours to resolve, and how many in target."""
    query = select_columns(
        col(ResidentRequest.category),
        col(ResidentRequest.urgency),
        col(ResidentRequest.created_at),
        col(ResidentRequest.done_at),
    ).where(col(ResidentRequest.status) == "done", col(ResidentRequest.done_at) >= since)
    done = []
    for category, urgency, created, finished in session.execute(_scope(query, grid_ids)).all():
        hours = hours_to_resolve(created, finished)
        if hours is not None:
            done.append((str(category), str(urgency), hours))
    rows = resolution_by_category(done, policy=load_policy(session))
    return pd.DataFrame(rows, columns=RESOLUTION_COLUMNS)


def grid_households(*, session: Session, grid_id: int) -> pd.DataFrame:
    """The grid's households (building and flat), for the form that takes a request."""
    rows = session.execute(
        select(col(Household.id), col(Building.name), col(Household.unit), col(Building.name_zh))
        .join(Building, col(Building.id) == col(Household.building_id))
        .where(col(Household.grid_id) == grid_id)
        .order_by(col(Building.code), col(Household.unit), col(Household.id))
    ).all()
    return pd.DataFrame(
        [tuple(r) for r in rows], columns=["household_id", "building", "unit", "building_zh"]
    )


def supply_items(*, session: Session) -> pd.DataFrame:
    """Every supply item a request can ask for."""
    rows = session.execute(
        select(col(SupplyItem.id), col(SupplyItem.name), col(SupplyItem.name_zh),
               col(SupplyItem.unit)).order_by(col(SupplyItem.code))
    ).all()  # fmt: skip
    return pd.DataFrame([tuple(r) for r in rows], columns=["item_id", "name", "name_zh", "unit"])
