"""Cases in and out: line lists of cases and contacts, daily case counts, case addresses.

Four kinds of file, the same columns both ways (row 1 is the header; names are matched
without regard to case, or by the Chinese name in brackets). Dates are written
YYYY-MM-DD and read as YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD or an Excel date cell.

case-counts — new cases reported as counts (a bulletin), one row per day, area, kind, way:
    date      (日期) the day                                                      required
    area      (区域) the area's name or code; names are matched tolerantly (嘉定 and
              嘉定区, 浦东 and 浦东新区 are one district)                           required
    kind      (类型) confirmed | asymptomatic (确诊病例 | 无症状感染者)             required
    found_by  (发现方式) quarantine | screening | mass_testing | community | reclassified
              (闭环隔离管控 | 风险人群筛查 | 全员核酸筛查 | 野生 |
              此前报告的本土无症状感染)                                            required
    count     (数量) a whole number, 0 or more                                     required
  The Shanghai bulletins' headers (is_patient, district, source) are read as kind, area
  and found_by. A row for a day, area, kind and way already stored replaces its count, so
  importing a file again changes nothing.

case-addresses — where positive cases lived, as listed on a day:
    date (日期), address (地址), area (区域; also `district`), lng (经度), lat (纬度)
  lng/lat are WGS-84; without them the point is looked up in a geocode file (--geocodes:
  district, address, and gcj02_lng/gcj02_lat and/or wgs84_lng/wgs84_lat). An address with
  a point is placed in the area whose shape holds it (the deepest level with shapes),
  otherwise in the area its name gives. Rows repeating an earlier row exactly are stored
  once; what could not be placed is counted in the report.

cases — the line list of cases (personal data: administrators, leaders, grid workers):
    case_id (病例编号), resident_id (居民编号), name (姓名, written for people, not read),
    address (地址), grid_code (网格编码), building_code (楼栋编码), kind (类型; also
    suspected 疑似病例), found_by (发现方式), reported_date (报告日期), status (状态:
    active | recovered | discarded, 在治 | 已治愈 | 已排除), note (备注)

contacts — the line list of contacts:
    contact_id (密接编号), case_id (病例编号), resident_id (居民编号), name (姓名),
    phone (手机号), grid_code (网格编码), contact_type (接触类型: close | secondary,
    密接 | 次密接), identified_date (判定日期), quarantine_place (隔离地点: home | central,
    居家 | 集中), start_date (开始日期), planned_end_date (计划结束日期), status (状态:
    in_quarantine | released | became_case, 隔离中 | 已解除 | 已转病例)

In the two line lists a row with an id changes that case or contact; a row without one
adds it, unless one stored already is the same (same person or address, grid, day and
kind), which the row then describes. An unknown area, a bad date, a negative count or an
unknown kind is reported with its row and column, and then nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple, Protocol, TypeVar

import numpy as np
import shapely
from shapely.geometry import shape as geometry_shape
from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from gridcore.access import COMMAND_ROLES, Actor, PermissionDenied
from gridcore.geo import gcj02_to_wgs84
from gridcore.io.areas import UNASSIGNED, AreaNames, area_names, name_key, unassigned_area
from gridcore.io.cells import Invalid, ignored, parse_whole, resident_number, text
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
from gridcore.io.tabular import Table, normal_name
from gridcore.models import (
    AREA_LEVEL_ORDER,
    Area,
    AreaLevel,
    Building,
    Case,
    CaseAddress,
    CaseCount,
    CaseKind,
    CaseStatus,
    Contact,
    ContactStatus,
    ContactType,
    FoundVia,
    QuarantinePlace,
    Resident,
    UserRole,
)
from gridcore.policy import Policy, load_policy
from gridcore.services.checks import phone_ok

_AREAS = Area.__table__  # type: ignore[attr-defined]
_COUNTS = CaseCount.__table__  # type: ignore[attr-defined]
_ADDRESSES = CaseAddress.__table__  # type: ignore[attr-defined]
_CASES = Case.__table__  # type: ignore[attr-defined]
_CONTACTS = Contact.__table__  # type: ignore[attr-defined]
_RESIDENTS = Resident.__table__  # type: ignore[attr-defined]
_BUILDINGS = Building.__table__  # type: ignore[attr-defined]

# What to do with an area name that matches no area: report it, or keep it under 未分配.
UNMATCHED: tuple[str, ...] = ("report", "keep")
# The area of a row kept under "unassigned" before that area exists.
_UNASSIGNED_ID = -1
ADDRESS_MAX, SOURCE_MAX, NOTE_MAX, NAME_MAX, PHONE_MAX = 200, 200, 500, 80, 20

# --------------------------------------------------------------------------- cells

KIND_WORDS: dict[str, CaseKind] = {
    "确诊病例": CaseKind.confirmed,
    "确诊": CaseKind.confirmed,
    "无症状感染者": CaseKind.asymptomatic,
    "无症状": CaseKind.asymptomatic,
    "疑似病例": CaseKind.suspected,
    "疑似": CaseKind.suspected,
}
FOUND_WORDS: dict[str, FoundVia] = {
    "闭环隔离管控": FoundVia.quarantine,
    "隔离管控": FoundVia.quarantine,
    "风险人群筛查": FoundVia.screening,
    "全员核酸筛查": FoundVia.mass_testing,
    "社会面": FoundVia.community,
    "野生": FoundVia.community,
    "此前报告的本土无症状感染": FoundVia.reclassified,
    "无症状转归": FoundVia.reclassified,
}
CASE_STATUS_WORDS: dict[str, CaseStatus] = {
    "在治": CaseStatus.active,
    "已治愈": CaseStatus.recovered,
    "已排除": CaseStatus.discarded,
}
CONTACT_TYPE_WORDS: dict[str, ContactType] = {
    "密接": ContactType.close,
    "密切接触者": ContactType.close,
    "次密接": ContactType.secondary,
}
PLACE_WORDS: dict[str, QuarantinePlace] = {
    "居家": QuarantinePlace.home,
    "居家隔离": QuarantinePlace.home,
    "集中": QuarantinePlace.central,
    "集中隔离": QuarantinePlace.central,
}
CONTACT_STATUS_WORDS: dict[str, ContactStatus] = {
    "隔离中": ContactStatus.in_quarantine,
    "已解除": ContactStatus.released,
    "已转病例": ContactStatus.became_case,
}
_DAY = re.compile(r"^(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})(?:[ T]00:00(?::00)?)?$")


@lru_cache(maxsize=4096)  # a file has few days in many rows
def parse_day(value: str) -> date | None:
    """A day from YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD or an Excel date cell; None if unreadable."""
    value = value.strip()
    if value.endswith(".0"):
        value = value[:-2]
    match = _DAY.match(value)
    if match is None or (len(value) < 10 and not value.isdigit()):
        return None
    if value.isdigit() and len(value) != 8:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _day(value: str) -> date | None:
    """A date column: None when blank."""
    if not value.strip():
        return None
    day = parse_day(value)
    if day is None:
        raise Invalid("io.problem.bad_date")
    return day


def _choice(
    enum: type[StrEnum], words: dict[str, Any], key: str, *, allowed: Sequence[str] | None = None
) -> Callable[[str], str | None]:
    """A parser of one of `enum`'s values, in English or the Chinese `words`; None when blank."""
    values = {v.value for v in enum} if allowed is None else set(allowed)

    def parse(value: str) -> str | None:
        word = value.strip()
        if not word:
            return None
        found = words.get(word)
        if found is not None and found.value in values:
            return str(found.value)
        lowered = word.lower().replace("-", "_").replace(" ", "_")
        if lowered in values:
            return lowered
        raise Invalid(key)

    return parse


