"""Stock movements in and out: one row per line of the ledger, the same columns both ways.

Columns (row 1 is the header; names are matched without regard to case, or by the
Chinese name in brackets):

    movement_id        (流水号) the movement's number in GridCore: written by an export;
                       empty for a new movement. A row with a number must describe the
                       stored movement exactly (it is then left as it is).
    occurred_at        (发生时间) ISO 8601 with offset, 2026-11-16T08:00:00+08:00; a time
                       without an offset is local time of the deployment          required
    depot              (仓库) the depot's name, or its number (a number is read as a
                       number first)                                              required
    item_code          (物资编码) the supply item's code, e.g. MASK-N95           required
    kind               (类型) receipt | issue | transfer_out | transfer_in | adjustment
                       (入库 | 发放 | 调出 | 调入 | 盘点调整)                       required
    quantity           (数量) the change to the depot's stock as the ledger keeps it
                       (an issue of 5 is -5); a new issue or transfer may be written
                       5 as well. A receipt is positive; an adjustment not zero.  required
    counterpart_depot  (对方仓库) the other depot of a transfer (name or number)
    household_id       (户编号) the household an issue went to
    request_id         (诉求编号) the resident request an issue fulfils
    note               (备注) a note; the reason of an adjustment (required there)
    created_by         (录入人) who entered it: written for people, ignored on import

A new transfer is one transfer_out row: the transfer_in row at the other depot is
written with it (a new transfer_in row alone is a problem). Rows are taken in file order
from each depot's current stock: a row that would take a depot's stock of an item below
zero is a problem, with the stock it found, and then nothing is written. So importing
a file twice, or an exported file, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlmodel import Session

from gridcore.access import Actor, PermissionDenied
from gridcore.config import get_settings
from gridcore.io.bulk import insert_rows
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
from gridcore.io.report import ImportConflict, ImportReport
from gridcore.io.tabular import Table
from gridcore.models import (
    Depot,
    Household,
    MovementKind,
    ResidentRequest,
    StockBalance,
    StockMovement,
    SupplyItem,
    UserRole,
    utcnow,
)
from gridcore.services.checks import CLOCK_SKEW
from gridcore.services.stock import NOTE_MAX, add_to_balances, lock_balances

KIND = "stock-movements"

KIND_WORDS: dict[str, MovementKind] = {
    "入库": MovementKind.receipt,
    "发放": MovementKind.issue,
    "调出": MovementKind.transfer_out,
    "调入": MovementKind.transfer_in,
    "盘点调整": MovementKind.adjustment,
    "调整": MovementKind.adjustment,
}


def _moment(value: str) -> datetime:
    moment = parse_moment(value, get_settings().tz)
    if moment is None:
        raise Invalid("io.problem.bad_time")
    return moment


def _kind(value: str) -> str:
    word = value.strip()
    if word in KIND_WORDS:
        return KIND_WORDS[word].value
    try:
        return MovementKind(word.lower().replace(" ", "_").replace("-", "_")).value
    except ValueError:
        raise Invalid("io.problem.bad_movement_kind") from None


def _whole(value: str) -> int:
    number = parse_whole(value)
    if number is None:
        raise Invalid("io.problem.not_whole")
    return number


def _number(value: str) -> int | None:
    """A row's number (a movement, household or request); None when blank."""
    if not value.strip():
        return None
    number = parse_whole(value)
    if number is None or number <= 0:
        raise Invalid("io.problem.not_whole")
    return number


COLUMN_RULES: tuple[Column, ...] = (
    Column("movement_id", "流水号", _number),
    Column("occurred_at", "发生时间", _moment, required=True, filled=True),
    Column("depot", "仓库", text(), required=True, filled=True),
    Column("item_code", "物资编码", text(), required=True, filled=True),
    Column("kind", "类型", _kind, required=True, filled=True),
    Column("quantity", "数量", _whole, required=True, filled=True),
    Column("counterpart_depot", "对方仓库", text()),
    Column("household_id", "户编号", _number),
    Column("request_id", "诉求编号", _number),
    Column("note", "备注", text(max_length=NOTE_MAX, blank=None)),
    Column("created_by", "录入人", ignored),
)
COLUMNS: tuple[str, ...] = column_names(COLUMN_RULES)

