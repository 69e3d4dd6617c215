"""Faults a careless day brings: a database locked by another writer.

A one-tap write (the sampling desk, the roll call) goes through `services.base.retrying`:
while another connection holds SQLite's write lock it tries again, a bounded number of
times, and then raises WriteBusy ("not saved, try again") with nothing written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select
from tiny_world import TINY_ANCHOR, TinyWorld

from gridcore.access import SYSTEM
from gridcore.db import make_engine
from gridcore.demo import tiny as tiny_demo
from gridcore.i18n import t
from gridcore.models import (
    Area,
    AuditEntry,
    HealthStatus,
    Resident,
    TestRecord,
    TestRound,
    TestRoundArea,
)
from gridcore.services import testing as ts
from gridcore.services.base import WriteBusy, is_busy, retrying


@pytest.fixture
def locked(tiny_url: str) -> Iterator[tuple[Engine, sqlite3.Connection]]:
    """An engine that waits 50 ms for a lock, and a second connection holding the write lock."""
    engine = make_engine(tiny_url, busy_timeout=0.05)
    holder = sqlite3.connect(make_url(tiny_url).database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long import would hold it
    yield engine, holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()
    engine.dispose()


def _unsampled(session: Session, round_id: int) -> int:
    """A resident at home in a grid of the round, not yet sampled in it."""
    sampled = select(TestRecord.resident_id).where(TestRecord.round_id == round_id)
    grids = select(TestRoundArea.grid_id).where(TestRoundArea.round_id == round_id)
    found = session.exec(
        select(Resident.id)
        .where(col(Resident.grid_id).in_(grids), col(Resident.id).not_in(sampled))
        .where(Resident.health_status == HealthStatus.at_home)
        .order_by(col(Resident.id))
    ).first()
    assert found is not None
    return found


def _counts(session: Session) -> tuple[int, int]:
    return (
        session.exec(select(func.count()).select_from(TestRecord)).one(),
        session.exec(select(func.count()).select_from(AuditEntry)).one(),
    )


def _tap(session: Session, tiny: TinyWorld, resident_id: int) -> TestRecord:
    round_id = tiny.round_ids["Round 2"]
    return ts.record_sample(
        session=session,
        resident_id=resident_id,
        round_id=round_id,
        actor=SYSTEM,
        door_to_door=True,
        client_token=f"desk-{round_id}-{resident_id}",
        now=tiny.now,
    )


def test_a_tap_on_a_locked_database_retries_then_says_not_saved(
    locked: tuple[Engine, sqlite3.Connection],
) -> None:
    engine, _ = locked
    tiny = _tiny(engine)
    retries: list[int] = []
    with Session(engine) as session:
        resident_id = _unsampled(session, tiny.round_ids["Round 2"])
        before = _counts(session)
        with pytest.raises(WriteBusy) as busy:
            retrying(
                lambda: _tap(session, tiny, resident_id),
                session=session,
                pause=0.01,
                on_retry=retries.append,
            )
        assert retries == [1, 2] and busy.value.attempts == 3
        assert is_busy(busy.value.__cause__)  # type: ignore[arg-type]
        assert t(busy.value.key, "en") == "Not saved: the database is busy. Please try again."
        assert t(busy.value.key, "zh") == "未保存：数据库正忙，请再试一次。"
    with Session(engine) as session:
        assert _counts(session) == before  # nothing written, nothing half-written


def test_a_lock_released_between_attempts_saves_the_sample_once(
    locked: tuple[Engine, sqlite3.Connection],
) -> None:
    engine, holder = locked
    tiny = _tiny(engine)

    def release(attempt: int) -> None:
        holder.execute("ROLLBACK")  # the other writer finishes after the first attempt

    with Session(engine) as session:
        resident_id = _unsampled(session, tiny.round_ids["Round 2"])
        records, audits = _counts(session)
        record = retrying(
            lambda: _tap(session, tiny, resident_id), session=session, pause=0.01, on_retry=release
        )
        assert record.resident_id == resident_id
        # Tapped again (a double tap after the retry): the client token writes it once.
        again = retrying(lambda: _tap(session, tiny, resident_id), session=session)
        assert again.id == record.id
        assert _counts(session) == (records + 1, audits + 1)


def _tiny(engine: Engine) -> TinyWorld:
    """The tiny world's ids and "now", read from the database (the engine is not the fixture's)."""
    with Session(engine) as s:
        grids = s.exec(select(Area.code, Area.id).where(Area.level == "grid")).all()
        rounds = s.exec(select(TestRound.name, TestRound.id)).all()
    return TinyWorld(
        backend="sqlite",
        anchor=TINY_ANCHOR,
        now=tiny_demo.now(anchor=TINY_ANCHOR),
        grid_ids={c: int(i) for c, i in grids if i is not None},
        round_ids={n: int(i) for n, i in rounds if i is not None},
    )
