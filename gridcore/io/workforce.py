"""Workers in and out: grid workers and volunteers as a spreadsheet, the same columns both ways.

Columns (row 1 is the header; names are matched without regard to case, or by the
Chinese name in brackets):

    worker_id      (工作人员编号) the worker's number in GridCore; empty for a new worker
    name           (姓名) up to 80 characters                                       required
    phone          (手机号) 7 to 15 digits (spaces, dashes and a leading + allowed);
                   exported masked (138****5678) where the reader may not see it: a
                   masked number that matches the stored one keeps it
    role           (角色) grid_chief_instructor | chief_grid_manager | grid_supervisor |
                   grid_leader | grid_member | volunteer (网格总指导员 | 总网格长 | 网格督导员
                   | 网格长 | 网格员 | 志愿者)                                           required
    employment     (用工性质) full_time | part_time | volunteer (专职 | 兼职 | 志愿者) required
    grid_codes     (网格编码) the grids served, codes separated by commas; empty: none
    service_group  (服务组) for volunteers (required for them): information_collection |
                   material_purchase | special_population_care | psychological_counselling
                   | medical (信息采集组 | 物资采购组 | 特殊人群关爱组 | 心理疏导组 | 医疗组)
    active         (在岗) yes | no (是 | 否); empty is yes

A row with a worker_id changes that worker to what the row says (the grids listed
replace the grids served); a row without one adds a worker, unless a worker with the
same name and phone is registered, who is then the one the row describes. So importing
the same file twice, or an exported file, changes nothing. Every grid a row adds or
removes, and every grid of a worker it changes, must be in the importer's scope; a
worker with no grid is the street's business (administrators and leaders).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, insert, select, update
from sqlmodel import Session

from gridcore.access import COMMAND_ROLES, PHONE, Actor, mask_phone, personal
from gridcore.i18n import t
from gridcore.io.cells import Invalid, parse_whole, text
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
    Employment,
    ServiceGroup,
    Worker,
    WorkerGrid,
    WorkerRole,
)
from gridcore.services import counters
from gridcore.services.checks import phone_ok

KIND = "workers"
NAME_MAX, PHONE_MAX = 80, 20
YES, NO = "yes", "no"
_YES_WORDS = {"yes", "y", "true", "1", "是", "在岗"}
_NO_WORDS = {"no", "n", "false", "0", "否", "不在岗"}
_WORKERS = Worker.__table__  # type: ignore[attr-defined]
_LINKS = WorkerGrid.__table__  # type: ignore[attr-defined]
# The fields of a worker a row sets (grids are rows of their own).
FIELDS: tuple[str, ...] = ("name", "phone", "role", "employment", "service_group", "active")


def _choice(enum: type[StrEnum], prefix: str) -> Any:
    """A parser of one value of `enum`: its English value or its Chinese label."""
    words = {t(f"{prefix}.{member.value}", "zh"): member.value for member in enum}

    def parse(value: str) -> str:
        word = value.strip()
        if word in words:
            return words[word]
        try:
            return enum(word.lower().replace(" ", "_").replace("-", "_")).value
        except ValueError:
            raise Invalid("io.problem.bad_choice") from None

    return parse


def _optional_group(value: str) -> str | None:
    """A service group, or None when blank."""
    if not value.strip():
        return None
    parsed: str = _choice(ServiceGroup, "service_group")(value)
    return parsed


def _worker_number(value: str) -> int | None:
    """A worker's number in GridCore; None when blank."""
    if not value.strip():
        return None
    number = parse_whole(value)
    if number is None or number <= 0:
        raise Invalid("io.problem.unknown_worker")
    return number


def _phone(value: str) -> str | None:
    """A phone number, or a masked one as exported (checked against the stored number)."""
    value = value.strip()
    if "*" in value:
        return value
    if value and (not phone_ok(value) or len(value) > PHONE_MAX):
        raise Invalid("io.problem.bad_phone")
    return value or None


