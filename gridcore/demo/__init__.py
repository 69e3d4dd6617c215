"""Deterministic demo data at several scales: tiny (tests), street (~50k), district (~1M)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session

from gridcore.demo.accounts import DEMO_PASSWORD
from gridcore.services.base import bump_data_version

__all__ = ["DEMO_PASSWORD", "SCALES", "analyze", "seed"]

SCALES: tuple[str, ...] = ("tiny", "street", "district")


def seed(
    *, engine: Engine, scale: str, seed: int = 1, anchor: date | None = None
) -> dict[str, int]:
    """Fill an empty, migrated database with the demo world of `scale`; return row counts.

    `anchor` is the last day of the outbreak story (default: today, local time), so the
    demo always looks live; the same seed and anchor give the same data.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if scale == "tiny":
        from gridcore.demo import tiny

        counts = tiny.build(engine=engine, anchor=anchor)
    else:
        from gridcore.demo import street

        build = street.build if scale == "street" else street.build_district
        counts = build(engine=engine, seed=seed, anchor=anchor)
    with Session(engine) as session:
        # Servers already running on this database forget what they cached of the old world.
        bump_data_version(session)
        session.commit()
    analyze(engine)
    return counts


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics after a bulk load (PostgreSQL picks bad plans without).

    On PostgreSQL VACUUM also sets the visibility map, without which index-only scans
    still read the table.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        return
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
