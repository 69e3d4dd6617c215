"""Schema migrations (Alembic), driven from code so that the CLI and tests share one path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from gridcore.models import RESIDENT_SEARCH, RESIDENT_TRIGRAM_INDEXES

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to an open connection of `engine` at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Whether autogenerate compares a database object with the models: not the resident
    search's trigram table (and its FTS5 shadow tables) nor its indexes, which the models
    cannot declare."""
    if type_ == "table" and name is not None:
        return name != RESIDENT_SEARCH and not name.startswith(f"{RESIDENT_SEARCH}_")
    if type_ == "index":
        return name not in RESIDENT_TRIGRAM_INDEXES
    return True


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (head by default).

    On SQLite foreign keys are off while the migrations run: a batch migration rebuilds a
    table by dropping it, which would otherwise cascade into the rows that point at it.
    They are checked before the transaction commits and turned back on.
    """
    config = alembic_config(engine)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite ignores this pragma inside a transaction, so it comes first.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (for developers)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


def is_initialised(engine: Engine) -> bool:
    """Whether the database already holds the GridCore schema."""
    return inspect(engine).has_table("alembic_version")