_LEDGER = StockMovement.__table__  # type: ignore[attr-defined]
_DEPOTS = Depot.__table__  # type: ignore[attr-defined]
_ITEMS = SupplyItem.__table__  # type: ignore[attr-defined]
_BALANCES = StockBalance.__table__  # type: ignore[attr-defined]
_HOUSEHOLDS = Household.__table__  # type: ignore[attr-defined]
_REQUESTS = ResidentRequest.__table__  # type: ignore[attr-defined]


def depot_labels(depots: dict[int, str]) -> dict[int, str]:
    """What the depot column says for each depot: its name, or its number when names repeat
    or look like a number."""
    seen: dict[str, int] = {}
    for name in depots.values():
        seen[name.strip()] = seen.get(name.strip(), 0) + 1
    return {
        i: name if seen[name.strip()] == 1 and parse_whole(name) is None else str(i)
        for i, name in depots.items()
    }


def _depots(session: Session) -> tuple[dict[int, str], dict[int, int]]:
    """Depot number → name, and → the area it belongs to."""
    rows = session.execute(select(_DEPOTS.c.id, _DEPOTS.c.name, _DEPOTS.c.area_id)).all()
    return {int(r[0]): str(r[1]) for r in rows}, {int(r[0]): int(r[2]) for r in rows}


# --------------------------------------------------------------------------- export


