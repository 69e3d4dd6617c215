"""One grid in detail: its people, workers, cases, contacts, testing, requests, tasks and stock.

Counts are aggregated in SQL; the row lists are one grid's rows. Every function that
returns personal data (names, phones, case addresses, free text about a household) takes
the `actor` and masks those columns unless `actor.sees_personal_data_of(grid_id)`.
Worker names stay visible (staff, posted on every grid's notice board); their phones do not.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import String, and_, case, func, literal, or_, select, true
from sqlmodel import Session, col

from gridcore.analytics.testing import coverage
from gridcore.analytics.workforce import request_overdue
from gridcore.models import (
    OPEN_REQUEST_STATUSES,
    OPEN_TASK_STATUSES,
    Area,
    Building,
    Case,
    Contact,
    ContactStatus,
    Depot,
    DepotMinimum,
    HealthStatus,
    Household,
    Resident,
    ResidentRequest,
    StockMovement,
    SupplyItem,
    Task,
    TestRecord,
    TestResult,
    TestRound,
    TestRoundArea,
    Vulnerability,
    Worker,
    WorkerGrid,
    WorkerRole,
    ZoneLevel,
    ZoneOrder,
    utcnow,
)
from gridcore.policy import load_policy
from gridcore.queries._sql import count_if
from gridcore.services.base import Actor

MASK = "***"

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
CASE_COLUMNS = [
    "case_id",
    "reported_date",
    "kind",
    "status",
    "found_via",
    "resident_name",
    "address",
    "building",
]
CONTACT_COLUMNS = [
    "contact_id",
    "person_name",
    "phone",
    "contact_type",
    "quarantine_place",
    "start_date",
    "planned_end_date",
    "days_left",
    "status",
]
TESTING_COLUMNS = [
    "round_id",
    "round_name",
    "start_at",
    "expected",
    "sampled",
    "coverage",
    "positives",
    "pending",
]
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
TASK_COLUMNS = ["task_id", "kind", "title", "status", "assigned_worker", "due_at", "overdue"]
STOCK_COLUMNS = [
    "depot",
    "item_code",
    "item",
    "item_zh",
    "unit",
    "stock",
    "min_stock",
    "below_min",
]
ZONE_COLUMNS = [
    "order_id",
    "area_id",
    "area_code",
    "building_id",
    "level",
    "start_date",
    "end_date",
    "reason",
    "shape",
    "lng",
    "lat",
]

_ROLE_RANK = {role.value: rank for rank, role in enumerate(WorkerRole)}
_LEVEL_RANK = {level.value: rank for rank, level in enumerate(ZoneLevel)}


# --------------------------------------------------------------------------- masking


def mask_name(name: str | None) -> str | None:
    """A name with only its first character shown: '张三丰' → '张**'."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    """A phone number with its middle hidden: '13812345678' → '138****5678'."""
    if not phone:
        return phone
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * (len(phone) - 2) + phone[-2:]


def mask_text(text: str | None) -> str | None:
    """A free text (an address, a description) hidden entirely."""
    return MASK if text else text


def _masked(frame: pd.DataFrame, masks: dict[str, Any]) -> pd.DataFrame:
    """`frame` with each column in `masks` passed through its masking function."""
    for column, mask in masks.items():
        frame[column] = frame[column].map(mask, na_action="ignore")
    return frame


# --------------------------------------------------------------------------- people


def grid_people(*, session: Session, grid_id: int) -> dict[str, Any]:
    """Counts of a grid's people: residents, households, buildings and vulnerable residents.

    Keys: residents, households, buildings, vulnerable (residents with any tag),
    vulnerable_by_tag (tag → residents), away (residents not at home, exempt from testing).
    """
    padded = literal(",", String) + col(Resident.vulnerability) + literal(",", String)
    per_tag = [count_if(padded.like(f"%,{tag.value},%")) for tag in Vulnerability]
    row = session.execute(
        select(
            func.count(col(Resident.id)),
            count_if(col(Resident.vulnerability) != ""),
            count_if(col(Resident.health_status) != HealthStatus.at_home),
            *per_tag,
        ).where(col(Resident.grid_id) == grid_id)
    ).one()
    households = session.execute(
        select(func.count(col(Household.id))).where(col(Household.grid_id) == grid_id)
    ).scalar_one()
    buildings = session.execute(
        select(func.count(col(Building.id))).where(col(Building.grid_id) == grid_id)
    ).scalar_one()
    return {
        "residents": int(row[0]),
        "households": int(households),
        "buildings": int(buildings),
        "vulnerable": int(row[1]),
        "away": int(row[2]),
        "vulnerable_by_tag": {
            tag.value: int(n) for tag, n in zip(Vulnerability, row[3:], strict=True)
        },
    }


# --------------------------------------------------------------------------- workers


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
    if not actor.sees_personal_data_of(grid_id):
        frame = _masked(frame, {"phone": mask_phone})
    return frame


# --------------------------------------------------------------------------- epidemic


def grid_cases(*, session: Session, grid_id: int, actor: Actor) -> pd.DataFrame:
    """The grid's cases, newest first, with the resident's name and the building."""
    rows = session.execute(
        select(
            col(Case.id),
            col(Case.reported_date),
            col(Case.kind),
            col(Case.status),
            col(Case.found_via),
            col(Resident.name),
            col(Case.address),
            col(Building.name),
        )
        .outerjoin(Resident, col(Resident.id) == col(Case.resident_id))
        .outerjoin(Building, col(Building.id) == col(Case.building_id))
        .where(col(Case.grid_id) == grid_id)
        .order_by(col(Case.reported_date).desc(), col(Case.id).desc())
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=CASE_COLUMNS)
    if not actor.sees_personal_data_of(grid_id):
        frame = _masked(frame, {"resident_name": mask_name, "address": mask_text})
    return frame


def grid_contacts(*, session: Session, grid_id: int, today: date, actor: Actor) -> pd.DataFrame:
    """The grid's contacts: those in quarantine first, soonest end first.

    days_left is planned_end_date − today for a contact in quarantine (0: ends today,
    negative: overdue for release), empty otherwise.
    """
    rows = session.execute(
        select(
            col(Contact.id),
            col(Contact.person_name),
            col(Contact.phone),
            col(Contact.contact_type),
            col(Contact.quarantine_place),
            col(Contact.start_date),
            col(Contact.planned_end_date),
            col(Contact.status),
        )
        .where(col(Contact.grid_id) == grid_id)
        .order_by(
            case((col(Contact.status) == ContactStatus.in_quarantine, 0), else_=1),
            col(Contact.planned_end_date),
            col(Contact.id),
        )
    ).all()
    records = [
        (*r[:7], (r[6] - today).days if r[7] == ContactStatus.in_quarantine else None, r[7])
        for r in rows
    ]
    frame = pd.DataFrame(records, columns=CONTACT_COLUMNS)
    frame["days_left"] = frame["days_left"].astype("Int64")
    if not actor.sees_personal_data_of(grid_id):
        frame = _masked(frame, {"person_name": mask_name, "phone": mask_phone})
    return frame


# --------------------------------------------------------------------------- testing


def grid_testing(*, session: Session, grid_id: int) -> pd.DataFrame:
    """Each testing round over the grid, newest first: expected, sampled, coverage, results.

    expected is the grid's residents at home (others are exempt); coverage is
    sampled ÷ expected, at most 1, NaN when nobody is expected.
    """
    expected = session.execute(
        select(func.count(col(Resident.id))).where(
            col(Resident.grid_id) == grid_id, col(Resident.health_status) == HealthStatus.at_home
        )
    ).scalar_one()
    rows = session.execute(
        select(
            col(TestRound.id),
            col(TestRound.name),
            col(TestRound.start_at),
            func.count(col(TestRecord.id)),
            count_if(col(TestRecord.result) == TestResult.positive),
            count_if(col(TestRecord.result) == TestResult.pending),
        )
        .join(TestRoundArea, col(TestRoundArea.round_id) == col(TestRound.id))
        .outerjoin(
            TestRecord,
            and_(col(TestRecord.round_id) == col(TestRound.id), col(TestRecord.grid_id) == grid_id),
        )
        .where(col(TestRoundArea.grid_id) == grid_id)
        .group_by(col(TestRound.id), col(TestRound.name), col(TestRound.start_at))
        .order_by(col(TestRound.start_at).desc(), col(TestRound.id).desc())
    ).all()
    records = [
        (
            r[0],
            r[1],
            r[2],
            int(expected),
            int(r[3]),
            _nan_if_none(coverage(sampled=int(r[3]), expected=int(expected))),
            int(r[4]),
            int(r[5]),
        )
        for r in rows
    ]
    return pd.DataFrame(records, columns=TESTING_COLUMNS)


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else value


# --------------------------------------------------------------------------- requests and tasks


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
    if not actor.sees_personal_data_of(grid_id):
        frame = _masked(frame, {"description": mask_text})
    return frame


def _age_order(record: tuple[Any, ...]) -> float:
    """Open requests oldest first, closed ones newest first."""
    stamp = record[1].timestamp()
    return stamp if record[4] in OPEN_REQUEST_STATUSES else -stamp


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
    if not actor.sees_personal_data_of(grid_id):
        frame = _masked(frame, {"title": mask_text})
    return frame


# --------------------------------------------------------------------------- stock


def grid_stock(*, session: Session, grid_id: int) -> pd.DataFrame:
    """Stock of every item at the grid's depots (summed from the ledger) against its minimum."""
    sums = (
        select(
            col(StockMovement.depot_id),
            col(StockMovement.item_id),
            func.sum(col(StockMovement.quantity)).label("stock"),
        )
        .join(Depot, col(Depot.id) == col(StockMovement.depot_id))
        .where(col(Depot.area_id) == grid_id)
        .group_by(col(StockMovement.depot_id), col(StockMovement.item_id))
        .subquery()
    )
    minimum = func.coalesce(col(DepotMinimum.min_stock), col(SupplyItem.min_stock))
    stock = func.coalesce(sums.c.stock, 0)
    rows = session.execute(
        select(
            col(Depot.name),
            col(SupplyItem.code),
            col(SupplyItem.name),
            col(SupplyItem.name_zh),
            col(SupplyItem.unit),
            stock,
            minimum,
        )
        .select_from(Depot)
        .join(SupplyItem, true())
        .outerjoin(
            sums, and_(sums.c.depot_id == col(Depot.id), sums.c.item_id == col(SupplyItem.id))
        )
        .outerjoin(
            DepotMinimum,
            and_(
                col(DepotMinimum.depot_id) == col(Depot.id),
                col(DepotMinimum.item_id) == col(SupplyItem.id),
            ),
        )
        .where(col(Depot.area_id) == grid_id)
        .order_by(col(Depot.name), col(Depot.id), col(SupplyItem.code))
    ).all()
    records = [(*r[:5], int(r[5]), int(r[6]), int(r[5]) < int(r[6])) for r in rows]
    return pd.DataFrame(records, columns=STOCK_COLUMNS)


