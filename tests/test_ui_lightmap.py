"""The light map: a grid map's deck drawn as SVG, with the same colours, outlines and labels."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd

from gridcore.ui.lightmap import svg_of
from gridcore.ui.maps import MapLayers, build_grid_map

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


def test_grids_keep_their_colour_code_and_tooltip_and_fit_the_box() -> None:
    gmap = build_grid_map(
        grids=_grids(), measure="risk_level", lang="en", width_px=600, height_px=400
    )
    root = ET.fromstring(svg_of(gmap.deck.to_json(), width=600, height=400))
    assert root.get("viewBox") == "0 0 600 400"
    grids = {p.get("data-code"): p for p in root.iter(f"{SVG}path") if p.get("class") == "gc-grid"}
    assert set(grids) == {"G1", "G2"}
    assert grids["G1"].get("fill") == "rgb(198,40,40)"  # RISK_HEX["high"], as on the deck
    assert "High risk" in (grids["G1"].findtext(f"{SVG}title") or "")
    # Both squares lie inside the box, side by side, the first to the left; north is up.
    g1, g2 = (_numbers(grids[c].get("d") or "") for c in ("G1", "G2"))
    assert all(0 <= v <= 600 for v in g1[0::2] + g2[0::2])
    assert all(0 <= v <= 400 for v in g1[1::2] + g2[1::2])
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