def export_stock_movements(
    *, session: Session, actor: Actor
) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of a stock-movements file: the whole ledger, oldest first.

    A grid worker gets the movements of their grids' depots. The ledger names households
    and requests by number only.
    """
    names, areas = _depots(session)
    labels = depot_labels(names)
    items = {int(i): str(c) for i, c in session.execute(select(_ITEMS.c.id, _ITEMS.c.code))}
    query = select(
        _LEDGER.c.id,
        _LEDGER.c.occurred_at,
        _LEDGER.c.depot_id,
        _LEDGER.c.item_id,
        _LEDGER.c.kind,
        _LEDGER.c.quantity,
        _LEDGER.c.counterpart_depot_id,
        _LEDGER.c.household_id,
        _LEDGER.c.request_id,
        _LEDGER.c.note,
        _LEDGER.c.created_by,
    ).order_by(_LEDGER.c.occurred_at, _LEDGER.c.id)
    if actor.role == UserRole.grid_worker:
        mine = sorted(d for d, area in areas.items() if area in (actor.grid_ids or ()))
        query = query.where(_LEDGER.c.depot_id.in_(mine))
    elif actor.role not in (UserRole.admin, UserRole.leader, UserRole.viewer):
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not export the ledger")
    rows = session.execute(query).all()
    tz = get_settings().tz

    def generate() -> Iterator[list[Any]]:
        for r in rows:
            yield [
                r.id,
                local_text(r.occurred_at, tz),
                labels[r.depot_id],
                items[r.item_id],
                r.kind,
                r.quantity,
                labels[r.counterpart_depot_id] if r.counterpart_depot_id is not None else "",
                r.household_id if r.household_id is not None else "",
                r.request_id if r.request_id is not None else "",
                r.note or "",
                r.created_by or "",
            ]

    return list(COLUMNS), generate()


# --------------------------------------------------------------------------- import


class _Stored(NamedTuple):
    """A movement already in the ledger, as the comparison needs it."""

    occurred_at: datetime
    depot_id: int
    item_id: int
    kind: str
    quantity: int
    counterpart_depot_id: int | None
    household_id: int | None
    request_id: int | None
    note: str | None


class _Movement(NamedTuple):
    """A good row, read (the quantity signed as the ledger keeps it)."""

    row: int
    movement_id: int | None
    occurred_at: datetime
    depot_id: int
    item_id: int
    kind: str
    quantity: int
    counterpart_depot_id: int | None
    household_id: int | None
    request_id: int | None
    note: str | None


@dataclass
class _Lookups:
    """Everything the rows are checked against, loaded once per import."""

    depot_names: dict[int, str]
    depot_areas: dict[int, int]
    depot_refs: dict[str, int | str]  # a cell's text → depot number, or the problem's key
    items: dict[str, int]
    households: set[int]
    requests: dict[int, tuple[int | None, str]]  # number → (household, status)
    stored: dict[int, _Stored]
    stock: dict[tuple[int, int], int]  # (depot, item) → stock after the rows so far
    # (depot, item) → the changes the new rows make, in file order (re-checked when written).
    changes: dict[tuple[int, int], list[int]] = field(default_factory=dict)


def _depot_of(ref: str, lookups: _Lookups) -> int | str:
    """The depot `ref` names (a number first, then a name), or the key of what is wrong."""
    if ref in lookups.depot_refs:
        return lookups.depot_refs[ref]
    value = ref.strip()
    number = parse_whole(value)
    found: int | str
    if number is not None and number in lookups.depot_names:
        found = number
    else:
        named = [i for i, name in lookups.depot_names.items() if name.strip() == value]
        found = named[0] if len(named) == 1 else (
            "io.problem.ambiguous_depot" if named else "io.problem.unknown_depot"
        )  # fmt: skip
    lookups.depot_refs[ref] = found
    return found


class StockMovementsImport(Importer[_Lookups, _Movement, None]):
    """A stock-movements file: new movements appended to the ledger; stored ones compared."""

    kind = KIND
    entity = "stock_movement"
    columns = COLUMN_RULES

    def __init__(self, *, actor: Actor, now: datetime | None = None) -> None:
        super().__init__(actor=actor)
        self.now = now or utcnow()
        self.tz = get_settings().tz
        self.first_row: dict[int, int] = {}

    def load(self, *, session: Session, rows: Rows) -> _Lookups:
        """Depots, items, balances, and the movements, households and requests rows name."""
        names, areas = _depots(session)
        items = {
            str(code): int(i) for i, code in session.execute(select(_ITEMS.c.id, _ITEMS.c.code))
        }
        stock = {
            (int(d), int(i)): int(q)
            for d, i, q in session.execute(
                select(_BALANCES.c.depot_id, _BALANCES.c.item_id, _BALANCES.c.quantity)
            )
        }
        households: set[int] = set()
        for chunk in in_chunks(sorted(set(rows.column("household_id")) - {None})):
            found = session.execute(select(_HOUSEHOLDS.c.id).where(_HOUSEHOLDS.c.id.in_(chunk)))
            households.update(int(h) for (h,) in found)
        requests: dict[int, tuple[int | None, str]] = {}
        for chunk in in_chunks(sorted(set(rows.column("request_id")) - {None})):
            for i, household, status in session.execute(
                select(_REQUESTS.c.id, _REQUESTS.c.household_id, _REQUESTS.c.status).where(
                    _REQUESTS.c.id.in_(chunk)
                )
            ):
                requests[int(i)] = (household, str(status))
        stored: dict[int, _Stored] = {}
        for chunk in in_chunks(sorted(set(rows.column("movement_id")) - {None})):
            for r in session.execute(
                select(
                    _LEDGER.c.id, _LEDGER.c.occurred_at, _LEDGER.c.depot_id, _LEDGER.c.item_id,
                    _LEDGER.c.kind, _LEDGER.c.quantity, _LEDGER.c.counterpart_depot_id,
                    _LEDGER.c.household_id, _LEDGER.c.request_id, _LEDGER.c.note,
                ).where(_LEDGER.c.id.in_(chunk))
            ).all():  # fmt: skip
                stored[int(r.id)] = _Stored(
                    to_second(r.occurred_at), r.depot_id, r.item_id, str(r.kind), r.quantity,
                    r.counterpart_depot_id, r.household_id, r.request_id, r.note,
                )  # fmt: skip
        return _Lookups(
            depot_names=names,
            depot_areas=areas,
            depot_refs={},
            items=items,
            households=households,
            requests=requests,
            stored=stored,
            stock=stock,
        )

    def check(self, *, row: Row, lookups: _Lookups) -> _Movement | None:
        """The row's movement, or None after adding its problems."""
        movement_id: int | None = row["movement_id"]
        if movement_id is not None:
            first = self.first_row.setdefault(movement_id, row.number)
            if first != row.number:
                row.problem("movement_id", "io.problem.duplicate_movement", first=first)
            elif movement_id not in lookups.stored:
                row.problem("movement_id", "io.problem.unknown_movement")
        depot_id = self._depot(row, "depot", lookups)
        counterpart_id = (
            self._depot(row, "counterpart_depot", lookups) if row["counterpart_depot"] else None
        )
        item_id = lookups.items.get(row["item_code"] or "")
        if row["item_code"] and item_id is None:
            row.problem("item_code", "io.problem.unknown_item")
        kind: str | None = row["kind"]
        moment: datetime | None = row["occurred_at"]
        if moment is not None and moment > self.now + CLOCK_SKEW:
            row.problem("occurred_at", "io.problem.in_future")
        new = movement_id is None
        quantity = self._quantity(row, kind, new=new)
        self._counterpart(row, kind, depot_id, counterpart_id)
        household_id = self._recipient(row, kind, lookups)
        note: str | None = row["note"]
        if new and kind == MovementKind.adjustment and not note:
            row.problem("note", "io.problem.reason_required")
        if new and kind == MovementKind.transfer_in:
            row.problem("kind", "io.problem.transfer_in_alone")
        if row.problems:
            return None
        assert depot_id is not None and item_id is not None and kind is not None
        assert moment is not None and quantity is not None
        pair = (depot_id, item_id)
        if new and not self._within_stock(row, lookups, pair, counterpart_id, quantity):
            return None
        return _Movement(
            row.number, movement_id, moment, depot_id, item_id, kind, quantity, counterpart_id,
            household_id, row["request_id"], note,
        )  # fmt: skip

    def _depot(self, row: Row, column: str, lookups: _Lookups) -> int | None:
        ref = row[column]
        if not ref:
            return None
        found = _depot_of(ref, lookups)
        if isinstance(found, str):
            row.problem(column, found)
            return None
        if not self.actor.may_write_grid(lookups.depot_areas[found]) and row["movement_id"] is None:
            row.problem(column, "io.problem.outside_scope")
            return None
        return found

    def _quantity(self, row: Row, kind: str | None, *, new: bool) -> int | None:
        """The signed change: a new issue or transfer written 5 is -5."""
        quantity: int | None = row["quantity"]
        if quantity is None or kind is None:
            return quantity
        if kind == MovementKind.adjustment:
            if quantity == 0:
                row.problem("quantity", "io.problem.quantity_nonzero")
            return quantity
        if quantity == 0:
            row.problem("quantity", "io.problem.quantity_nonzero")
            return None
        if kind in (MovementKind.receipt, MovementKind.transfer_in):
            if quantity < 0:
                row.problem("quantity", "io.problem.receipt_negative")
            return quantity
        return -abs(quantity) if new else quantity

    def _counterpart(
        self, row: Row, kind: str | None, depot_id: int | None, counterpart_id: int | None
    ) -> None:
        transfer = kind in (MovementKind.transfer_out, MovementKind.transfer_in)
        if transfer and not row["counterpart_depot"]:
            row.problem("counterpart_depot", "io.problem.counterpart_required")
        elif not transfer and kind is not None and row["counterpart_depot"]:
            row.problem("counterpart_depot", "io.problem.counterpart_only_for_transfer")
        elif transfer and counterpart_id is not None and counterpart_id == depot_id:
            row.problem("counterpart_depot", "io.problem.same_depot")

    def _recipient(self, row: Row, kind: str | None, lookups: _Lookups) -> int | None:
        """The household an issue went to (a request's household when only it is given)."""
        household_id: int | None = row["household_id"]
        request_id: int | None = row["request_id"]
        if kind != MovementKind.issue:
            for column, value in (("household_id", household_id), ("request_id", request_id)):
                if value is not None:
                    row.problem(column, "io.problem.recipient_only_for_issue")
            return household_id
        if household_id is not None and household_id not in lookups.households:
            row.problem("household_id", "io.problem.unknown_household")
        if request_id is not None:
            request = lookups.requests.get(request_id)
            if request is None:
                row.problem("request_id", "io.problem.unknown_request")
            elif request[0] is not None:
                if household_id is not None and household_id != request[0]:
                    row.problem("household_id", "io.problem.request_other_household",
                                household=request[0])  # fmt: skip
                return request[0]
        return household_id

    def _within_stock(
        self,
        row: Row,
        lookups: _Lookups,
        pair: tuple[int, int],
        counterpart_id: int | None,
        quantity: int,
    ) -> bool:
        """Apply a new row to the running stock; False (a problem) if it would go below zero."""
        item_id = pair[1]
        before = lookups.stock.get(pair, 0)
        if before + quantity < 0:
            row.problem("quantity", "io.problem.stock_below_zero", stock=before)
            return False
        lookups.stock[pair] = before + quantity
        lookups.changes.setdefault(pair, []).append(quantity)
        if counterpart_id is not None:  # a transfer out: its transfer in
            other = (counterpart_id, item_id)
            lookups.stock[other] = lookups.stock.get(other, 0) - quantity
            lookups.changes.setdefault(other, []).append(-quantity)
        return True

    def merge(self, *, item: _Movement, row: Row, lookups: _Lookups) -> Merge | None:
        """A new movement, or a stored one the row must match exactly."""
        if item.movement_id is None:
            return Merge.NEW
        stored = lookups.stored[item.movement_id]
        mine = _Stored(
            to_second(item.occurred_at), item.depot_id, item.item_id, item.kind, item.quantity,
            item.counterpart_depot_id, item.household_id, item.request_id, item.note,
        )  # fmt: skip
        if mine == stored:
            return Merge.SAME
        for name, value, was in zip(_Stored._fields, mine, stored, strict=True):
            if value != was:
                shown = local_text(was, self.tz) if isinstance(was, datetime) else was
                column = {"depot_id": "depot", "item_id": "item_code",
                          "counterpart_depot_id": "counterpart_depot"}.get(name, name)  # fmt: skip
                row.problem(column, "io.problem.conflict", stored="" if shown is None else shown)
                break
        return Merge.CONFLICT

    def write(self, *, session: Session, plan: Plan[_Movement, None], lookups: _Lookups) -> Written:
        """Lock the balances, check the stock again, append the movements, move the balances."""
        held = lock_balances(session, lookups.changes)
        for pair in sorted(lookups.changes):
            stock = held[pair]
            for change in lookups.changes[pair]:
                stock += change
                if stock < 0:  # another write took the stock since the file was checked
                    raise ImportConflict("io.error.changed_meanwhile")
        values: list[dict[str, Any]] = []
        for m in plan.creates:
            base = {
                "item_id": m.item_id, "occurred_at": m.occurred_at, "note": m.note,
                "created_at": utcnow(), "created_by": self.actor.username,
            }  # fmt: skip
            values.append({
                **base, "depot_id": m.depot_id, "kind": m.kind, "quantity": m.quantity,
                "counterpart_depot_id": m.counterpart_depot_id, "household_id": m.household_id,
                "request_id": m.request_id,
            })  # fmt: skip
            if m.kind == MovementKind.transfer_out:
                values.append({
                    **base, "depot_id": m.counterpart_depot_id,
                    "kind": MovementKind.transfer_in.value, "quantity": -m.quantity,
                    "counterpart_depot_id": m.depot_id, "household_id": None,
                    "request_id": None,
                })  # fmt: skip
        insert_rows(session, _LEDGER, values)
        moved = {pair: (sum(changes), len(changes)) for pair, changes in lookups.changes.items()}
        add_to_balances(session, moved)
        return Written(details={"movements": len(values)})


def import_stock_movements(
    *,
    session: Session,
    table: Table,
    actor: Actor,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
    now: datetime | None = None,
) -> ImportReport:
    """Check every row of a stock-movements table and, unless told otherwise, write it.

    Nothing is written on a dry run, nor when any row has a problem (a movement that
    would take a depot below zero among them) — unless `skip_bad_rows`. Writes are one
    transaction with one audit entry (action "import"). A grid worker's new rows outside
    their grids' depots are problems; a viewer may not import (PermissionDenied).
    """
    return run_import(
        session=session,
        importer=StockMovementsImport(actor=actor, now=now),
        table=table,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        source=source,
    )


EXCHANGE = Exchange(
    kind=KIND,
    columns=COLUMN_RULES,
    export=export_stock_movements,
    load=import_stock_movements,
)
