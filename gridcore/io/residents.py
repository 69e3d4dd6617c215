"""Residents in and out: the register as a spreadsheet, the same columns both ways.

Columns (row 1 is the header; names are matched without regard to case, or by the
Chinese name in brackets):

    resident_id    (居民编号) the resident's number in GridCore; empty for a new resident
    grid_code      (网格编码) the grid, e.g. SH-XH-TL-C03-G05                      required
    building_code  (楼栋编码) the building (in that grid), e.g. SH-XH-TL-C03-G05-B02 required
    unit           (房号) the flat or room, e.g. 3-502 (a new one adds the household) required
    name           (姓名) up to 80 characters                                      required
    id_number      (身份证号) exported masked (310***********1234); on import that masked
                   form, or a full 18-character ID number, checked and stored masked
    phone          (手机号) 7 to 15 digits (spaces, dashes and a leading + allowed)
    birth_year     (出生年份) e.g. 1956 (read from a full ID number when empty)
    sex            (性别) female | male (女 | 男)
    vulnerability  (重点人群) tags separated by commas: elderly_alone, disabled,
                   chronic_illness, pregnant, infant, bedridden
                   (独居老人, 残疾, 慢性病, 孕妇, 婴幼儿, 卧床)
    health_status  (健康状况) at_home | in_hospital | central_isolation | away
                   (在家 | 住院 | 集中隔离 | 外出); empty is at_home

A row with a resident_id changes that resident to what the row says (columns left out
of the file keep their stored values); a row without one adds a resident, unless the
household already has a resident with the same name and ID number, who is then the one
the row describes. So importing the same file twice, or an exported file, changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, delete, insert, select, update
from sqlmodel import Session, col

from gridcore.access import Actor, PermissionDenied
from gridcore.config import local_today
from gridcore.io.cells import (
    Invalid,
    parse_health,
    parse_sex,
    parse_tags,
    parse_whole,
    resident_number,
    text,
)
from gridcore.io.importer import (
    CHUNK,
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
    Resident,
    ResidentVulnerability,
    UserRole,
    vulnerability_tags,
)
from gridcore.queries.residents import tags_by_resident
from gridcore.services import counters
from gridcore.services.checks import area_path, phone_ok
from gridcore.services.residents import id_number_valid, mask_id_number

KIND = "residents"
NAME_MAX, UNIT_MAX, PHONE_MAX = 80, 40, 20
BIRTH_YEARS = (1900, 2100)
_MASKED = re.compile(r"^[0-9]{3}\*{11}[0-9]{3}[0-9X]$")


class IdNumber(NamedTuple):
    """An ID number as stored (masked, its last four), and what a full one tells."""

    masked: str
    suffix: str
    birth_year: int | None = None
    sex: str | None = None


def _id_number(value: str) -> IdNumber | None:
    """The masked form as exported, or a full number (checked, then masked); None when blank."""
    value = value.strip().upper()
    if not value:
        return None
    if _MASKED.match(value):
        return IdNumber(value, value[-4:])
    if not id_number_valid(value):
        raise Invalid("io.problem.bad_id_number")
    sex = "male" if int(value[16]) % 2 else "female"
    return IdNumber(mask_id_number(value), value[-4:], int(value[6:10]), sex)


def _phone(value: str) -> str | None:
    """A phone number of 7 to 15 digits (spaces, dashes, a leading +); None when blank."""
    value = value.strip()
    if value and (not phone_ok(value) or len(value) > PHONE_MAX):
        raise Invalid("io.problem.bad_phone")
    return value or None


def _birth_year(value: str) -> int | None:
    """A year of birth between 1900 and 2100; None when blank."""
    if not value.strip():
        return None
    year = parse_whole(value)
    if year is None or not BIRTH_YEARS[0] <= year <= BIRTH_YEARS[1]:
        raise Invalid("io.problem.bad_year")
    if year > local_today().year:
        raise Invalid("io.problem.year_in_future")
    return year


def _sex(value: str) -> str | None:
    """female or male (女, 男); None when blank."""
    readable, sex = parse_sex(value)
    if not readable:
        raise Invalid("io.problem.bad_choice")
    return sex.value if sex is not None else None


def _tags(value: str) -> str:
    """Vulnerability tags in English or Chinese, stored comma-separated without repeats."""
    tags, unknown = parse_tags(value)
    if unknown:
        raise Invalid("io.problem.unknown_tags", tags=", ".join(unknown))
    return ",".join(tags)


def _health(value: str) -> str:
    """A health status in English or Chinese; blank is at home."""
    health = parse_health(value)
    if health is None:
        raise Invalid("io.problem.bad_choice")
    return health.value


COLUMN_RULES: tuple[Column, ...] = (
    Column("resident_id", "居民编号", resident_number),
    Column("grid_code", "网格编码", text(), required=True, filled=True),
    Column("building_code", "楼栋编码", text(), required=True, filled=True),
    Column("unit", "房号", text(max_length=UNIT_MAX), required=True, filled=True),
    # Names are stored as written: only their length is checked.
    Column("name", "姓名", text(max_length=NAME_MAX, strip=False), required=True, filled=True),
    Column("id_number", "身份证号", _id_number),
    Column("phone", "手机号", _phone),
    Column("birth_year", "出生年份", _birth_year),
    Column("sex", "性别", _sex),
    Column("vulnerability", "重点人群", _tags),
    Column("health_status", "健康状况", _health),
)
COLUMNS: tuple[str, ...] = column_names(COLUMN_RULES)
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

# The fields that are columns of the resident table (vulnerabilities are rows of their own).
RESIDENT_COLUMNS: tuple[str, ...] = tuple(name for name in FIELDS if name != "vulnerability")
_RESIDENTS = Resident.__table__  # type: ignore[attr-defined]
_TAGS = ResidentVulnerability.__table__  # type: ignore[attr-defined]
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
    tags = _stored_tags(session, query)

    def generate() -> Iterator[list[Any]]:
        for r in rows:
            cells = [("" if v is None else v) for v in r]
            # The file keeps the tags between sex and health status, comma-separated.
            yield [*cells[:-1], tags.get(int(r[0]), ""), cells[-1]]

    return list(COLUMNS), generate()


# --------------------------------------------------------------------------- import


# Named tuples: one small immutable object per row (tens of thousands per file).
class _Stored(NamedTuple):
    """A resident already registered, with the household's place."""

    id: int
    grid_id: int
    building_id: int
    unit: str
    values: dict[str, Any]


