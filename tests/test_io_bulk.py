"""Many rows inserted at once: ids back, values as given (an array per column on PostgreSQL)."""

from __future__ import annotations

from enum import StrEnum

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from gridcore.io.bulk import insert_returning_ids, insert_rows
from gridcore.models import Area, StockMovement

pytestmark = pytest.mark.both_backends  # the PostgreSQL path is its own statement

_AREAS = Area.__table__  # type: ignore[attr-defined]


class _Level(StrEnum):
    GRID = "grid"  # a member whose name is not its value: the value is what is stored


def test_new_rows_come_back_with_their_ids_and_values(session: Session) -> None:
    rows = [
        {"code": f"BULK-{n}", "name": f"Bulk {n}", "name_zh": None if n % 2 else f"批量{n}",
         "level": _Level.GRID}
        for n in range(25)
    ]  # fmt: skip
    ids = insert_returning_ids(session, _AREAS, rows)
    stored = session.exec(
        select(Area.id, Area.code, Area.name_zh, Area.level).where(col(Area.code).like("BULK-%"))
    ).all()
    assert sorted(ids) == sorted(int(i or 0) for i, _, _, _ in stored)
    assert len(set(ids)) == 25
    assert {(c, z, str(level)) for _, c, z, level in stored} == {
        (r["code"], r["name_zh"], "grid") for r in rows
    }
    # A column left out takes its default, as SQLAlchemy's own INSERT gives it.
    assert set(session.exec(select(Area.households).where(col(Area.id).in_(ids))).all()) == {0}
    assert insert_returning_ids(session, _AREAS, []) == []


def test_rows_without_ids_are_written_as_given(session: Session) -> None:
    before = len(session.exec(select(StockMovement.id)).all())
    insert_rows(session, StockMovement.__table__, [])  # type: ignore[attr-defined]
    assert len(session.exec(select(StockMovement.id)).all()) == before


def test_text_comes_back_exactly_as_given_and_none_stays_empty(session: Session) -> None:
    # What a line-based transfer (COPY on PostgreSQL) must escape: tabs, line breaks,
    # backslashes, its own empty-value marker, and an empty text that is not NULL.
    awkward = ["a\tb", "line\nbreak\r\n", "back\\slash", "\\N", "", "引号\"'", None]
    rows = [
        {"code": f"TXT-{n}", "name": f"T{n}", "name_zh": text, "level": "grid"}
        for n, text in enumerate(awkward)
    ]
    ids = insert_returning_ids(session, _AREAS, rows)
    stored = dict(session.exec(select(Area.id, Area.name_zh).where(col(Area.id).in_(ids))).all())
    assert [stored[i] for i in ids] == awkward  # the ids in the rows' order


def test_a_duplicate_raises_the_databases_integrity_error_and_writes_nothing(
    session: Session,
) -> None:
    insert_rows(session, _AREAS, [{"code": "DUP", "name": "Once", "level": "grid"}])
    session.commit()
    with pytest.raises(IntegrityError):
        insert_returning_ids(
            session, _AREAS,
            [{"code": "NEW", "name": "New", "level": "grid"},
             {"code": "DUP", "name": "Twice", "level": "grid"}],
        )  # fmt: skip
    session.rollback()
    codes = session.exec(select(Area.code).where(col(Area.code).in_(["DUP", "NEW"]))).all()
    assert codes == ["DUP"]
