"""Bring a database to a usable state: the schema at head, and a demo world when it is empty."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from gridcore import migrate
from gridcore.demo import seed as seed_demo
from gridcore.models import RESIDENT_SEARCH, Area, User

# What ensure_database did.
MIGRATED = "migrated"
SEEDED = "seeded"
ALREADY_SEEDED = "already_seeded"


class NotEmpty(Exception):
    """The database holds data, so a demo world is not added to it."""

    def __init__(self, *, has_areas: bool):
        super().__init__("the database already holds data")
        self.has_areas = has_areas


def _count(engine: Engine, table: type[SQLModel]) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar() or 0)


def has_areas(engine: Engine) -> bool:
    """Whether the (migrated) database has any area."""
    return _count(engine, Area) > 0


def has_data(engine: Engine) -> bool:
    """Whether the (migrated) database has areas or accounts, which a seed would clash with."""
    return has_areas(engine) or _count(engine, User) > 0


def drop_everything(engine: Engine) -> None:
    """Drop every GridCore table and the migration record (the data is gone)."""
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        # The resident search's FTS5 table (SQLite) is not on the metadata.
        connection.execute(text(f"DROP TABLE IF EXISTS {RESIDENT_SEARCH}"))
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def seed_world(
    *, engine: Engine, scale: str, seed: int = 1, anchor: date | None = None, replace: bool = False
) -> dict[str, int]:
    """Migrate, then fill an empty database with the demo world of `scale`; row counts back.

    Raises NotEmpty when there is data already, unless `replace`, which drops it first.
    """
    migrate.upgrade(engine)
    if has_data(engine):
        if not replace:
            raise NotEmpty(has_areas=has_areas(engine))
        drop_everything(engine)
        migrate.upgrade(engine)
    return seed_demo(engine=engine, scale=scale, seed=seed, anchor=anchor)


def ensure_database(*, engine: Engine, demo: str | None, seed: int = 1) -> str:
    """Migrate to head; with `demo`, seed it when the database has no areas yet.

    Returns MIGRATED, SEEDED or ALREADY_SEEDED. Raises NotEmpty when there are accounts
    but no areas (the demo's own accounts would clash with them).
    """
    migrate.upgrade(engine)
    if demo is None:
        return MIGRATED
    if has_areas(engine):
        return ALREADY_SEEDED
    seed_world(engine=engine, scale=demo, seed=seed)
    return SEEDED