def _codes(value: str) -> tuple[str, ...]:
    """Grid codes separated by commas (or Chinese commas, semicolons, spaces), once each."""
    parts = value.replace("，", ",").replace(";", ",").replace("；", ",").replace("、", ",")
    codes = [c.strip() for c in parts.replace(" ", ",").split(",") if c.strip()]
    return tuple(dict.fromkeys(codes))


def _active(value: str) -> bool:
    """yes or no (是, 否); blank is yes."""
    word = value.strip().lower()
    if not word or word in _YES_WORDS:
        return True
    if word in _NO_WORDS:
        return False
    raise Invalid("io.problem.bad_choice")


COLUMN_RULES: tuple[Column, ...] = (
    Column("worker_id", "工作人员编号", _worker_number),
    Column("name", "姓名", text(max_length=NAME_MAX, strip=False), required=True, filled=True),
    Column("phone", "手机号", _phone),
    Column("role", "角色", _choice(WorkerRole, "worker_role"), required=True, filled=True),
    Column("employment", "用工性质", _choice(Employment, "employment"), required=True, filled=True),
    Column("grid_codes", "网格编码", _codes),
    Column("service_group", "服务组", _optional_group),
    Column("active", "在岗", _active),
)
COLUMNS: tuple[str, ...] = column_names(COLUMN_RULES)


# --------------------------------------------------------------------------- export


def _stored_grids(session: Session, worker_ids: list[int] | None = None) -> dict[int, list[int]]:
    """Per worker: the ids of the grids they serve."""
    query = select(_LINKS.c.worker_id, _LINKS.c.grid_id).order_by(_LINKS.c.grid_id)
    found: dict[int, list[int]] = {}
    chunks = in_chunks(worker_ids) if worker_ids is not None else [None]
    for chunk in chunks:
        stmt = query if chunk is None else query.where(_LINKS.c.worker_id.in_(chunk))
        for worker_id, grid_id in session.execute(stmt).all():
            found.setdefault(int(worker_id), []).append(int(grid_id))
    return found


def _grid_codes(session: Session) -> dict[int, str]:
    area = Area.__table__  # type: ignore[attr-defined]
    rows = session.execute(select(area.c.id, area.c.code).where(area.c.level == AreaLevel.grid))
    return {int(i): str(code) for i, code in rows.all()}