def _count(value: str) -> int:
    """A whole number of cases, 0 or more."""
    number = parse_whole(value)
    if number is None or number < 0:
        raise Invalid("io.problem.bad_count")
    return number


def _coordinate(value: str) -> float | None:
    """A longitude or latitude in degrees; None when blank."""
    if not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        raise Invalid("io.problem.bad_coordinate") from None
    if not -180.0 <= number <= 180.0:
        raise Invalid("io.problem.bad_coordinate")
    return number


def _alias(table: Table, aliases: dict[str, str]) -> tuple[Table, dict[str, str]]:
    """`table` with header names in `aliases` read as the kind's own names, and what was renamed.

    An alias whose own name the file also has is left as it is (it would be read twice).
    """
    taken = {normal_name(name) for name in table.columns}
    columns: list[str] = []
    renamed: dict[str, str] = {}
    for name in table.columns:
        new = aliases.get(normal_name(name))
        if new is None or new in taken:
            columns.append(name)
        else:
            columns.append(new)
            renamed[new] = name
    return Table(columns=columns, rows=table.rows), renamed


def _load_aliased(
    load: Callable[[Table], ImportReport], table: Table, aliases: dict[str, str]
) -> ImportReport:
    """`load` of `table` read with `aliases`; its problems name the file's own headers."""
    aliased, renamed = _alias(table, aliases)
    report = load(aliased)
    report.problems = [replace(p, column=renamed.get(p.column, p.column)) for p in report.problems]
    return report


def _area_labels(session: Session) -> dict[int, str]:
    """What the area column says for an area: its name when no other area has it, else its code."""
    rows = session.execute(
        select(_AREAS.c.id, _AREAS.c.code, _AREAS.c.name, _AREAS.c.name_zh)
    ).all()
    seen: dict[str, int] = {}
    for _, _, name, name_zh in rows:
        for label in {name, name_zh} - {None}:
            seen[label] = seen.get(label, 0) + 1
    labels: dict[int, str] = {}
    for area_id, code, name, name_zh in rows:
        label = name_zh or name
        labels[int(area_id)] = label if seen.get(label) == 1 and seen.get(code) is None else code
    return labels


def _find_area(row: Row, column: str, names: AreaNames, *, keep: bool) -> int | None:
    """The area a row's cell names (or the unassigned one, when kept); None after a problem."""
    name = row[column]
    if name is None:
        return None
    area_id, several = names.find(name)
    if area_id is not None:
        return area_id
    if several:
        row.problem(column, "io.problem.ambiguous_area", codes=", ".join(several))
        return None
    if keep:
        return _UNASSIGNED_ID
    row.problem(column, "io.problem.unknown_area")
    return None


def _unassigned_id(session: Session) -> int | None:
    found = session.execute(select(_AREAS.c.id).where(_AREAS.c.code == UNASSIGNED[0])).scalar()
    return int(found) if found is not None else None


# --------------------------------------------------------------------------- case counts

COUNTS_KIND = "case-counts"
COUNT_COLUMNS: tuple[Column, ...] = (
    Column("date", "日期", _day, required=True, filled=True),
    Column("area", "区域", text(), required=True, filled=True),
    Column(
        "kind",
        "类型",
        _choice(
            CaseKind,
            KIND_WORDS,
            "io.problem.bad_kind",
            allowed=(CaseKind.confirmed, CaseKind.asymptomatic),
        ),
        required=True,
        filled=True,
    ),  # fmt: skip
    Column(
        "found_by",
        "发现方式",
        _choice(FoundVia, FOUND_WORDS, "io.problem.bad_found_by"),
        required=True,
        filled=True,
    ),  # fmt: skip
    Column("count", "数量", _count, required=True, filled=True),
)
# The Shanghai bulletins' own headers.
COUNT_ALIASES = {"is_patient": "kind", "district": "area", "source": "found_by"}


class _CountKey(NamedTuple):
    day: date
    area_id: int
    kind: str
    found_via: str


@dataclass
class _CountLookups:
    names: AreaNames
    stored: dict[_CountKey, tuple[int, int]]  # key → (id, count)
    unassigned: int | None


