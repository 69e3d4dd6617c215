"""Coordinate systems: WGS-84 (stored) and GCJ-02 (Chinese map services), and view fitting.

GCJ-02 is WGS-84 with a published, deterministic obfuscation inside China; outside China
the two coincide. The inverse has no closed form and is solved by fixed-point iteration
(error below 1e-7 degrees, a centimetre).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

_A = 6378245.0
_EE = 0.00669342162296594323


def in_china(lng: float, lat: float) -> bool:
    """The rough rectangle where GCJ-02 differs from WGS-84."""
    return 72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """WGS-84 → GCJ-02 (unchanged outside China)."""
    if not in_china(lng, lat):
        return lng, lat
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lng + dlng, lat + dlat


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → WGS-84 by iteration (unchanged outside China)."""
    if not in_china(lng, lat):
        return lng, lat
    wlng, wlat = lng, lat
    for _ in range(30):
        glng, glat = wgs84_to_gcj02(wlng, wlat)
        dlng, dlat = glng - lng, glat - lat
        wlng, wlat = wlng - dlng, wlat - dlat
        if abs(dlng) < 1e-9 and abs(dlat) < 1e-9:
            break
    return wlng, wlat


def map_coordinates(geometry: dict[str, Any], fn: Any, digits: int = 6) -> dict[str, Any]:
    """A copy of a GeoJSON geometry with every (lng, lat) passed through `fn` and rounded."""

    def walk(node: Any) -> Any:
        if isinstance(node, (list, tuple)) and node and isinstance(node[0], (int, float)):
            lng, lat = fn(float(node[0]), float(node[1]))
            return [round(lng, digits), round(lat, digits)]
        return [walk(child) for child in node]

    return {**geometry, "coordinates": walk(geometry["coordinates"])}


def outer_rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    """The outer ring of each polygon in a Polygon or MultiPolygon."""
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def fit_view(
    lngs: Iterable[float], lats: Iterable[float], width_px: int = 640, height_px: int = 520
) -> tuple[float, float, float]:
    """(center_lng, center_lat, zoom) that shows every point with a small margin.

    deck.gl's world is 512 px wide at zoom 0; the width is a conservative guess, since a
    chart stretches to its column.
    """
    xs, ys = list(lngs), list(lats)
    if not xs:
        return 121.47, 31.23, 11.0
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    center_lng, center_lat = (min_x + max_x) / 2, (min_y + max_y) / 2
    span_x = max(max_x - min_x, 1e-4) * 1.15
    span_y = max(max_y - min_y, 1e-4) * 1.15 / math.cos(math.radians(center_lat))
    zoom_x = math.log2(width_px * 360 / (512 * span_x))
    zoom_y = math.log2(height_px * 360 / (512 * span_y))
    return center_lng, center_lat, round(min(zoom_x, zoom_y, 18.0), 2)


def ring_centroid(ring: Sequence[Sequence[float]]) -> tuple[float, float]:
    """Mean of a ring's vertices (good enough to place a label inside a convex-ish grid)."""
    pts = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


_METRES_PER_DEGREE = 111_320.0


def dashes(
    line: Sequence[Sequence[float]], *, dash_m: float, gap_m: float, digits: int = 6
) -> list[list[list[float]]]:
    """A line (or ring) of (lng, lat) cut into pieces `dash_m` long with `gap_m` between.

    Distances are metres along the line (equirectangular, exact enough within a street).
    Drawn as plain paths, the pieces look dashed at every zoom without a shader extension.
    """
    if len(line) < 2 or dash_m <= 0 or gap_m < 0:
        return []
    kx = _METRES_PER_DEGREE * math.cos(math.radians(line[0][1]))
    period = dash_m + gap_m
    out: list[list[list[float]]] = []
    current: list[list[float]] | None = None
    travelled = 0.0

    def at(a: Sequence[float], b: Sequence[float], share: float) -> list[float]:
        return [
            round(a[0] + (b[0] - a[0]) * share, digits),
            round(a[1] + (b[1] - a[1]) * share, digits),
        ]

    for a, b in zip(line, line[1:], strict=False):
        length = math.hypot((b[0] - a[0]) * kx, (b[1] - a[1]) * _METRES_PER_DEGREE)
        if length == 0:
            continue
        start, end = travelled, travelled + length
        here = start
        while here < end:
            phase = here % period
            in_dash = phase < dash_m
            boundary = here - phase + (dash_m if in_dash else period)
            step_end = min(boundary, end)
            # A dash that would start in the last micrometre is rounding, not a dash.
            if in_dash and (current is not None or step_end - here > 1e-6):
                if current is None:
                    current = [at(a, b, (here - start) / length)]
                current.append(at(a, b, (step_end - start) / length))
                if step_end == boundary:
                    out.append(current)
                    current = None
            here = step_end
        travelled = end
    if current is not None:
        out.append(current)
    return out
