"""The light map: the same picture as a grid map's deck, drawn as SVG for a browser whose WebGL
is software-rendered (a command room's virtual desktop, a GPU-less PC), where each deck.gl map
holds the page for seconds while the first frame is drawn.

`svg_of` reads the deck's own JSON (its view, grid polygons, zone outlines, points and labels),
so the colours, outlines and labels are exactly the WebGL map's; the legend is drawn beside it
by views.show_map as for the deck. Grids carry their code (`data-code`) for click-to-open.
The SVG's view box is what is drawn, so the picture fills its box edge to edge.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

from gridcore.ui.maps import GRID_LAYER_ID, label_box

# deck.gl's world is 512 px wide at zoom 0 (Web Mercator).
WORLD_PX = 512.0
# Room left around the drawn shapes, as a share of the larger side (and at least MARGIN_PX).
MARGIN = 0.03
MARGIN_PX = 6.0


class _Extent:
    """The box (SVG user units) that the shapes drawn so far cover."""

    def __init__(self) -> None:
        self.left = self.top = math.inf
        self.right = self.bottom = -math.inf

    def add(self, x: float, y: float, *, dx: float = 0.0, dy: float = 0.0) -> None:
        """Take in the point (x, y) and `dx`, `dy` either side of it."""
        self.left, self.right = min(self.left, x - dx), max(self.right, x + dx)
        self.top, self.bottom = min(self.top, y - dy), max(self.bottom, y + dy)

    def view_box(self, width: int, height: int) -> str:
        """The covered box with a margin; the whole `width` × `height` when nothing is drawn."""
        if self.left > self.right:
            return f"0 0 {width} {height}"
        margin = max(MARGIN_PX, MARGIN * max(self.right - self.left, self.bottom - self.top))
        left, top = self.left - margin, self.top - margin
        w, h = self.right - left + margin, self.bottom - top + margin
        return f"{left:.1f} {top:.1f} {w:.1f} {h:.1f}"


def _projector(view: dict[str, Any], width: int, height: int) -> Any:
    scale = WORLD_PX * 2 ** float(view.get("zoom", 11))

    def mercator(lng: float, lat: float) -> tuple[float, float]:
        x = (lng + 180.0) / 360.0 * scale
        phi = math.radians(max(-85.0, min(85.0, lat)))
        y = (1.0 - math.log(math.tan(phi) + 1.0 / math.cos(phi)) / math.pi) / 2.0 * scale
        return x, y

    cx, cy = mercator(float(view.get("longitude", 0.0)), float(view.get("latitude", 0.0)))

    def project(point: list[float]) -> tuple[float, float]:
        x, y = mercator(point[0], point[1])
        return x - cx + width / 2.0, y - cy + height / 2.0

    return project


def _rgba(color: Any, fallback: str = "rgb(0,0,0)") -> tuple[str, float]:
    """('rgb(r,g,b)', opacity) of a deck colour [r, g, b(, a)]."""
    if not isinstance(color, list) or len(color) < 3:
        return fallback, 1.0
    alpha = color[3] / 255.0 if len(color) > 3 else 1.0
    return f"rgb({int(color[0])},{int(color[1])},{int(color[2])})", round(alpha, 3)


def _path(
    points: list[list[float]], project: Any, extent: _Extent, *, closed: bool, stroke_px: float
) -> str:
    pieces = []
    for i, point in enumerate(points):
        x, y = project(point)
        extent.add(x, y, dx=stroke_px / 2, dy=stroke_px / 2)
        pieces.append(f"{'M' if i == 0 else 'L'}{x:.1f} {y:.1f}")
    return "".join(pieces) + ("Z" if closed else "")


def _color(layer: dict[str, Any], row: dict[str, Any], accessor: str, field: str) -> Any:
    """A colour given per row (the layer's accessor names a field) or fixed for the layer."""
    fixed = layer.get(accessor)
    return fixed if isinstance(fixed, list) else row.get(field)


def _paint(layer: dict[str, Any], row: dict[str, Any], field: str, *, filled: bool = True) -> str:
    """The fill and stroke attributes of one shape: per-row colours (`field` names the row's
    fill, "line" its stroke, unless the layer fixes them)."""
    fill, fill_opacity = _rgba(_color(layer, row, "getFillColor", field))
    line, line_opacity = _rgba(_color(layer, row, "getLineColor", "line"), "rgb(255,255,255)")
    if not filled:
        fill, fill_opacity = "none", 0
    return (
        f' fill="{fill}" fill-opacity="{fill_opacity}"'
        f' stroke="{line}" stroke-opacity="{line_opacity}"'
    )


def _title(row: dict[str, Any]) -> str:
    """The hover text of a shape (its tooltip on the WebGL map)."""
    return f"<title>{escape(str(row['tip']))}</title>" if row.get("tip") else ""


def _polygons(layer: dict[str, Any], project: Any, extent: _Extent, *, grids: bool) -> list[str]:
    stroke_px = float(layer.get("lineWidthMinPixels", 1.5))
    out = []
    for row in layer.get("data", []):
        code = escape(str(row.get("code", "")), quote=True)
        kind = ' class="gc-grid"' if grids and code else ""
        outline = _path(row["polygon"], project, extent, closed=True, stroke_px=stroke_px)
        out.append(
            f'<path{kind} data-code="{code}" d="{outline}"{_paint(layer, row, "fill")}'
            f' stroke-width="{stroke_px}">{_title(row)}</path>'
        )
    return out


def _lines(layer: dict[str, Any], project: Any, extent: _Extent) -> list[str]:
    out = []
    for row in layer.get("data", []):
        color, opacity = _rgba(row.get("color"))
        line = _path(row["path"], project, extent, closed=False, stroke_px=4)
        out.append(
            f'<path d="{line}" fill="none" stroke="{color}"'
            f' stroke-opacity="{opacity}" stroke-width="4"/>'
        )
    return out


def _points(layer: dict[str, Any], project: Any, extent: _Extent) -> list[str]:
    radius = float(layer.get("radiusMinPixels", 4))
    filled = layer.get("filled", True) is not False
    line_width = float(layer.get("lineWidthMinPixels", 1))
    out = []
    for row in layer.get("data", []):
        x, y = project(row["position"])
        extent.add(x, y, dx=radius + line_width / 2, dy=radius + line_width / 2)
        # A point's one per-row colour ("color") fills it, or rings it when the layer is unfilled.
        row = {**row, "line": row.get("color")}
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}"'
            f'{_paint(layer, row, "color", filled=filled)} stroke-width="{line_width}">'
            f"{_title(row)}</circle>"
        )
    return out


