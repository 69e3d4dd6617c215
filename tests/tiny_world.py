"""The tiny demo world as the tests see it: its anchor day, "now", and grid and round ids.

Ask for the `tiny` fixture (tests/conftest.py): each test gets a copy of the world, built
once per run and backend, and reads the answers from gridcore/demo/tiny.py's docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from gridcore.demo import seed
from gridcore.demo import tiny as tiny_demo
from gridcore.models import Area, TestRound

# The day the tiny world's story ends; every hand-computed answer is relative to it.
TINY_ANCHOR = date(2026, 3, 21)


@dataclass(frozen=True)
class TinyWorld:
    """A built tiny world: its backend, its anchor day and "now", and ids by code and name."""

    backend: str
    anchor: date
    now: datetime
    grid_ids: dict[str, int]
    round_ids: dict[str, int]

    def gid(self, code: str) -> int:
        return self.grid_ids[code]


def build_tiny(session: Session) -> TinyWorld:
    """Seed the tiny world at TINY_ANCHOR on `session`'s database, as `gridcore init` does."""
    engine = session.get_bind()
    seed(engine=engine, scale="tiny", anchor=TINY_ANCHOR)  # type: ignore[arg-type]
    grids = session.exec(select(Area.code, Area.id).where(Area.level == "grid")).all()
    rounds = session.exec(select(TestRound.name, TestRound.id)).all()
    return TinyWorld(
        backend=engine.dialect.name,
        anchor=TINY_ANCHOR,
        now=tiny_demo.now(anchor=TINY_ANCHOR),
        grid_ids={code: int(i) for code, i in grids if i is not None},
        round_ids={name: int(i) for name, i in rounds if i is not None},
    )