class _Person(NamedTuple):
    """A good row, read: where the resident lives and the fields the file sets."""

    row: int
    resident_id: int | None
    grid_id: int
    building_id: int
    unit: str
    values: dict[str, Any]


# A change to a stored resident: the row, the resident as stored, the fields it changes.
_Update = tuple[_Person, _Stored, dict[str, Any]]


@dataclass
class _Lookups:
    grid_ids: dict[str, int]
    buildings: dict[str, tuple[int, int]]  # code → (id, grid id)
    households: dict[tuple[int, str], tuple[int, int]]  # (building, unit) → (id, grid id)
    stored: dict[int, _Stored]
    # (household id, name, masked ID number) → resident id, for rows without an id.
    by_identity: dict[tuple[int, str, str | None], int] = field(default_factory=dict)


def _stored_tags(session: Session, residents: Select[*tuple[Any, ...]]) -> dict[int, str]:
    """The tags of the residents `residents` selects (by id first), as the file writes them."""
    ids = select(residents.order_by(None).subquery().c[0])
    rows = session.execute(
        select(_TAGS.c.resident_id, _TAGS.c.tag).where(_TAGS.c.resident_id.in_(ids))
    ).all()
    return {resident_id: ",".join(tags) for resident_id, tags in tags_by_resident(rows).items()}


