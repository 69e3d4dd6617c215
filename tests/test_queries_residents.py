"""The resident search (gridcore.queries.residents.search_condition) through its trigram index.

The sampling desk's search must answer exactly as the LIKE search it replaces: every query
below is run through the desk and through the LIKE conditions alone (the reference), and
both are checked against the search's rules written out in Python (the desk's order and
limit are its own SQL's, unchanged, and checked once).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, col, select

from gridcore.access import SYSTEM
from gridcore.io.residents import COLUMNS, import_residents
from gridcore.io.tabular import read_table, write_table
from gridcore.models import RESIDENT_SEARCH, Resident, TestRound
from gridcore.queries import cases as case_queries
from gridcore.queries import residents as rq
from gridcore.queries import testing as q
from gridcore.services.residents import update_resident
from tests.factories import (
    LEADER,
    World,
    make_resident,
    make_round,
    make_street_with_grids,
    make_test_record,
)

pytestmark = pytest.mark.both_backends  # queries: the dialect matters


@dataclass
class SearchWorld:
    """Residents of grid 1 (in the round) and grid 2 (not), one of them sampled."""

    street: World
    round: TestRound
    people: list[Resident]


# (name, phone, ID number) of grid 1's residents; the first 王小明 is sampled.
PEOPLE: list[tuple[str, str | None, str | None]] = [
    ("王小明", "13800001234", "110105198001010016"),
    ("王小明", "13800005678", None),
    ("欧阳王小明", None, None),
    ("王芳", "13912340016", None),
    ("Wang Li", "021-5555 1234", None),
    ("WANG Lei", "13700001111", None),
    ("Anna O'Neil", None, None),
    ('Li "Q" Zhang', None, None),
    ("100% Real_Name", None, None),
    ("Zoë NÉE", None, None),
    ("name: phone", None, None),
    ("NEAR OR AND", None, None),
]


def build_search_world(session: Session) -> SearchWorld:
    street = make_street_with_grids(session, grids=2, buildings_per_grid=1)
    building = street.buildings[0][0]
    people = [
        make_resident(
            session, building=building, unit=f"1-{n:03d}", name=name, phone=phone, id_number=number
        )
        for n, (name, phone, number) in enumerate(PEOPLE)
    ]
    people.append(make_resident(session, building=street.buildings[1][0], name="王小明"))
    test_round = make_round(session, grids=[street.grids[0]])
    make_test_record(session, test_round=test_round, resident=people[0])
    return SearchWorld(street=street, round=test_round, people=people)


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], SearchWorld]:
    return build_search_world


QUERIES = [
    "王小明", "小明", "王", "欧阳王", "王小明王", "Wang", "wang", "WANG L", "ang L", "li",
    "1234", "0000 1234", "138-0000-1234", "13800001234", "0016", "5555 1234", "zoë", "ZOË",
    "NÉE", "née", "O'Neil", "'Ne", "100%", "%", "_", "l_", "Real_", "%_%", " 王小明 ",
    "王 0016", "x0016",
]  # fmt: skip

HOSTILE = [
    '"', '""', '"""', 'a" OR "b', '王" OR "李', "NEAR(王 小)", "AND", "OR", "NOT 王",
    "王 AND 小", "*", "王*", "ab*", "name:", "name : 王", "phone : 1234", "{name}: 王",
    "^王小", "(", ")", "((王))", "-", "+", "\\", "'", "--", "/*", "\x00王小明", "王小明\x00",
    "😀😀😀", "q" * 200, 'Li "Q"', '"Q" Zh', "name: ph", "R OR A",
]  # fmt: skip


def _folds_ascii(session: Session) -> bool:
    """Whether LIKE is blind to the case of ASCII letters on this database (SQLite)."""
    return session.get_bind().dialect.name == "sqlite"


def _expected(world: SearchWorld, session: Session, query: str) -> set[int]:
    """The ids of grid 1's residents that the search's rules select, written out in Python."""
    found = set()
    query = query.strip()
    fold = _folds_ascii(session)
    digits = re.sub(r"[ -]", "", query)
    for person in world.people:
        if person.grid_id != world.street.grids[0].id or not query or "\x00" in query:
            continue
        name, needle = person.name, query
        if fold:
            name, needle = name.translate(_ASCII_LOWER), needle.translate(_ASCII_LOWER)
        by_name = needle in name
        by_phone = (
            digits.isascii()
            and digits.isdigit()
            and len(digits) >= 4
            and (person.phone or "").endswith(digits)
        )
        by_id = len(digits) >= 4 and person.id_suffix == digits[-4:].upper()
        if by_name or by_phone or by_id:
            found.add(int(person.id or 0))
    return found


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _desk(session: Session, world: SearchWorld, query: str) -> list[int]:
    frame = q.find_residents(
        session=session, round_id=int(world.round.id or 0), text=query, actor=LEADER
    )
    return [int(i) for i in frame["resident_id"]]


