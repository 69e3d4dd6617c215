"""The migrations build exactly the schema that gridcore.models declares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel

from gridcore import bootstrap, migrate
from gridcore.db import make_engine
from gridcore.models import RESIDENT_SEARCH, RESIDENT_SEARCH_TRIGGERS, RESIDENT_TRIGRAM_INDEXES
from gridcore.queries.counters import counter_differences, epoch_hour, grid_counts

pytestmark = pytest.mark.both_backends  # migrations: the dialect matters


def _differences(connection: Connection) -> list:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": False,
            "include_name": migrate.include_name,
        },
    )
    return list(compare_metadata(context, SQLModel.metadata))


@contextmanager
def _upgraded_from(tmp_path: Path, revision: str, *rows: str) -> Iterator[Engine]:
    """A SQLite file migrated to `revision`, given `rows` (INSERTs in that revision's
    schema), then upgraded to head; closed after the block."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        migrate.upgrade(engine, revision)
        with engine.begin() as connection:
            for sql in rows:
                connection.exec_driver_sql(sql)
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def test_upgraded_database_matches_the_models(session: Session) -> None:
    """The test's database has been upgraded to head on SQLite and on PostgreSQL."""
    assert _differences(session.connection()) == []


def test_every_table_exists_after_upgrade(session: Session) -> None:
    tables = set(inspect(session.connection()).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_a_brand_new_file_is_migrated_and_upgrading_again_changes_nothing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert not migrate.is_initialised(engine)
        migrate.upgrade(engine)
        assert migrate.is_initialised(engine)
        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert _differences(connection) == []
    finally:
        engine.dispose()


def _scripts() -> ScriptDirectory:
    """The migration scripts (the configuration does not depend on the database)."""
    return ScriptDirectory.from_config(migrate.alembic_config(make_engine("sqlite://")))


def test_the_revision_history_has_one_head() -> None:
    heads = _scripts().get_heads()
    assert len(heads) == 1, f"migration history branches: {heads}"


def test_the_database_stands_at_head(session: Session) -> None:
    head = _scripts().get_current_head()
    assert MigrationContext.configure(session.connection()).get_current_revision() == head


def test_vulnerabilities_move_to_rows_of_their_own_with_their_data(tmp_path: Path) -> None:
    """Upgrading a database of 0002 keeps every resident's tags, one row per tag."""
    with _upgraded_from(
        tmp_path,
        "0002",
        "INSERT INTO area (id, code, name, level, households) VALUES (1, 'G1', 'G', 'grid', 1)",
        "INSERT INTO building (id, code, name, grid_id, lng, lat)"
        " VALUES (1, 'B1', 'B', 1, 121.4, 31.2)",
        "INSERT INTO household (id, building_id, grid_id, unit) VALUES (1, 1, 1, '1-101')",
        "INSERT INTO resident (id, household_id, name, vulnerability, health_status,"
        " grid_id, building_id) VALUES"
        " (1, 1, '王芳', 'elderly_alone,chronic_illness', 'at_home', 1, 1),"
        " (2, 1, '李四', '', 'at_home', 1, 1), (3, 1, '张三', 'infant', 'away', 1, 1)",
    ) as engine:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT resident_id, tag FROM residentvulnerability ORDER BY resident_id, tag"
            ).all()
            columns = {c["name"] for c in inspect(connection).get_columns("resident")}
        assert [tuple(r) for r in rows] == [
            (1, "chronic_illness"),
            (1, "elderly_alone"),
            (3, "infant"),
        ]
        assert "vulnerability" not in columns
        with engine.connect() as connection:
            assert _differences(connection) == []


