"""Shared fixtures: fresh databases on SQLite and, when reachable, PostgreSQL.

`backend_url` is parametrised over both backends; PostgreSQL tests are skipped with
a printed reason when the server at GRIDCORE_TEST_PG (default 127.0.0.1:5432) is not
reachable. Each test run uses its own PostgreSQL database and drops it at the end.

argon2 runs at its cheapest in tests (`cheap_password_hashing`, autouse); hashes stored in
test databases carry their parameters, so the app's own server verifies them cheaply too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from gridcore import migrate
from gridcore.db import make_engine

PG_SERVER = os.environ.get("GRIDCORE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
PG_DB = f"gridcore_test_{os.getpid()}"
# The day the tiny world's story ends; every hand-computed answer is relative to it.
TINY_ANCHOR = date(2026, 3, 21)

_pg_reason: str | None = None


def _pg_available() -> str | None:
    """None when PostgreSQL is reachable, else the reason it is not."""
    global _pg_reason
    if _pg_reason is not None:
        return _pg_reason or None
    try:
        admin = make_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}"'))
            conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
        admin.dispose()
        _pg_reason = ""
    except Exception as exc:  # any failure to reach or create means: skip PG
        _pg_reason = f"PostgreSQL not reachable at {PG_SERVER}: {type(exc).__name__}"
    return _pg_reason or None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _pg_reason == "":
        admin = make_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        admin.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _pg_reason:
        terminalreporter.write_line(f"PostgreSQL tests skipped: {_pg_reason}", yellow=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file that each test copies (migrating once is faster)."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    """The run's own PostgreSQL database, migrated once."""
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    engine = make_engine(f"{PG_SERVER}/{PG_DB}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _truncate_all(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Engine]:
    """A fresh, migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "gridcore.db"
        shutil.copy(sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
    else:
        pg = request.getfixturevalue("pg_engine")
        _truncate_all(pg)
        yield pg


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A fresh, migrated, empty SQLite database (for tests that need only one backend)."""
    path = tmp_path / "gridcore.db"
    shutil.copy(sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on a fresh database (both backends)."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[PasswordHasher]:
    """argon2 at its cheapest for the whole run; yields the product's own hasher.

    The product's cost (up to 1.5 s a hash on a busy machine) is for attackers, not for
    tests. This is the one place that knows where the hasher lives.
    """
    from gridcore.services import auth

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        product = auth._hasher
        patch.setattr(auth, "_hasher", cheap)
        patch.setattr(auth, "_DUMMY_HASH", cheap.hash("not-a-real-password"))
        yield product
