"""Coordinate conversion and view fitting."""

from __future__ import annotations

import math

import pytest

from gridcore.geo import (
    dashes,
    fit_view,
    gcj02_to_wgs84,
    map_coordinates,
    outer_rings,
    ring_centroid,
    wgs84_to_gcj02,
)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dy = (a[1] - b[1]) * 111_320
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, dy)


def test_gcj02_offset_in_shanghai_is_a_few_hundred_metres() -> None:
    wgs = (121.4737, 31.2304)
    gcj = wgs84_to_gcj02(*wgs)
    # The published offset in central Shanghai is about 0.0045° east and 0.002° south.
    assert gcj[0] - wgs[0] == pytest.approx(0.00452, abs=0.0002)
    assert gcj[1] - wgs[1] == pytest.approx(-0.00194, abs=0.0002)
    assert 300 < _metres(wgs, gcj) < 700


def test_gcj02_round_trip_is_within_a_centimetre() -> None:
    for wgs in [(121.4737, 31.2304), (116.3975, 39.9087), (113.2644, 23.1291)]:
        back = gcj02_to_wgs84(*wgs84_to_gcj02(*wgs))
        assert _metres(wgs, back) < 0.01


def test_real_geocode_matches_its_published_wgs84_value() -> None:
    # 张东路2281弄 from the Shanghai 2022 geocode file: both columns published side by side.
    back = gcj02_to_wgs84(121.63742, 31.201487)
    assert _metres(back, (121.6331938, 31.20367194)) < 5


def test_outside_china_nothing_moves() -> None:
    assert wgs84_to_gcj02(2.3522, 48.8566) == (2.3522, 48.8566)
    assert gcj02_to_wgs84(2.3522, 48.8566) == (2.3522, 48.8566)


def test_map_coordinates_and_rings() -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    moved = map_coordinates(square, lambda x, y: (x + 1, y + 0.5))
    assert moved["coordinates"][0][2] == [3.0, 2.5]
    multi = {"type": "MultiPolygon", "coordinates": [square["coordinates"], moved["coordinates"]]}
    assert len(outer_rings(multi)) == 2
    assert outer_rings({"type": "Point", "coordinates": [0, 0]}) == []
    assert ring_centroid(square["coordinates"][0]) == (1.0, 1.0)


def test_fit_view_zooms_in_on_small_areas() -> None:
    lng, lat, street_zoom = fit_view([121.40, 121.46], [31.17, 31.21])
    assert (lng, lat) == pytest.approx((121.43, 31.19))
    _, _, district_zoom = fit_view([121.2, 121.8], [31.0, 31.4])
    assert 12 < street_zoom < 15
    assert district_zoom == pytest.approx(street_zoom - math.log2(10), abs=0.3)
    assert fit_view([], []) == (121.47, 31.23, 11.0)


def _east(start: tuple[float, float], metres: float) -> list[float]:
    """The point `metres` east of `start` (the scale dashes() uses)."""
    return [start[0] + metres / (111_320 * math.cos(math.radians(start[1]))), start[1]]


def _length(piece: list[list[float]]) -> float:
    return sum(_metres(tuple(a), tuple(b)) for a, b in zip(piece, piece[1:], strict=False))


def test_a_line_is_cut_into_dashes_of_the_given_length() -> None:
    start = (121.0, 31.0)
    pieces = dashes([list(start), _east(start, 250)], dash_m=60, gap_m=40)
    # 250 m = dash 0–60, gap, dash 100–160, gap, dash 200–250 (cut short by the end).
    assert [round(_length(p), 1) for p in pieces] == [60.0, 60.0, 50.0]
    assert [round(_metres(start, tuple(p[0])), 1) for p in pieces] == [0.0, 100.0, 200.0]


def test_a_dash_turns_a_corner_with_the_line() -> None:
    start = (121.0, 31.0)
    corner = _east(start, 50)
    north = [corner[0], corner[1] + 50 / 111_320]
    pieces = dashes([list(start), corner, north], dash_m=80, gap_m=20)
    # One dash: 50 m east, the corner, then 30 m north; the last 20 m are the gap.
    assert len(pieces) == 1 and len(pieces[0]) == 3
    assert pieces[0][1] == pytest.approx(corner)
    assert _length(pieces[0]) == pytest.approx(80.0, abs=0.2)  # coordinates kept to 6 digits


def test_nothing_to_dash() -> None:
    assert dashes([[121.0, 31.0]], dash_m=60, gap_m=30) == []
    assert dashes([[121.0, 31.0], [121.0, 31.0]], dash_m=60, gap_m=30) == []
