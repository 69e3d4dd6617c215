"""World-building helpers for tests.

Everything that has a write service is made through it (as the system actor unless told
otherwise), so a test world obeys the same rules as real data. Areas, buildings, supply
items, depots and testing rounds have no write service yet and are inserted directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from gridcore.access import SYSTEM, Actor
from gridcore.config import local_today
from gridcore.models import (
    Area,
    AreaLevel,
    AuditEntry,
    Building,
    Case,
    Contact,
    Depot,
    DepotLevel,
    Resident,
    ResidentRequest,
    StockMovement,
    SupplyItem,
    Task,
    TestRecord,
    TestRound,
    TestRoundArea,
    UserRole,
    Worker,
    ZoneOrder,
    utcnow,
)
from gridcore.services import counters
from gridcore.services.base import REFUSED
from gridcore.services.cases import create_case, create_contact
from gridcore.services.requests import create_request
from gridcore.services.residents import (
    register_resident,
)
from gridcore.services.stock import record_stock_movement
from gridcore.services.tasks import create_task
from gridcore.services.workforce import create_worker
from gridcore.services.zones import issue_zone_order

ADMIN = Actor(username="ada", role=UserRole.admin, user_id=1)
LEADER = Actor(username="lee", role=UserRole.leader, user_id=2)
VIEWER = Actor(username="vic", role=UserRole.viewer, user_id=3)


def grid_worker(*grids: Area, username: str = "wang") -> Actor:
    """A grid worker whose scope is `grids`."""
    return Actor(
        username=username,
        role=UserRole.grid_worker,
        grid_ids=frozenset(g.id for g in grids if g.id is not None),
        user_id=4,
    )


def today() -> date:
    """Today's local calendar day (dates in tests are relative to it)."""
    return local_today()


def days_ago(n: int) -> date:
    """The local calendar day `n` days before today."""
    return local_today() - timedelta(days=n)


def count(session: Session, model: type[SQLModel]) -> int:
    """How many rows `model`'s table holds."""
    return int(session.exec(select(func.count()).select_from(model)).one())


def counts(session: Session, *models: type[SQLModel]) -> dict[str, int]:
    """Row counts of several tables, by table name (to show that nothing was written)."""
    return {m.__name__: count(session, m) for m in models}


KEPT_PER_AREA = ("roundgridcount", "roundsitehour", "gridcount")


def table_counts(session: Session) -> dict[str, int]:
    """Row counts of every table, by table name; the audit of refused writes is not counted
    (a refusal writes nothing but that entry, which tests/test_permissions.py checks), nor
    are the counters kept per round and grid, per round, site and hour, and per grid (their
    rows follow the records; tests/test_counters.py checks them)."""
    found = {
        table.name: int(session.execute(select(func.count()).select_from(table)).scalar_one())
        for table in SQLModel.metadata.sorted_tables
        if table.name not in KEPT_PER_AREA
    }
    found[AuditEntry.__tablename__] -= refused_count(session)  # type: ignore[index]
    return found


def refused_count(session: Session) -> int:
    """How many audit entries record a refused write."""
    return int(
        session.exec(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == REFUSED)
        ).one()
    )


def grown(before: dict[str, int], session: Session) -> dict[str, int]:
    """The tables that gained (or lost) rows since `before`, and by how many."""
    after = table_counts(session)
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def last_audit(session: Session) -> AuditEntry:
    """The newest audit entry."""
    entry = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert entry is not None, "no audit entry"
    return entry


@dataclass
class World:
    """A street with one community and its grids, each with its buildings."""

    street: Area
    community: Area
    grids: list[Area]
    buildings: list[list[Building]]  # per grid, in order


def _area(session: Session, **fields: Any) -> Area:
    area = Area(**fields)
    session.add(area)
    session.flush()
    return area