def export_workers(*, session: Session, actor: Actor) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of a workers file: every worker, by name.

    Phones are shown as access.personal decides for the worker's grids: masked unless
    the reader may see personal data of one of them.
    """
    rows = session.execute(
        select(_WORKERS.c.id, *(_WORKERS.c[name] for name in FIELDS)).order_by(
            _WORKERS.c.name, _WORKERS.c.id
        )
    ).all()
    grids = _stored_grids(session)
    codes = _grid_codes(session)

    def generate() -> Iterator[list[Any]]:
        for worker_id, name, phone, role, employment, group, active in rows:
            served = grids.get(int(worker_id), [])
            seen = next((g for g in served if actor.sees_personal_data_of(g)), None)
            shown = personal(phone, kind=PHONE, actor=actor, grid_id=seen)
            yield [
                int(worker_id),
                name,
                shown or "",
                role,
                employment,
                ", ".join(sorted(codes[g] for g in served if g in codes)),
                group or "",
                YES if active else NO,
            ]

    return list(COLUMNS), generate()


# --------------------------------------------------------------------------- import


class _Stored(NamedTuple):
    """A registered worker: their fields and grids."""

    id: int
    values: dict[str, Any]
    grid_ids: frozenset[int]


class _Person(NamedTuple):
    """A good row, read: the worker it describes (or None: new), fields and grids."""

    row: int
    worker_id: int | None
    values: dict[str, Any]
    grid_ids: frozenset[int]


# A change to a stored worker: the row, the worker as stored, the fields it changes.
_Update = tuple[_Person, _Stored, dict[str, Any]]


@dataclass
class _Lookups:
    grid_ids: dict[str, int]
    stored: dict[int, _Stored]
    by_identity: dict[tuple[str, str | None], int]


def _stored_rows(session: Session, where: Any) -> list[_Stored]:
    rows = session.execute(
        select(_WORKERS.c.id, *(_WORKERS.c[name] for name in FIELDS)).where(where)
    ).all()
    grids = _stored_grids(session, [int(r[0]) for r in rows])
    return [
        _Stored(
            id=int(r[0]),
            values=dict(zip(FIELDS, r[1:], strict=True)),
            grid_ids=frozenset(grids.get(int(r[0]), [])),
        )
        for r in rows
    ]


class WorkersImport(Importer[_Lookups, _Person, _Update]):
    """A workers file: new workers and volunteers, and changes to registered ones."""

    kind = KIND
    entity = "worker"
    columns = COLUMN_RULES

    def __init__(self, *, actor: Actor) -> None:
        super().__init__(actor=actor)
        self.first_row: dict[Any, int] = {}

    def load(self, *, session: Session, rows: Rows) -> _Lookups:
        """Grid codes, the workers the rows name by id, and those they may name by identity."""
        grid_ids = {code: grid_id for grid_id, code in _grid_codes(session).items()}
        stored: dict[int, _Stored] = {}
        for chunk in in_chunks(sorted(set(rows.column("worker_id")) - {None})):
            for worker in _stored_rows(session, _WORKERS.c.id.in_(chunk)):
                stored[worker.id] = worker
        by_identity: dict[tuple[str, str | None], int] = {}
        names = sorted(
            {n for n, i in zip(rows.column("name"), rows.column("worker_id"), strict=True)
             if n is not None and i is None}
        )  # fmt: skip
        for chunk in in_chunks(names):
            for worker in _stored_rows(session, _WORKERS.c.name.in_(chunk)):
                key = (worker.values["name"], worker.values["phone"])
                if by_identity.setdefault(key, worker.id) == worker.id:
                    stored.setdefault(worker.id, worker)
        return _Lookups(grid_ids=grid_ids, stored=stored, by_identity=by_identity)

    def check(self, *, row: Row, lookups: _Lookups) -> _Person | None:
        """The row's worker, fields and grids, or None after adding its problems."""
        stored = self._worker(row, lookups)
        listed = self._grids(row, lookups) if row.has("grid_codes") else None
        values = self._values(row, stored) if not row.problems else None
        if values is None or row.problems:
            return None
        if stored is None and row["worker_id"] is None:
            found = lookups.by_identity.get((values["name"], values.get("phone")))
            stored = lookups.stored.get(found) if found is not None else None
        # A file without the column keeps the grids served.
        grid_ids = listed if listed is not None else stored.grid_ids if stored else frozenset()
        column = "worker_id" if row["worker_id"] is not None else "name"
        before = stored.grid_ids if stored is not None else frozenset()
        if not self._may_change(before, grid_ids ^ before, grid_ids):
            row.problem(column if stored is not None else "grid_codes", "io.problem.outside_scope")
            return None
        key: Any = stored.id if stored is not None else (values["name"], values.get("phone"))
        first = self.first_row.setdefault(key, row.number)
        if first != row.number:
            row.problem(column, "io.problem.duplicate", first=first)
            return None
        return _Person(row.number, stored.id if stored is not None else None, values, grid_ids)

    def _may_change(
        self, stored: frozenset[int], changed: frozenset[int], after: frozenset[int]
    ) -> bool:
        """Whether the actor may make these grid changes (and leave the worker `after`)."""
        if not after and self.actor.role not in COMMAND_ROLES:
            return False
        if stored and not any(self.actor.may_write_grid(g) for g in stored):
            return False  # a worker of other grids entirely
        return all(self.actor.may_write_grid(g) for g in changed)

    def _worker(self, row: Row, lookups: _Lookups) -> _Stored | None:
        worker_id = row["worker_id"]
        if worker_id is None:
            return None
        stored = lookups.stored.get(worker_id)
        if stored is None:
            row.problem("worker_id", "io.problem.unknown_worker")
        return stored

    def _grids(self, row: Row, lookups: _Lookups) -> frozenset[int] | None:
        codes = row["grid_codes"] or ()
        unknown = [code for code in codes if code not in lookups.grid_ids]
        if unknown:
            row.problem("grid_codes", "io.problem.unknown_grid")
            return None
        return frozenset(lookups.grid_ids[code] for code in codes)

    def _values(self, row: Row, stored: _Stored | None) -> dict[str, Any] | None:
        """The fields the row sets (a masked phone keeps the stored one), or None."""
        values: dict[str, Any] = {
            "name": row["name"],
            "role": row["role"],
            "employment": row["employment"],
        }
        phone = row["phone"]
        if row.has("phone"):
            if phone is not None and "*" in phone:
                kept = stored.values["phone"] if stored is not None else None
                if kept is None or mask_phone(kept) != phone:
                    row.problem("phone", "io.problem.bad_phone")
                    return None
                phone = kept
            values["phone"] = phone
        if row.has("service_group"):
            values["service_group"] = row["service_group"]
        if row.has("active"):
            values["active"] = row["active"]
        group = values.get("service_group", stored.values["service_group"] if stored else None)
        if values["employment"] == Employment.volunteer and group is None:
            row.problem("service_group", "io.problem.service_group_required")
            return None
        return values

    def merge(self, *, item: _Person, row: Row, lookups: _Lookups) -> Merge | _Update:
        """A new worker, or the fields and grids the row changes."""
        stored = lookups.stored.get(item.worker_id) if item.worker_id is not None else None
        if stored is None:
            return Merge.NEW
        changes = {k: v for k, v in item.values.items() if stored.values[k] != v}
        if changes or item.grid_ids != stored.grid_ids:
            return item, stored, changes
        return Merge.SAME

    def write(
        self, *, session: Session, plan: Plan[_Person, _Update], lookups: _Lookups
    ) -> Written:
        """Insert new workers and their grids; update the others and replace changed grids."""
        # The counters follow the workers changed here, and count the new ones.
        with counters.following(session, workers=[stored.id for _, stored, _ in plan.updates]):
            links, new_ids = _write(session, plan)
        counters.count_in(session, workers=new_ids)
        return Written(details={"grid_links": links})


