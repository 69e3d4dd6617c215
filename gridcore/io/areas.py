"""Area shapes in: GeoJSON polygons at one level of the tree, and area names matched tolerantly.

`python -m gridcore import areas FILE --level district|street|community|grid
[--parent CODE [--parent-name NAME]] [--datum gcj02|wgs84] [--name-field F] [--code-field F]`

One feature is one area: a Polygon or MultiPolygon, its name and code from properties
(by default `name`, and the first of `code`, `adcode`, `id`). Coordinates are stored in
WGS-84; a file in GCJ-02 (Chinese map services) is converted when `--datum gcj02` says so.
An area whose code is stored already gets the file's name, shape and parent: importing a
file again updates, never duplicates. The parent is the area `--parent` names (made, named
`--parent-name`, when it does not exist yet); without it, the one area of the level above,
and when there is none a top area is made for it (a district-level deployment starts with
its city). A file with any problem writes nothing.

GeoJSON files are read only by the command line; the import page takes tables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import shapely
from shapely.geometry import shape as geometry_shape
from sqlalchemy import insert, select, update
from sqlmodel import Session

from gridcore.access import COMMAND_ROLES, Actor, require_role
from gridcore.geo import gcj02_to_wgs84, map_coordinates
from gridcore.io.report import ImportReport, Problem
from gridcore.models import AREA_LEVEL_ORDER, Area, AreaLevel
from gridcore.services.base import write

KIND = "areas"
DATUMS: tuple[str, ...] = ("wgs84", "gcj02")
CODE_FIELDS: tuple[str, ...] = ("code", "adcode", "id")
CODE_MAX, NAME_MAX = 32, 120
# The area made above a file's areas when the deployment has none (code, English, Chinese).
TOP_AREA = ("TOP", "Deployment", "辖区")
# Where a count or an address whose area name matches nothing is kept on request.
UNASSIGNED = ("UNASSIGNED", "Unassigned", "未分配")
_AREAS = Area.__table__  # type: ignore[attr-defined]
_CJK = re.compile(r"[\u4e00-\u9fff]")

# Endings taken off a name before matching, longest first: 浦东新区 and 浦东 are one district.
_ENDINGS: tuple[str, ...] = ("新区", "街道", "社区", "区", "县", "市", "镇", "乡", "村")
_SPACES = re.compile(r"[\s\u3000]+")


# --------------------------------------------------------------------------- names


@lru_cache(maxsize=4096)
def name_key(name: str) -> str:
    """A name as matched: no spaces, lower case, without an ending like 区 or 新区."""
    key = _SPACES.sub("", name).lower()
    for ending in _ENDINGS:
        if key.endswith(ending) and len(key) > len(ending) + 1:
            return key[: -len(ending)]
    return key


@dataclass
class AreaNames:
    """Areas by what files call them: code, exact name (English or Chinese), folded name."""

    exact: dict[str, set[int]] = field(default_factory=dict)
    folded: dict[str, set[int]] = field(default_factory=dict)
    codes: dict[int, str] = field(default_factory=dict)
    # What find() answered, by name: a file names few areas in many rows.
    _found: dict[str, tuple[int | None, list[str]]] = field(default_factory=dict)

    def add(self, area_id: int, code: str, names: Iterable[str | None]) -> None:
        """Know area `area_id` by its code and names."""
        self._found.clear()
        self.codes[area_id] = code
        self.exact.setdefault(code.strip().lower(), set()).add(area_id)
        for name in names:
            if name:
                self.exact.setdefault(_SPACES.sub("", name).lower(), set()).add(area_id)
                self.folded.setdefault(name_key(name), set()).add(area_id)

    def find(self, name: str) -> tuple[int | None, list[str]]:
        """(the area, []) for a name, (None, []) when none matches, (None, codes) when several."""
        found = self._found.get(name)
        if found is None:
            found = self._found[name] = self._find(name)
        return found

    def _find(self, name: str) -> tuple[int | None, list[str]]:
        for table, key in (
            (self.exact, _SPACES.sub("", name).lower()),
            (self.folded, name_key(name)),
        ):
            found = table.get(key)
            if found and len(found) == 1:
                return next(iter(found)), []
            if found:
                return None, sorted(self.codes[i] for i in found)
        return None, []


def area_names(session: Session, *, levels: Sequence[AreaLevel] | None = None) -> AreaNames:
    """Every area (of `levels`, default all but grids) by code and name."""
    wanted = levels or [level for level in AREA_LEVEL_ORDER if level != AreaLevel.grid]
    names = AreaNames()
    rows = session.execute(
        select(_AREAS.c.id, _AREAS.c.code, _AREAS.c.name, _AREAS.c.name_zh).where(
            _AREAS.c.level.in_([str(level) for level in wanted])
        )
    ).all()
    for area_id, code, name, name_zh in rows:
        names.add(int(area_id), code, (name, name_zh))
    return names


def top_area(session: Session) -> int | None:
    """The one area without a parent, if there is exactly one."""
    ids = session.execute(select(_AREAS.c.id).where(_AREAS.c.parent_id.is_(None))).scalars()
    found = [i for i in ids if i is not None]
    return int(found[0]) if len(found) == 1 else None


def unassigned_area(session: Session) -> int:
    """The area that keeps what matched no area (made, under the top area, on first use).

    Call it inside a write: it may insert the area.
    """
    code, name, name_zh = UNASSIGNED
    found = session.execute(select(_AREAS.c.id).where(_AREAS.c.code == code)).scalar()
    if found is not None:
        return int(found)
    parent = top_area(session)
    level = AreaLevel.district
    if parent is not None:
        parent_level = session.execute(
            select(_AREAS.c.level).where(_AREAS.c.id == parent)
        ).scalar_one()
        position = AREA_LEVEL_ORDER.index(AreaLevel(parent_level))
        level = AREA_LEVEL_ORDER[min(position + 1, len(AREA_LEVEL_ORDER) - 1)]
    return int(
        session.execute(
            insert(_AREAS).returning(_AREAS.c.id),
            [{"code": code, "name": name, "name_zh": name_zh, "level": level,
              "parent_id": parent, "households": 0}],
        ).scalar_one()
    )  # fmt: skip


# --------------------------------------------------------------------------- shapes


class AreasFileError(Exception):
    """The file is not GeoJSON at all; `key` and `params` say why (i18n)."""

    def __init__(self, key: str, **params: Any):
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class _Feature:
    number: int
    code: str
    name: str
    shape: dict[str, Any]
    center: tuple[float, float]


def read_features(data: bytes) -> list[dict[str, Any]]:
    """The features of a GeoJSON FeatureCollection (or a single Feature)."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AreasFileError("io.areas.error.not_json") from None
    if isinstance(document, dict) and document.get("type") == "Feature":
        return [document]
    if not isinstance(document, dict) or not isinstance(document.get("features"), list):
        raise AreasFileError("io.areas.error.not_features")
    return [f if isinstance(f, dict) else {} for f in document["features"]]


