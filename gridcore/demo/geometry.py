"""Map shapes for the demo worlds: nested areas that tile their parent exactly.

Areas are drawn in local metres (balanced Voronoi cells clipped to the parent), then
every boundary is noded together on a grid of 1e-6 degree and polygonised, so that
neighbours share their edges vertex for vertex: no gaps, no overlaps, and
coordinates already rounded to six decimals.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPoint, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

METRES_PER_DEGREE_LAT = 110_574.0
MICRO = 1_000_000.0  # working unit of the snapped shapes: 1e-6 degree


@dataclass(frozen=True)
class Frame:
    """A local plane in metres around (lng, lat), east and north."""

    lng: float
    lat: float

    @property
    def metres_per_degree_lng(self) -> float:
        return 111_320.0 * math.cos(math.radians(self.lat))

    def to_micro(self, geom: BaseGeometry) -> BaseGeometry:
        """Local metres → micro-degrees (an affine map, so lines stay lines)."""
        sx = MICRO / self.metres_per_degree_lng
        sy = MICRO / METRES_PER_DEGREE_LAT
        return affinity.affine_transform(
            geom, [sx, 0.0, 0.0, sy, self.lng * MICRO, self.lat * MICRO]
        )


@dataclass
class Cell:
    """One area while the tiling is drawn: a rough shape in metres, then its exact one."""

    rough: Polygon
    children: list[Cell] = field(default_factory=list)
    shape: Polygon | None = None  # exact, in degrees, after snap()

    def leaves(self) -> list[Cell]:
        """The cells at the bottom of this subtree, left to right."""
        if not self.children:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]


def outline(*, width: float, height: float, rng: random.Random, vertices: int = 28) -> Polygon:
    """An irregular, roughly rectangular outline of `width` × `height` metres around (0, 0)."""
    points = []
    for i in range(vertices):
        angle = 2 * math.pi * i / vertices
        c, s = math.cos(angle), math.sin(angle)
        # A superellipse is a rounded rectangle; the noise makes the edge look surveyed.
        x = math.copysign(abs(c) ** 0.45, c) * width / 2
        y = math.copysign(abs(s) ** 0.45, s) * height / 2
        wobble = 1.0 + rng.uniform(-0.05, 0.05)
        points.append((x * wobble, y * wobble))
    polygon = Polygon(points)
    return polygon if polygon.is_valid else polygon.convex_hull


def sample_points(polygon: Polygon, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` uniform random points inside `polygon` (n × 2 array)."""
    minx, miny, maxx, maxy = polygon.bounds
    found: list[np.ndarray] = []
    total = 0
    shapely.prepare(polygon)
    while total < count:
        batch = rng.uniform((minx, miny), (maxx, maxy), size=(max(count, 64) * 2, 2))
        inside = batch[shapely.contains_xy(polygon, batch[:, 0], batch[:, 1])]
        found.append(inside)
        total += len(inside)
    return np.concatenate(found)[:count]