class CaseCountsImport(Importer[_CountLookups, tuple[_CountKey, int], tuple[int, int]]):
    """A file of daily counts: new ones inserted, changed counts replaced."""

    kind = COUNTS_KIND
    entity = "case_count"
    columns = COUNT_COLUMNS
    roles = COMMAND_ROLES

    def __init__(self, *, actor: Actor, keep_unmatched: bool, source: str) -> None:
        super().__init__(actor=actor)
        self.keep = keep_unmatched
        self.source = source[:SOURCE_MAX]
        self.first_row: dict[_CountKey, int] = {}
        self.unmatched: dict[str, int] = {}

    def load(self, *, session: Session, rows: Rows) -> _CountLookups:
        """Areas by name, and the counts stored for the file's days."""
        unassigned = _unassigned_id(session)
        days = sorted(set(rows.column("date")) - {None})
        stored: dict[_CountKey, tuple[int, int]] = {}
        for chunk in in_chunks(days):
            for r in session.execute(
                select(_COUNTS.c.id, _COUNTS.c.day, _COUNTS.c.area_id, _COUNTS.c.kind,
                       _COUNTS.c.found_via, _COUNTS.c.count).where(_COUNTS.c.day.in_(chunk))
            ).all():  # fmt: skip
                area = _UNASSIGNED_ID if r.area_id == unassigned else int(r.area_id)
                stored[_CountKey(r.day, area, r.kind, r.found_via)] = (int(r.id), int(r[5]))
        return _CountLookups(area_names(session), stored, unassigned)

    def check(self, *, row: Row, lookups: _CountLookups) -> tuple[_CountKey, int] | None:
        """The row's key and count, or None after adding its problems."""
        area_id = _find_area(row, "area", lookups.names, keep=self.keep)
        if area_id == _UNASSIGNED_ID:
            self.unmatched[row["area"]] = self.unmatched.get(row["area"], 0) + 1
        if row.problems or area_id is None:
            return None
        key = _CountKey(row["date"], area_id, row["kind"], row["found_by"])
        first = self.first_row.setdefault(key, row.number)
        if first != row.number:
            row.problem("area", "io.problem.duplicate_count", first=first)
            return None
        return key, row["count"]

    def merge(
        self, *, item: tuple[_CountKey, int], row: Row, lookups: _CountLookups
    ) -> Merge | tuple[int, int]:
        """NEW, SAME, or (stored id, the new count)."""
        key, count = item
        stored = lookups.stored.get(key)
        if stored is None:
            return Merge.NEW
        return Merge.SAME if stored[1] == count else (stored[0], count)

    def write(
        self,
        *,
        session: Session,
        plan: Plan[tuple[_CountKey, int], tuple[int, int]],
        lookups: _CountLookups,
    ) -> Written:
        """Insert the new counts and replace the changed ones."""
        unassigned = lookups.unassigned
        if unassigned is None and any(k.area_id == _UNASSIGNED_ID for k, _ in plan.creates):
            unassigned = unassigned_area(session)
        if plan.creates:
            session.execute(
                insert(_COUNTS),
                [
                    {"day": k.day, "kind": k.kind, "found_via": k.found_via, "count": count,
                     "area_id": unassigned if k.area_id == _UNASSIGNED_ID else k.area_id,
                     "source": self.source}
                    for k, count in plan.creates
                ],
            )  # fmt: skip
        if plan.updates:
            session.execute(
                update(_COUNTS)
                .where(_COUNTS.c.id == bindparam("count_id"))
                .values(count=bindparam("new_count"), source=self.source),
                [{"count_id": i, "new_count": c} for i, c in plan.updates],
            )
        return Written(details={"unassigned": dict(sorted(self.unmatched.items()))})


def import_case_counts(
    *,
    session: Session,
    table: Table,
    actor: Actor,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
    unmatched: str = "report",
) -> ImportReport:
    """Check every row of a case-counts table and, unless told otherwise, write it.

    An area name that matches no area is a problem, or with `unmatched="keep"` the count is
    kept under the area 未分配 (made when first needed) and the names are listed in the
    report's notes. Administrators and leaders only (PermissionDenied otherwise).
    """
    importer = CaseCountsImport(actor=actor, keep_unmatched=unmatched == "keep", source=source)
    report = _load_aliased(
        lambda aliased: run_import(
            session=session, importer=importer, table=aliased, dry_run=dry_run,
            skip_bad_rows=skip_bad_rows, source=source,
        ),
        table,
        COUNT_ALIASES,
    )  # fmt: skip
    for name, rows in sorted(importer.unmatched.items()):
        report.notes.append(("io.note.kept_unassigned", {"name": name, "rows": rows}))
    return report


