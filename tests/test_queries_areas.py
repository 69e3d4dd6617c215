"""Area queries against the tiny world (answers: gridcore/demo/tiny.py), on both backends."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session

from gridcore.models import AreaLevel
from gridcore.queries import areas, stock, testing
from gridcore.queries.areas import GRID_COLUMNS

if TYPE_CHECKING:
    from tiny_world import TinyWorld

pytestmark = pytest.mark.both_backends  # queries: the dialect matters


def test_grids_with_their_community_and_people(tiny_session: Session) -> None:
    frame = areas.grids(session=tiny_session)
    assert list(frame.columns) == GRID_COLUMNS
    assert list(frame["code"]) == ["T-C1-G1", "T-C1-G2", "T-C2-G1", "T-C2-G2"]
    assert list(frame["community_code"]) == ["T-C1", "T-C1", "T-C2", "T-C2"]
    assert list(frame["community_name_zh"]) == ["第一社区", "第一社区", "第二社区", "第二社区"]
    assert list(frame["households"]) == [8, 6, 10, 4]
    assert list(frame["residents"]) == [20, 16, 25, 10]
    assert list(frame["center_lng"]) == [121.472, 121.476, 121.472, 121.476]
    assert list(frame["center_lat"]) == [31.232, 31.232, 31.228, 31.228]


def test_grid_by_code(tiny: TinyWorld, tiny_session: Session) -> None:
    info = areas.grid_by_code(session=tiny_session, code="T-C2-G1")
    assert info is not None
    assert (info.id, info.name, info.name_zh) == (
        tiny.gid("T-C2-G1"),
        "Grid 2-1",
        "第二社区1号网格",
    )
    assert (info.community_code, info.community_name) == ("T-C2", "Community 2")
    assert (info.households, info.residents) == (10, 25)
    assert info.shape == {
        "type": "Polygon",
        "coordinates": [
            [[121.47, 31.226], [121.474, 31.226], [121.474, 31.23], [121.47, 31.23],
             [121.47, 31.226]]
        ],
    }  # fmt: skip
    assert areas.grid_by_code(session=tiny_session, code="T-C9-G9") is None
    # A community's code is not a grid's.
    assert areas.grid_by_code(session=tiny_session, code="T-C1") is None


def test_area_shapes_per_level(tiny_session: Session) -> None:
    communities = areas.area_shapes(session=tiny_session, level=AreaLevel.community)
    assert list(communities.columns) == areas.SHAPE_COLUMNS
    assert list(communities["code"]) == ["T-C1", "T-C2"]
    ring = communities.iloc[0]["shape"]["coordinates"][0]
    assert ring[0] == [121.47, 31.23] and ring[2] == [121.478, 31.234]
    assert len(areas.area_shapes(session=tiny_session, level=AreaLevel.grid)) == 4
    street = areas.area_shapes(session=tiny_session, level=AreaLevel.street)
    assert list(street["name_zh"]) == ["微街道"]


def test_bounds_of_all_grids(tiny_session: Session) -> None:
    assert areas.bounds(session=tiny_session) == pytest.approx((121.47, 31.226, 121.478, 31.234))


def test_buildings_with_their_residents(tiny: TinyWorld, tiny_session: Session) -> None:
    every = areas.buildings(session=tiny_session)
    assert list(every.columns) == areas.BUILDING_COLUMNS
    assert list(every["residents"]) == [10, 10, 8, 8, 13, 12, 10]
    assert every["residents"].sum() == 71
    one = areas.buildings(session=tiny_session, grid_id=tiny.gid("T-C2-G1"))
    assert list(one["code"]) == ["T-C2-G1-B1", "T-C2-G1-B2"]
    assert list(one["residents"]) == [13, 12]
    assert list(one["lng"]) == [121.471, 121.473]


def test_stock_is_the_sum_of_the_ledger_against_its_minimum(tiny_session: Session) -> None:
    levels = stock.stock_levels(session=tiny_session)
    rows = {
        (r.depot_id, r.item_id): (r.stock, r.min_stock, r.below_min) for r in levels.itertuples()
    }
    # depot 1 street, 2 grid; items 1 MASK, 2 KIT, 3 RICE (insertion order).
    assert rows == {
        (1, 1): (350, 100, False),
        (1, 2): (140, 10, False),
        (2, 1): (30, 20, False),
        (2, 2): (18, 20, True),
        (2, 3): (20, 5, False),
    }


def test_stock_as_it_stood_at_a_moment(tiny: TinyWorld, tiny_session: Session) -> None:
    midnight = tiny.now - timedelta(hours=12)
    levels = stock.stock_levels(session=tiny_session, at=midnight)
    grid_kit = levels[(levels["depot_id"] == 2) & (levels["item_id"] == 2)].iloc[0]
    assert (grid_kit["stock"], grid_kit["below_min"]) == (26, False)
    grid_mask = levels[(levels["depot_id"] == 2) & (levels["item_id"] == 1)].iloc[0]
    assert grid_mask["stock"] == 40
    # Before the first receipt nothing was in the ledger: only the depot minimums are listed.
    empty = stock.stock_levels(session=tiny_session, at=tiny.now - timedelta(days=30))
    assert list(empty["stock"]) == [0, 0]
    assert list(empty["below_min"]) == [True, True]


def test_depots_with_items_below_minimum(tiny: TinyWorld, tiny_session: Session) -> None:
    frame = stock.depots(session=tiny_session)
    assert list(frame.columns) == stock.DEPOT_COLUMNS
    assert list(frame["name"]) == ["Tiny Street depot", "Grid 1-1 depot"]
    assert list(frame["level"]) == ["street", "grid"]
    assert list(frame["items_below_min"]) == [0, 1]
    assert frame.iloc[1]["area_id"] == tiny.gid("T-C1-G1")


def test_site_points_of_the_latest_round_by_default(tiny_session: Session) -> None:
    latest = testing.site_points(session=tiny_session, round_id=None)
    assert list(latest.columns) == testing.SITE_POINT_COLUMNS
    assert list(latest["name"]) == ["Site A, Community 1 square", "Site B, Community 2 school"]
    # Door-to-door samples belong to no site: G1's 2 are not in Site A's 19.
    assert list(latest["sampled"]) == [19, 18]
    assert list(latest["hourly_capacity"]) == [240, 240]


def test_site_points_of_a_given_round(tiny: TinyWorld, tiny_session: Session) -> None:
    round1 = testing.site_points(session=tiny_session, round_id=tiny.round_ids["Round 1"])
    assert list(round1["name"]) == ["Community 1 hall"]
    assert list(round1["sampled"]) == [64]
    assert testing.site_points(session=tiny_session, round_id=999).empty


def test_latest_round_as_at_a_moment(tiny: TinyWorld, tiny_session: Session) -> None:
    latest = testing.latest_round_id
    assert latest(session=tiny_session) == tiny.round_ids["Round 2"]
    # Round 2 started today at 07:00; at 06:00 Round 1 was the latest.
    six = tiny.now - timedelta(hours=6)
    assert latest(session=tiny_session, at=six) == tiny.round_ids["Round 1"]
    assert latest(session=tiny_session, at=tiny.now - timedelta(days=10)) is None


def test_an_empty_database_gives_empty_frames_with_their_columns(session: Session) -> None:
    assert list(areas.grids(session=session).columns) == GRID_COLUMNS
    assert areas.grids(session=session).empty
    assert areas.bounds(session=session) is None
    assert areas.grid_by_code(session=session, code="T-C1-G1") is None
    assert list(areas.buildings(session=session).columns) == areas.BUILDING_COLUMNS
    assert list(stock.depots(session=session).columns) == stock.DEPOT_COLUMNS
    assert list(testing.site_points(session=session, round_id=None).columns) == (
        testing.SITE_POINT_COLUMNS
    )
    assert areas.area_shapes(session=session, level=AreaLevel.grid).empty
