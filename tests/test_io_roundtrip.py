"""Export, then import the same file: nothing changes; a deleted round comes back whole."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from conftest import TINY_ANCHOR
from sqlalchemy import delete, func, select
from sqlmodel import Session, SQLModel

from gridcore.access import SYSTEM
from gridcore.demo import tiny as tiny_demo
from gridcore.io.cells import to_second
from gridcore.io.exchange import KINDS, columns_of, export_file, import_table
from gridcore.io.tabular import read_table
from gridcore.models import AuditEntry, DataVersion, Resident, TestRecord
from gridcore.queries.testing import resolve_round
from gridcore.services.residents import register_resident

pytestmark = pytest.mark.both_backends  # bulk import and export: the dialect matters

ATTACK = "=cmd|' /C calc'!A0"


def _checksums(session: Session) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every row, for every table but the write's own bookkeeping:
    the audit log, and the data version every committed write raises."""
    sums: dict[str, tuple[int, str]] = {}
    for table in SQLModel.metadata.sorted_tables:
        if table.name in (AuditEntry.__tablename__, DataVersion.__tablename__):
            continue
        rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
        sums[table.name] = (len(rows), digest)
    return sums


def _audit_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def _tiny_with_a_formula(session: Session) -> None:
    """The tiny world plus a resident whose name is a formula."""
    tiny_demo.build(engine=session.get_bind(), anchor=TINY_ANCHOR)  # type: ignore[arg-type]
    household = session.execute(select(Resident.household_id)).scalars().first()
    register_resident(
        session=session,
        data={"household_id": household, "name": ATTACK, "phone": "+86 139 0000 1234"},
        actor=SYSTEM,
    )


@pytest.fixture(scope="module")
def world_builder() -> Callable[[Session], None]:
    return _tiny_with_a_formula


@pytest.fixture
def tiny_session(session: Session, world: None) -> Session:
    """A copy of that world for each test (these tests write)."""
    return session


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", KINDS)
def test_reimporting_an_export_changes_nothing(tiny_session: Session, kind: str, fmt: str) -> None:
    session = tiny_session
    before, audits = _checksums(session), _audit_count(session)
    data = export_file(session=session, kind=kind, fmt=fmt, actor=SYSTEM)
    table = read_table(data=data, fmt=fmt)
    # 71 residents + the attacker; 64 + 39 samples; cases C01-C12 and contacts K01-K14 (no
    # reported counts or case addresses: tests/test_io_cases.py has those); the ledger's 21
    # movements; R01-R11; 9 tasks; 9 workers (gridcore/demo/tiny.py)
    expected_rows = {
        "residents": 72, "test-results": 103, "cases": 12, "contacts": 14, "case-counts": 0,
        "case-addresses": 0, "stock-movements": 21, "requests": 11, "tasks": 9, "workers": 9,
    }[kind]  # fmt: skip
    assert len(table.rows) == expected_rows
    report = import_table(session=session, kind=kind, table=table, actor=SYSTEM, source=fmt)
    assert report.ok, report.frame()
    assert (report.created, report.updated, report.unchanged) == (0, 0, expected_rows)
    assert _checksums(session) == before
    assert _audit_count(session) == audits + 1  # the import itself is recorded


@pytest.mark.parametrize("kind", KINDS)
def test_an_export_with_chinese_headers_imports_unchanged(tiny_session: Session, kind: str) -> None:
    """Each column under its Chinese name (from the kind's column rules), read back as is."""
    session = tiny_session
    before = _checksums(session)
    data = export_file(session=session, kind=kind, fmt="csv", actor=SYSTEM, headers="zh")
    table = read_table(data=data, fmt="csv")
    assert table.columns == [c.zh for c in columns_of(kind)]
    report = import_table(session=session, kind=kind, table=table, actor=SYSTEM, source="csv")
    assert report.ok, report.frame()
    assert (report.created, report.updated, report.ignored_columns) == (0, 0, [])
    assert report.unchanged == len(table.rows)
    assert _checksums(session) == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_name_that_is_a_formula_is_defused_and_comes_back(
    tiny_session: Session, fmt: str
) -> None:
    session = tiny_session
    data = export_file(session=session, kind="residents", fmt=fmt, actor=SYSTEM)
    if fmt == "csv":
        text = data.decode("utf-8-sig")
        assert f"'{ATTACK}" in text and f",{ATTACK}" not in text
        assert ",'+86 139 0000 1234," in text
    table = read_table(data=data, fmt=fmt)
    names = [cells[4] for _, cells in table.rows]
    assert ATTACK in names
    report = import_table(session=session, kind="residents", table=table, actor=SYSTEM)
    assert report.unchanged == 72 and report.updated == 0
    stored = session.exec(select(Resident.name).where(Resident.phone == "+86 139 0000 1234")).all()
    assert [n for (n,) in stored] == [ATTACK]


def _round_records(session: Session, round_id: int) -> list[tuple[Any, ...]]:
    rows = session.execute(
        select(
            TestRecord.round_id, TestRecord.resident_id, TestRecord.grid_id, TestRecord.site_id,
            TestRecord.method, TestRecord.sampled_at, TestRecord.tube_code, TestRecord.result,
            TestRecord.result_at,
        ).where(TestRecord.round_id == round_id).order_by(TestRecord.resident_id)
    ).all()  # fmt: skip
    return [
        (*r[:5], to_second(r[5]), r[6], r[7], to_second(r[8]) if r[8] is not None else None)
        for r in rows
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.counters_unchecked  # the round's records are deleted behind the services
def test_a_deleted_round_comes_back_from_its_export(tiny_session: Session, fmt: str) -> None:
    session = tiny_session
    round_id = resolve_round(session=session, ref="Round 2")
    before = _round_records(session, round_id)
    assert len(before) == 39
    data = export_file(session=session, kind="test-results", fmt=fmt, actor=SYSTEM,
                       round_id=round_id)  # fmt: skip
    session.execute(delete(TestRecord).where(TestRecord.round_id == round_id))
    session.commit()
    table = read_table(data=data, fmt=fmt)
    report = import_table(session=session, kind="test-results", table=table, actor=SYSTEM,
                          round_id=round_id)  # fmt: skip
    assert report.ok, report.frame()
    assert report.created == 39
    assert _round_records(session, round_id) == before