# --------------------------------------------------------------------------- zone orders


def zone_orders(*, session: Session, today: date) -> pd.DataFrame:
    """Every order in force on `today`, most severe first.

    In force: start_date <= today and (no end_date or today <= end_date). For an order on
    a building, area_id/area_code are the building's grid, shape is None and lng/lat
    the building's point; for an order on a grid, shape is its GeoJSON geometry.
    """
    grid = Area.__table__.alias("order_grid")  # type: ignore[attr-defined]
    building_grid = Area.__table__.alias("building_grid")  # type: ignore[attr-defined]
    rows = session.execute(
        select(
            col(ZoneOrder.id),
            func.coalesce(col(ZoneOrder.area_id), col(Building.grid_id)),
            func.coalesce(grid.c.code, building_grid.c.code),
            col(ZoneOrder.building_id),
            col(ZoneOrder.level),
            col(ZoneOrder.start_date),
            col(ZoneOrder.end_date),
            col(ZoneOrder.reason),
            grid.c.shape,
            col(Building.lng),
            col(Building.lat),
        )
        .outerjoin(grid, grid.c.id == col(ZoneOrder.area_id))
        .outerjoin(Building, col(Building.id) == col(ZoneOrder.building_id))
        .outerjoin(building_grid, building_grid.c.id == col(Building.grid_id))
        .where(
            col(ZoneOrder.start_date) <= today,
            or_(col(ZoneOrder.end_date).is_(None), col(ZoneOrder.end_date) >= today),
        )
        .order_by(col(ZoneOrder.start_date), col(ZoneOrder.id))
    ).all()
    records = [(*r[:8], json.loads(r[8]) if r[8] else None, r[9], r[10]) for r in rows]
    frame = pd.DataFrame(records, columns=ZONE_COLUMNS)
    return frame.sort_values(
        "level", key=lambda levels: levels.map(_LEVEL_RANK), kind="stable"
    ).reset_index(drop=True)
