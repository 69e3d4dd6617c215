"""Faults a careless day brings: a database locked by another writer.

A one-tap write (the sampling desk, the roll call) goes through `services.base.retrying`:
while another connection holds SQLite's write lock it tries again, a bounded number of
times, and then raises WriteBusy ("not saved, try again") with nothing written.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apptest_support import (
    APP_SECRET,
    app,
    app_on,
    data_elements,
    no_exception,
    route_through_navigation,
    sign_in,
)
from sqlalchemy import event, func
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest
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
from gridcore.ui import data


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


# --------------------------------------------------------------------------- the app's own words
# A setting that cannot be used, a database server that does not answer, a database that
# cannot be written: the page says so in the reader's language (never Streamlit's "This app
# has encountered an error" or a traceback), and works again once the cause is gone.
#
# Tests run as root here, where chmod does not stop a write: a read-only database is an
# SQLite URI with ?mode=ro, or connections made read-only (PRAGMA query_only) and then made
# writable again, as a file that was fixed would be.


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def routed() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        route_through_navigation(patch)
        yield


def _said(at: AppTest, key: str, lang: str) -> None:
    no_exception(at, key)
    assert [e.value for e in at.error] == [t(key, lang)]
    assert data_elements(at) == []


@pytest.mark.parametrize(
    "url, detail",
    [
        ("postgresql+psycopg://gridcore@db.example:54x32/gridcore", "54x32"),
        ("postgresql+psycopg://gridcore@127.0.0.1:99999/gridcore", "port 99999"),
        ("postgresql+mysqldb://gridcore@127.0.0.1/gridcore", "mysqldb"),
        ("mysql://root@localhost/grid", "'mysql'"),
    ],
)
def test_a_malformed_database_url_is_said_in_the_readers_language(
    routed: None, url: str, detail: str
) -> None:
    with app_on(url, GRIDCORE_SECRET_KEY=APP_SECRET):
        at = app("zh")
        at.run()
        _said(at, "frame.config_error", "zh")
        [said] = [e.value for e in at.text]
        assert "DATABASE_URL" in said and detail in said
        assert any("\u4e00" <= c <= "\u9fff" for c in said)
        assert [c.value for c in at.caption] == [t("frame.config_fix", "zh")]


def test_postgresql_unreachable_at_sign_in_is_said_not_raised(routed: None) -> None:
    url = f"postgresql+psycopg://gridcore@127.0.0.1:{_closed_port()}/gridcore"
    with app_on(url, GRIDCORE_SECRET_KEY=APP_SECRET):
        at = sign_in(app("zh"), "leader")
        _said(at, "frame.db_unreachable", "zh")
        assert at.button(key="_db_retry_False").label == t("frame.db_retry", "zh")


def test_a_database_file_that_cannot_be_opened_is_said_and_works_once_it_can(
    routed: None, tiny_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "moved" / "gridcore.db"
    path.mkdir(parents=True)  # a folder where the file should be: SQLite cannot open it
    with app_on(f"sqlite:///{path}", GRIDCORE_SECRET_KEY=APP_SECRET):
        at = sign_in(app("en"), "leader")
        _said(at, "frame.db_unreachable", "en")
        path.rmdir()
        shutil.copyfile(make_url(tiny_url).database or "", path)  # the file is back
        at.button(key="_db_retry_False").click().run()
        signed = sign_in(at, "leader")
        no_exception(signed, "after the file came back")
        assert signed.session_state["actor"].username == "leader"


def test_a_read_only_database_file_is_said_and_nothing_written(routed: None, tiny_url: str) -> None:
    path = make_url(tiny_url).database or ""
    before = _file_rows(path)
    with app_on(f"sqlite:///file:{path}?mode=ro&uri=true", GRIDCORE_SECRET_KEY=APP_SECRET):
        at = sign_in(app("zh"), "leader")
        _said(at, "frame.db_read_only", "zh")
    assert _file_rows(path) == before


def test_connections_made_read_only_recover_when_writable_again(
    routed: None, tiny_url: str
) -> None:
    def read_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only=ON")

    with app_on(tiny_url, GRIDCORE_SECRET_KEY=APP_SECRET):
        engine = data.engine_for(tiny_url)
        event.listen(engine, "connect", read_only)
        at = sign_in(app("en"), "leader")
        _said(at, "frame.db_read_only", "en")
        # Made writable again; the connections opened meanwhile were closed by the fault.
        event.remove(engine, "connect", read_only)
        signed = sign_in(at, "leader")
        no_exception(signed, "after the database became writable")
        assert signed.session_state["actor"].username == "leader"


def _file_rows(path: str) -> tuple[int, int, int]:
    with sqlite3.connect(path) as plain:
        return tuple(  # type: ignore[return-value]
            plain.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("auditentry", "user_session", "sign_in_attempt")
        )