def _like_search(session: Session, world: SearchWorld, query: str) -> set[int]:
    """Grid 1's residents found by the search's LIKE conditions alone (the search before the
    trigram index)."""
    condition = rq.search_condition(text=query, dialect="like")
    if condition is None:
        return set()
    found = session.exec(
        select(Resident.id).where(col(Resident.grid_id) == world.street.grids[0].id, condition)
    )
    return {int(i or 0) for i in found}


def test_the_desk_answers_as_the_like_search(session: Session, world: SearchWorld) -> None:
    for query in QUERIES:
        found = set(_desk(session, world, query))
        assert found == _like_search(session, world, query), repr(query)
        assert found == _expected(world, session, query), repr(query)


def test_hostile_text_is_searched_as_text(session: Session, world: SearchWorld) -> None:
    """FTS5 syntax and LIKE wildcards in the text neither fail nor widen the search."""
    for query in HOSTILE:
        assert set(_desk(session, world, query)) == _expected(world, session, query), repr(query)


def test_order_limit_and_the_rounds_grids_stay(session: Session, world: SearchWorld) -> None:
    sampled, unsampled, longer = world.people[:3]
    # Not yet sampled first, then by name; 王小明 of grid 2 is outside the round.
    assert _desk(session, world, "王小明") == [longer.id, unsampled.id, sampled.id]
    frame = q.find_residents(
        session=session, round_id=int(world.round.id or 0), text="王小明", actor=LEADER, limit=1
    )
    assert frame["resident_id"].tolist() == [longer.id]
    # The case form's search (every grid for command) reads the same condition.
    found = case_queries.find_residents(session=session, text="王小明", actor=LEADER)
    assert len(found) == 4


def test_the_trigram_index_serves_three_characters_and_more() -> None:
    def compiled(query: str) -> str:
        condition = rq.search_condition(text=query, dialect="sqlite")
        assert condition is not None
        return str(condition.compile(dialect=sqlite.dialect()))

    assert "MATCH" in compiled("王小明") and "MATCH" in compiled("1234")
    assert "MATCH" not in compiled("王芳") and "MATCH" not in compiled("王")
    condition = rq.search_condition(text="王小明", dialect="postgresql")
    assert condition is not None and "MATCH" not in str(condition)
    # PostgreSQL: a text without a trigram keeps off the GIN index, whatever the plan.
    short = rq.search_condition(text="王芳", dialect="postgresql")
    assert short is not None and "resident.name ||" in str(short)
    assert rq.search_condition(text="  ", dialect="sqlite") is None


def _search_is_whole(session: Session) -> None:
    """SQLite: the FTS5 table holds exactly the residents' names and phones."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text(
                f"INSERT INTO {RESIDENT_SEARCH} ({RESIDENT_SEARCH}, rank)"
                " VALUES ('integrity-check', 1)"
            )
        )


# No service deletes a resident: the test deletes the row itself, which the counters do not follow.
@pytest.mark.counters_unchecked
def test_the_index_follows_create_edit_and_delete(session: Session, world: SearchWorld) -> None:
    building = world.street.buildings[0][0]
    added = make_resident(session, building=building, unit="9-901", name="司马相如")
    assert _desk(session, world, "马相如") == [added.id]
    update_resident(
        session=session,
        resident_id=int(added.id or 0),
        changes={"name": "诸葛孔明", "phone": "13698765432"},
        actor=SYSTEM,
    )
    assert _desk(session, world, "马相如") == []
    assert _desk(session, world, "葛孔明") == _desk(session, world, "8765432") == [added.id]
    _search_is_whole(session)
    # No service deletes a resident; whatever does, deletes the row.
    session.delete(added)
    session.commit()
    assert _desk(session, world, "葛孔明") == []
    _search_is_whole(session)


def test_the_index_follows_an_import(session: Session, world: SearchWorld) -> None:
    grid, building = world.street.grids[0], world.street.buildings[0][0]
    row: dict[str, Any] = {
        "grid_code": grid.code,
        "building_code": building.code,
        "unit": "7-701",
        "name": "上官婉儿",
        "phone": "13511112222",
    }
    data = write_table(columns=list(COLUMNS), rows=[[row.get(c, "") for c in COLUMNS]], fmt="csv")
    report = import_residents(session=session, table=read_table(data=data, fmt="csv"), actor=SYSTEM)
    assert report.ok, report
    added = session.exec(select(Resident).where(col(Resident.name) == "上官婉儿")).one()
    assert _desk(session, world, "官婉儿") == _desk(session, world, "11112222") == [added.id]
    _search_is_whole(session)
