"""The migrations build exactly the schema that gridcore.models declares."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel

import gridcore.models  # noqa: F401  (registers every table)
from gridcore import migrate
from gridcore.db import make_engine

pytestmark = pytest.mark.both_backends  # migrations: the dialect matters


def _differences(connection: Connection) -> list:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    return list(compare_metadata(context, SQLModel.metadata))


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