def _property(properties: dict[str, Any], names: Sequence[str]) -> tuple[str, str]:
    """(the property used, its value as text) for the first of `names` that is filled."""
    for name in names:
        value = properties.get(name)
        if value is not None and str(value).strip():
            return name, str(value).strip()
    return names[0] if names else "", ""


def _feature(
    number: int,
    feature: dict[str, Any],
    *,
    datum: str,
    name_fields: Sequence[str],
    code_fields: Sequence[str],
    problems: list[Problem],
) -> _Feature | None:
    """One feature read and converted to WGS-84, or None after adding its problems."""
    before = len(problems)
    properties = feature.get("properties") or {}
    name_field, name = _property(properties, name_fields)
    code_field, code = _property(properties, code_fields)
    if not name:
        problems.append(Problem(number, name_field, "", "io.problem.required"))
    elif len(name) > NAME_MAX:
        problems.append(Problem(number, name_field, name, "io.problem.too_long", {"max": NAME_MAX}))
    if not code:
        problems.append(Problem(number, code_field, "", "io.problem.required"))
    elif len(code) > CODE_MAX:
        problems.append(Problem(number, code_field, code, "io.problem.too_long", {"max": CODE_MAX}))
    geometry = feature.get("geometry") or {}
    kind = str(geometry.get("type", ""))
    polygon = None
    if kind not in ("Polygon", "MultiPolygon"):
        problems.append(Problem(number, "geometry", kind, "io.areas.problem.not_polygon"))
    else:
        convert = gcj02_to_wgs84 if datum == "gcj02" else (lambda lng, lat: (lng, lat))
        try:
            geometry = map_coordinates(geometry, convert)
            polygon = geometry_shape(geometry)
        except (TypeError, ValueError, IndexError, KeyError, shapely.errors.ShapelyError):
            problems.append(Problem(number, "geometry", kind, "io.areas.problem.bad_coordinates"))
        else:
            if polygon.is_empty:
                problems.append(
                    Problem(number, "geometry", kind, "io.areas.problem.bad_coordinates")
                )
                polygon = None
    if len(problems) > before or polygon is None:
        return None
    point = polygon.representative_point()
    center = (round(point.x, 6), round(point.y, 6))
    return _Feature(number, code, name, geometry, center)


