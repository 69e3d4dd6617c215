"""Residents and households: registration, changes, masked ID numbers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, SQLModel, col, select

from gridcore.access import Actor, require_grid
from gridcore.config import local_today
from gridcore.models import (
    Area,
    Building,
    Household,
    Resident,
    ResidentBase,
    ResidentCreate,
    ResidentFields,
    ResidentVulnerability,
    Sex,
    Vulnerability,
    ordered_tags,
)
from gridcore.services import counters
from gridcore.services.base import ValidationFailed, plain, validated, write
from gridcore.services.checks import (
    area_path,
    changed,
    get_row,
    phone_ok,
    row_id,
)

_ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


# --------------------------------------------------------------------------- ID numbers


def id_number_valid(id_number: str) -> bool:
    """Whether `id_number` is a resident identity number: 17 digits and a check character."""
    if not _ID_NUMBER.match(id_number):
        return False
    if not 1900 <= int(id_number[6:10]) <= local_today().year:  # born in the future: a typo
        return False
    total = sum(int(d) * w for d, w in zip(id_number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == id_number[17]


def mask_id_number(id_number: str) -> str:
    """The stored form: the first 3 and the last 4 characters, the rest hidden."""
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


def _apply_id_number(raw: dict[str, Any]) -> dict[str, str]:
    """Replace a full `id_number` in `raw` by its masked form (and fill birth year and sex)."""
    id_number = raw.pop("id_number", None)
    if id_number in (None, ""):
        return {}
    id_number = str(id_number).strip().upper()
    if not id_number_valid(id_number):
        return {"id_number": "services.error.id_number_invalid"}
    raw["id_number_masked"] = mask_id_number(id_number)
    raw["id_suffix"] = id_number[-4:]
    if raw.get("birth_year") in (None, ""):
        raw["birth_year"] = int(id_number[6:10])
    if raw.get("sex") in (None, ""):
        raw["sex"] = Sex.male if int(id_number[16]) % 2 else Sex.female
    return {}


# --------------------------------------------------------------------------- households


def _find_or_add_household(
    session: Session, *, building: Building, unit: str
) -> tuple[Household, bool]:
    """The household `unit` of `building`, added (and counted) if it is new."""
    household = session.exec(
        select(Household).where(Household.building_id == building.id, Household.unit == unit)
    ).first()
    if household is not None:
        return household, False
    household = Household(building_id=row_id(building), grid_id=building.grid_id, unit=unit)
    session.add(household)
    # Area.households counts the households below every area, grid up to the top.
    session.execute(
        update(Area)
        .where(col(Area.id).in_(area_path(session, building.grid_id)))
        .values(households=Area.households + 1)
    )
    session.flush()
    counters.add_households(session, {building.grid_id: 1})
    return household, True


def _unit(value: Any) -> str | None:
    unit = str(value).strip() if value is not None else ""
    return unit if 0 < len(unit) <= 40 else None


def create_household(*, session: Session, building_id: int, unit: str, actor: Actor) -> Household:
    """The household `unit` in a building; added only if new, so a second call writes nothing."""
    with write(session, actor=actor, entity="household", action="create") as op:
        building = get_row(session, Building, building_id)
        errors: dict[str, str] = {}
        if building is None:
            errors["building_id"] = "services.error.building_not_found"
        clean_unit = _unit(unit)
        if clean_unit is None:
            errors["unit"] = "services.error.unit_required"
        if errors or building is None or clean_unit is None:
            raise ValidationFailed(errors)
        require_grid(actor, building.grid_id)
        household, added = _find_or_add_household(session, building=building, unit=clean_unit)
        if added:
            op.record(household, {"building_id": building.id, "unit": clean_unit})
    return household


# --------------------------------------------------------------------------- residents


def _household_place(raw: dict[str, Any]) -> tuple[Any, Any] | None:
    """(building_id, unit) when the input names the household by building and flat."""
    building_id, unit = raw.pop("building_id", None), raw.pop("unit", None)
    if raw.get("household_id") not in (None, ""):
        return None
    if building_id in (None, "") and unit in (None, ""):
        return None
    return building_id, unit


def register_resident(
    *,
    session: Session,
    data: ResidentCreate | Mapping[str, Any],
    actor: Actor,
    client_token: str | None = None,
) -> Resident:
    """Register a resident in a household.

    The household is `household_id`, or — in a mapping — `building_id` and `unit`, when it
    is found or added in the same transaction. A full `id_number` in a mapping is checked
    and stored masked only (birth year and sex are read from it when not given).
    """
    with write(
        session, actor=actor, entity="resident", action="create", client_token=client_token
    ) as op:
        if (earlier := op.replayed(Resident)) is not None:
            return earlier
        raw = data.model_dump() if isinstance(data, SQLModel) else dict(data)
        errors = _apply_id_number(raw)
        place = _household_place(raw)
        if place is not None:
            raw["household_id"] = 0  # stands in for the household found or added below
        resident_in = _validated_resident(raw, errors)
        if place is None:
            household = get_row(session, Household, resident_in.household_id)
            if household is None:
                raise ValidationFailed({"household_id": "services.error.household_not_found"})
            require_grid(actor, household.grid_id)
            added = False
        else:
            building, unit = _place_rows(session, place)
            require_grid(actor, building.grid_id)
            household, added = _find_or_add_household(session, building=building, unit=unit)
        resident = Resident(
            **resident_in.model_dump(exclude={"household_id", "vulnerability"}),
            household_id=row_id(household),
            grid_id=household.grid_id,
            building_id=household.building_id,
        )
        session.add(resident)
        session.flush()
        set_vulnerabilities(session, resident_id=row_id(resident), tags=resident_in.vulnerability)
        counters.count_in(session, residents=[row_id(resident)])  # tags included
        changes: dict[str, Any] = {
            "household_id": household.id,
            "grid_id": household.grid_id,
            "name": resident.name,
        }
        if resident_in.vulnerability:
            changes["vulnerability"] = plain(resident_in.vulnerability)
        if added:
            changes["household_added"] = household.unit
        op.record(resident, changes)
    return resident


def _validated_resident(raw: dict[str, Any], errors: dict[str, str]) -> ResidentCreate:
    """`raw` as a ResidentCreate; every field error (with `errors` found earlier) at once."""
    try:
        resident_in = validated(ResidentCreate, raw)
    except ValidationFailed as exc:
        raise ValidationFailed({**exc.errors, **errors}) from None
    if not phone_ok(resident_in.phone):
        errors["phone"] = "services.error.phone_invalid"
    if resident_in.birth_year is not None and resident_in.birth_year > local_today().year:
        errors["birth_year"] = "services.error.year_in_future"
    if errors:
        raise ValidationFailed(errors)
    return resident_in


def _place_rows(session: Session, place: tuple[Any, Any]) -> tuple[Building, str]:
    """The building and the cleaned unit of a household named by (building_id, unit)."""
    try:
        building = get_row(session, Building, int(place[0]))
    except (TypeError, ValueError):
        building = None
    unit = _unit(place[1])
    errors: dict[str, str] = {}
    if building is None:
        errors["building_id"] = "services.error.building_not_found"
    if unit is None:
        errors["unit"] = "services.error.unit_required"
    if building is None or unit is None:
        raise ValidationFailed(errors)
    return building, unit


def update_resident(
    *, session: Session, resident_id: int, changes: Mapping[str, Any], actor: Actor
) -> Resident:
    """Change a resident's fields; moving household moves grid and building with it.

    A grid worker needs both the old and the new grid. A full `id_number` is stored masked.
    Changes equal to the stored values write nothing.
    """
    with write(session, actor=actor, entity="resident") as op:
        resident = get_row(session, Resident, resident_id)
        if resident is None:
            raise ValidationFailed({"resident_id": "services.error.resident_not_found"})
        require_grid(actor, resident.grid_id)
        current = {name: getattr(resident, name) for name in ResidentFields.model_fields}
        current["vulnerability"] = vulnerabilities(session, resident_id=resident_id)
        raw = {**current, **changes}
        errors = _apply_id_number(raw)
        for field in sorted(set(raw) - set(ResidentBase.model_fields)):
            errors[field] = "services.error.invalid_value"
        new = _validated_resident(raw, errors)
        household = get_row(session, Household, new.household_id)
        if household is None:
            raise ValidationFailed({"household_id": "services.error.household_not_found"})
        require_grid(actor, household.grid_id)
        diff = {
            name: changed(current[name], value)
            for name, value in new.model_dump().items()
            if value != current[name]
        }
        if not diff:
            return resident
        with counters.following(session, residents=[resident_id]):
            for name in diff:
                if name == "vulnerability":
                    set_vulnerabilities(session, resident_id=resident_id, tags=new.vulnerability)
                else:
                    setattr(resident, name, getattr(new, name))
            resident.grid_id = household.grid_id
            resident.building_id = household.building_id
            session.add(resident)
        op.record(resident, diff)
    return resident


def vulnerabilities(session: Session, *, resident_id: int) -> list[Vulnerability]:
    """A resident's vulnerability tags, in the order of the Vulnerability list."""
    stored = session.exec(
        select(ResidentVulnerability.tag).where(ResidentVulnerability.resident_id == resident_id)
    ).all()
    return [Vulnerability(tag) for tag in ordered_tags(stored)]


def set_vulnerabilities(
    session: Session, *, resident_id: int, tags: Sequence[Vulnerability]
) -> None:
    """Make a resident's tags exactly `tags` (inside the caller's write)."""
    session.execute(
        delete(ResidentVulnerability).where(col(ResidentVulnerability.resident_id) == resident_id)
    )
    session.add_all(ResidentVulnerability(resident_id=resident_id, tag=tag) for tag in tags)