def make_street_with_grids(
    session: Session, *, grids: int = 2, buildings_per_grid: int = 2, prefix: str = "T"
) -> World:
    """A street 'T' → community 'T-C1' → grids 'T-C1-G1', … each with buildings 'B1', …"""
    street = _area(session, code=prefix, name=f"{prefix} Street", level=AreaLevel.street)
    community = _area(
        session,
        code=f"{prefix}-C1",
        name="Community 1",
        name_zh="一社区",
        level=AreaLevel.community,
        parent_id=street.id,
    )
    grid_rows: list[Area] = []
    building_rows: list[list[Building]] = []
    for g in range(1, grids + 1):
        square = [[121.0 + g / 100, 31.0], [121.01 + g / 100, 31.0], [121.01 + g / 100, 31.01]]
        grid = _area(
            session,
            code=f"{prefix}-C1-G{g}",
            name=f"Grid {g}",
            name_zh=f"第{g}网格",
            level=AreaLevel.grid,
            parent_id=community.id,
            shape='{"type": "Polygon", "coordinates": [' + str([*square, square[0]]) + "]}",
            center_lng=121.005 + g / 100,
            center_lat=31.005,
        )
        grid_rows.append(grid)
        per_grid = []
        for b in range(1, buildings_per_grid + 1):
            building = Building(
                code=f"{grid.code}-B{b}",
                name=f"Building {b}",
                grid_id=grid.id,
                lng=121.002 + g / 100 + b / 1000,
                lat=31.002,
                address=f"{b} Heping Lane",
            )
            session.add(building)
            per_grid.append(building)
        building_rows.append(per_grid)
    session.commit()
    return World(street=street, community=community, grids=grid_rows, buildings=building_rows)


def make_resident(
    session: Session,
    *,
    building: Building,
    unit: str = "1-101",
    name: str = "张三丰",
    actor: Actor = SYSTEM,
    **fields: Any,
) -> Resident:
    """A resident of flat `unit` in `building` (the household is added if new)."""
    return register_resident(
        session=session,
        data={"building_id": building.id, "unit": unit, "name": name, **fields},
        actor=actor,
    )


def make_worker(
    session: Session,
    *,
    grids: list[Area],
    name: str = "李网格",
    role: str = "grid_member",
    employment: str = "full_time",
    actor: Actor = SYSTEM,
    **fields: Any,
) -> Worker:
    """A worker serving `grids`."""
    return create_worker(
        session=session,
        data={
            "name": name,
            "role": role,
            "employment": employment,
            "grid_ids": [g.id for g in grids],
            **fields,
        },
        actor=actor,
    )


def make_case(
    session: Session,
    *,
    grid: Area,
    reported_date: date | None = None,
    kind: str = "confirmed",
    found_via: str = "screening",
    actor: Actor = SYSTEM,
    **fields: Any,
) -> Case:
    """A case in `grid` (reported today unless told; an address unless a resident is given)."""
    data: dict[str, Any] = {
        "grid_id": grid.id,
        "reported_date": reported_date or today(),
        "kind": kind,
        "found_via": found_via,
        **fields,
    }
    if data.get("resident_id") is None:
        data.setdefault("address", "5 Heping Lane, 2-301")
    return create_case(session=session, data=data, actor=actor)


def make_contact(
    session: Session,
    *,
    grid: Area | None,
    start_date: date | None = None,
    days: int = 7,
    person_name: str = "赵密接",
    actor: Actor = SYSTEM,
    **fields: Any,
) -> Contact:
    """A close contact in central quarantine from `start_date` for `days` days."""
    start = start_date or today()
    return create_contact(
        session=session,
        data={
            "grid_id": grid.id if grid is not None else None,
            "person_name": person_name,
            "contact_type": "close",
            "identified_date": min(start, today()),
            "quarantine_place": "central",
            "start_date": start,
            "planned_end_date": start + timedelta(days=days),
            **fields,
        },
        actor=actor,
    )


