"""Residents in and out: the register as a spreadsheet, the same columns both ways.

Columns (row 1 is the header; names are matched without regard to case):

    resident_id    the resident's number in GridCore; empty for a new resident
    grid_code      the grid, e.g. SH-XH-TL-C03-G05                               required
    building_code  the building (in that grid), e.g. SH-XH-TL-C03-G05-B02        required
    unit           the flat or room, e.g. 3-502 (a new one adds the household)   required
    name           up to 80 characters                                           required
    id_number      exported masked (310***********1234); on import that masked form,
                   or a full 18-character ID number, which is checked and stored masked
    phone          7 to 15 digits (spaces, dashes and a leading + allowed)
    birth_year     e.g. 1956 (read from a full ID number when empty)
    sex            female | male (女 | 男)
    vulnerability  tags separated by commas: elderly_alone, disabled, chronic_illness,
                   pregnant, infant, bedridden (独居老人, 残疾, 慢性病, 孕妇, 婴幼儿, 卧床)
    health_status  at_home | in_hospital | central_isolation | away
                   (在家 | 住院 | 集中隔离 | 外出); empty is at_home

A row with a resident_id changes that resident to what the row says (columns left out
of the file keep their stored values); a row without one adds a resident, unless the
household already has a resident with the same name and ID number, who is then the one
the row describes. So importing the same file twice, or an exported file, changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from gridcore.access import Actor, PermissionDenied, require_writer
from gridcore.io.cells import parse_health, parse_sex, parse_tags, parse_whole
from gridcore.io.report import ImportConflict, ImportReport, Problem
from gridcore.io.tabular import Table, normal_name
from gridcore.models import (
    Area,
    AreaLevel,
    Building,
    Household,
    Resident,
    UserRole,
    vulnerability_tags,
)
from gridcore.services.base import audit
from gridcore.services.checks import area_path, phone_ok
from gridcore.services.residents import id_number_valid, mask_id_number

KIND = "residents"
COLUMNS: tuple[str, ...] = (
    "resident_id",
    "grid_code",
    "building_code",
    "unit",
    "name",
    "id_number",
    "phone",
    "birth_year",
    "sex",
    "vulnerability",
    "health_status",
)
REQUIRED: tuple[str, ...] = ("grid_code", "building_code", "unit", "name")
# The fields of a resident a row sets; optional columns left out keep the stored value.
FIELDS: tuple[str, ...] = (
    "name",
    "id_number_masked",
    "id_suffix",
    "phone",
    "birth_year",
    "sex",
    "vulnerability",
    "health_status",
)
NAME_MAX, UNIT_MAX, PHONE_MAX = 80, 40, 20
BIRTH_YEARS = (1900, 2100)
CHUNK = 5000
_MASKED = re.compile(r"^[0-9]{3}\*{11}[0-9]{3}[0-9X]$")

_RESIDENTS = Resident.__table__  # type: ignore[attr-defined]
_HOUSEHOLDS = Household.__table__  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- export


def export_residents(*, session: Session, actor: Actor) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of a residents file: everyone the actor may see unmasked.

    Administrators and leaders get every resident, grid workers those of their grids;
    viewers none: PermissionDenied.
    """
    if not actor.sees_personal_data:
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not export personal data")
    grid = Area.__table__.alias("grid")  # type: ignore[attr-defined]
    building = Building.__table__  # type: ignore[attr-defined]
    query = (
        select(
            _RESIDENTS.c.id,
            grid.c.code,
            building.c.code,
            _HOUSEHOLDS.c.unit,
            _RESIDENTS.c.name,
            _RESIDENTS.c.id_number_masked,
            _RESIDENTS.c.phone,
            _RESIDENTS.c.birth_year,
            _RESIDENTS.c.sex,
            _RESIDENTS.c.vulnerability,
            _RESIDENTS.c.health_status,
        )
        .join(_HOUSEHOLDS, _HOUSEHOLDS.c.id == _RESIDENTS.c.household_id)
        .join(building, building.c.id == _RESIDENTS.c.building_id)
        .join(grid, grid.c.id == _RESIDENTS.c.grid_id)
        .order_by(grid.c.code, building.c.code, _HOUSEHOLDS.c.unit, _RESIDENTS.c.id)
    )
    if actor.role == UserRole.grid_worker:
        query = query.where(_RESIDENTS.c.grid_id.in_(sorted(actor.grid_ids or ())))
    rows = session.execute(query).all()

    def generate() -> Iterator[list[Any]]:
        for r in rows:
            yield [("" if v is None else v) for v in r]

    return list(COLUMNS), generate()