def _write(session: Session, plan: Plan[_Person, _Update]) -> tuple[int, list[int]]:
    """Insert new workers and their grids, update the others: (grid links written, new ids)."""
    new_ids: list[int] = []
    links: list[dict[str, int]] = []
    if plan.creates:
        defaults = {"phone": None, "service_group": None, "active": True}
        ids = session.execute(
            insert(_WORKERS).returning(_WORKERS.c.id, sort_by_parameter_order=True),
            [{**defaults, **p.values} for p in plan.creates],
        ).scalars()
        for worker_id, person in zip(ids, plan.creates, strict=True):
            new_ids.append(worker_id)
            links += [{"worker_id": worker_id, "grid_id": g} for g in sorted(person.grid_ids)]
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    regridded: list[int] = []
    for person, stored, changes in plan.updates:
        if person.grid_ids != stored.grid_ids:
            regridded.append(stored.id)
            links += [{"worker_id": stored.id, "grid_id": g} for g in sorted(person.grid_ids)]
        if changes:
            by_columns.setdefault(tuple(sorted(changes)), []).append(
                {"worker_key": stored.id, **{f"new_{k}": v for k, v in changes.items()}}
            )
    for columns, batch in by_columns.items():
        session.execute(
            update(_WORKERS)
            .where(_WORKERS.c.id == bindparam("worker_key"))
            .values({name: bindparam(f"new_{name}") for name in columns}),
            batch,
        )
    for chunk in in_chunks(regridded):
        session.execute(delete(_LINKS).where(_LINKS.c.worker_id.in_(chunk)))
    if links:
        session.execute(insert(_LINKS), links)
    return len(links), new_ids


def import_workers(
    *,
    session: Session,
    table: Table,
    actor: Actor,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
) -> ImportReport:
    """Check every row of a workers table and, unless told otherwise, write it.

    Nothing is written on a dry run, nor when any row has a problem (unless
    `skip_bad_rows`). Writes are one transaction with one audit entry (action "import").
    """
    return run_import(
        session=session,
        importer=WorkersImport(actor=actor),
        table=table,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        source=source,
    )


EXCHANGE = Exchange(kind=KIND, columns=COLUMN_RULES, export=export_workers, load=import_workers)
