"""The area an audit entry belongs to: the grid (or the most specific area) of the written row.

`write(...)` asks `area_of` for every row it audits, so the audit log can be read per street,
community or grid. A row that belongs to no area (an account, a kiosk link, a policy setting)
has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from gridcore.models import (
    Area,
    Building,
    Case,
    CaseAddress,
    CaseCount,
    Contact,
    ContactTest,
    Depot,
    DepotMinimum,
    Household,
    Resident,
    ResidentRequest,
    ResidentVulnerability,
    StockBalance,
    StockMovement,
    Task,
    TestRecord,
    TestRound,
    TestRoundArea,
    TestSite,
    Worker,
    WorkerGrid,
    ZoneOrder,
)

# The audit subject (`write(entity=…)`) → its table, for rows audited by id.
ENTITY_MODELS: dict[str, type[SQLModel]] = {
    "area": Area,
    "case": Case,
    "contact": Contact,
    "contact_test": ContactTest,
    "household": Household,
    "request": ResidentRequest,
    "resident": Resident,
    "stock_count": StockMovement,
    "stock_movement": StockMovement,
    "stock_transfer": StockMovement,
    "task": Task,
    "test_record": TestRecord,
    "test_round": TestRound,
    "worker": Worker,
    "zone_order": ZoneOrder,
}

# Actions whose one entry stands for many rows.
MANY_ROWS = ("import",)
# Rows whose area is a column of their own.
_GRID_COLUMN = (Building, Household, Resident, Case, TestRecord, ResidentRequest, Task)
_AREA_COLUMN = (CaseCount, CaseAddress, TestSite, Depot)
_DEPOT_COLUMN = (StockMovement, StockBalance, DepotMinimum)
# Keys of an entry's changes that name its area, for a row no longer there (an undone sample).
_CHANGE_KEYS = ("grid_id", "area_id")


def area_of(
    session: Session,
    entity: str,
    row: Any,
    changes: Mapping[str, Any] | None = None,
    *,
    action: str = "update",
) -> int | None:
    """The area of `row` (a table row, or the id of a row of `entity`), else None.

    An import's entry stands for a whole file, and the id it names may be another table's
    (a testing round's): it has no area.
    """
    if action in MANY_ROWS:
        return None
    if row is not None and not isinstance(row, SQLModel):
        model = ENTITY_MODELS.get(entity)
        row = session.get(model, int(row)) if model is not None and _whole(row) else None
    area = _row_area(session, row) if row is not None else None
    if area is None and changes:
        named: list[Any] = [v for key in _CHANGE_KEYS if _whole(v := changes.get(key))]
        area = int(named[0]) if named else None
    return area


def _whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.isdigit()


def _row_area(session: Session, row: SQLModel) -> int | None:
    if isinstance(row, Area):
        return row.id
    if isinstance(row, _GRID_COLUMN):
        return row.grid_id
    if isinstance(row, _AREA_COLUMN):
        return row.area_id
    if isinstance(row, _DEPOT_COLUMN):
        depot = session.get(Depot, row.depot_id)
        return None if depot is None else depot.area_id
    if isinstance(row, Contact):
        return _contact_area(session, row)
    if isinstance(row, ContactTest):
        contact = session.get(Contact, row.contact_id)
        return None if contact is None else _contact_area(session, contact)
    if isinstance(row, ZoneOrder):
        if row.area_id is not None:
            return row.area_id
        building = session.get(Building, row.building_id) if row.building_id else None
        return None if building is None else building.grid_id
    if isinstance(row, ResidentVulnerability):
        resident = session.get(Resident, row.resident_id)
        return None if resident is None else resident.grid_id
    if isinstance(row, WorkerGrid):
        return row.grid_id
    if isinstance(row, Worker):
        grids = session.exec(
            select(WorkerGrid.grid_id).where(col(WorkerGrid.worker_id) == row.id)
        ).all()
        return common_area(session, grids)
    if isinstance(row, TestRound):
        grids = session.exec(
            select(TestRoundArea.grid_id).where(col(TestRoundArea.round_id) == row.id)
        ).all()
        return common_area(session, grids)
    return None


def _contact_area(session: Session, contact: Contact) -> int | None:
    """A contact's grid; for someone registered with none, their resident's or case's grid."""
    if contact.grid_id is not None:
        return contact.grid_id
    if contact.resident_id is not None and (r := session.get(Resident, contact.resident_id)):
        return r.grid_id
    if contact.case_id is not None and (c := session.get(Case, contact.case_id)):
        return c.grid_id
    return None


def common_area(session: Session, area_ids: Iterable[int | None]) -> int | None:
    """The most specific area holding every one of `area_ids`: a grid for one grid, their
    community for grids of one community, and so on up; None when they share none."""
    wanted = sorted({int(a) for a in area_ids if a is not None})
    if not wanted:
        return None
    chains = [_ancestors(session, a) for a in wanted]
    shared = set(chains[0]).intersection(*chains[1:])
    return next((a for a in chains[0] if a in shared), None)


def _ancestors(session: Session, area_id: int) -> list[int]:
    """`area_id` and every area above it, nearest first."""
    chain: list[int] = []
    current: int | None = area_id
    while current is not None and current not in chain:
        chain.append(current)
        area = session.get(Area, current)
        current = None if area is None else area.parent_id
    return chain