# --------------------------------------------------------------------------- import


@dataclass
class _Stored:
    """A resident already registered, with the household's place."""

    id: int
    grid_id: int
    building_id: int
    unit: str
    values: dict[str, Any]


@dataclass
class _Person:
    """A good row, read: where the resident lives and the fields the file sets."""

    row: int
    resident_id: int | None
    grid_id: int
    building_id: int
    unit: str
    values: dict[str, Any]


@dataclass
class _Lookups:
    grid_ids: dict[str, int]
    buildings: dict[str, tuple[int, int]]  # code → (id, grid id)
    households: dict[tuple[int, str], tuple[int, int]]  # (building, unit) → (id, grid id)
    stored: dict[int, _Stored]
    # (household id, name, masked ID number) → resident id, for rows without an id.
    by_identity: dict[tuple[int, str, str | None], int] = field(default_factory=dict)


def _chunks(values: Sequence[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def _stored_rows(session: Session, where: Any) -> Iterator[_Stored]:
    query = (
        select(
            _RESIDENTS.c.id,
            _RESIDENTS.c.grid_id,
            _RESIDENTS.c.building_id,
            _HOUSEHOLDS.c.unit,
            *(_RESIDENTS.c[name] for name in FIELDS),
        )
        .join(_HOUSEHOLDS, _HOUSEHOLDS.c.id == _RESIDENTS.c.household_id)
        .where(where)
    )
    for r in session.execute(query):
        yield _Stored(
            id=r[0],
            grid_id=r[1],
            building_id=r[2],
            unit=r[3],
            values=dict(zip(FIELDS, r[4:], strict=True)),
        )


def _load(session: Session, table: Table, index: dict[str, int]) -> _Lookups:
    grids = session.exec(select(Area.code, Area.id).where(Area.level == AreaLevel.grid)).all()  # type: ignore[call-overload]
    building_codes = {cells[index["building_code"]].strip() for _, cells in table.rows} - {""}
    buildings: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(sorted(building_codes)):
        rows = session.exec(
            select(Building.code, Building.id, Building.grid_id).where(  # type: ignore[call-overload]
                col(Building.code).in_(chunk)
            )
        ).all()
        buildings.update({code: (int(i), int(g)) for code, i, g in rows})
    households: dict[tuple[int, str], tuple[int, int]] = {}
    building_ids = sorted({i for i, _ in buildings.values()})
    for chunk in _chunks(building_ids):
        for hid, bid, unit, gid in session.execute(
            select(
                _HOUSEHOLDS.c.id, _HOUSEHOLDS.c.building_id, _HOUSEHOLDS.c.unit,
                _HOUSEHOLDS.c.grid_id,
            ).where(_HOUSEHOLDS.c.building_id.in_(chunk))
        ):  # fmt: skip
            households[(bid, unit)] = (hid, gid)
    ids: set[int] = set()
    at = index.get("resident_id")
    if at is not None:
        for _, cells in table.rows:
            value = parse_whole(cells[at]) if cells[at].strip() else None
            if value is not None and value > 0:
                ids.add(value)
    stored: dict[int, _Stored] = {}
    for chunk in _chunks(sorted(ids)):
        for person in _stored_rows(session, _RESIDENTS.c.id.in_(chunk)):
            stored[person.id] = person
    lookups = _Lookups(
        grid_ids={code: int(i) for code, i in grids},
        buildings=buildings,
        households=households,
        stored=stored,
    )
    _load_identities(session, table, index, lookups)
    return lookups


def _load_identities(
    session: Session, table: Table, index: dict[str, int], lookups: _Lookups
) -> None:
    """Residents of the households that rows without an id name (to recognise them)."""
    at = index.get("resident_id")
    wanted: set[int] = set()
    for _, cells in table.rows:
        if at is not None and cells[at].strip():
            continue
        place = lookups.buildings.get(cells[index["building_code"]].strip())
        if place is None:
            continue
        household = lookups.households.get((place[0], cells[index["unit"]].strip()))
        if household is not None:
            wanted.add(household[0])
    for chunk in _chunks(sorted(wanted)):
        for rid, hid, name, masked in session.execute(
            select(
                _RESIDENTS.c.id, _RESIDENTS.c.household_id, _RESIDENTS.c.name,
                _RESIDENTS.c.id_number_masked,
            ).where(_RESIDENTS.c.household_id.in_(chunk))
        ):  # fmt: skip
            lookups.by_identity.setdefault((hid, name, masked), rid)


def _file_problems(table: Table) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in table.columns:
        key = normal_name(name)
        if key and key in seen:
            problems.append(Problem(1, name, name, "io.problem.duplicate_column"))
        seen.add(key)
    for name in REQUIRED:
        if name not in seen:
            problems.append(Problem(1, name, "", "io.problem.missing_column"))
    return problems


class _Checker:
    """Reads and checks the rows of one residents file."""

    def __init__(self, *, table: Table, lookups: _Lookups, actor: Actor):
        self.lookups = lookups
        self.actor = actor
        index = table.index()
        self.positions = {name: index.get(name) for name in COLUMNS}
        self.problems: list[Problem] = []
        self.first_row: dict[Any, int] = {}

    def has(self, name: str) -> bool:
        return self.positions[name] is not None

    def cell(self, cells: list[str], name: str) -> str:
        position = self.positions[name]
        return cells[position] if position is not None else ""

    def add(self, row: int, column: str, value: str, key: str, **params: Any) -> None:
        self.problems.append(Problem(row, column, value, key, params))

    def read(self, row: int, cells: list[str]) -> _Person | None:
        """The row's resident, or None after adding its problems."""
        before = len(self.problems)
        stored = self._resident(row, cells)
        place = self._place(row, cells)
        values = self._values(row, cells)
        if len(self.problems) > before or place is None:
            return None
        grid_id, building_id, unit = place
        resident_id = stored.id if stored is not None else None
        if resident_id is None:
            household = self.lookups.households.get((building_id, unit))
            if household is not None:
                masked = values.get("id_number_masked")
                resident_id = self.lookups.by_identity.get((household[0], values["name"], masked))
        key: Any = resident_id if resident_id is not None else (
            building_id, unit, values["name"], values.get("id_number_masked")
        )  # fmt: skip
        first = self.first_row.setdefault(key, row)
        if first != row:
            column = "resident_id" if stored is not None else "name"
            self.add(row, column, self.cell(cells, column), "io.problem.duplicate", first=first)
            return None
        return _Person(row, resident_id, grid_id, building_id, unit, values)

    def _resident(self, row: int, cells: list[str]) -> _Stored | None:
        text = self.cell(cells, "resident_id")
        if not text.strip():
            return None
        rid = parse_whole(text)
        stored = self.lookups.stored.get(rid) if rid is not None else None
        if stored is None:
            self.add(row, "resident_id", text, "io.problem.unknown_resident")
            return None
        if not self.actor.may_write_grid(stored.grid_id):
            self.add(row, "resident_id", text, "io.problem.outside_scope")
            return None
        return stored

    def _place(self, row: int, cells: list[str]) -> tuple[int, int, str] | None:
        """(grid id, building id, unit) of the row's household."""
        text = self.cell(cells, "grid_code")
        grid_id = self.lookups.grid_ids.get(text.strip())
        if not text.strip():
            self.add(row, "grid_code", text, "io.problem.required")
        elif grid_id is None:
            self.add(row, "grid_code", text, "io.problem.unknown_grid")
        elif not self.actor.may_write_grid(grid_id):
            self.add(row, "grid_code", text, "io.problem.outside_scope")
            grid_id = None
        code = self.cell(cells, "building_code")
        building = self.lookups.buildings.get(code.strip())
        if not code.strip():
            self.add(row, "building_code", code, "io.problem.required")
        elif building is None:
            self.add(row, "building_code", code, "io.problem.unknown_building")
        elif grid_id is not None and building[1] != grid_id:
            self.add(row, "building_code", code, "io.problem.building_not_in_grid", grid=text)
            building = None
        raw_unit = self.cell(cells, "unit")
        unit = raw_unit.strip()
        if not unit:
            self.add(row, "unit", raw_unit, "io.problem.required")
        elif len(unit) > UNIT_MAX:
            self.add(row, "unit", raw_unit, "io.problem.too_long", max=UNIT_MAX)
        if grid_id is None or building is None or not unit or len(unit) > UNIT_MAX:
            return None
        return grid_id, building[0], unit

    def _values(self, row: int, cells: list[str]) -> dict[str, Any]:
        """The fields the row sets (only those whose column is in the file)."""
        values: dict[str, Any] = {}
        name = self.cell(cells, "name")
        if not name.strip():
            self.add(row, "name", name, "io.problem.required")
        elif len(name) > NAME_MAX:
            self.add(row, "name", name, "io.problem.too_long", max=NAME_MAX)
        values["name"] = name
        derived: dict[str, Any] = {}
        if self.has("id_number"):
            derived = self._id_number(row, cells, values)
        if self.has("phone"):
            phone = self.cell(cells, "phone").strip()
            if phone and (not phone_ok(phone) or len(phone) > PHONE_MAX):
                self.add(row, "phone", phone, "io.problem.bad_phone")
            values["phone"] = phone or None
        if self.has("birth_year"):
            text = self.cell(cells, "birth_year")
            year = parse_whole(text) if text.strip() else derived.get("birth_year")
            if text.strip() and (year is None or not BIRTH_YEARS[0] <= year <= BIRTH_YEARS[1]):
                self.add(row, "birth_year", text, "io.problem.bad_year")
            values["birth_year"] = year
        elif "birth_year" in derived:
            values["birth_year"] = derived["birth_year"]
        if self.has("sex"):
            readable, sex = parse_sex(text := self.cell(cells, "sex"))
            if not readable:
                self.add(row, "sex", text, "io.problem.bad_choice")
            values["sex"] = sex.value if sex is not None else derived.get("sex")
        elif "sex" in derived:
            values["sex"] = derived["sex"]
        if self.has("vulnerability"):
            tags, unknown = parse_tags(text := self.cell(cells, "vulnerability"))
            if unknown:
                self.add(row, "vulnerability", text, "io.problem.unknown_tags",
                         tags=", ".join(unknown))  # fmt: skip
            values["vulnerability"] = ",".join(tags)
        if self.has("health_status"):
            health = parse_health(text := self.cell(cells, "health_status"))
            if health is None:
                self.add(row, "health_status", text, "io.problem.bad_choice")
            values["health_status"] = health.value if health is not None else None
        return values

    def _id_number(self, row: int, cells: list[str], values: dict[str, Any]) -> dict[str, Any]:
        """Set the masked ID number and suffix; return birth year and sex read from a full one."""
        text = self.cell(cells, "id_number")
        value = text.strip().upper()
        if not value:
            values["id_number_masked"], values["id_suffix"] = None, None
            return {}
        if _MASKED.match(value):
            values["id_number_masked"], values["id_suffix"] = value, value[-4:]
            return {}
        if not id_number_valid(value):
            self.add(row, "id_number", text, "io.problem.bad_id_number")
            return {}
        values["id_number_masked"], values["id_suffix"] = mask_id_number(value), value[-4:]
        return {"birth_year": int(value[6:10]), "sex": "male" if int(value[16]) % 2 else "female"}


def _defaults(values: dict[str, Any]) -> dict[str, Any]:
    """A new resident's fields: the row's values over the register's defaults."""
    return {
        "id_number_masked": None,
        "id_suffix": None,
        "phone": None,
        "birth_year": None,
        "sex": None,
        "vulnerability": "",
        "health_status": "at_home",
        **values,
    }


def _changes(person: _Person, stored: _Stored) -> dict[str, Any]:
    """The fields of `stored` that the row changes (tags compared as sets)."""
    changes: dict[str, Any] = {}
    for name, value in person.values.items():
        old = stored.values[name]
        if name == "vulnerability":
            if set(vulnerability_tags(value)) == set(vulnerability_tags(old or "")):
                continue
        elif value == old:
            continue
        changes[name] = value
    return changes


def import_residents(
    *,
    session: Session,
    table: Table,
    actor: Actor,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
) -> ImportReport:
    """Check every row of a residents table and, unless told otherwise, write it.

    Nothing is written on a dry run, nor when any row has a problem — unless
    `skip_bad_rows`, when the good rows are written. Writes are one transaction with one
    audit entry (action "import"); new households are added and counted. A grid worker's
    rows outside their grids are problems; a viewer may not import (PermissionDenied).
    """
    require_writer(actor)
    report = ImportReport(kind=KIND, rows=len(table.rows), dry_run=dry_run)
    report.problems = _file_problems(table)
    if report.problems:
        return report
    lookups = _load(session, table, table.index())
    checker = _Checker(table=table, lookups=lookups, actor=actor)
    inserts: list[_Person] = []
    updates: list[tuple[_Person, _Stored, dict[str, Any]]] = []
    for row, cells in table.rows:
        person = checker.read(row, cells)
        if person is None:
            continue
        stored = lookups.stored.get(person.resident_id or 0)
        if person.resident_id is not None and stored is None:
            # Recognised by name and ID number in its household: load it to compare.
            stored = next(_stored_rows(session, _RESIDENTS.c.id == person.resident_id))
            lookups.stored[stored.id] = stored
        if stored is None:
            inserts.append(person)
            continue
        changes = _changes(person, stored)
        moved = (person.building_id, person.unit) != (stored.building_id, stored.unit)
        if changes or moved:
            updates.append((person, stored, changes))
        else:
            report.unchanged += 1
    report.problems = checker.problems
    report.created, report.updated = len(inserts), len(updates)
    if dry_run or (report.problems and not skip_bad_rows):
        session.rollback()
        return report
    try:
        added = _write(session, lookups=lookups, inserts=inserts, updates=updates)
        audit(
            session,
            actor=actor,
            action="import",
            entity="resident",
            changes={
                "file": source,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rows_with_problems": report.bad_rows,
                "households_added": added,
            },
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ImportConflict("io.error.changed_meanwhile") from None
    # The rows were written past the ORM: forget any copies this session holds.
    session.expire_all()
    report.written = True
    return report


def _write(
    session: Session,
    *,
    lookups: _Lookups,
    inserts: list[_Person],
    updates: list[tuple[_Person, _Stored, dict[str, Any]]],
) -> int:
    """Add the missing households, then insert and update residents; households added."""
    places = {(p.building_id, p.unit): p.grid_id for p in inserts}
    places.update({(p.building_id, p.unit): p.grid_id for p, s, _ in updates})
    missing = [
        {"building_id": b, "unit": u, "grid_id": g}
        for (b, u), g in places.items()
        if (b, u) not in lookups.households
    ]
    if missing:
        added = session.execute(
            insert(_HOUSEHOLDS).returning(
                _HOUSEHOLDS.c.id, _HOUSEHOLDS.c.building_id, _HOUSEHOLDS.c.unit,
                _HOUSEHOLDS.c.grid_id,
            ),
            missing,
        )  # fmt: skip
        for hid, bid, unit, gid in added:
            lookups.households[(bid, unit)] = (hid, gid)
        _count_households(session, missing)
    if inserts:
        session.execute(
            insert(_RESIDENTS),
            [
                {
                    **_defaults(p.values),
                    "household_id": lookups.households[(p.building_id, p.unit)][0],
                    "grid_id": p.grid_id,
                    "building_id": p.building_id,
                }
                for p in inserts
            ],
        )
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for person, stored, changes in updates:
        values = dict(changes)
        if (person.building_id, person.unit) != (stored.building_id, stored.unit):
            values["household_id"] = lookups.households[(person.building_id, person.unit)][0]
            values["grid_id"] = person.grid_id
            values["building_id"] = person.building_id
        columns = tuple(sorted(values))
        by_columns.setdefault(columns, []).append(
            {"resident_key": stored.id, **{f"new_{k}": v for k, v in values.items()}}
        )
    for columns, batch in by_columns.items():
        session.execute(
            update(_RESIDENTS)
            .where(_RESIDENTS.c.id == bindparam("resident_key"))
            .values({name: bindparam(f"new_{name}") for name in columns}),
            batch,
        )
    return len(missing)


def _count_households(session: Session, added: list[dict[str, Any]]) -> None:
    """Area.households counts the households below every area: add the new ones."""
    per_grid: dict[int, int] = {}
    for household in added:
        per_grid[household["grid_id"]] = per_grid.get(household["grid_id"], 0) + 1
    per_area: dict[int, int] = {}
    for grid_id, count in per_grid.items():
        for area_id in area_path(session, grid_id):
            per_area[area_id] = per_area.get(area_id, 0) + count
    area = Area.__table__  # type: ignore[attr-defined]
    for area_id, count in sorted(per_area.items()):
        session.execute(
            update(area).where(area.c.id == area_id).values(households=area.c.households + count)
        )