def _labels(layer: dict[str, Any], project: Any, extent: _Extent) -> list[str]:
    size = float(layer.get("getSize", 13)) if not isinstance(layer.get("getSize"), str) else 13.0
    out = []
    for row in layer.get("data", []):
        x, y = project(row["position"])
        w, h = label_box(str(row["text"]), int(size))
        extent.add(x, y, dx=w / 2, dy=h / 2)
        text = escape(str(row["text"]))
        out.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:.0f}">{text}</text>')
    return out


def svg_of(deck_json: str, *, width: int, height: int) -> str:
    """The deck `deck_json` (a CompactDeck's JSON) as one SVG, drawn at the scale of the deck's
    view fitted to `width` × `height` px, its view box cut to what is drawn (with a margin),
    scaling to its box."""
    deck = json.loads(deck_json)
    view = deck.get("initialViewState", {})
    project = _projector(view, width, height)
    extent = _Extent()
    body: list[str] = []
    for layer in deck.get("layers", []):
        kind, layer_id = layer.get("@@type"), layer.get("id")
        if kind == "PolygonLayer":
            body += _polygons(layer, project, extent, grids=layer_id == GRID_LAYER_ID)
        elif kind == "PathLayer":
            body += _lines(layer, project, extent)
        elif kind == "ScatterplotLayer":
            body += _points(layer, project, extent)
        elif kind == "TextLayer":
            body += _labels(layer, project, extent)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" class="gc-light-map"'
        f' viewBox="{extent.view_box(width, height)}" preserveAspectRatio="xMidYMid meet"'
        ' width="100%" height="100%" role="img">'
        "<style>.gc-light-map{display:block}"
        ".gc-light-map text{fill:#1b1b1b;font-weight:600;text-anchor:middle;"
        "dominant-baseline:central;paint-order:stroke;stroke:#fff;stroke-width:3px;"
        "font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei','Microsoft YaHei',sans-serif;"
        "pointer-events:none}.gc-light-map .gc-grid:hover{fill-opacity:1}</style>"
        + "".join(body)
        + "</svg>"
    )


# Draws the SVG made by svg_of into the page and reports the code of a clicked (or tapped)
# grid; the SVG is GridCore's own (every text in it escaped), never user markup. With `fit`
# the box is as tall as the map is at the box's width, up to `height` px (a street wider than
# the box's shape leaves no empty band above and below it); otherwise the box is `height` px
# and the map is centred in it.
LIGHT_MAP_JS = r"""
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let box = parentElement.querySelector(".gc-light-box");
  if (!box) {
    box = document.createElement("div");
    box.className = "gc-light-box";
    parentElement.appendChild(box);
  }
  if (box.dataset.version !== data.version) {
    box.innerHTML = data.svg;
    box.dataset.version = data.version;
  }
  box.style.width = "100%";
  const svg = box.querySelector("svg");
  const view = svg && svg.viewBox.baseVal;
  if (data.fit && view && view.width > 0 && view.height > 0) {
    box.style.height = "auto";
    box.style.aspectRatio = `${view.width} / ${view.height}`;
    box.style.maxHeight = `${data.height}px`;
  } else {
    box.style.height = `${data.height}px`;
    box.style.aspectRatio = "";
    box.style.maxHeight = "";
  }
  const selectable = Boolean(data.selectable);
  for (const grid of box.querySelectorAll(".gc-grid")) {
    grid.style.cursor = selectable ? "pointer" : "default";
  }
  const onClick = (event) => {
    const grid = event.target.closest && event.target.closest(".gc-grid");
    if (selectable && grid) setTriggerValue("tap", grid.dataset.code);
  };
  box.addEventListener("click", onClick);
  return () => box.removeEventListener("click", onClick);
}
"""

# Reports once whether this browser's WebGL is drawn in software (no GPU): SwiftShader,
# llvmpipe and the like, or no WebGL at all.
WEBGL_PROBE_JS = r"""
export default function (component) {
  const { setStateValue } = component;
  let software = true;
  try {
    const canvas = document.createElement("canvas");
    const gl = canvas.getContext("webgl2") || canvas.getContext("webgl");
    if (gl) {
      const info = gl.getExtension("WEBGL_debug_renderer_info");
      const renderer = String(
        info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER)
      );
      software = /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
      const lose = gl.getExtension("WEBGL_lose_context");
      if (lose) lose.loseContext();
    }
  } catch (error) {
    software = true;
  }
  setStateValue("software", software);
}
"""
