"""What the demo world's tests share: reading a built world's rows and shapes, and tiling."""

from __future__ import annotations

import json
from datetime import date

import shapely
from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.engine import Engine

# The last day of the demo tests' outbreak story.
ANCHOR = date(2026, 3, 21)


def rows(engine: Engine, sql: str, **params: object) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql), params)]


def one(engine: Engine, sql: str, **params: object) -> object:
    return rows(engine, sql, **params)[0][0]


def shapes(engine: Engine, level: str) -> dict[int, tuple[str, int | None, object]]:
    return {
        area_id: (code, parent, shape(json.loads(geometry)))
        for area_id, code, parent, geometry in rows(
            engine, "SELECT id, code, parent_id, shape FROM area WHERE level = :level", level=level
        )
    }


def check_tiling(parents: dict, children: dict) -> None:
    """Each parent's children cover it exactly and do not overlap."""
    for parent_id, (code, _, parent_shape) in parents.items():
        kids = [s for _, p, s in children.values() if p == parent_id]
        assert kids, code
        assert parent_shape.is_valid and all(k.is_valid for k in kids)
        assert shapely.unary_union(kids).symmetric_difference(parent_shape).area < 1e-9, code
        for i, a in enumerate(kids):
            for b in kids[i + 1 :]:
                assert a.intersection(b).area < 1e-12, code
