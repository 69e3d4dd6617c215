"""The light map: a grid map's deck drawn as SVG, with the same colours, outlines and labels."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from gridcore.ui.lightmap import svg_of
from gridcore.ui.maps import MapLayers, build_grid_map, label_box

SVG = "{http://www.w3.org/2000/svg}"


def _square(x: float, y: float, size: float = 0.01) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _grids() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["G1", "G2"],
            "name": ["Grid 1", "Grid 2"],
            "label": ["<b>Grid 1</b>", "第2网格"],
            "shape": [_square(121.40, 31.20), _square(121.41, 31.20)],
            "risk_level": ["high", "normal"],
        }
    )


def _numbers(path: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]


def _view_box(root: ET.Element) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the SVG's view box."""
    left, top, width, height = (float(v) for v in (root.get("viewBox") or "").split())
    return left, top, left + width, top + height


def _grid_points(root: ET.Element) -> tuple[list[float], list[float]]:
    """The x and the y of every corner of every grid."""
    numbers = [
        _numbers(p.get("d") or "") for p in root.iter(f"{SVG}path") if p.get("class") == "gc-grid"
    ]
    return [x for n in numbers for x in n[0::2]], [y for n in numbers for y in n[1::2]]


def test_grids_keep_their_colour_code_and_tooltip_and_fit_the_box() -> None:
    gmap = build_grid_map(
        grids=_grids(), measure="risk_level", lang="en", width_px=600, height_px=400
    )
    root = ET.fromstring(svg_of(gmap.deck.to_json(), width=600, height=400))
    left, top, right, bottom = _view_box(root)
    grids = {p.get("data-code"): p for p in root.iter(f"{SVG}path") if p.get("class") == "gc-grid"}
    assert set(grids) == {"G1", "G2"}
    assert grids["G1"].get("fill") == "rgb(198,40,40)"  # RISK_HEX["high"], as on the deck
    assert "High risk" in (grids["G1"].findtext(f"{SVG}title") or "")
    # Both squares lie inside the box, side by side, the first to the left; north is up.
    g1, g2 = (_numbers(grids[c].get("d") or "") for c in ("G1", "G2"))
    assert all(left <= v <= right for v in g1[0::2] + g2[0::2])
    assert all(top <= v <= bottom for v in g1[1::2] + g2[1::2])
    assert max(g1[0::2]) <= min(g2[0::2]) + 0.5
    assert g1[1] > g1[5]  # (x, y) then (x+s, y) then (x+s, y+s): further north is higher up


def test_labels_are_text_and_extra_layers_are_drawn() -> None:
    layers = MapLayers(
        zones=pd.DataFrame(
            {"level": ["sealed"], "shape": [_square(121.40, 31.20)], "lng": [None], "lat": [None]}
        ),
        sites=pd.DataFrame(
            {"name": ["Site <1>"], "name_zh": ["采样点"], "lng": [121.405], "lat": [31.205]}
        ),
    )
    gmap = build_grid_map(grids=_grids(), measure="risk_level", lang="zh", layers=layers)
    svg = svg_of(gmap.deck.to_json(), width=640, height=560)
    root = ET.fromstring(svg)
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "<b>Grid 1</b>" in labels and "<b>" not in svg  # shown as text, never as markup
    assert any(p.get("fill") == "none" for p in root.iter(f"{SVG}path"))  # the zone's dashes
    assert [c.findtext(f"{SVG}title") for c in root.iter(f"{SVG}circle")] == ["采样点"]


@pytest.mark.parametrize(("width", "height"), [(350, 440), (640, 620), (900, 300)])
def test_the_picture_is_the_street_with_no_empty_band_whatever_the_box(
    width: int, height: int
) -> None:
    """A street twice as wide as high, fitted to a phone's tall map (350×440), a desk's or a
    wide one: the SVG's view box is the street with a thin margin, so the map fills its box
    (the page's box takes the view box's shape) with no empty band above, below or beside it."""
    gmap = build_grid_map(
        grids=_grids(),
        measure="risk_level",
        lang="en",
        width_px=width,
        height_px=height,
        show_labels=False,
    )
    root = ET.fromstring(svg_of(gmap.deck.to_json(), width=width, height=height))
    left, top, right, bottom = _view_box(root)
    xs, ys = _grid_points(root)
    street_w, street_h = max(xs) - min(xs), max(ys) - min(ys)
    # Web Mercator: a degree of latitude at 31.2° N is drawn 1/cos(31.2°) times a longitude's.
    assert street_w / street_h == pytest.approx(2 * math.cos(math.radians(31.205)), rel=0.02)
    margin = 0.05 * max(street_w, street_h)
    assert 0 < min(ys) - top < margin and 0 < bottom - max(ys) < margin
    assert 0 < min(xs) - left < margin and 0 < right - max(xs) < margin


def test_labels_and_points_at_the_edge_stay_inside_the_picture() -> None:
    """A label wider than its grid, and a point on the street's edge, are drawn whole."""
    site = {"name": ["Site"], "name_zh": ["采样点"], "lng": [121.40], "lat": [31.21]}
    layers = MapLayers(sites=pd.DataFrame(site))
    gmap = build_grid_map(
        grids=_grids(), measure="risk_level", lang="en", layers=layers, width_px=350, height_px=440
    )
    root = ET.fromstring(svg_of(gmap.deck.to_json(), width=350, height=440))
    left, top, right, bottom = _view_box(root)
    labels = list(root.iter(f"{SVG}text"))
    assert labels
    for label in labels:
        x, y = float(label.get("x") or 0), float(label.get("y") or 0)
        w, h = label_box(label.text or "", int(float(label.get("font-size") or 13)))
        assert left <= x - w / 2 and x + w / 2 <= right, label.text
        assert top <= y - h / 2 and y + h / 2 <= bottom, label.text
    (site,) = root.iter(f"{SVG}circle")
    x, y, r = (float(site.get(a) or 0) for a in ("cx", "cy", "r"))
    assert left <= x - r and x + r <= right and top <= y - r and y + r <= bottom