def _stored_rows(session: Session, where: Any) -> Iterator[_Stored]:
    query = (
        select(
            _RESIDENTS.c.id,
            _RESIDENTS.c.grid_id,
            _RESIDENTS.c.building_id,
            _HOUSEHOLDS.c.unit,
            *(_RESIDENTS.c[name] for name in RESIDENT_COLUMNS),
        )
        .join(_HOUSEHOLDS, _HOUSEHOLDS.c.id == _RESIDENTS.c.household_id)
        .where(where)
    )
    # .all() fetches in one call; iterating the result fetches row by row (slower at scale).
    found = session.execute(query).all()
    tags = _stored_tags(session, query)
    for r in found:
        values = dict(zip(RESIDENT_COLUMNS, r[4:], strict=True))
        values["vulnerability"] = tags.get(int(r[0]), "")
        yield _Stored(id=r[0], grid_id=r[1], building_id=r[2], unit=r[3], values=values)


class ResidentsImport(Importer[_Lookups, _Person, _Update]):
    """A residents file: new people and households, and changes to registered residents."""

    kind = KIND
    entity = "resident"
    columns = COLUMN_RULES

    def __init__(self, *, actor: Actor) -> None:
        super().__init__(actor=actor)
        # The first row of each resident (a second one is a duplicate).
        self.first_row: dict[Any, int] = {}

    def load(self, *, session: Session, rows: Rows) -> _Lookups:
        """Grids, the buildings and households the rows name, and the residents they change."""
        grids = session.exec(select(Area.code, Area.id).where(Area.level == AreaLevel.grid)).all()  # type: ignore[call-overload]
        building_codes = set(rows.column("building_code")) - {None}
        buildings: dict[str, tuple[int, int]] = {}
        for chunk in in_chunks(sorted(building_codes)):
            found = session.exec(
                select(Building.code, Building.id, Building.grid_id).where(  # type: ignore[call-overload]
                    col(Building.code).in_(chunk)
                )
            ).all()
            buildings.update({code: (int(i), int(g)) for code, i, g in found})
        households: dict[tuple[int, str], tuple[int, int]] = {}
        for chunk in in_chunks(sorted({i for i, _ in buildings.values()})):
            for hid, bid, unit, gid in session.execute(
                select(
                    _HOUSEHOLDS.c.id, _HOUSEHOLDS.c.building_id, _HOUSEHOLDS.c.unit,
                    _HOUSEHOLDS.c.grid_id,
                ).where(_HOUSEHOLDS.c.building_id.in_(chunk))
            ).all():  # fmt: skip
                households[(bid, unit)] = (hid, gid)
        stored: dict[int, _Stored] = {}
        for chunk in in_chunks(sorted(set(rows.column("resident_id")) - {None})):
            for person in _stored_rows(session, _RESIDENTS.c.id.in_(chunk)):
                stored[person.id] = person
        lookups = _Lookups(
            grid_ids={code: int(i) for code, i in grids},
            buildings=buildings,
            households=households,
            stored=stored,
        )
        self._load_identities(session, rows, lookups)
        return lookups

    def _load_identities(self, session: Session, rows: Rows, lookups: _Lookups) -> None:
        """Residents of the households that rows without an id name (to recognise them)."""
        wanted: set[int] = set()
        for id_text, code, unit in zip(
            rows.texts("resident_id"), rows.column("building_code"), rows.column("unit"),
            strict=True,
        ):  # fmt: skip
            if id_text.strip():
                continue
            place = lookups.buildings.get(code)
            household = lookups.households.get((place[0], unit)) if place else None
            if household is not None:
                wanted.add(household[0])
        for chunk in in_chunks(sorted(wanted)):
            for person in _stored_rows(session, _RESIDENTS.c.household_id.in_(chunk)):
                household_id = lookups.households[(person.building_id, person.unit)][0]
                identity = (household_id, person.values["name"], person.values["id_number_masked"])
                # Two registered alike: the row describes the first (as a form would find).
                if lookups.by_identity.setdefault(identity, person.id) == person.id:
                    lookups.stored.setdefault(person.id, person)

    def check(self, *, row: Row, lookups: _Lookups) -> _Person | None:
        """The row's resident and the fields it sets, or None after adding its problems."""
        stored = self._resident(row, lookups)
        place = self._place(row, lookups)
        values = _values(row)
        if row.problems or place is None:
            return None
        grid_id, building_id, unit = place
        resident_id = stored.id if stored is not None else None
        if resident_id is None:
            household = lookups.households.get((building_id, unit))
            if household is not None:
                identity = (household[0], values["name"], values.get("id_number_masked"))
                resident_id = lookups.by_identity.get(identity)
        key: Any = resident_id if resident_id is not None else (
            building_id, unit, values["name"], values.get("id_number_masked")
        )  # fmt: skip
        first = self.first_row.setdefault(key, row.number)
        if first != row.number:
            row.problem("resident_id" if stored is not None else "name", "io.problem.duplicate",
                        first=first)  # fmt: skip
            return None
        return _Person(row.number, resident_id, grid_id, building_id, unit, values)

    def _resident(self, row: Row, lookups: _Lookups) -> _Stored | None:
        """The registered resident the row's id names (one the actor may change)."""
        resident_id = row["resident_id"]
        if resident_id is None:
            return None
        stored = lookups.stored.get(resident_id)
        # A resident outside the actor's grids reads exactly as one that does not exist.
        if stored is None or not self.actor.may_write_grid(stored.grid_id):
            row.problem("resident_id", "io.problem.unknown_resident")
            return None
        return stored

    def _place(self, row: Row, lookups: _Lookups) -> tuple[int, int, str] | None:
        """(grid id, building id, unit) of the row's household."""
        code = row["grid_code"]
        grid_id = lookups.grid_ids.get(code) if code is not None else None
        if code is not None and grid_id is None:
            row.problem("grid_code", "io.problem.unknown_grid")
        elif grid_id is not None and not self.actor.may_write_grid(grid_id):
            row.problem("grid_code", "io.problem.outside_scope")
            grid_id = None
        building_code = row["building_code"]
        building = lookups.buildings.get(building_code) if building_code is not None else None
        if building_code is not None and building is None:
            row.problem("building_code", "io.problem.unknown_building")
        elif building is not None and grid_id is not None and building[1] != grid_id:
            row.problem("building_code", "io.problem.building_not_in_grid",
                        grid=row.text("grid_code"))  # fmt: skip
            building = None
        unit = row["unit"]
        if grid_id is None or building is None or unit is None:
            return None
        return grid_id, building[0], unit

    def merge(self, *, item: _Person, row: Row, lookups: _Lookups) -> Merge | _Update:
        """A new resident, or the fields (and household) the row changes."""
        stored = lookups.stored.get(item.resident_id) if item.resident_id is not None else None
        if stored is None:
            return Merge.NEW
        changes = _changes(item, stored)
        if changes or (item.building_id, item.unit) != (stored.building_id, stored.unit):
            return item, stored, changes
        return Merge.SAME

    def write(
        self, *, session: Session, plan: Plan[_Person, _Update], lookups: _Lookups
    ) -> Written:
        """Add the missing households, then insert and update residents in bulk."""
        added = _write(session, lookups=lookups, inserts=plan.creates, updates=plan.updates)
        return Written(details={"households_added": added})


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
    return run_import(
        session=session,
        importer=ResidentsImport(actor=actor),
        table=table,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        source=source,
    )


