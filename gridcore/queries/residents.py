"""Residents, households and buildings counted per area; the search for a resident."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    column,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from gridcore.models import (
    RESIDENT_SEARCH,
    Building,
    Resident,
    ResidentVulnerability,
    Vulnerability,
    ordered_tags,
)
from gridcore.queries.counters import grid_counts

_ID_SUFFIX = re.compile(r"^[0-9]{3}[0-9Xx]$")
# The FTS5 trigram table of migration 0017 (SQLite): its rowid is the resident's id.
_SEARCH_TABLE = table(RESIDENT_SEARCH, column("rowid"))
# A trigram index finds only texts of at least this many characters.
TRIGRAM = 3


def search_condition(*, text: str, dialect: str) -> ColumnElement[bool] | None:
    """Residents matching a search: the name contains the text; or the phone ends with it
    (4+ digits, spaces and dashes left out); or the ID suffix is its last 4 characters.

    None for a blank text. A text with a NUL finds nobody: no name or phone can hold one
    (PostgreSQL refuses it, and SQLite's LIKE would end the pattern there).

    On SQLite a text of 3+ characters first narrows the residents through the FTS5 trigram
    table (the text quoted, never read as query syntax) and the same LIKE conditions then
    decide, so the answer is the LIKE search's own; a shorter one (a two-character Chinese
    name) reads the residents as before. On PostgreSQL the LIKE conditions of 3+ characters
    use the pg_trgm indexes by themselves where the extension could be created.
    """
    text = text.strip()
    if not text:
        return None
    if "\x00" in text:
        return false()
    # PostgreSQL, no trigram in the text: the GIN index would be read whole (as a plan that
    # the driver prepared for longer texts would), so `name || ''` keeps the LIKE off it.
    name = (
        col(Resident.name).concat(literal(""))
        if dialect == "postgresql" and len(text) < TRIGRAM
        else col(Resident.name)
    )
    conditions: list[ColumnElement[bool]] = [name.contains(text, autoescape=True)]
    digits = re.sub(r"[ -]", "", text)
    phone = digits if digits.isascii() and digits.isdigit() and len(digits) >= 4 else None
    if phone is not None:
        conditions.append(col(Resident.phone).endswith(phone, autoescape=True))
    suffix = digits[-4:].upper() if len(digits) >= 4 and _ID_SUFFIX.match(digits[-4:]) else None
    if suffix is not None:
        conditions.append(col(Resident.id_suffix) == suffix)
    if dialect != "sqlite" or len(text) < TRIGRAM:
        return or_(*conditions)
    phrases = [f"name : {_fts_string(text)}"]
    if phone is not None:
        phrases.append(f"phone : {_fts_string(phone)}")
    matched = select(_SEARCH_TABLE.c.rowid).where(
        literal_column(RESIDENT_SEARCH).match(" OR ".join(phrases))
    )
    # The ID suffix has an index of its own; the candidates are both lists together.
    candidates = (
        matched
        if suffix is None
        else matched.union_all(select(col(Resident.id)).where(col(Resident.id_suffix) == suffix))
    )
    return and_(col(Resident.id).in_(candidates), or_(*conditions))


def _fts_string(text: str) -> str:
    """`text` as one FTS5 string: every character literal (a trigram phrase matches where
    the text occurs), none read as query syntax."""
    return '"' + text.replace('"', '""') + '"'


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
