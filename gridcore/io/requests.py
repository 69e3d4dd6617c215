"""Residents' requests in and out: the same columns both ways.

Columns (row 1 is the header; names are matched without regard to case, or by the
Chinese name in brackets):

    request_id     (诉求编号) the request's number in GridCore; empty for a new request
    grid_code      (网格编码) the grid, e.g. SH-XH-TL-C03-G05                      required
    building_code  (楼栋编码) the household's building (in that grid)
    unit           (房号) the household's flat (given with building_code)
    category       (类别) medicine | food | medical_care | other
                   (药品 | 食品 | 就医 | 其他)                                       required
    urgency        (紧急程度) urgent | normal (紧急 | 一般); empty is normal
    item_code      (物资编码) the supply item of a medicine or food request
    quantity       (数量) how many of the item (given with item_code)
    description    (需求说明) up to 500 characters
    created_at     (受理时间) when the request was taken; empty is the time of the import
    status         (状态)        \
    assigned_worker (工作人员)    > written for people, not read back: the app moves
    done_at        (办结时间)     /  a request on, an import only adds new ones

A row without a request_id adds a new request (status new), unless the same grid and
household already have one of the same category, item and taking time — that one is the
row's request. A row with a request_id must name a stored request and say what is
stored; a difference is a problem (requests change in the app, where each step is timed
and audited). So importing an exported file, or the same file twice, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert, select
from sqlmodel import Session, col

from gridcore.access import Actor, PermissionDenied
from gridcore.config import get_settings
from gridcore.io.cells import (
    Invalid,
    ignored,
    local_text,
    parse_moment,
    parse_whole,
    text,
    to_second,
)
from gridcore.io.importer import (
    Column,
    Exchange,
    Importer,
    Merge,
    Plan,
    Row,
    Rows,
    Written,
    column_names,
    in_chunks,
    run_import,
)
from gridcore.io.report import ImportReport
from gridcore.io.tabular import Table
from gridcore.models import (
    Area,
    AreaLevel,
    Building,
    Household,
    RequestCategory,
    ResidentRequest,
    SupplyItem,
    Urgency,
    UserRole,
    Worker,
    utcnow,
)

KIND = "requests"
DESCRIPTION_MAX = 500
CATEGORY_WORDS: dict[str, str] = {
    "药品": "medicine",
    "买药": "medicine",
    "食品": "food",
    "生活物资": "food",
    "就医": "medical_care",
    "医疗": "medical_care",
    "其他": "other",
}
URGENCY_WORDS: dict[str, str] = {"紧急": "urgent", "一般": "normal", "普通": "normal"}


def choice_parser(values: tuple[str, ...], words: dict[str, str], blank: str | None) -> Any:
    """A parser of one of `values` (or a word for one); `blank` when empty (None: required)."""

    def parse(value: str) -> str | None:
        value = value.strip()
        if not value:
            return blank
        found = words.get(value) or value.lower().replace(" ", "_").replace("-", "_")
        if found not in values:
            raise Invalid("io.problem.bad_choice")
        return found

    return parse


def moment(value: str) -> datetime | None:
    """An aware UTC time to the second (a time without offset is local); None when blank."""
    if not value.strip():
        return None
    found = parse_moment(value, get_settings().tz)
    if found is None:
        raise Invalid("io.problem.bad_time")
    return to_second(found)


def number(value: str) -> int | None:
    """A whole number of 1 or more (a row number, a quantity); None when blank."""
    if not value.strip():
        return None
    found = parse_whole(value)
    if found is None or found <= 0:
        raise Invalid("io.problem.bad_number")
    return found


COLUMN_RULES: tuple[Column, ...] = (
    Column("request_id", "诉求编号", number),
    Column("grid_code", "网格编码", text(), required=True, filled=True),
    Column("building_code", "楼栋编码", text()),
    Column("unit", "房号", text()),
    Column(
        "category",
        "类别",
        choice_parser(tuple(c.value for c in RequestCategory), CATEGORY_WORDS, None),
        required=True,
        filled=True,
    ),
    Column(
        "urgency",
        "紧急程度",
        choice_parser(tuple(u.value for u in Urgency), URGENCY_WORDS, "normal"),
    ),
    Column("item_code", "物资编码", text()),
    Column("quantity", "数量", number),
    Column("description", "需求说明", text(max_length=DESCRIPTION_MAX)),
    Column("created_at", "受理时间", moment),
    Column("status", "状态", ignored),
    Column("assigned_worker", "工作人员", ignored),
    Column("done_at", "办结时间", ignored),
)
COLUMNS: tuple[str, ...] = column_names(COLUMN_RULES)
# What a row says of a request, compared with what is stored.
FIELDS: tuple[str, ...] = (
    "grid_id",
    "household_id",
    "category",
    "urgency",
    "item_id",
    "quantity",
    "description",
    "created_at",
)
_REQUESTS = ResidentRequest.__table__  # type: ignore[attr-defined]


def _scope_of(actor: Actor) -> list[int] | None:
    """The grids whose requests `actor` exports (None: all); viewers: PermissionDenied."""
    if not actor.sees_personal_data:
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not export personal data")
    if actor.role == UserRole.grid_worker:
        return sorted(actor.grid_ids or ())
    return None


def export_requests(*, session: Session, actor: Actor) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of a requests file (the actor's grids), oldest first."""
    grids = _scope_of(actor)
    grid = Area.__table__.alias("grid")  # type: ignore[attr-defined]
    query = (
        select(
            _REQUESTS.c.id, grid.c.code, col(Building.code), col(Household.unit),
            _REQUESTS.c.category, _REQUESTS.c.urgency, col(SupplyItem.code),
            _REQUESTS.c.quantity, _REQUESTS.c.description, _REQUESTS.c.created_at,
            _REQUESTS.c.status, col(Worker.name), _REQUESTS.c.done_at,
        )
        .join(grid, grid.c.id == _REQUESTS.c.grid_id)
        .outerjoin(Household, col(Household.id) == _REQUESTS.c.household_id)
        .outerjoin(Building, col(Building.id) == col(Household.building_id))
        .outerjoin(SupplyItem, col(SupplyItem.id) == _REQUESTS.c.item_id)
        .outerjoin(Worker, col(Worker.id) == _REQUESTS.c.assigned_worker_id)
        .order_by(_REQUESTS.c.created_at, _REQUESTS.c.id)
    )  # fmt: skip
    if grids is not None:
        query = query.where(_REQUESTS.c.grid_id.in_(grids))
    rows = session.execute(query).all()
    tz = get_settings().tz

    def generate() -> Iterator[list[Any]]:
        for r in rows:
            cells = ["" if v is None else v for v in r]
            cells[9] = local_text(r[9], tz)
            cells[12] = local_text(r[12], tz) if r[12] is not None else ""
            yield cells

    return list(COLUMNS), generate()


