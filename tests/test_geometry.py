"""The demo's map shapes: nested areas tile their parent exactly, points fall inside."""

from __future__ import annotations

import json
import random

import numpy as np
import shapely
from shapely.geometry import Point, Polygon, shape

from gridcore.demo.geometry import (
    Cell,
    Frame,
    centre,
    geojson,
    neighbours,
    outline,
    points_inside,
    snap,
    split,
    subdivide,
)

FRAME = Frame(121.4255, 31.1712)


def _tree(seed: int, communities: int = 3, grids: int = 4) -> Cell:
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    root = Cell(rough=outline(width=1500, height=1100, rng=rng))
    subdivide(root, [0] * communities, np_rng)
    for community in root.children:
        subdivide(community, [0] * grids, np_rng)
    snap(root, FRAME)
    return root


def _coordinates(geom: Polygon) -> list[tuple[float, float]]:
    return [tuple(c) for c in shapely.get_coordinates(geom)]


def test_children_tile_their_parent_without_gaps_or_overlaps() -> None:
    root = _tree(7)
    assert len(root.children) == 3
    for parent in [root, *root.children]:
        assert parent.shape is not None and parent.shape.is_valid
        kids = [c.shape for c in parent.children]
        assert all(k is not None and k.is_valid and k.geom_type == "Polygon" for k in kids)
        union = shapely.unary_union(kids)
        assert union.symmetric_difference(parent.shape).area < 1e-12
        for i, a in enumerate(kids):
            for b in kids[i + 1 :]:
                assert a.intersection(b).area < 1e-14
    # Every leaf has a real size: about a twelfth of the whole, not a sliver.
    leaves = [leaf.shape.area for leaf in root.leaves()]
    assert min(leaves) > root.shape.area / 12 / 4


def test_shapes_are_in_degrees_near_the_frame_with_six_decimals() -> None:
    root = _tree(3)
    for lng, lat in _coordinates(root.shape):
        assert abs(lng - FRAME.lng) < 0.01 and abs(lat - FRAME.lat) < 0.01
        assert round(lng, 6) == lng and round(lat, 6) == lat
    # The stored GeoJSON reads back to the same shape.
    text = geojson(root.children[0].shape)
    assert json.loads(text)["type"] == "Polygon"
    assert shape(json.loads(text)).equals(root.children[0].shape)


def test_neighbouring_leaves_share_vertices_exactly() -> None:
    leaves = [leaf.shape for leaf in _tree(11).leaves()]
    near = neighbours(leaves)
    assert all(i not in near[i] for i in range(len(leaves)))
    assert all(i in near[j] for i in range(len(leaves)) for j in near[i])
    # A shared edge means shared vertices, bit for bit.
    i = 0
    j = min(near[i])
    shared = set(_coordinates(leaves[i])) & set(_coordinates(leaves[j]))
    assert len(shared) >= 2


def test_split_is_deterministic_for_a_seed_and_differs_across_seeds() -> None:
    area = outline(width=1000, height=800, rng=random.Random(1))
    first = split(area, 5, np.random.default_rng(4))
    again = split(area, 5, np.random.default_rng(4))
    other = split(area, 5, np.random.default_rng(5))
    assert [p.wkt for p in first] == [p.wkt for p in again]
    assert [p.wkt for p in first] != [p.wkt for p in other]
    assert abs(sum(p.area for p in first) - area.area) < 1e-6


def test_points_fall_strictly_inside_a_concave_shape() -> None:
    # An L-shaped grid: the bounding box holds a corner that is outside.
    ell = Polygon([(0, 0), (0.004, 0), (0.004, 0.001), (0.001, 0.001), (0.001, 0.004), (0, 0.004)])
    points = points_inside(ell, 40, random.Random(2), margin_m=10.0)
    assert len(points) == 40
    for lng, lat in points:
        assert ell.contains(Point(lng, lat))
        assert ell.exterior.distance(Point(lng, lat)) > 9.0 / 110_574.0
        assert round(lng, 6) == lng


def test_centre_is_inside_even_for_a_crescent() -> None:
    crescent = Point(0, 0).buffer(1.0).difference(Point(0.6, 0).buffer(0.9))
    lng, lat = centre(crescent)
    assert crescent.contains(Point(lng, lat))