def import_areas(
    *,
    session: Session,
    data: bytes,
    level: str,
    actor: Actor,
    parent_code: str | None = None,
    parent_name: str | None = None,
    datum: str = "wgs84",
    name_field: str | None = None,
    code_field: str | None = None,
    dry_run: bool = False,
    source: str = "",
) -> ImportReport:
    """Check (and unless `dry_run`, write) the areas of a GeoJSON file at `level`.

    Problems are numbered by feature (the first is 1). Raises AreasFileError when the file
    is not GeoJSON, PermissionDenied unless an administrator or leader imports it.
    """
    require_role(actor, *COMMAND_ROLES)
    area_level = AreaLevel(level)
    if datum not in DATUMS:
        raise AreasFileError("io.areas.error.datum", datum=datum)
    raw = read_features(data)
    report = ImportReport(kind=KIND, rows=len(raw), dry_run=dry_run)
    problems: list[Problem] = []
    name_fields = [name_field] if name_field else ["name"]
    code_fields = [code_field] if code_field else list(CODE_FIELDS)
    features: list[_Feature] = []
    first: dict[str, int] = {}
    for number, raw_feature in enumerate(raw, start=1):
        feature = _feature(
            number, raw_feature, datum=datum, name_fields=name_fields,
            code_fields=code_fields, problems=problems,
        )  # fmt: skip
        if feature is None:
            continue
        seen = first.setdefault(feature.code, number)
        if seen != number:
            problems.append(
                Problem(number, code_fields[0], feature.code, "io.areas.problem.duplicate_code",
                        {"first": seen})
            )  # fmt: skip
            continue
        features.append(feature)
    stored = {
        code: (int(i), lvl, name, name_zh, shape, parent)
        for i, code, lvl, name, name_zh, shape, parent in session.execute(
            select(_AREAS.c.id, _AREAS.c.code, _AREAS.c.level, _AREAS.c.name, _AREAS.c.name_zh,
                   _AREAS.c.shape, _AREAS.c.parent_id)
            .where(_AREAS.c.code.in_([f.code for f in features]))
        ).all()
    }  # fmt: skip
    for feature in features:
        old = stored.get(feature.code)
        if old is not None and old[1] != area_level:
            problems.append(Problem(feature.number, "code", feature.code,
                                    "io.areas.problem.other_level", {"level": old[1]}))  # fmt: skip
    parent_id, parent_problem, make_top = _parent(session, area_level, parent_code)
    if parent_problem is not None:
        problems.insert(0, parent_problem)
    report.problems = problems
    plans: list[tuple[_Feature, dict[str, Any]]] = []
    for feature in features:
        values = {
            "name": feature.name,
            "name_zh": feature.name if _CJK.search(feature.name) else None,
            "shape": json.dumps(feature.shape, ensure_ascii=False, separators=(",", ":")),
            "center_lng": feature.center[0],
            "center_lat": feature.center[1],
        }
        old = stored.get(feature.code)
        if old is None:
            report.created += 1
        elif (old[2], old[3], old[4]) != (values["name"], values["name_zh"], values["shape"]) or (
            parent_id is not None and old[5] != parent_id
        ):
            report.updated += 1
        else:
            report.unchanged += 1
            continue
        plans.append((feature, values))
    if dry_run or problems:
        session.rollback()
        return report
    with write(session, actor=actor, entity="area", action="import", roles=COMMAND_ROLES) as op:
        if make_top is not None:
            parent_id = _insert_top(session, make_top, parent_code, parent_name)
        for feature, values in plans:
            old = stored.get(feature.code)
            if old is None:
                session.execute(
                    insert(_AREAS),
                    [{"code": feature.code, "level": area_level, "parent_id": parent_id,
                      "households": 0, **values}],
                )  # fmt: skip
            else:
                changes = dict(values)
                if parent_id is not None:
                    changes["parent_id"] = parent_id
                session.execute(update(_AREAS).where(_AREAS.c.id == old[0]).values(changes))
        op.record(
            None,
            {"file": source, "level": str(area_level), "datum": datum, "rows": report.rows,
             "created": report.created, "updated": report.updated,
             "unchanged": report.unchanged},
        )  # fmt: skip
    session.expire_all()
    report.written = True
    return report


