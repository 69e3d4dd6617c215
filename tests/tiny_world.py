"""The tiny demo world as a fixture: built once per backend per test module, read-only.

Import the fixtures into a test module (`from tiny_world import tiny, tiny_session`)
and read the answers from gridcore/demo/tiny.py's docstring. Each module gets its own
database (on PostgreSQL a copy of a migrated template), so tests that use the
`engine` fixture next to it cannot disturb it — and tests must not write to it.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import PG_SERVER, TINY_ANCHOR
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from gridcore import migrate
from gridcore.db import make_engine
from gridcore.demo import tiny as tiny_demo
from gridcore.models import Area, TestRound

_TEMPLATE = f"gridcore_tiny_tpl_{os.getpid()}"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class TinyWorld:
    """A built tiny world: its engine, its anchor day and "now", and grid ids by code."""

    engine: Engine
    backend: str
    anchor: date
    now: datetime
    grid_ids: dict[str, int]
    round_ids: dict[str, int]

    def gid(self, code: str) -> int:
        return self.grid_ids[code]


def _admin() -> Engine:
    return make_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def tiny_pg_template() -> Iterator[str]:
    """A migrated, empty PostgreSQL database that each module's tiny world copies."""
    try:
        admin = _admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{_TEMPLATE}"'))
    except Exception as exc:  # any failure to reach or create means: skip PostgreSQL
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER}: {type(exc).__name__}")
    engine = make_engine(f"{PG_SERVER}/{_TEMPLATE}")
    migrate.upgrade(engine)
    engine.dispose()
    yield _TEMPLATE
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)'))
    admin.dispose()


def _ids(engine: Engine) -> tuple[dict[str, int], dict[str, int]]:
    """Grid ids by code, and round ids by name."""
    with Session(engine) as session:
        grids = session.exec(select(Area.code, Area.id).where(Area.level == "grid")).all()
        rounds = session.exec(select(TestRound.name, TestRound.id)).all()
    return (
        {code: int(i) for code, i in grids if i is not None},
        {name: int(i) for name, i in rounds if i is not None},
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def tiny(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TinyWorld]:
    """The tiny world at TINY_ANCHOR, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("tiny") / "tiny.db"
        shutil.copy(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        name = None
    else:
        template = request.getfixturevalue("tiny_pg_template")
        name = f"gridcore_tiny_{os.getpid()}_{next(_numbers)}"
        admin = _admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        admin.dispose()
        engine = make_engine(f"{PG_SERVER}/{name}")
    tiny_demo.build(engine=engine, anchor=TINY_ANCHOR)
    grid_ids, round_ids = _ids(engine)
    yield TinyWorld(
        engine=engine,
        backend=request.param,
        anchor=TINY_ANCHOR,
        now=tiny_demo.now(anchor=TINY_ANCHOR),
        grid_ids=grid_ids,
        round_ids=round_ids,
    )
    engine.dispose()
    if name is not None:
        admin = _admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def tiny_session(tiny: TinyWorld) -> Iterator[Session]:
    """A session on the tiny world (read only)."""
    with Session(tiny.engine, expire_on_commit=False) as session:
        yield session