def export_case_counts(*, session: Session, actor: Actor) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of a case-counts file: every stored count, by day and area."""
    labels = _area_labels(session)
    rows = session.execute(
        select(_COUNTS.c.day, _COUNTS.c.area_id, _COUNTS.c.kind, _COUNTS.c.found_via,
               _COUNTS.c.count)
        .order_by(_COUNTS.c.day, _COUNTS.c.area_id, _COUNTS.c.kind, _COUNTS.c.found_via)
    ).all()  # fmt: skip

    def generate() -> Iterator[list[Any]]:
        for r in rows:
            yield [r.day.isoformat(), labels[r.area_id], r.kind, r.found_via, r[4]]

    return list(column_names(COUNT_COLUMNS)), generate()


# --------------------------------------------------------------------------- case addresses

ADDRESSES_KIND = "case-addresses"
ADDRESS_COLUMNS: tuple[Column, ...] = (
    Column("date", "日期", _day, required=True, filled=True),
    Column("address", "地址", text(max_length=ADDRESS_MAX), required=True, filled=True),
    Column("area", "区域", text()),
    Column("lng", "经度", _coordinate),
    Column("lat", "纬度", _coordinate),
)
ADDRESS_ALIASES = {"district": "area"}


@dataclass(frozen=True)
class Geocodes:
    """Points of addresses from a geocode file, WGS-84, by (folded district, address)."""

    points: dict[tuple[str, str], tuple[float, float]]
    rows: int
    converted: int  # rows with GCJ-02 only, converted
    unreadable: int  # rows with no point that could be read


def read_geocodes(table: Table) -> Geocodes:
    """The points of a geocode table (district, address, gcj02_lng/lat and/or wgs84_lng/lat).

    A WGS-84 pair is taken as it is; otherwise the GCJ-02 pair is converted, also when it is
    written "lng,lat" in the gcj02_lng cell. Rows without a readable point are counted.
    """
    positions = table.index()

    def cell(cells: list[str], name: str) -> str:
        position = positions.get(name)
        return cells[position].strip() if position is not None else ""

    points: dict[tuple[str, str], tuple[float, float]] = {}
    converted = unreadable = 0
    for _, cells in table.rows:
        address = cell(cells, "address")
        point = _pair(cell(cells, "wgs84_lng"), cell(cells, "wgs84_lat"))
        if point is None:
            gcj_lng = cell(cells, "gcj02_lng")
            gcj = _pair(*gcj_lng.split(",", 1)) if "," in gcj_lng else None
            gcj = gcj or _pair(gcj_lng, cell(cells, "gcj02_lat"))
            if gcj is not None:
                point = gcj02_to_wgs84(*gcj)
                converted += 1
        if point is None or not address:
            unreadable += 1
            continue
        points.setdefault((name_key(cell(cells, "district")), address), point)
    return Geocodes(points, len(table.rows), converted, unreadable)


def _pair(lng: str, lat: str) -> tuple[float, float] | None:
    try:
        x, y = float(lng), float(lat)
    except ValueError:
        return None
    if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
        return None
    return x, y


class _AddressKey(NamedTuple):
    day: date
    address: str
    area_id: int


class _Placed(NamedTuple):
    key: _AddressKey
    lng: float | None
    lat: float | None


@dataclass
class _AddressLookups:
    names: AreaNames
    shapes: list[tuple[int, Any]]  # (area id, prepared shape) at the deepest level with shapes
    stored: dict[_AddressKey, tuple[int, float | None, float | None]]
    unassigned: int | None
    # (lng, lat) → the area holding it, computed for every point of the file at once.
    holder: dict[tuple[float, float], int] = field(default_factory=dict)
    # The areas points are placed in.
    shaped: set[int] = field(default_factory=set)


@dataclass
class _AddressCounts:
    duplicates: int = 0
    no_point: int = 0
    outside: int = 0
    elsewhere: int = 0  # placed by the point in another area than the name says
    unassigned: dict[str, int] = field(default_factory=dict)


class CaseAddressesImport(
    Importer[_AddressLookups, _Placed, tuple[int, float | None, float | None]]
):
    """A file of dated case addresses, placed by their point (or their area's name)."""

    kind = ADDRESSES_KIND
    entity = "case_address"
    columns = ADDRESS_COLUMNS
    roles = COMMAND_ROLES

    def __init__(
        self, *, actor: Actor, keep_unmatched: bool, source: str, geocodes: Geocodes | None
    ) -> None:
        super().__init__(actor=actor)
        self.keep = keep_unmatched
        self.source = source[:SOURCE_MAX]
        self.geocodes = geocodes
        self.counts = _AddressCounts()
        self.seen: set[_AddressKey] = set()
        # Row number → the row's point (WGS-84), from its cells or the geocode file.
        self.points: dict[int, tuple[float, float] | None] = {}

    def load(self, *, session: Session, rows: Rows) -> _AddressLookups:
        """Areas by name and shape, and the addresses stored for the file's days."""
        unassigned = _unassigned_id(session)
        lookups = _AddressLookups(area_names(session), _deepest_shapes(session), {}, unassigned)
        days = sorted(set(rows.column("date")) - {None})
        for chunk in in_chunks(days, 500):
            for r in session.execute(
                select(_ADDRESSES.c.id, _ADDRESSES.c.day, _ADDRESSES.c.address,
                       _ADDRESSES.c.area_id, _ADDRESSES.c.lng, _ADDRESSES.c.lat)
                .where(_ADDRESSES.c.day.in_(chunk))
            ).all():  # fmt: skip
                area = _UNASSIGNED_ID if r.area_id == unassigned else int(r.area_id)
                lookups.stored[_AddressKey(r.day, r.address, area)] = (int(r.id), r.lng, r.lat)
        # Every row's point, then the area of every distinct point in one pass per shape.
        geocodes = self.geocodes.points if self.geocodes is not None else {}
        for number, lng, lat, area, address in zip(
            rows.numbers, rows.column("lng"), rows.column("lat"), rows.column("area"),
            rows.column("address"), strict=True,
        ):  # fmt: skip
            if lng is not None and lat is not None:
                self.points[number] = (lng, lat)
            else:
                self.points[number] = geocodes.get((name_key(area or ""), address or ""))
        lookups.shaped = {area_id for area_id, _ in lookups.shapes}
        lookups.holder = _holders(
            lookups.shapes, {p for p in self.points.values() if p is not None}
        )
        return lookups

    def check(self, *, row: Row, lookups: _AddressLookups) -> _Placed | None:
        """The row placed in its area, or None after adding its problems."""
        if row.read("lng") and row.read("lat") and (row["lng"] is None) != (row["lat"] is None):
            row.problem("lat" if row["lat"] is None else "lng", "io.problem.half_point")
        point = self.points.get(row.number)
        named: int | None = None
        if row["area"]:
            named, several = lookups.names.find(row["area"])
            if several:
                row.problem("area", "io.problem.ambiguous_area", codes=", ".join(several))
        holder = lookups.holder.get(point) if point is not None else None
        if point is None:
            self.counts.no_point += 1
        elif holder is None:
            self.counts.outside += 1
        elif named is not None and holder != named and named in lookups.shaped:
            self.counts.elsewhere += 1  # another area of the same level (not its parent)
        area_id = holder if holder is not None else named
        if area_id is None and not row.problems:
            if not self.keep:
                row.problem("area", "io.problem.unknown_area")
            else:
                area_id = _UNASSIGNED_ID
                label = row["area"] or ""
                self.counts.unassigned[label] = self.counts.unassigned.get(label, 0) + 1
        if row.problems or area_id is None:
            return None
        key = _AddressKey(row["date"], row["address"], area_id)
        if key in self.seen:
            self.counts.duplicates += 1
            return None  # stored once: the first row stands for it
        self.seen.add(key)
        lng, lat = point if point is not None else (None, None)
        return _Placed(key, lng, lat)

    def merge(
        self, *, item: _Placed, row: Row, lookups: _AddressLookups
    ) -> Merge | tuple[int, float | None, float | None]:
        """NEW, SAME, or (stored id, the new point)."""
        stored = lookups.stored.get(item.key)
        if stored is None:
            return Merge.NEW
        if (stored[1], stored[2]) == (item.lng, item.lat):
            return Merge.SAME
        return stored[0], item.lng, item.lat

    def write(
        self,
        *,
        session: Session,
        plan: Plan[_Placed, tuple[int, float | None, float | None]],
        lookups: _AddressLookups,
    ) -> Written:
        """Insert the new addresses and move the ones whose point changed."""
        unassigned = lookups.unassigned
        if unassigned is None and any(p.key.area_id == _UNASSIGNED_ID for p in plan.creates):
            unassigned = unassigned_area(session)
        if plan.creates:
            session.execute(
                insert(_ADDRESSES),
                [
                    {"day": p.key.day, "address": p.key.address, "lng": p.lng, "lat": p.lat,
                     "area_id": unassigned if p.key.area_id == _UNASSIGNED_ID else p.key.area_id,
                     "source": self.source}
                    for p in plan.creates
                ],
            )  # fmt: skip
        if plan.updates:
            session.execute(
                update(_ADDRESSES)
                .where(_ADDRESSES.c.id == bindparam("address_id"))
                .values(lng=bindparam("new_lng"), lat=bindparam("new_lat")),
                [{"address_id": i, "new_lng": x, "new_lat": y} for i, x, y in plan.updates],
            )
        counts = self.counts
        return Written(
            details={"duplicates": counts.duplicates, "without_point": counts.no_point,
                     "outside_every_area": counts.outside, "unassigned": counts.unassigned}
        )  # fmt: skip


def _deepest_shapes(session: Session) -> list[tuple[int, Any]]:
    """(id, prepared shape) of the areas at the deepest level that has shapes."""
    rows = session.execute(
        select(_AREAS.c.id, _AREAS.c.level, _AREAS.c.shape).where(_AREAS.c.shape.is_not(None))
    ).all()
    if not rows:
        return []
    deepest = max(AREA_LEVEL_ORDER.index(AreaLevel(r.level)) for r in rows)
    shapes: list[tuple[int, Any]] = []
    for r in rows:
        if AREA_LEVEL_ORDER.index(AreaLevel(r.level)) != deepest:
            continue
        try:
            polygon = geometry_shape(_json(r.shape))
        except (TypeError, ValueError, KeyError, IndexError, shapely.errors.ShapelyError):
            continue
        shapely.prepare(polygon)
        shapes.append((int(r.id), polygon))
    return shapes


def _json(value: str) -> Any:
    return json.loads(value)


def _holders(
    shapes: list[tuple[int, Any]], points: set[tuple[float, float]]
) -> dict[tuple[float, float], int]:
    """The area holding each point (the first shape in id order when shapes overlap)."""
    if not points or not shapes:
        return {}
    ordered = sorted(points)
    xs = np.array([p[0] for p in ordered])
    ys = np.array([p[1] for p in ordered])
    found: dict[tuple[float, float], int] = {}
    for area_id, polygon in sorted(shapes, key=lambda s: s[0]):
        inside = shapely.contains_xy(polygon, xs, ys)
        for index in np.flatnonzero(inside):
            found.setdefault(ordered[int(index)], area_id)
    return found


def import_case_addresses(
    *,
    session: Session,
    table: Table,
    actor: Actor,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
    unmatched: str = "report",
    geocodes: Table | None = None,
) -> ImportReport:
    """Check every row of a case-addresses table and, unless told otherwise, write it.

    `geocodes` is a geocode table giving the points of rows without lng/lat. The report's
    notes count the exact repeats (stored once), the rows without a point (placed by their
    area's name), the points outside every area and what was kept under 未分配.
    """
    points = read_geocodes(geocodes) if geocodes is not None else None
    importer = CaseAddressesImport(
        actor=actor, keep_unmatched=unmatched == "keep", source=source, geocodes=points
    )
    report = _load_aliased(
        lambda aliased: run_import(
            session=session, importer=importer, table=aliased, dry_run=dry_run,
            skip_bad_rows=skip_bad_rows, source=source,
        ),
        table,
        ADDRESS_ALIASES,
    )  # fmt: skip
    counts = importer.counts
    if points is not None:
        report.notes.append(
            ("io.note.geocodes", {"rows": points.rows, "converted": points.converted,
                                  "unreadable": points.unreadable})
        )  # fmt: skip
    report.notes += [
        ("io.note.duplicates", {"rows": counts.duplicates}),
        ("io.note.without_point", {"rows": counts.no_point}),
        ("io.note.outside", {"rows": counts.outside}),
        ("io.note.elsewhere", {"rows": counts.elsewhere}),
    ]
    for name, rows in sorted(counts.unassigned.items()):
        report.notes.append(("io.note.kept_unassigned", {"name": name or "—", "rows": rows}))
    return report


def export_case_addresses(
    *, session: Session, actor: Actor
) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of a case-addresses file (addresses of cases: personal data)."""
    if not actor.sees_personal_data:
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not export personal data")
    labels = _area_labels(session)
    rows = session.execute(
        select(_ADDRESSES.c.day, _ADDRESSES.c.address, _ADDRESSES.c.area_id, _ADDRESSES.c.lng,
               _ADDRESSES.c.lat)
        .order_by(_ADDRESSES.c.day, _ADDRESSES.c.area_id, _ADDRESSES.c.address)
    ).all()  # fmt: skip

    def generate() -> Iterator[list[Any]]:
        for r in rows:
            yield [r.day.isoformat(), r.address, labels[r.area_id],
                   "" if r.lng is None else r.lng, "" if r.lat is None else r.lat]  # fmt: skip

    return list(column_names(ADDRESS_COLUMNS)), generate()


# --------------------------------------------------------------------------- line lists (shared)


def _record_number(key: str) -> Callable[[str], int | None]:
    """A case's or contact's number in GridCore; None when blank."""

    def parse(value: str) -> int | None:
        if not value.strip():
            return None
        number = parse_whole(value)
        if number is None or number <= 0:
            raise Invalid(key)
        return number

    return parse


def _phone(value: str) -> str | None:
    value = value.strip()
    if value and (not phone_ok(value) or len(value) > PHONE_MAX):
        raise Invalid("io.problem.bad_phone")
    return value or None


@dataclass
class _People:
    """What the rows of a line list name: grids, buildings, residents."""

    grid_ids: dict[str, int]
    grid_codes: dict[int, str]
    buildings: dict[str, tuple[int, int]]  # code → (id, grid id)
    residents: dict[int, tuple[int, int]]  # id → (grid id, building id)


def _people(session: Session, rows: Rows) -> _People:
    grids = session.execute(
        select(_AREAS.c.code, _AREAS.c.id).where(_AREAS.c.level == AreaLevel.grid)
    ).all()
    buildings: dict[str, tuple[int, int]] = {}
    for chunk in in_chunks(sorted(set(rows.column("building_code")) - {None, ""})):
        for code, i, g in session.execute(
            select(_BUILDINGS.c.code, _BUILDINGS.c.id, _BUILDINGS.c.grid_id).where(
                _BUILDINGS.c.code.in_(chunk)
            )
        ).all():
            buildings[code] = (int(i), int(g))
    residents: dict[int, tuple[int, int]] = {}
    for chunk in in_chunks(sorted(set(rows.column("resident_id")) - {None})):
        for i, g, b in session.execute(
            select(_RESIDENTS.c.id, _RESIDENTS.c.grid_id, _RESIDENTS.c.building_id).where(
                _RESIDENTS.c.id.in_(chunk)
            )
        ).all():
            residents[int(i)] = (int(g), int(b))
    return _People(
        grid_ids={c: int(i) for c, i in grids},
        grid_codes={int(i): c for c, i in grids},
        buildings=buildings,
        residents=residents,
    )


def _resident_and_grid(
    row: Row, people: _People, actor: Actor, *, grid_required: bool
) -> tuple[int | None, int | None, bool]:
    """(resident id, grid id, ok) of a row: the resident must exist and live in the grid."""
    resident_id = row["resident_id"]
    resident = people.residents.get(resident_id) if resident_id is not None else None
    if resident_id is not None and resident is None:
        row.problem("resident_id", "io.problem.unknown_resident")
    code = row["grid_code"]
    grid_id = people.grid_ids.get(code) if code else None
    if code and grid_id is None:
        row.problem("grid_code", "io.problem.unknown_grid")
    elif not code and resident is not None:
        grid_id = resident[0]
    elif grid_id is not None and resident is not None and resident[0] != grid_id:
        row.problem("grid_code", "io.problem.grid_mismatch", grid=people.grid_codes[resident[0]])
    if not row.problems:
        if grid_id is None and grid_required:
            row.problem("grid_code", "io.problem.required")
        elif not actor.may_write_grid(grid_id):
            row.problem("grid_code", "io.problem.outside_scope")
    return resident_id, grid_id, not row.problems


def _stored_rows(
    session: Session,
    rows: Rows,
    *,
    table: Any,
    fields: Sequence[str],
    by: Sequence[tuple[str, str]],
    identity: Callable[[dict[str, Any]], tuple[Any, ...]],
) -> tuple[dict[int, dict[str, Any]], dict[tuple[Any, ...], int]]:
    """The stored rows of a line list that the file may describe (by each (file column, table
    column) in `by`: its id, its day), id → fields; and the lowest id of each identity."""
    stored: dict[int, dict[str, Any]] = {}
    columns = [table.c.id, *(table.c[name] for name in fields)]
    for file_column, table_column in by:
        values = sorted(set(rows.column(file_column)) - {None})
        for chunk in in_chunks(values):
            query = select(*columns).where(table.c[table_column].in_(chunk))
            for r in session.execute(query).all():
                stored[int(r[0])] = dict(zip(fields, r[1:], strict=True))
    by_identity: dict[tuple[Any, ...], int] = {}
    for row_id in sorted(stored):
        by_identity.setdefault(identity(stored[row_id]), row_id)
    return stored, by_identity


def _changes(values: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if stored.get(k) != v}


class _Record(NamedTuple):
    """A good row of a line list: the stored id it changes (or None) and its values."""

    row: int
    stored_id: int | None
    values: dict[str, Any]


def _bulk_update(
    session: Session, table: Any, key: str, updates: list[tuple[int, dict[str, Any]]]
) -> None:
    """Update rows of `table` by id, grouped by the columns each changes."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for record_id, changes in updates:
        columns = tuple(sorted(changes))
        by_columns.setdefault(columns, []).append(
            {key: record_id, **{f"new_{k}": v for k, v in changes.items()}}
        )
    for columns, batch in by_columns.items():
        session.execute(
            update(table)
            .where(table.c.id == bindparam(key))
            .values({name: bindparam(f"new_{name}") for name in columns}),
            batch,
        )


def _scope(query: Any, table: Any, actor: Actor) -> Any:
    """`query` limited to the actor's grids (grid workers); viewers may not export."""
    if not actor.sees_personal_data:
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not export personal data")
    if actor.role == UserRole.grid_worker:
        return query.where(table.c.grid_id.in_(sorted(actor.grid_ids or ())))
    return query


# --------------------------------------------------------------------------- cases

CASES_KIND = "cases"
CASE_FIELDS: tuple[str, ...] = (
    "resident_id", "address", "grid_id", "building_id", "kind", "found_via", "reported_date",
    "status", "note",
)  # fmt: skip
CASE_COLUMNS: tuple[Column, ...] = (
    Column("case_id", "病例编号", _record_number("io.problem.unknown_case")),
    Column("resident_id", "居民编号", resident_number),
    Column("name", "姓名", ignored),
    Column("address", "地址", text(max_length=ADDRESS_MAX, blank=None)),
    Column("grid_code", "网格编码", text(), required=True),
    Column("building_code", "楼栋编码", text()),
    Column(
        "kind",
        "类型",
        _choice(CaseKind, KIND_WORDS, "io.problem.bad_kind"),
        required=True,
        filled=True,
    ),  # fmt: skip
    Column(
        "found_by",
        "发现方式",
        _choice(FoundVia, FOUND_WORDS, "io.problem.bad_found_by"),
        required=True,
        filled=True,
    ),  # fmt: skip
    Column("reported_date", "报告日期", _day, required=True, filled=True),
    Column("status", "状态", _choice(CaseStatus, CASE_STATUS_WORDS, "io.problem.bad_choice")),
    Column("note", "备注", text(max_length=NOTE_MAX, blank=None)),
)


class _StoredRows(Protocol):
    stored: dict[int, dict[str, Any]]  # id → fields


LineLookupsT = TypeVar("LineLookupsT", bound=_StoredRows)


class _LineListImport(Importer[LineLookupsT, _Record, tuple[int, dict[str, Any]]]):
    """A line list (cases or contacts): new rows inserted, stored rows updated where changed."""

    table: ClassVar[Any]
    key: ClassVar[str]  # the name the bulk update binds the row's id to

    def merge(
        self, *, item: _Record, row: Row, lookups: LineLookupsT
    ) -> Merge | tuple[int, dict[str, Any]]:
        """NEW, SAME, or (the stored row's id, the fields the row changes)."""
        if item.stored_id is None:
            return Merge.NEW
        changes = _changes(item.values, lookups.stored[item.stored_id])
        return (item.stored_id, changes) if changes else Merge.SAME

    def write(
        self,
        *,
        session: Session,
        plan: Plan[_Record, tuple[int, dict[str, Any]]],
        lookups: LineLookupsT,
    ) -> Written:
        """Insert the new rows and update the changed ones."""
        if plan.creates:
            session.execute(insert(self.table), [r.values for r in plan.creates])
        _bulk_update(session, self.table, self.key, plan.updates)
        return Written()


@dataclass
class _CaseLookups:
    people: _People
    stored: dict[int, dict[str, Any]]  # id → fields
    by_identity: dict[tuple[Any, ...], int]
    # Resident → their active case (its id, or -row for one the file adds).
    active: dict[int, int] = field(default_factory=dict)


def _case_identity(values: dict[str, Any]) -> tuple[Any, ...]:
    person = ("resident", values["resident_id"]) if values["resident_id"] is not None else (
        "address", values["address"])  # fmt: skip
    return (*person, values["grid_id"], values["reported_date"], values["kind"])


class CasesImport(_LineListImport[_CaseLookups]):
    """A line list of cases: new cases, and changes to stored ones."""

    table = _CASES
    key = "case_key"
    kind = CASES_KIND
    entity = "case"
    columns = CASE_COLUMNS

    def __init__(self, *, actor: Actor) -> None:
        super().__init__(actor=actor)
        self.first_row: dict[Any, int] = {}

    def load(self, *, session: Session, rows: Rows) -> _CaseLookups:
        """Grids, buildings, residents, and the stored cases the rows may describe."""
        people = _people(session, rows)
        stored, by_identity = _stored_rows(
            session,
            rows,
            table=_CASES,
            fields=CASE_FIELDS,
            by=(("case_id", "id"), ("reported_date", "reported_date")),
            identity=_case_identity,
        )
        active: dict[int, int] = {}
        for chunk in in_chunks(sorted(people.residents)):
            for case_id, resident_id in session.execute(
                select(_CASES.c.id, _CASES.c.resident_id).where(
                    _CASES.c.resident_id.in_(chunk), _CASES.c.status == CaseStatus.active
                )
            ).all():
                active.setdefault(int(resident_id), int(case_id))
        return _CaseLookups(people, stored, by_identity, active)

    def check(self, *, row: Row, lookups: _CaseLookups) -> _Record | None:
        """The row's case, or None after adding its problems."""
        case_id = row["case_id"]
        stored = lookups.stored.get(case_id) if case_id is not None else None
        if case_id is not None and stored is None:
            row.problem("case_id", "io.problem.unknown_case")
        elif stored is not None and not self.actor.may_write_grid(stored["grid_id"]):
            row.problem("case_id", "io.problem.outside_scope")
        resident_id, grid_id, ok = _resident_and_grid(row, lookups.people, self.actor,
                                                      grid_required=True)  # fmt: skip
        building_id = self._building(row, lookups.people, grid_id, resident_id)
        if resident_id is None and not row["address"] and row.read("address"):
            row.problem("address", "io.problem.resident_or_address")
        day = row["reported_date"]
        if day is not None and day > date.today():
            row.problem("reported_date", "io.problem.day_in_future")
        status = row["status"] or CaseStatus.active.value
        if status == CaseStatus.discarded and row["kind"] != CaseKind.suspected:
            row.problem("status", "io.problem.discard_only_suspected")
        if row.problems or not ok or grid_id is None:
            return None
        values = {
            "resident_id": resident_id, "address": row["address"], "grid_id": grid_id,
            "building_id": building_id, "kind": row["kind"], "found_via": row["found_by"],
            "reported_date": day, "status": status, "note": row["note"],
        }  # fmt: skip
        if case_id is None:
            case_id = lookups.by_identity.get(_case_identity(values))
        key: Any = case_id if case_id is not None else _case_identity(values)
        first = self.first_row.setdefault(key, row.number)
        if first != row.number:
            row.problem("case_id" if row["case_id"] else "reported_date",
                        "io.problem.duplicate_record", first=first)  # fmt: skip
            return None
        if status == CaseStatus.active and resident_id is not None:
            # One active case per resident, as the form allows.
            this = case_id if case_id is not None else -row.number
            if lookups.active.setdefault(resident_id, this) != this:
                row.problem("resident_id", "services.error.case_exists")
                return None
        return _Record(row.number, case_id, values)

    def _building(
        self, row: Row, people: _People, grid_id: int | None, resident_id: int | None
    ) -> int | None:
        code = row["building_code"]
        resident = people.residents.get(resident_id) if resident_id is not None else None
        if not code:
            return resident[1] if resident is not None else None
        building = people.buildings.get(code)
        if building is None:
            row.problem("building_code", "io.problem.unknown_building")
            return None
        if grid_id is not None and building[1] != grid_id:
            row.problem("building_code", "io.problem.building_not_in_grid",
                        grid=people.grid_codes.get(grid_id, ""))  # fmt: skip
            return None
        if resident is not None and resident[1] != building[0]:
            row.problem("building_code", "io.problem.building_mismatch")
            return None
        return building[0]


def import_cases(
    *,
    session: Session,
    table: Table,
    actor: Actor,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
) -> ImportReport:
    """Check every row of a cases line list and, unless told otherwise, write it.

    A grid worker's rows outside their grids are problems; a viewer may not import.
    """
    return run_import(
        session=session, importer=CasesImport(actor=actor), table=table, dry_run=dry_run,
        skip_bad_rows=skip_bad_rows, source=source,
    )  # fmt: skip


def export_cases(*, session: Session, actor: Actor) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of a cases line list: every case the actor may see unmasked."""
    grid = _AREAS.alias("grid")
    query = _scope(
        select(_CASES.c.id, _CASES.c.resident_id, _RESIDENTS.c.name, _CASES.c.address,
               grid.c.code, _BUILDINGS.c.code, _CASES.c.kind, _CASES.c.found_via,
               _CASES.c.reported_date, _CASES.c.status, _CASES.c.note)
        .join(grid, grid.c.id == _CASES.c.grid_id)
        .outerjoin(_RESIDENTS, _RESIDENTS.c.id == _CASES.c.resident_id)
        .outerjoin(_BUILDINGS, _BUILDINGS.c.id == _CASES.c.building_id)
        .order_by(_CASES.c.id),
        _CASES, actor,
    )  # fmt: skip
    rows = session.execute(query).all()

    def generate() -> Iterator[list[Any]]:
        for r in rows:
            cells = ["" if v is None else v for v in r]
            cells[8] = r[8].isoformat()
            yield cells

    return list(column_names(CASE_COLUMNS)), generate()


# --------------------------------------------------------------------------- contacts

CONTACTS_KIND = "contacts"
CONTACT_FIELDS: tuple[str, ...] = (
    "case_id", "resident_id", "person_name", "phone", "grid_id", "contact_type",
    "identified_date", "quarantine_place", "start_date", "planned_end_date", "status",
)  # fmt: skip
CONTACT_COLUMNS: tuple[Column, ...] = (
    Column("contact_id", "密接编号", _record_number("io.problem.unknown_contact")),
    Column("case_id", "病例编号", _record_number("io.problem.unknown_case")),
    Column("resident_id", "居民编号", resident_number),
    Column("name", "姓名", text(max_length=NAME_MAX, strip=False, blank=None)),
    Column("phone", "手机号", _phone),
    Column("grid_code", "网格编码", text()),
    Column(
        "contact_type",
        "接触类型",
        _choice(ContactType, CONTACT_TYPE_WORDS, "io.problem.bad_contact_type"),
        required=True,
        filled=True,
    ),  # fmt: skip
    Column("identified_date", "判定日期", _day, required=True, filled=True),
    Column(
        "quarantine_place",
        "隔离地点",
        _choice(QuarantinePlace, PLACE_WORDS, "io.problem.bad_place"),
        required=True,
        filled=True,
    ),  # fmt: skip
    Column("start_date", "开始日期", _day),
    Column("planned_end_date", "计划结束日期", _day),
    Column("status", "状态", _choice(ContactStatus, CONTACT_STATUS_WORDS, "io.problem.bad_choice")),
)


@dataclass
class _ContactLookups:
    people: _People
    cases: set[int]
    names: dict[int, str]  # resident id → name
    stored: dict[int, dict[str, Any]]
    by_identity: dict[tuple[Any, ...], int]
    policy: Policy
    # Resident → the contact that has them in quarantine (its id, or -row for a new one).
    quarantined: dict[int, int] = field(default_factory=dict)


def _contact_identity(values: dict[str, Any]) -> tuple[Any, ...]:
    person = values["resident_id"] if values["resident_id"] is not None else values["person_name"]
    return (values["case_id"], person, values["identified_date"])


class ContactsImport(_LineListImport[_ContactLookups]):
    """A line list of contacts: new contacts, and changes to stored ones."""

    table = _CONTACTS
    key = "contact_key"
    kind = CONTACTS_KIND
    entity = "contact"
    columns = CONTACT_COLUMNS

    def __init__(self, *, actor: Actor) -> None:
        super().__init__(actor=actor)
        self.first_row: dict[Any, int] = {}

    def load(self, *, session: Session, rows: Rows) -> _ContactLookups:
        """Grids, residents, cases, and the stored contacts the rows may describe."""
        people = _people(session, rows)
        cases: set[int] = set()
        for chunk in in_chunks(sorted(set(rows.column("case_id")) - {None})):
            cases.update(
                session.execute(select(_CASES.c.id).where(_CASES.c.id.in_(chunk))).scalars()
            )
        names: dict[int, str] = {}
        for chunk in in_chunks(sorted(people.residents)):
            for i, name in session.execute(
                select(_RESIDENTS.c.id, _RESIDENTS.c.name).where(_RESIDENTS.c.id.in_(chunk))
            ).all():
                names[int(i)] = name
        stored, by_identity = _stored_rows(
            session,
            rows,
            table=_CONTACTS,
            fields=CONTACT_FIELDS,
            by=(("contact_id", "id"), ("identified_date", "identified_date")),
            identity=_contact_identity,
        )
        quarantined: dict[int, int] = {}
        for chunk in in_chunks(sorted(people.residents)):
            for contact_id, resident_id in session.execute(
                select(_CONTACTS.c.id, _CONTACTS.c.resident_id).where(
                    _CONTACTS.c.resident_id.in_(chunk),
                    _CONTACTS.c.status == ContactStatus.in_quarantine,
                )
            ).all():
                quarantined.setdefault(int(resident_id), int(contact_id))
        return _ContactLookups(
            people, cases, names, stored, by_identity, load_policy(session), quarantined
        )

    def check(self, *, row: Row, lookups: _ContactLookups) -> _Record | None:
        """The row's contact, or None after adding its problems."""
        contact_id = row["contact_id"]
        stored = lookups.stored.get(contact_id) if contact_id is not None else None
        if contact_id is not None and stored is None:
            row.problem("contact_id", "io.problem.unknown_contact")
        elif stored is not None and not self.actor.may_write_grid(stored["grid_id"]):
            row.problem("contact_id", "io.problem.outside_scope")
        case_id = row["case_id"]
        if case_id is not None and case_id not in lookups.cases:
            row.problem("case_id", "io.problem.unknown_case")
        resident_id, grid_id, ok = _resident_and_grid(row, lookups.people, self.actor,
                                                      grid_required=False)  # fmt: skip
        registered = lookups.names.get(resident_id) if resident_id is not None else None
        # A resident's contact may leave the name out (the register's); the phone stays as
        # written, empty meaning "as in the register".
        name = row["name"] or registered
        if not name and row.read("name"):
            row.problem("name", "io.problem.required")
        identified = row["identified_date"]
        if identified is not None and identified > date.today():
            row.problem("identified_date", "io.problem.day_in_future")
        start = row["start_date"] or identified
        end = row["planned_end_date"]
        if end is None and start is not None and row["contact_type"] is not None:
            end = start + _quarantine_days(row["contact_type"], lookups.policy)
        if start is not None and end is not None and end <= start:
            row.problem("planned_end_date", "io.problem.end_before_start")
        if row.problems or not ok:
            return None
        values = {
            "case_id": case_id, "resident_id": resident_id, "person_name": name,
            "phone": row["phone"],
            "grid_id": grid_id, "contact_type": row["contact_type"],
            "identified_date": identified, "quarantine_place": row["quarantine_place"],
            "start_date": start, "planned_end_date": end,
            "status": row["status"] or ContactStatus.in_quarantine.value,
        }  # fmt: skip
        if contact_id is None:
            contact_id = lookups.by_identity.get(_contact_identity(values))
        key: Any = contact_id if contact_id is not None else _contact_identity(values)
        first = self.first_row.setdefault(key, row.number)
        if first != row.number:
            row.problem("contact_id" if row["contact_id"] else "name",
                        "io.problem.duplicate_record", first=first)  # fmt: skip
            return None
        if values["status"] == ContactStatus.in_quarantine and resident_id is not None:
            # One quarantine at a time per resident, as the form allows.
            this = contact_id if contact_id is not None else -row.number
            if lookups.quarantined.setdefault(resident_id, this) != this:
                row.problem("resident_id", "services.error.contact_exists")
                return None
        return _Record(row.number, contact_id, values)


def _quarantine_days(contact_type: str, policy: Policy) -> timedelta:
    """How long a contact of this type is quarantined under the policy in force."""
    if contact_type == ContactType.close:
        return timedelta(days=policy.close_central_days + policy.close_home_monitoring_days)
    return timedelta(days=policy.secondary_home_days)


def import_contacts(
    *,
    session: Session,
    table: Table,
    actor: Actor,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    source: str = "",
) -> ImportReport:
    """Check every row of a contacts line list and, unless told otherwise, write it.

    A contact without a grid lives elsewhere: only a leader or administrator may add one.
    Start and planned end default to the identified day and the policy's quarantine days.
    """
    return run_import(
        session=session, importer=ContactsImport(actor=actor), table=table, dry_run=dry_run,
        skip_bad_rows=skip_bad_rows, source=source,
    )  # fmt: skip


def export_contacts(*, session: Session, actor: Actor) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and rows of a contacts line list: every contact the actor may see unmasked."""
    grid = _AREAS.alias("grid")
    query = _scope(
        select(_CONTACTS.c.id, _CONTACTS.c.case_id, _CONTACTS.c.resident_id,
               _CONTACTS.c.person_name, _CONTACTS.c.phone, grid.c.code,
               _CONTACTS.c.contact_type, _CONTACTS.c.identified_date,
               _CONTACTS.c.quarantine_place, _CONTACTS.c.start_date,
               _CONTACTS.c.planned_end_date, _CONTACTS.c.status)
        .outerjoin(grid, grid.c.id == _CONTACTS.c.grid_id)
        .order_by(_CONTACTS.c.id),
        _CONTACTS, actor,
    )  # fmt: skip
    rows = session.execute(query).all()

    def generate() -> Iterator[list[Any]]:
        for r in rows:
            cells = ["" if v is None else v for v in r]
            for index in (7, 9, 10):
                cells[index] = r[index].isoformat()
            yield cells

    return list(column_names(CONTACT_COLUMNS)), generate()


EXCHANGES: tuple[Exchange, ...] = (
    Exchange(kind=CASES_KIND, columns=CASE_COLUMNS, export=export_cases, load=import_cases),
    Exchange(
        kind=CONTACTS_KIND, columns=CONTACT_COLUMNS, export=export_contacts, load=import_contacts
    ),  # fmt: skip
    Exchange(
        kind=COUNTS_KIND,
        columns=COUNT_COLUMNS,
        export=export_case_counts,
        load=import_case_counts,
        options=("unmatched",),
    ),  # fmt: skip
    Exchange(
        kind=ADDRESSES_KIND,
        columns=ADDRESS_COLUMNS,
        export=export_case_addresses,
        load=import_case_addresses,
        options=("unmatched", "geocodes"),
    ),  # fmt: skip
)
