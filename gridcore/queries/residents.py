"""Residents, households and buildings counted per area."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from gridcore.models import (
    Building,
    Resident,
    ResidentVulnerability,
    Vulnerability,
    ordered_tags,
)
from gridcore.queries.counters import grid_counts


def grid_people(*, session: Session, grid_id: int) -> dict[str, Any]:
    """Counts of a grid's people: residents, households, buildings and vulnerable residents.

    Keys: residents, households, buildings, vulnerable (residents with any tag),
    vulnerable_by_tag (tag → residents), away (residents not at home, exempt from testing).
    """
    counted = grid_counts(session=session, grid_id=grid_id).get(grid_id, {})
    residents, at_home = counted.get("residents", 0), counted.get("at_home", 0)
    tagged = _grid_tags(grid_id).subquery()
    per_tag = dict(session.execute(select(tagged.c.tag, func.count()).group_by(tagged.c.tag)).all())
    vulnerable = session.execute(
        select(func.count(func.distinct(tagged.c.resident_id)))
    ).scalar_one()
    buildings = session.execute(
        select(func.count(col(Building.id))).where(col(Building.grid_id) == grid_id)
    ).scalar_one()
    return {
        "residents": residents,
        "households": counted.get("households", 0),
        "buildings": int(buildings),
        "vulnerable": int(vulnerable),
        "away": residents - at_home,
        "vulnerable_by_tag": {tag.value: int(per_tag.get(tag.value, 0)) for tag in Vulnerability},
    }


def _grid_tags(grid_id: int) -> Select[*tuple[Any, ...]]:
    """(resident id, tag) of every tagged resident of the grid."""
    return (
        select(col(ResidentVulnerability.resident_id), col(ResidentVulnerability.tag))
        .join(Resident, col(Resident.id) == col(ResidentVulnerability.resident_id))
        .where(col(Resident.grid_id) == grid_id)
    )


def tags_by_resident(rows: Iterable[Any]) -> dict[int, list[str]]:
    """(resident id, tag) rows as each resident's tags, in the Vulnerability list's order."""
    found: dict[int, list[str]] = {}
    for resident_id, tag in rows:
        found.setdefault(int(resident_id), []).append(str(tag))
    return {resident_id: ordered_tags(tags) for resident_id, tags in found.items()}


def vulnerabilities_in_grid(*, session: Session, grid_id: int) -> dict[int, list[str]]:
    """Each tagged resident of the grid with their vulnerability tags (in the list's order)."""
    return tags_by_resident(session.execute(_grid_tags(grid_id)).all())