def _values(row: Row) -> dict[str, Any]:
    """The fields the row sets (only those whose column is in the file)."""
    values: dict[str, Any] = {"name": row["name"]}
    ident: IdNumber | None = row["id_number"]
    if row.has("id_number"):
        values["id_number_masked"] = ident.masked if ident is not None else None
        values["id_suffix"] = ident.suffix if ident is not None else None
    # A full ID number tells the birth year and sex when their cells are empty.
    year = ident.birth_year if ident is not None else None
    sex = ident.sex if ident is not None else None
    if row.has("phone"):
        values["phone"] = row["phone"]
    if row.has("birth_year") or year is not None:
        values["birth_year"] = row["birth_year"] if row["birth_year"] is not None else year
    if row.has("sex") or sex is not None:
        values["sex"] = row["sex"] if row["sex"] is not None else sex
    if row.has("vulnerability"):
        values["vulnerability"] = row["vulnerability"]
    if row.has("health_status"):
        values["health_status"] = row["health_status"]
    return values


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


def _write(
    session: Session,
    *,
    lookups: _Lookups,
    inserts: list[_Person],
    updates: list[_Update],
) -> int:
    """Add the missing households, then insert and update residents; households added."""
    places = {(p.building_id, p.unit): p.grid_id for p in inserts}
    places.update({(p.building_id, p.unit): p.grid_id for p, s, _ in updates})
    missing: list[dict[str, Any]] = [
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
        per_grid: dict[int, int] = {}
        for household in missing:
            per_grid[household["grid_id"]] = per_grid.get(household["grid_id"], 0) + 1
        counters.add_households(session, per_grid)
    new_tags: list[dict[str, Any]] = []
    added_residents: list[int] = []
    if inserts:
        rows = [_defaults(p.values) for p in inserts]
        added_ids = session.execute(
            insert(_RESIDENTS).returning(_RESIDENTS.c.id, sort_by_parameter_order=True),
            [
                {
                    **{name: values[name] for name in RESIDENT_COLUMNS},
                    "household_id": lookups.households[(p.building_id, p.unit)][0],
                    "grid_id": p.grid_id,
                    "building_id": p.building_id,
                }
                for p, values in zip(inserts, rows, strict=True)
            ],
        ).scalars()
        for resident_id, values in zip(added_ids, rows, strict=True):
            added_residents.append(resident_id)
            new_tags += _tag_rows(resident_id, values["vulnerability"])
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    retagged: list[int] = []
    for person, stored, changes in updates:
        values = dict(changes)
        if "vulnerability" in values:
            retagged.append(stored.id)
            new_tags += _tag_rows(stored.id, values.pop("vulnerability"))
            if not values:
                continue
        if (person.building_id, person.unit) != (stored.building_id, stored.unit):
            values["household_id"] = lookups.households[(person.building_id, person.unit)][0]
            values["grid_id"] = person.grid_id
            values["building_id"] = person.building_id
        columns = tuple(sorted(values))
        by_columns.setdefault(columns, []).append(
            {"resident_key": stored.id, **{f"new_{k}": v for k, v in values.items()}}
        )
    # The counters follow the residents' grids, statuses and tags (and their samples'
    # exemption); the new residents are counted once their tags are written.
    moved = [values["resident_key"] for batch in by_columns.values() for values in batch]
    with counters.following(session, residents=sorted({*moved, *retagged})):
        for columns, batch in by_columns.items():
            session.execute(
                update(_RESIDENTS)
                .where(_RESIDENTS.c.id == bindparam("resident_key"))
                .values({name: bindparam(f"new_{name}") for name in columns}),
                batch,
            )
        for chunk in range(0, len(retagged), CHUNK):
            session.execute(
                delete(_TAGS).where(_TAGS.c.resident_id.in_(retagged[chunk : chunk + CHUNK]))
            )
        if new_tags:
            session.execute(insert(_TAGS), new_tags)
    counters.count_in(session, residents=added_residents)
    return len(missing)


def _tag_rows(resident_id: int, tags: str) -> list[dict[str, Any]]:
    """The vulnerability rows of one resident from the file's comma-separated tags."""
    return [{"resident_id": resident_id, "tag": tag} for tag in vulnerability_tags(tags or "")]


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


EXCHANGE = Exchange(kind=KIND, columns=COLUMN_RULES, export=export_residents, load=import_residents)
