"""The Requests & tasks page and My tasks, run headless with AppTest on a copy of the tiny world.

Figures are the tiny world's answer sheet (gridcore/demo/tiny.py): 9 open requests, 5 of
them overdue (R01, R03, R06, R07, R08); the demo account "worker" serves T-C1-G1, whose
open tasks are a door-to-door task due in 6 h and a survey 2 h overdue, in progress.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from apptest_support import open_page, page_text
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from gridcore.db import make_engine
from gridcore.i18n import t

LANGS = ("en", "zh")


@dataclass(frozen=True)
class World:
    engine: Engine

    def count(self, model: type, *where: object) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(func.count()).select_from(model).where(*where)).one())


@pytest.fixture
def world(tiny_app: str) -> Iterator[World]:
    engine = make_engine(tiny_app)
    yield World(engine)
    engine.dispose()


@pytest.mark.parametrize("lang", LANGS)
def test_the_board_shows_open_requests_and_the_overdue_ones(world: World, lang: str) -> None:
    at = open_page("leader", "pages/requests.py", lang)
    text = page_text(at)
    assert t("req.n_overdue", lang, n=5) in text
    assert t("page.requests", lang) in at.title[0].value