def test_the_counters_are_filled_from_the_records_of_an_older_database(tmp_path: Path) -> None:
    """Upgrading a database of 0015 (before any counter) with samples, residents, tags and
    workers: the counters each revision made and filled (in its own SQL) are those
    verify-counters counts from the records at head."""
    with _upgraded_from(
        tmp_path,
        "0015",
        "INSERT INTO area (id, code, name, level, households) VALUES"
        " (1, 'G1', 'G', 'grid', 2), (2, 'G2', 'H', 'grid', 0)",
        "INSERT INTO building (id, code, name, grid_id, lng, lat)"
        " VALUES (1, 'B1', 'B', 1, 121.4, 31.2)",
        "INSERT INTO household (id, building_id, grid_id, unit)"
        " VALUES (1, 1, 1, '1-101'), (2, 1, 1, '1-102')",
        "INSERT INTO resident (id, household_id, name, health_status, grid_id,"
        " building_id) VALUES (1, 1, '王芳', 'at_home', 1, 1),"
        " (2, 1, '李四', 'at_home', 1, 1), (3, 2, '张三', 'hospitalised', 1, 1)",
        "INSERT INTO residentvulnerability (resident_id, tag)"
        " VALUES (1, 'elderly_alone'), (1, 'chronic_illness'), (3, 'infant')",
        "INSERT INTO worker (id, name, role, employment, active) VALUES"
        " (1, '赵敏', 'grid_member', 'full_time', 1),"
        " (2, '钱伟', 'volunteer', 'volunteer', 1)",
        "INSERT INTO workergrid (worker_id, grid_id) VALUES (1, 1), (2, 1)",
        "INSERT INTO testround (id, name, start_at, deadline_at)"
        " VALUES (1, 'R1', '2026-11-30 00:00:00', '2026-12-01 00:00:00')",
        "INSERT INTO testroundarea (round_id, grid_id) VALUES (1, 1)",
        "INSERT INTO testsite (id, round_id, name, hourly_capacity, desks)"
        " VALUES (1, 1, 'Hall', 300, 1)",
        "INSERT INTO testrecord (round_id, resident_id, grid_id, site_id, method,"
        " sampled_at, result) VALUES"
        " (1, 1, 1, 1, 'site', '2026-11-30 01:10:00', 'negative'),"
        " (1, 2, 1, 1, 'site', '2026-11-30 01:50:00', 'positive'),"
        " (1, 3, 1, NULL, 'door_to_door', '2026-11-30 03:05:00', 'pending')",
    ) as engine:
        with Session(engine) as session:
            assert counter_differences(session=session) == []
            grids = grid_counts(session=session)
            hours = session.execute(
                text("SELECT site_key, hour, sampled FROM roundsitehour ORDER BY site_key, hour")
            ).all()
        assert grids[1] == {
            "residents": 3, "at_home": 2, "households": 2, "full_time_workers": 1,
            "vulnerable": 2,
        }  # fmt: skip
        first = epoch_hour(datetime(2026, 11, 30, 1, tzinfo=UTC))
        assert [tuple(h) for h in hours] == [(0, first + 2, 1), (1, first, 2)]


def test_names_of_an_older_database_become_its_chinese_names_too(tmp_path: Path) -> None:
    """Upgrading a database of 0011: sites, buildings, depots and rounds keep their name and
    get it as their Chinese name; a task's Chinese title stays empty (pages fall back)."""
    with _upgraded_from(
        tmp_path,
        "0011",
        "INSERT INTO area (id, code, name, level, households) VALUES (1, 'G1', 'G', 'grid', 1)",
        "INSERT INTO building (id, code, name, grid_id, lng, lat)"
        " VALUES (1, 'B1', '长乐路1号', 1, 121.4, 31.2)",
        "INSERT INTO depot (id, name, area_id, level) VALUES (1, 'Depot A', 1, 'grid')",
        "INSERT INTO testround (id, name, start_at, deadline_at)"
        " VALUES (1, 'Round 1', '2026-03-01 00:00:00', '2026-03-02 00:00:00')",
        "INSERT INTO testsite (id, round_id, name, hourly_capacity, desks)"
        " VALUES (1, 1, 'Hall', 300, 1)",
        "INSERT INTO task (id, grid_id, kind, title, status, created_at)"
        " VALUES (1, 1, 'delivery', 'Deliver rice', 'open', '2026-03-01 00:00:00')",
    ) as engine:
        with engine.connect() as connection:
            names = [
                tuple(connection.exec_driver_sql(f"SELECT name, name_zh FROM {table}").one())
                for table in ("building", "depot", "testround", "testsite")
            ]
            title = tuple(connection.exec_driver_sql("SELECT title, title_zh FROM task").one())
            assert _differences(connection) == []
        assert names == [
            ("长乐路1号", "长乐路1号"), ("Depot A", "Depot A"), ("Round 1", "Round 1"),
            ("Hall", "Hall"),
        ]  # fmt: skip
        assert title == ("Deliver rice", None)