def _parent(
    session: Session, level: AreaLevel, code: str | None
) -> tuple[int | None, Problem | None, AreaLevel | None]:
    """(the parent's id, a problem, the level of a top area to make) for areas at `level`."""
    position = AREA_LEVEL_ORDER.index(level)
    if position == 0:
        if code is not None:
            return None, Problem(1, "--parent", code, "io.areas.problem.city_has_no_parent"), None
        return None, None, None
    above = AREA_LEVEL_ORDER[position - 1]
    if code is not None:
        row = session.execute(
            select(_AREAS.c.id, _AREAS.c.level).where(_AREAS.c.code == code)
        ).first()
        if row is None:
            # A parent named but not there yet: made at the level above, with that code.
            return None, None, above
        if AREA_LEVEL_ORDER.index(AreaLevel(row.level)) >= position:
            return None, Problem(1, "--parent", code, "io.areas.problem.parent_level",
                                 {"level": row.level}), None  # fmt: skip
        return int(row.id), None, None
    candidates = session.execute(
        select(_AREAS.c.id).where(_AREAS.c.level == above, _AREAS.c.code != UNASSIGNED[0])
    ).scalars().all()  # fmt: skip
    if len(candidates) == 1:
        return int(candidates[0]), None, None
    if candidates:
        return None, Problem(1, "--parent", "", "io.areas.problem.parent_needed",
                             {"count": len(candidates)}), None  # fmt: skip
    if session.execute(select(_AREAS.c.id).where(_AREAS.c.level != above).limit(1)).first():
        # Areas of other levels but none above: the deployment starts at this level.
        return top_area_of_level(session, level), None, None
    return None, None, above


def top_area_of_level(session: Session, level: AreaLevel) -> int | None:
    """The parent of the areas already stored at `level`, when they share one."""
    parents = set(
        session.execute(select(_AREAS.c.parent_id).where(_AREAS.c.level == level)).scalars()
    )
    return next(iter(parents)) if len(parents) == 1 else None


def _insert_top(session: Session, level: AreaLevel, code: str | None, name: str | None) -> int:
    """Make the area above a file's areas: the one `--parent` names, or the deployment's top."""
    top_code, top_name, top_name_zh = TOP_AREA
    given = (name or code or "")[:NAME_MAX]
    values = {"name": given, "name_zh": given if _CJK.search(given) else None}
    if not given:
        values = {"name": top_name, "name_zh": top_name_zh}
    return int(
        session.execute(
            insert(_AREAS).returning(_AREAS.c.id),
            [{"code": code or top_code, "level": level, "parent_id": None, "households": 0,
              **values}],
        ).scalar_one()
    )  # fmt: skip