def make_request(
    session: Session,
    *,
    grid: Area,
    category: str = "food",
    urgency: str = "normal",
    now: datetime | None = None,
    actor: Actor = SYSTEM,
    **fields: Any,
) -> ResidentRequest:
    """A new request in `grid`, created at `now`."""
    return create_request(
        session=session,
        data={"grid_id": grid.id, "category": category, "urgency": urgency, **fields},
        actor=actor,
        now=now,
    )


def make_task(
    session: Session,
    *,
    grid: Area,
    kind: str = "delivery",
    title: str = "Deliver vegetables to 3-502",
    worker: Worker | None = None,
    due_at: datetime | None = None,
    now: datetime | None = None,
    actor: Actor = SYSTEM,
    **fields: Any,
) -> Task:
    """An open task in `grid`, created at `now` (default: now)."""
    return create_task(
        session=session,
        data={
            "grid_id": grid.id,
            "kind": kind,
            "title": title,
            "assigned_worker_id": worker.id if worker is not None else None,
            "due_at": due_at,
            **fields,
        },
        actor=actor,
        now=now,
    )


def make_zone_order(
    session: Session,
    *,
    grid: Area | None = None,
    building: Building | None = None,
    level: str = "sealed",
    start_date: date | None = None,
    actor: Actor = SYSTEM,
    **fields: Any,
) -> ZoneOrder:
    """An order on a grid or a building, from `start_date` (default today)."""
    return issue_zone_order(
        session=session,
        data={
            "area_id": grid.id if grid is not None else None,
            "building_id": building.id if building is not None else None,
            "level": level,
            "start_date": start_date or today(),
            "reason": "new case",
            **fields,
        },
        actor=actor,
    )


def make_item(
    session: Session, *, code: str = "MASK", name: str = "Masks", min_stock: int = 0
) -> SupplyItem:
    """A supply item (inserted directly: items have no write service)."""
    item = SupplyItem(code=code, name=name, name_zh="口罩", unit="box", min_stock=min_stock)
    session.add(item)
    session.commit()
    return item


def make_depot(
    session: Session, *, area: Area, name: str = "Grid depot", level: str = "grid"
) -> Depot:
    """A depot in `area` (inserted directly: depots have no write service)."""
    depot = Depot(name=name, area_id=area.id, level=DepotLevel(level))
    session.add(depot)
    session.commit()
    return depot


def receive(
    session: Session,
    *,
    depot: Depot,
    item: SupplyItem,
    quantity: int,
    actor: Actor = SYSTEM,
) -> StockMovement:
    """A receipt of `quantity` of `item` at `depot`."""
    return record_stock_movement(
        session=session,
        data={"depot_id": depot.id, "item_id": item.id, "kind": "receipt", "quantity": quantity},
        actor=actor,
    )


def make_round(
    session: Session, *, grids: list[Area], name: str = "Round 1", start_at: datetime | None = None
) -> TestRound:
    """A testing round over `grids` (inserted directly: rounds are not written here)."""
    start = start_at or utcnow() - timedelta(hours=6)
    test_round = TestRound(name=name, start_at=start, deadline_at=start + timedelta(hours=24))
    session.add(test_round)
    session.flush()
    for grid in grids:
        session.add(TestRoundArea(round_id=test_round.id, grid_id=grid.id))
    session.commit()
    return test_round


def make_test_record(
    session: Session, *, test_round: TestRound, resident: Resident, result: str = "negative"
) -> TestRecord:
    """One sample of `resident` in `test_round` (inserted directly)."""
    record = TestRecord(
        round_id=test_round.id,
        resident_id=resident.id,
        grid_id=resident.grid_id,
        sampled_at=test_round.start_at + timedelta(hours=1),
        result=result,
    )
    session.add(record)
    session.flush()
    counters.count_in(session, records=[record.id])  # type: ignore[list-item]
    session.commit()
    return record
