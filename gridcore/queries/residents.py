"""Residents, households and buildings counted per area."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, func, literal, select
from sqlmodel import Session, col

from gridcore.models import (
    Building,
    HealthStatus,
    Household,
    Resident,
    Vulnerability,
)
from gridcore.queries._sql import count_if


def grid_people(*, session: Session, grid_id: int) -> dict[str, Any]:
    """Counts of a grid's people: residents, households, buildings and vulnerable residents.

    Keys: residents, households, buildings, vulnerable (residents with any tag),
    vulnerable_by_tag (tag → residents), away (residents not at home, exempt from testing).
    """
    padded = literal(",", String) + col(Resident.vulnerability) + literal(",", String)
    per_tag = [count_if(padded.like(f"%,{tag.value},%")) for tag in Vulnerability]
    row = session.execute(
        select(
            func.count(col(Resident.id)),
            count_if(col(Resident.vulnerability) != ""),
            count_if(col(Resident.health_status) != HealthStatus.at_home),
            *per_tag,
        ).where(col(Resident.grid_id) == grid_id)
    ).one()
    households = session.execute(
        select(func.count(col(Household.id))).where(col(Household.grid_id) == grid_id)
    ).scalar_one()
    buildings = session.execute(
        select(func.count(col(Building.id))).where(col(Building.grid_id) == grid_id)
    ).scalar_one()
    return {
        "residents": int(row[0]),
        "households": int(households),
        "buildings": int(buildings),
        "vulnerable": int(row[1]),
        "away": int(row[2]),
        "vulnerable_by_tag": {
            tag.value: int(n) for tag, n in zip(Vulnerability, row[3:], strict=True)
        },
    }
