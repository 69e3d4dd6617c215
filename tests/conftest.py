"""Shared fixtures: databases on SQLite and PostgreSQL, worlds built once, cheap password hashes.

Which backend a database test runs on
    A test that asks for `engine`, `session`, `world` or `tiny` runs on SQLite. Marked
    `both_backends` (the test, or its module through `pytestmark`) it runs on PostgreSQL as
    well. Mark what depends on the database's dialect: queries, bulk import and export,
    locking and concurrency, migrations, the tiny demo world's build — and one test in each
    service module, so that every service's transaction runs on PostgreSQL at least once.
    Validation and permission rules read the same on every backend and stay on SQLite.
    `sqlite_engine` is SQLite whatever the marks. The PostgreSQL items carry the marker `pg`;
    without a server at GRIDCORE_TEST_PG (default 127.0.0.1:5432) they are skipped and the
    run says why.

Worlds, built once
    A module whose tests start from a known world defines a `world_builder` fixture that
    returns the function building it through a session (`build(session) -> world`). The world
    is built once per run, backend and test process into a template database; a test that
    asks for `world` (itself or through another fixture) starts from a copy of it, and `world`
    is the builder's return value with its rows attached to the test's `session`. The tiny
    demo world (gridcore/demo/tiny.py) is the same under the name `tiny` (a TinyWorld, see
    tests/tiny_world.py). A test that asks for neither gets an empty, migrated database.

    A copy is, on SQLite, a copy of the template's file. On PostgreSQL the template is a
    schema of the process's own database, and a test runs in a transaction on it that is
    rolled back afterwards (the services' commits become savepoints); a test that asks for
    `engine`, and so may commit on connections of its own, gets a new schema with the world
    built again, dropped after it. Files, databases and schemas are per process, so the
    workers of `pytest -n 2` (pytest-xdist) never share one.

Other markers
    `browser` (real Chromium against a running app) and `demo` (builds the street or
    district demo world). `make check` runs `-m "not browser and not demo and not pg"`;
    `make test` runs everything.

Property-based tests (Hypothesis)
    tests/test_fuzz_*.py try generated inputs under the profile GRIDCORE_HYPOTHESIS_PROFILE
    names: "quick" (the default: few examples, always the same ones, so a run is
    reproducible and fast) or "deep" (many random examples, for a fuzzing session).

Password hashes
    argon2 runs at its cheapest in tests (`cheap_password_hashing`, autouse); hashes stored in
    test databases carry their parameters, so the app's own server verifies them cheaply too.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, SQLModel
from tiny_world import TINY_ANCHOR, TinyWorld, build_tiny

from gridcore import migrate
from gridcore.db import make_engine
from gridcore.queries.counters import counter_differences

__all__ = ["PG_SERVER", "TINY_ANCHOR"]

PG_SERVER = os.environ.get("GRIDCORE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
SQLITE, POSTGRESQL = "sqlite", "postgresql"
# This process's database (each pytest-xdist worker is a process of its own).
PG_DATABASE = f"gridcore_test_{os.getpid()}"

# Function-scoped fixtures (a database copy) are shared by a test's examples on purpose.
_HYPOTHESIS = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}
settings.register_profile("quick", max_examples=25, derandomize=True, database=None, **_HYPOTHESIS)
settings.register_profile("deep", max_examples=1000, **_HYPOTHESIS)
settings.load_profile(os.environ.get("GRIDCORE_HYPOTHESIS_PROFILE", "quick"))

Builder = Callable[[Session], Any]
# Why PostgreSQL was skipped, for the summary at the end of the run.
PG_SKIPPED = pytest.StashKey[str]()


# --------------------------------------------------------------------------- backends


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """SQLite for every database test; PostgreSQL too where the test is marked both_backends."""
    if "backend" in metafunc.fixturenames:
        backends: list[Any] = [SQLITE]
        if metafunc.definition.get_closest_marker("both_backends"):
            backends.append(pytest.param(POSTGRESQL, marks=pytest.mark.pg))
        metafunc.parametrize("backend", backends, scope="session")


# Tests that share a slow session fixture run in one process under `pytest -n`: the
# demo-street tests (their street), and each browser module (its tests run in order; a
# process that runs any browser module builds the street and serves the app once).
SHARED_SESSION_FIXTURES = ("tests/test_demo_street.py",)
BROWSER_TESTS = "tests/browser/"


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's scheduler: SHARED_SESSION_FIXTURES, and each browser module, on one worker.

    Every other test is a unit of its own, for the best balance. (xdist's own `--dist
    loadgroup` renames node ids to group them, which pytest 9 no longer reads.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(BROWSER_TESTS):
                return nodeid.split("::", 1)[0]
            return next((g for g in SHARED_SESSION_FIXTURES if nodeid.startswith(g)), nodeid)

    return SharedFixtureScheduling(config, log)


@dataclass
class Template:
    """A migrated database (holding a world, or empty) that tests start from."""

    backend: str
    builder: Builder | None
    world: Any
    path: Path | None = None  # SQLite: the file each test copies
    engine: Engine | None = None  # PostgreSQL: its schema, for the tests' transactions


class Templates:
    """The run's templates, one per backend and world, built on first use.

    On PostgreSQL each is a schema of this process's one database: DROP DATABASE forces a
    checkpoint (a second or more here), DROP SCHEMA does not.
    """

    def __init__(self, root: Path, config: pytest.Config) -> None:
        self.root = root
        self.config = config
        self.built: dict[tuple[str, Builder | None], Template] = {}
        self.numbers = itertools.count(1)
        self.pg_reason: str | None = None  # None: not tried yet; "": reachable
        self.pg_engine: Engine | None = None  # this process's database, to make schemas

    # ---- PostgreSQL housekeeping

    def pg_admin(self, *statements: str) -> None:
        admin = make_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            admin.dispose()

    def require_pg(self) -> Engine:
        """This process's PostgreSQL database (made on first use); skips when unreachable."""
        if self.pg_reason is None:
            try:
                self.pg_admin(
                    f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)',
                    f'CREATE DATABASE "{PG_DATABASE}"',
                )
                _drop_in_background(self.pg_left_behind())
                self.pg_engine = make_engine(
                    f"{PG_SERVER}/{PG_DATABASE}", isolation_level="AUTOCOMMIT"
                )
                self.pg_reason = ""
            except Exception as exc:  # any failure to reach the server means: skip PostgreSQL
                self.pg_reason = f"PostgreSQL not reachable at {PG_SERVER}: {type(exc).__name__}"
        if self.pg_reason:
            self.config.stash[PG_SKIPPED] = self.pg_reason
            pytest.skip(self.pg_reason)
        assert self.pg_engine is not None
        return self.pg_engine

    def pg_schema(self, builder: Builder | None) -> tuple[Engine, Any, Callable[[], None]]:
        """A new schema, migrated, with `builder`'s world; its engine, world, and its drop."""
        admin = self.require_pg()
        schema = f"s{next(self.numbers)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(
            f"{PG_SERVER}/{PG_DATABASE}", connect_args={"options": f"-csearch_path={schema}"}
        )
        migrate.upgrade(engine)
        world = _build(engine, builder)

        def drop() -> None:
            engine.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

        return engine, world, drop

    def close(self) -> None:
        for template in self.built.values():
            if template.engine is not None:
                template.engine.dispose()
        if self.pg_engine is not None:
            self.pg_engine.dispose()
            _drop_in_background([PG_DATABASE])
            self.pg_engine = None

    def pg_left_behind(self) -> list[str]:
        """Test databases whose run has ended without dropping them (it was killed)."""
        admin = make_engine(f"{PG_SERVER}/postgres")
        try:
            with admin.connect() as conn:
                names = conn.execute(
                    text("SELECT datname FROM pg_database WHERE datname LIKE 'gridcore_test_%'")
                ).scalars()
                return [
                    name
                    for name in names
                    if (pid := name.removeprefix("gridcore_test_")).isdigit()
                    and not _running(int(pid))
                ]
        finally:
            admin.dispose()

    # ---- templates

    def get(self, backend: str, builder: Builder | None) -> Template:
        """The template of `builder`'s world (None: empty) on `backend`, built on first use."""
        if backend == POSTGRESQL:
            self.require_pg()
        key = (backend, builder)
        if key not in self.built:
            if backend == SQLITE:
                self.built[key] = self._sqlite(builder)
            else:
                engine, world, _ = self.pg_schema(builder)
                self.built[key] = Template(POSTGRESQL, builder, world, engine=engine)
        return self.built[key]

    def _sqlite(self, builder: Builder | None) -> Template:
        path = self.root / f"template-{next(self.numbers)}.db"
        if builder is not None:
            empty = self.get(SQLITE, None).path
            assert empty is not None
            shutil.copy(empty, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            if builder is None:
                migrate.upgrade(engine)
            world = _build(engine, builder)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        return Template(SQLITE, builder, world, path=path)

    # ---- a test's database

    def own_copy(
        self, template: Template, tmp_path: Path
    ) -> tuple[Engine, Any, Callable[[], None]]:
        """A database of the test's own holding the template's world; and how to drop it."""
        if template.backend == SQLITE:
            assert template.path is not None
            path = tmp_path / "gridcore.db"
            shutil.copy(template.path, path)
            engine = make_engine(f"sqlite:///{path}")
            return engine, template.world, engine.dispose
        # No copy of a schema in PostgreSQL: the world is built again, in a schema of its own.
        return self.pg_schema(template.builder)

    def sqlite_url(self, builder: Builder | None, directory: Path) -> str:
        """The URL of a new SQLite file in `directory` holding `builder`'s world."""
        template = self.get(SQLITE, builder)
        assert template.path is not None
        path = directory / "gridcore.db"
        shutil.copy(template.path, path)
        return f"sqlite:///{path}"


def _running(pid: int) -> bool:
    """Whether a process `pid` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        return True
    return True


# Drops the databases named on its command line.
_DROP = """
import sys
import psycopg

with psycopg.connect(sys.argv[1], autocommit=True) as connection:
    for name in sys.argv[2:]:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
"""


def _drop_in_background(names: list[str]) -> None:
    """Drop test databases in a process of its own, not waited for: DROP DATABASE forces a
    checkpoint, which takes seconds on a busy machine."""
    if names:
        server = make_url(f"{PG_SERVER}/postgres").set(drivername="postgresql")
        subprocess.Popen(
            [sys.executable, "-c", _DROP, server.render_as_string(hide_password=False), *names],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


def _build(engine: Engine, builder: Builder | None) -> Any:
    """Run `builder` on `engine`; its world, its rows detached with what they had loaded."""
    if builder is None:
        return None
    with Session(engine, expire_on_commit=False) as session:
        world = builder(session)
        session.commit()
        session.expunge_all()
    return world


def attach(value: Any, session: Session) -> Any:
    """`value` with every table row in it merged into `session` (copies; no SQL is run)."""
    if isinstance(value, SQLModel) and hasattr(type(value), "__table__"):
        return session.merge(value, load=False)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: attach(getattr(value, f.name), session)
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, list):
        return [attach(v, session) for v in value]
    if isinstance(value, tuple):
        return tuple(attach(v, session) for v in value)
    if isinstance(value, dict):
        return {k: attach(v, session) for k, v in value.items()}
    return value


@pytest.fixture(scope="session")
def templates(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Templates]:
    found = Templates(tmp_path_factory.mktemp("templates"), request.config)
    yield found
    found.close()


@dataclass
class Database:
    """A test's database: its session, the world it starts from, and its engine if its own."""

    backend: str
    session: Session
    world: Any
    engine: Engine | None


@pytest.fixture
def database(
    request: pytest.FixtureRequest, backend: str, templates: Templates, tmp_path: Path
) -> Iterator[Database]:
    """The test's database on `backend`: see this module's docstring."""
    wanted = set(request.fixturenames)
    if {"tiny", "world"} <= wanted:
        raise pytest.UsageError(f"{request.node.nodeid} asks for two worlds: tiny and world")
    builder: Builder | None = None
    if "tiny" in wanted:
        builder = build_tiny
    elif "world" in wanted:
        builder = request.getfixturevalue("world_builder")
    template = templates.get(backend, builder)
    check = request.node.get_closest_marker("counters_unchecked") is None
    if backend == SQLITE or "engine" in wanted:
        engine, built, drop = templates.own_copy(template, tmp_path)
        session = Session(engine, expire_on_commit=False)
        try:
            yield Database(backend, session, attach(built, session), engine)
            session.close()
            if check:
                with Session(engine) as committed:
                    _counters_match(committed)
        finally:
            session.close()
            drop()
        return
    assert template.engine is not None
    connection: Connection = template.engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield Database(backend, session, attach(template.world, session), None)
        if check:
            session.rollback()  # what the test left uncommitted (its commits are savepoints)
            _counters_match(session)
    finally:
        session.close()
        outer.rollback()
        connection.close()


def _counters_match(session: Session) -> None:
    """Every write the test made kept the counters (mark `counters_unchecked` to skip this,
    for a test that writes records behind the services on purpose)."""
    differences = counter_differences(session=session)
    if differences:
        pytest.fail(f"the counters differ from the records after the test: {differences[:5]}")


@pytest.fixture
def engine(database: Database) -> Engine:
    """The test's own migrated database (empty unless the test asks for a world)."""
    assert database.engine is not None
    return database.engine


@pytest.fixture
def session(database: Database) -> Session:
    """A session on the test's database (expire_on_commit off, as the app's)."""
    return database.session


@pytest.fixture
def world(database: Database) -> Any:
    """The module's world (`world_builder`), its rows attached to `session`."""
    return database.world


@pytest.fixture
def tiny(database: Database) -> TinyWorld:
    """The tiny demo world at TINY_ANCHOR (answers: gridcore/demo/tiny.py)."""
    assert isinstance(database.world, TinyWorld)
    return database.world


@pytest.fixture
def tiny_session(tiny: TinyWorld, database: Database) -> Session:
    """A session on a copy of the tiny world."""
    return database.session


@pytest.fixture(scope="session")
def sqlite_template(templates: Templates) -> Path:
    """A migrated, empty SQLite file (copy it; never write to it)."""
    path = templates.get(SQLITE, None).path
    assert path is not None
    return path


@pytest.fixture
def sqlite_engine(templates: Templates, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated, empty SQLite database, whatever the test's marks."""
    engine, _, drop = templates.own_copy(templates.get(SQLITE, None), tmp_path)
    yield engine
    drop()


@pytest.fixture
def tiny_url(templates: Templates, tmp_path: Path) -> str:
    """The URL of a new SQLite file holding the tiny world (for the app and the command line)."""
    return templates.sqlite_url(build_tiny, tmp_path)


@contextmanager
def _app_on_tiny(url: str) -> Iterator[str]:
    """The app under AppTest on the tiny world at `url`, run through its navigation."""
    from apptest_support import APP_SECRET, app_on, route_through_navigation

    with pytest.MonkeyPatch.context() as patch:
        route_through_navigation(patch)
        with app_on(url, GRIDCORE_SECRET_KEY=APP_SECRET):
            yield url


@pytest.fixture
def tiny_app(tiny_url: str) -> Iterator[str]:
    """The app under AppTest on a new copy of the tiny world (for tests that write); its URL.

    See tests/apptest_support.py for what page tests share.
    """
    with _app_on_tiny(tiny_url) as url:
        yield url


@pytest.fixture(scope="module")
def shared_tiny_app(
    templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The app under AppTest on one copy of the tiny world for a whole module, its caches kept
    from test to test (for tests that read, or write only what the others ignore)."""
    with _app_on_tiny(templates.sqlite_url(build_tiny, tmp_path_factory.mktemp("app"))) as url:
        yield url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reason = terminalreporter.config.stash.get(PG_SKIPPED, "")
    if reason:
        terminalreporter.write_line(f"PostgreSQL tests skipped: {reason}", yellow=True)


# --------------------------------------------------------------------------- password hashes


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[PasswordHasher]:
    """argon2 at its cheapest for the whole run; yields the product's own hasher.

    The product's cost (up to 1.5 s a hash on a busy machine) is for attackers, not for
    tests. This is the one place that knows where the hasher lives.
    """
    from gridcore.services import access

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    product = access.password_hasher()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(access, "password_hasher", lambda: cheap)
        # The unknown-user hash is made on first use: make it again, cheaply.
        access._dummy_hash.cache_clear()
        yield product
    access._dummy_hash.cache_clear()