def balanced_seeds(
    polygon: Polygon, count: int, rng: np.random.Generator, *, iterations: int = 12
) -> np.ndarray:
    """Seeds whose Voronoi cells have similar areas (Lloyd's iterations on a sample)."""
    sample = sample_points(polygon, max(200 * count, 2000), rng)
    seeds = sample[rng.choice(len(sample), size=count, replace=False)]
    for _ in range(iterations):
        distance = ((sample[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2)
        nearest = distance.argmin(axis=1)
        for k in range(count):
            members = sample[nearest == k]
            if len(members):
                seeds[k] = members.mean(axis=0)
    # West to east, then north to south within a band, so numbering reads like a map.
    order = sorted(range(count), key=lambda k: (round(-seeds[k, 1] / 400.0), seeds[k, 0]))
    return seeds[order]


def split(polygon: Polygon, count: int, rng: np.random.Generator) -> list[Polygon]:
    """`polygon` cut into `count` balanced, slightly irregular cells (rough, in metres)."""
    if count == 1:
        return [polygon]
    seeds = balanced_seeds(polygon, count, rng)
    # A little jitter keeps the cells from looking machine-made.
    size = math.sqrt(polygon.area / count)
    seeds = seeds + rng.normal(0.0, size * 0.06, size=seeds.shape)
    diagram = shapely.voronoi_polygons(
        MultiPoint([tuple(p) for p in seeds]), extend_to=polygon.buffer(size), ordered=True
    )
    cells = []
    for cell in diagram.geoms:
        piece = cell.intersection(polygon)
        cells.append(piece)
    return cells


def subdivide(cell: Cell, counts: list[int], rng: np.random.Generator) -> None:
    """Give `cell` one child per entry of `counts` (each a rough cell)."""
    cell.children = [Cell(rough=piece) for piece in split(cell.rough, len(counts), rng)]


def snap(root: Cell, frame: Frame) -> None:
    """Give every cell of the tree its exact shape: leaves tile parents, parents tile root."""
    leaves = root.leaves()
    rough = [frame.to_micro(leaf.rough) for leaf in leaves]
    boundaries = [shapely.boundary(piece) for piece in rough]
    noded = shapely.unary_union(boundaries, grid_size=1.0)
    faces = list(shapely.polygonize(list(shapely.get_parts(noded))).geoms)
    tree = STRtree(rough)
    owner: list[list[Polygon]] = [[] for _ in leaves]
    for face in faces:
        point = face.representative_point()
        hits = [int(i) for i in tree.query(point, predicate="intersects")]
        if not hits:
            hits = [int(tree.nearest(point))]
        owner[hits[0]].append(face)
    micro = [_merge(parts) for parts in owner]
    _absorb_fragments(micro)
    for leaf, shape in zip(leaves, micro, strict=True):
        leaf.shape = shape
    _union_up(root)
    _to_degrees(root)


def _merge(parts: list[Polygon]) -> BaseGeometry:
    if not parts:
        return Polygon()
    return shapely.unary_union(parts, grid_size=1.0)


def _absorb_fragments(shapes: list[BaseGeometry]) -> None:
    """Hand detached slivers of a multi-part leaf to the neighbour they share most edge with."""
    for index, shape in enumerate(shapes):
        if shape.geom_type != "MultiPolygon":
            continue
        parts = sorted(shape.geoms, key=lambda p: p.area, reverse=True)
        shapes[index] = parts[0]
        for fragment in parts[1:]:
            best, length = None, 0.0
            for other, candidate in enumerate(shapes):
                if other == index:
                    continue
                shared = fragment.boundary.intersection(candidate.boundary).length
                if shared > length:
                    best, length = other, shared
            target = index if best is None else best
            shapes[target] = shapely.unary_union([shapes[target], fragment], grid_size=1.0)


def _union_up(cell: Cell) -> BaseGeometry:
    if cell.children:
        cell.shape = shapely.unary_union([_union_up(c) for c in cell.children], grid_size=1.0)
    assert cell.shape is not None
    return cell.shape


def _to_degrees(cell: Cell) -> None:
    assert cell.shape is not None
    cell.shape = shapely.transform(cell.shape, lambda xy: np.round(xy) / MICRO)
    for child in cell.children:
        _to_degrees(child)


def geojson(shape: BaseGeometry) -> str:
    """The GeoJSON geometry text of `shape` (coordinates as stored: six decimals)."""
    return json.dumps(mapping(shape), separators=(",", ":"))


def centre(shape: BaseGeometry) -> tuple[float, float]:
    """A label point: the centroid, or a point surely inside when the centroid is not."""
    point = shape.centroid
    if not shape.contains(point):
        point = shape.representative_point()
    return round(point.x, 6), round(point.y, 6)


def points_inside(
    shape: BaseGeometry,
    count: int,
    rng: random.Random,
    *,
    margin_m: float = 12.0,
    spacing_m: float = 18.0,
) -> list[tuple[float, float]]:
    """`count` points (lng, lat) strictly inside `shape`, away from its edge and each other."""
    inner = shape.buffer(-margin_m / METRES_PER_DEGREE_LAT)
    if inner.is_empty:
        inner = shape
    minx, miny, maxx, maxy = inner.bounds
    shapely.prepare(inner)
    shapely.prepare(shape)
    spacing = spacing_m / METRES_PER_DEGREE_LAT
    points: list[tuple[float, float]] = []
    tries = 0
    while len(points) < count:
        tries += 1
        lng = round(rng.uniform(minx, maxx), 6)
        lat = round(rng.uniform(miny, maxy), 6)
        if not inner.contains(Point(lng, lat)) or not shape.contains(Point(lng, lat)):
            continue
        # Spacing is a wish, not a rule: crowded grids give it up after a while.
        if tries < 40 * count and any(
            abs(lng - x) < spacing and abs(lat - y) < spacing for x, y in points
        ):
            continue
        points.append((lng, lat))
    return points


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two (lng, lat) points a few kilometres apart."""
    dx = (a[0] - b[0]) * 111_320.0 * math.cos(math.radians(a[1]))
    dy = (a[1] - b[1]) * METRES_PER_DEGREE_LAT
    return math.hypot(dx, dy)


def neighbours(shapes: list[BaseGeometry]) -> list[set[int]]:
    """For each shape, the indexes of the shapes that share a stretch of edge with it."""
    tree = STRtree(shapes)
    found: list[set[int]] = [set() for _ in shapes]
    for i, shape in enumerate(shapes):
        for j in tree.query(shape, predicate="intersects"):
            j = int(j)
            if j != i and shape.boundary.intersection(shapes[j].boundary).length > 0:
                found[i].add(j)
    return found