def test_the_resident_search_index_is_in_place_at_head(session: Session) -> None:
    """SQLite: the FTS5 table and the triggers that keep it current (a later migration that
    rebuilds the resident table must make them again); PostgreSQL: the trigram indexes,
    which a LIKE of the search can use, unless the server has no pg_trgm."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        found = connection.exec_driver_sql(
            "SELECT type, name FROM sqlite_master WHERE tbl_name IN ('resident', ?)",
            (RESIDENT_SEARCH,),
        ).all()
        assert {("table", RESIDENT_SEARCH)} | {
            ("trigger", name) for name in RESIDENT_SEARCH_TRIGGERS
        } <= set(map(tuple, found))
        return
    available = connection.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
    ).scalar()
    if not available:
        pytest.skip("this PostgreSQL server has no pg_trgm")
    indexes = connection.exec_driver_sql(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        " AND tablename = 'resident'"
    ).scalars()
    assert set(RESIDENT_TRIGRAM_INDEXES) <= set(indexes)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = connection.execute(
        text("EXPLAIN SELECT id FROM resident WHERE name LIKE '%小明%' OR phone LIKE '%1234'")
    ).scalars()
    used = {word for line in plan for word in line.split() if word in RESIDENT_TRIGRAM_INDEXES}
    assert used == set(RESIDENT_TRIGRAM_INDEXES)


def test_upgrading_a_database_with_residents_fills_the_search(tmp_path: Path) -> None:
    """Residents of a database of 0013 are found through the trigram table after the upgrade;
    dropping everything (seed --replace) drops it too."""
    with _upgraded_from(
        tmp_path,
        "0013",
        "INSERT INTO area (id, code, name, level, households) VALUES (1, 'G1', 'G', 'grid', 1)",
        "INSERT INTO building (id, code, name, grid_id, lng, lat)"
        " VALUES (1, 'B1', 'B', 1, 121.4, 31.2)",
        "INSERT INTO household (id, building_id, grid_id, unit) VALUES (1, 1, 1, '1-101')",
        "INSERT INTO resident (id, household_id, name, phone, health_status, grid_id,"
        " building_id) VALUES (1, 1, '王小明', '13800001234', 'at_home', 1, 1),"
        " (2, 1, '李四', NULL, 'at_home', 1, 1)",
    ) as engine:
        with engine.connect() as connection:
            found = connection.exec_driver_sql(
                f"SELECT rowid FROM {RESIDENT_SEARCH} WHERE {RESIDENT_SEARCH} MATCH ?"
                " ORDER BY rowid",
                ('name : "小明" OR name : "李四" OR phone : "1234"',),
            ).scalars()
            assert list(found) == [1]  # a trigram needs three characters
            connection.exec_driver_sql(
                f"INSERT INTO {RESIDENT_SEARCH} ({RESIDENT_SEARCH}, rank)"
                " VALUES ('integrity-check', 1)"
            )
        bootstrap.drop_everything(engine)
        assert not inspect(engine).get_table_names()  # so a new upgrade can make it again