class _Need(NamedTuple):
    """A good row, read: the request it names (or None) and its fields."""

    row: int
    request_id: int | None
    values: dict[str, Any]


@dataclass
class _Lookups:
    grid_ids: dict[str, int]
    buildings: dict[str, tuple[int, int]]  # code → (id, grid id)
    households: dict[tuple[int, str], int]  # (building id, unit) → household id
    items: dict[str, int]
    stored: dict[int, dict[str, Any]]
    # (grid, household, category, item, created_at) → request id, for rows without an id.
    by_identity: dict[tuple[Any, ...], int]


def _stored(session: Session, where: Any) -> dict[int, dict[str, Any]]:
    rows = session.execute(
        select(_REQUESTS.c.id, *(_REQUESTS.c[f] for f in FIELDS)).where(where)
    ).all()
    return {int(r[0]): dict(zip(FIELDS, r[1:], strict=True)) for r in rows}


def _identity(values: dict[str, Any]) -> tuple[Any, ...]:
    return (
        values["grid_id"],
        values["household_id"],
        values["category"],
        values["item_id"],
        values["created_at"],
    )


class RequestsImport(Importer[_Lookups, _Need, None]):
    """A requests file: new requests; stored ones must be as stored."""

    kind = KIND
    entity = "request"
    columns = COLUMN_RULES

    def __init__(self, *, actor: Actor) -> None:
        super().__init__(actor=actor)
        self.now = to_second(utcnow())
        self.first_row: dict[Any, int] = {}

    def load(self, *, session: Session, rows: Rows) -> _Lookups:
        grids = session.execute(
            select(col(Area.code), col(Area.id)).where(col(Area.level) == AreaLevel.grid)
        ).all()
        buildings: dict[str, tuple[int, int]] = {}
        for chunk in in_chunks(sorted(set(rows.column("building_code")) - {None, ""})):
            found = session.execute(
                select(col(Building.code), col(Building.id), col(Building.grid_id)).where(
                    col(Building.code).in_(chunk)
                )
            ).all()
            buildings.update({str(c): (int(i), int(g)) for c, i, g in found})
        households: dict[tuple[int, str], int] = {}
        for chunk in in_chunks(sorted({b for b, _ in buildings.values()})):
            for hid, bid, unit in session.execute(
                select(col(Household.id), col(Household.building_id), col(Household.unit)).where(
                    col(Household.building_id).in_(chunk)
                )
            ).all():
                households[(int(bid), str(unit))] = int(hid)
        items = {
            str(c): int(i)
            for c, i in session.execute(select(col(SupplyItem.code), col(SupplyItem.id))).all()
        }
        stored: dict[int, dict[str, Any]] = {}
        for chunk in in_chunks(sorted(set(rows.column("request_id")) - {None})):
            stored.update(_stored(session, _REQUESTS.c.id.in_(chunk)))
        lookups = _Lookups(
            grid_ids={str(c): int(i) for c, i in grids},
            buildings=buildings,
            households=households,
            items=items,
            stored=stored,
            by_identity={},
        )
        wanted = set(
            lookups.grid_ids[c]
            for c in set(rows.column("grid_code")) - {None}
            if c in lookups.grid_ids
        )
        for chunk in in_chunks(sorted(wanted)):
            for request_id, values in _stored(session, _REQUESTS.c.grid_id.in_(chunk)).items():
                values["created_at"] = to_second(values["created_at"])
                lookups.by_identity.setdefault(_identity(values), request_id)
        return lookups

    def check(self, *, row: Row, lookups: _Lookups) -> _Need | None:
        values: dict[str, Any] = {}
        code = row["grid_code"]
        grid_id = lookups.grid_ids.get(code) if code else None
        if code and grid_id is None:
            row.problem("grid_code", "io.problem.unknown_grid")
        elif grid_id is not None and not self.actor.may_write_grid(grid_id):
            row.problem("grid_code", "io.problem.outside_scope")
        values["grid_id"] = grid_id
        values["household_id"] = self._household(row, lookups, grid_id)
        values["category"] = row["category"]
        values["urgency"] = row["urgency"] or "normal"
        item_code = row["item_code"]
        values["item_id"] = lookups.items.get(item_code) if item_code else None
        if item_code and values["item_id"] is None:
            row.problem("item_code", "io.problem.unknown_item")
        values["quantity"] = row["quantity"]
        if item_code and row.read("quantity") and row["quantity"] is None:
            row.problem("quantity", "io.problem.quantity_needed")
        if row["quantity"] is not None and not item_code:
            row.problem("item_code", "io.problem.item_needed")
        values["description"] = row["description"] or ""
        created = row["created_at"]
        if created is not None and created > self.now:
            row.problem("created_at", "io.problem.in_future")
        values["created_at"] = created if created is not None else self.now
        if row.problems:
            return None
        request_id = row["request_id"]
        if request_id is not None and request_id not in lookups.stored:
            row.problem("request_id", "io.problem.unknown_request")
            return None
        if request_id is None:
            request_id = lookups.by_identity.get(_identity(values))
        key = request_id if request_id is not None else _identity(values)
        first = self.first_row.setdefault(key, row.number)
        if first != row.number:
            row.problem("request_id", "io.problem.duplicate_request", first=first)
            return None
        return _Need(row.number, request_id, values)

    def _household(self, row: Row, lookups: _Lookups, grid_id: int | None) -> int | None:
        building_code, unit = row["building_code"], row["unit"]
        if not building_code and not unit:
            return None
        building = lookups.buildings.get(building_code) if building_code else None
        if building is None:
            row.problem("building_code", "io.problem.unknown_building")
            return None
        if grid_id is not None and building[1] != grid_id:
            row.problem(
                "building_code", "io.problem.building_not_in_grid", grid=row.text("grid_code")
            )
            return None
        household = lookups.households.get((building[0], unit or ""))
        if household is None:
            row.problem("unit", "io.problem.unknown_flat")
        return household

    def merge(self, *, item: _Need, row: Row, lookups: _Lookups) -> Merge | None:
        if item.request_id is None:
            return Merge.NEW
        stored = dict(lookups.stored.get(item.request_id) or {})
        if not stored:
            return Merge.SAME  # found by identity: the same request
        stored["created_at"] = to_second(stored["created_at"])
        given = dict(item.values)
        if not row.has("created_at") or row["created_at"] is None:
            given["created_at"] = stored["created_at"]
        differs = [f for f in FIELDS if given[f] != stored[f]]
        if differs:
            row.problem("request_id", "io.problem.request_differs", fields=", ".join(differs))
            return Merge.CONFLICT
        return Merge.SAME

    def write(self, *, session: Session, plan: Plan[_Need, None], lookups: _Lookups) -> Written:
        if plan.creates:
            session.execute(
                insert(_REQUESTS),
                [{**need.values, "status": "new"} for need in plan.creates],
            )
        return Written(details={"requests_added": len(plan.creates)})


def import_requests(
    *,
    session: Session,
    table: Table,
    actor: Actor,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
) -> ImportReport:
    """Check every row of a requests table and, unless told otherwise, add the new ones."""
    return run_import(
        session=session,
        importer=RequestsImport(actor=actor),
        table=table,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        source=source,
    )


EXCHANGE = Exchange(kind=KIND, columns=COLUMN_RULES, export=export_requests, load=import_requests)
