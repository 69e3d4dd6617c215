"""Pure pydeck builders: a DataFrame in, a Deck (plus its legend) out; no Streamlit here."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from gridcore.geo import dashes, fit_view, outer_rings, ring_centroid, wgs84_to_gcj02
from gridcore.i18n import display_name, fmt_int, fmt_num, fmt_pct, t
from gridcore.ui.theme import (
    NO_DATA_HEX,
    NO_WORKER_HEX,
    RISK_HEX,
    RISK_LEVELS,
    SEQUENTIAL_HEX,
    SERIES_HEX,
    ZONE_HEX,
    hex_to_rgba,
)

MEASURES: tuple[str, ...] = (
    "risk_level",
    "active_cases",
    "incidence_7d_per_10k",
    "coverage",
    "open_requests",
    "households_per_worker",
)

GRID_LAYER_ID = "grids"
# Zone outlines are dashed as plain paths: deck.gl's dash extension redraws without end in
# Streamlit, which keeps a software-rendered browser busy on every page with a zone.
ZONE_DASH_M = 60.0
ZONE_GAP_M = 30.0

# Bin edges (lower bounds) for the numeric measures; the last bin is open-ended.
_BINS: dict[str, tuple[float, ...]] = {
    "active_cases": (0, 1, 3, 6, 11),
    "incidence_7d_per_10k": (0, 0.001, 5, 20, 50),
    "open_requests": (0, 1, 3, 6, 11),
    "households_per_worker": (0, 200, 300, 400, 600),
    "coverage": (0, 0.5, 0.8, 0.9, 0.95),
}
# Coverage: more is better, so the scale runs dark (bad) → light (good).
_COVERAGE_HEX: tuple[str, ...] = ("#8D2C00", "#E65100", "#FF9800", "#FFE0B2", "#C8E6C9")


@dataclass(frozen=True)
class LegendEntry:
    """One line of a map legend: a fill swatch, a dashed outline or a dot."""

    label: str
    color: str
    kind: str = "fill"


@dataclass
class MapLayers:
    """Optional extra layers drawn over the grids."""

    zones: pd.DataFrame | None = None
    buildings: pd.DataFrame | None = None
    sites: pd.DataFrame | None = None
    depots: pd.DataFrame | None = None


@dataclass
class GridMap:
    """A ready deck and its legend."""

    deck: pdk.Deck
    legend: list[LegendEntry] = field(default_factory=list)
    # The codes of the grids drawn: a tap reported by the browser opens only one of these.
    codes: frozenset[str] = frozenset()
    # The width and height (px) the view was fitted to, and the light map's SVG once made.
    size: tuple[int, int] = (640, 560)
    svg: str | None = None


def _bin_labels(measure: str, lang: str, bins: tuple[float, ...] | None = None) -> list[str]:
    if bins is not None:
        fmt = _fitted_format(measure, bins, lang)
        return (
            [f"< {fmt(bins[1])}"]
            + [f"{fmt(bins[i])}–{fmt(bins[i + 1])}" for i in range(1, len(bins) - 1)]
            + [f"≥ {fmt(bins[-1])}"]
        )
    edges = _BINS[measure]
    if measure == "coverage":
        pcts = [fmt_pct(e, lang, 0) for e in edges]
        return (
            [f"< {pcts[1]}"] + [f"{pcts[i]}–{pcts[i + 1]}" for i in range(1, 4)] + [f"≥ {pcts[4]}"]
        )
    if measure == "incidence_7d_per_10k":
        return ["0", "< 5", "5–20", "20–50", "≥ 50"]
    ints = [int(e) for e in edges]
    labels = ["0"] if ints[0] == 0 and ints[1] == 1 else [f"< {ints[1]}"]
    for i in range(1, 4):
        low, high = ints[i], ints[i + 1] - 1
        labels.append(str(low) if low == high else f"{low}–{high}")
    labels.append(f"≥ {ints[4]}")
    return labels


def measure_color(measure: str, value: Any, bins: tuple[float, ...] | None = None) -> str:
    """The fill colour of one grid for `measure` (grey when the value is unknown).

    `bins` are lower bin edges when the scale is fitted to the values (`fitted_bins`).
    """
    if measure == "risk_level":
        return RISK_HEX.get(str(value), NO_DATA_HEX)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if measure == "households_per_worker":
            return NO_WORKER_HEX  # no full-time worker at all: worse than any count
        return NO_DATA_HEX
    edges = bins or _BINS[measure]
    index = max(i for i, edge in enumerate(edges) if value >= edge)
    palette = _COVERAGE_HEX if measure == "coverage" else SEQUENTIAL_HEX
    return palette[index]


def _nice_step(span: float) -> float:
    """A round step (1, 2 or 5 × 10^k) that cuts `span` into about four bins."""
    raw = span / 4
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def fitted_bins(measure: str, values: Any) -> tuple[float, ...] | None:
    """Five lower bin edges fitted to `values`, or None when the fixed scale separates them.

    Mid-round every grid's coverage sits in the fixed scale's lowest bin and the map would be
    one colour; the fitted scale (round steps between the lowest and highest value) still
    tells the grids apart. Risk levels and counts keep their fixed scale.
    """
    if measure not in ("coverage", "incidence_7d_per_10k"):
        return None
    known = [float(v) for v in values if v is not None and v == v]
    if len(set(known)) < 2:
        return None
    fixed = _BINS[measure]
    used = {max(i for i, edge in enumerate(fixed) if v >= edge) for v in known}
    if len(used) >= 3:
        return None
    low, high = min(known), max(known)
    step = _nice_step(high - low)
    start = math.floor(low / step) * step
    # Lower edges: the first bin is open below, the last open above.
    return tuple(round(start + i * step, 6) for i in range(5))


def _fitted_format(measure: str, bins: tuple[float, ...], lang: str) -> Callable[[float], str]:
    if measure == "coverage":
        digits = 0 if all(round(b * 100, 6) == int(round(b * 100, 6)) for b in bins) else 1
        return lambda v: fmt_pct(v, lang, digits)
    return lambda v: fmt_num(v, lang, 0 if all(float(b).is_integer() for b in bins) else 1)


def measure_legend(
    measure: str, lang: str, bins: tuple[float, ...] | None = None
) -> list[LegendEntry]:
    """Legend entries for the grid fill of `measure` (on the fitted scale `bins` if given)."""
    if measure == "risk_level":
        return [LegendEntry(t(f"risk.{level}", lang), RISK_HEX[level]) for level in RISK_LEVELS]
    palette = _COVERAGE_HEX if measure == "coverage" else SEQUENTIAL_HEX
    entries = [
        LegendEntry(label, color)
        for label, color in zip(_bin_labels(measure, lang, bins), palette, strict=True)
    ]
    if measure == "households_per_worker":
        entries.append(LegendEntry(t("map.no_fulltime_worker", lang), NO_WORKER_HEX))
    elif measure == "coverage":
        entries.append(LegendEntry(t("map.no_round", lang), NO_DATA_HEX))
    return entries


def format_measure(measure: str, value: Any, lang: str) -> str:
    """A measure's value as shown in tooltips and tables."""
    if measure == "risk_level":
        return t(f"risk.{value}", lang) if value else "—"
    if measure == "coverage":
        return fmt_pct(value, lang)
    if measure == "incidence_7d_per_10k":
        return fmt_num(value, lang)
    if measure == "households_per_worker" and (value is None or value != value):
        return t("map.no_fulltime_worker", lang)
    return fmt_int(value, lang)


def rank_by_measure(grids: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Grids worst first for `measure` (unknown values first: they need a look too)."""
    if measure == "risk_level":
        key = grids["risk_level"].map({level: i for i, level in enumerate(RISK_LEVELS)})
        ascending = True
    else:
        key = grids[measure]
        ascending = measure == "coverage"  # low coverage is the worst
    ranked = grids.assign(_key=key).sort_values("_key", ascending=ascending, na_position="first")
    return ranked.drop(columns="_key").reset_index(drop=True)


def _literal(text: str) -> str:
    """A string prop for pydeck, quoted so it is not read as a data accessor."""
    return "'" + text.replace("'", "") + "'"


def _characters(texts: Any) -> str:
    """The distinct characters of `texts` plus printable ASCII, for a TextLayer's atlas."""
    ascii_chars = {chr(c) for c in range(32, 127)}
    return "".join(sorted(ascii_chars.union(*(set(text) for text in texts))))


def _identity(lng: float, lat: float) -> tuple[float, float]:
    return lng, lat


def _projector(datum: str) -> Callable[[float, float], tuple[float, float]]:
    return wgs84_to_gcj02 if datum == "gcj02" else _identity


def _ring(
    ring: list[list[float]], project: Callable[[float, float], tuple[float, float]]
) -> list[list[float]]:
    out = []
    for lng, lat in ring:
        x, y = project(lng, lat)
        out.append([round(x, 5), round(y, 5)])
    return out


def map_tooltip(lines: list[tuple[str, str]], title: str) -> str:
    """The one tooltip text of the maps: a title, then 'label: value' lines; plain text only.

    pydeck shows fields as text (markup in a field would be shown literally), so no markup is
    ever built here; angle brackets in names are replaced so nothing reads as a tag.
    """
    parts = [title] + [f"{label}: {value}" for label, value in lines]
    return "\n".join(_plain(part) for part in parts)


def grid_tooltip_title(label: str, code: str) -> str:
    """A grid tooltip's first line, 'name (code)': the map's tap handler reads the code there."""
    return f"{map_label(label)} ({code})"


def _plain(text: str) -> str:
    return str(text).replace("<", "‹").replace(">", "›").replace("\n", " ")


def map_label(text: str) -> str:
    """A grid's map label: the hyphen as an en dash, which the map's font draws as a dash."""
    return str(text).replace("-", "–")


def short_label(text: str) -> str:
    """A label for small zoom: '第1-02网格' → '1–02', 'Grid 1-02' → '1–02'."""
    found = re.search(r"\d+(?:[-–·]\d+)*", str(text))
    return map_label(found.group(0)) if found else map_label(text)


# Label boxes, in screen pixels per character at the label size (CJK glyphs are square).
_CHAR_W = {"wide": 1.0, "narrow": 0.6}


def label_box(text: str, size: int) -> tuple[float, float]:
    """A label's width and height in screen pixels at `size` (with a little room around it)."""
    width = sum(size * (_CHAR_W["narrow"] if ord(c) < 0x2E80 else _CHAR_W["wide"]) for c in text)
    return width + 8, size + 4


def place_labels(
    candidates: list[dict[str, Any]], *, zoom: float, center_lat: float, size: int
) -> list[dict[str, Any]]:
    """The labels that fit at `zoom`, none overlapping another.

    Full names when every one fits; otherwise the short form ('1–02') for all, so a small
    screen shows one kind of label. A label that still overlaps one placed before it is left
    out (candidates come most important first). Each candidate has position, text and short.
    """
    scale = 512 * 2**zoom / 360  # pixels per degree of longitude
    lat_scale = scale / math.cos(math.radians(center_lat))
    for field_name in ("text", "short"):
        kept: list[dict[str, Any]] = []
        boxes: list[tuple[float, float, float, float]] = []
        for candidate in candidates:
            x = candidate["position"][0] * scale
            y = -candidate["position"][1] * lat_scale
            w, h = label_box(candidate[field_name], size)
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if not any(_overlap(box, other) for other in boxes):
                boxes.append(box)
                kept.append({"position": candidate["position"], "text": candidate[field_name]})
        if len(kept) == len(candidates):
            return kept
    return kept


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def build_grid_map(
    *,
    grids: pd.DataFrame,
    measure: str,
    lang: str,
    layers: MapLayers | None = None,
    label_column: str = "label",
    show_labels: bool = True,
    basemap_url: str = "",
    basemap_datum: str = "wgs84",
    height_px: int = 560,
    width_px: int = 640,
    large_text: bool = False,
    highlight_code: str | None = None,
) -> GridMap:
    """A map of grid polygons coloured by `measure`, with labels, tooltips and extra layers.

    `grids` needs: code, name, shape (GeoJSON geometry dict), `measure`, and `label_column`;
    optional: risk_level, active_cases, coverage (shown in the tooltip). `width_px` is the
    width the whole street must fit (on a 390 px phone about 350).
    """
    layers = layers or MapLayers()
    project = _projector(basemap_datum)
    polygon_rows: list[dict[str, Any]] = []
    label_rows: list[dict[str, Any]] = []
    all_lngs: list[float] = []
    all_lats: list[float] = []
    measure_label = t(f"measure.{measure}", lang)
    bins = fitted_bins(measure, grids[measure]) if measure in grids.columns else None
    for row in grids.itertuples(index=False):
        shape = getattr(row, "shape", None)
        if not shape:
            continue
        value = getattr(row, measure, None)
        fill = hex_to_rgba(measure_color(measure, value, bins), 200)
        line = [30, 30, 30, 255] if row.code == highlight_code else [255, 255, 255, 230]
        rings = [_ring(r, project) for r in outer_rings(shape)]
        lines = [(measure_label, format_measure(measure, value, lang))]
        if measure != "risk_level" and "risk_level" in grids.columns:
            lines.append(
                (t("measure.risk_level", lang), format_measure("risk_level", row.risk_level, lang))
            )
        tooltip = map_tooltip(
            lines, grid_tooltip_title(str(getattr(row, label_column)), str(row.code))
        )
        for ring in rings:
            polygon_rows.append(
                {"polygon": ring, "fill": fill, "line": line, "code": row.code, "tip": tooltip}
            )
            all_lngs.extend(p[0] for p in ring)
            all_lats.extend(p[1] for p in ring)
        if rings:
            cx, cy = ring_centroid(rings[0])
            text = str(getattr(row, label_column))
            label_rows.append(
                {"position": [cx, cy], "text": map_label(text), "short": short_label(text)}
            )

    deck_layers: list[pdk.Layer] = [
        pdk.Layer(
            "PolygonLayer",
            id=GRID_LAYER_ID,
            data=polygon_rows,
            get_polygon="polygon",
            get_fill_color="fill",
            get_line_color="line",
            line_width_min_pixels=1.5 if highlight_code is None else 2,
            stroked=True,
            filled=True,
            pickable=True,
            auto_highlight=True,
            highlight_color=[255, 255, 255, 90],
        )
    ]
    legend = measure_legend(measure, lang, bins)
    deck_layers += _zone_layers(layers.zones, project, lang, legend)
    deck_layers += _point_layers(layers, project, lang, legend)
    lng, lat, zoom = fit_view(all_lngs, all_lats, width_px=width_px, height_px=height_px)
    if show_labels:
        size = 22 if large_text else 13
        placed = place_labels(label_rows, zoom=zoom, center_lat=lat, size=size)
        deck_layers.append(_label_layer(placed, large_text))
    view = pdk.ViewState(longitude=lng, latitude=lat, zoom=zoom, pitch=0, bearing=0)
    deck = _deck(deck_layers, view, basemap_url)
    codes = frozenset(str(c) for c in grids["code"]) if "code" in grids.columns else frozenset()
    return GridMap(deck=deck, legend=legend, codes=codes, size=(width_px, height_px))


def _label_layer(label_rows: list[dict[str, Any]], large_text: bool) -> pdk.Layer:
    """Grid names on a white background, with every character they use in the atlas."""
    return pdk.Layer(
        "TextLayer",
        id="labels",
        data=label_rows,
        get_position="position",
        get_text="text",
        get_size=22 if large_text else 13,
        size_units=_literal("pixels"),
        get_color=[20, 20, 20, 255],
        background=True,
        get_background_color=[255, 255, 255, 210],
        background_padding=[4, 2],
        font_weight=600,
        # Every character the labels use (Chinese included), not just ASCII.
        character_set=_literal(_characters(row["text"] for row in label_rows)),
        font_family=_literal("Noto Sans CJK SC, WenQuanYi Zen Hei, Microsoft YaHei, sans-serif"),
        pickable=False,
    )


class CompactDeck(pdk.Deck):
    """A deck whose JSON has no indentation: pydeck indents by two spaces, which more than
    doubles what every map render sends to the browser (60 kB → 24 kB for the street's grid map).

    `freeze()` keeps the JSON once made, for a deck shared by every session (views.grid_map):
    it must not be changed afterwards.
    """

    _frozen: str | None = None

    def to_json(self) -> str:
        if self._frozen is not None:
            return self._frozen
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))

    def freeze(self) -> CompactDeck:
        self._frozen = None
        self._frozen = self.to_json()
        return self


# The columns of the grids a map reads (build_grid_map); the rest do not change the picture.
MAP_COLUMNS = ("code", "shape", "risk_level", "label")


def frame_fingerprint(frame: pd.DataFrame | None, columns: tuple[str, ...] = ()) -> str:
    """A digest of a frame's content (of `columns` only, where given): equal content, equal
    digest, whatever copy of the frame it is. Object columns (shapes, names) by their repr,
    the others by pandas' own hash."""
    digest = hashlib.blake2b(digest_size=16)
    if frame is None:
        return "none"
    names = [c for c in frame.columns if not columns or c in columns]
    digest.update(repr((names, len(frame))).encode())
    for name in names:
        column = frame[name]
        if column.dtype == object:
            digest.update(repr(column.tolist()).encode())
        else:
            digest.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def layers_fingerprint(layers: MapLayers | None) -> str:
    """A digest of the extra layers' content."""
    if layers is None:
        return "none"
    return "/".join(
        frame_fingerprint(frame)
        for frame in (layers.zones, layers.buildings, layers.sites, layers.depots)
    )


def _deck(layers: list[pdk.Layer], view: pdk.ViewState, basemap_url: str) -> pdk.Deck:
    tooltip = {
        "text": "{tip}",
        "style": {
            "backgroundColor": "#263238",
            "color": "white",
            "fontSize": "14px",
            "whiteSpace": "pre-line",
            "maxWidth": "16rem",
        },
    }
    if basemap_url:
        style = {
            "version": 8,
            "sources": {"base": {"type": "raster", "tiles": [basemap_url], "tileSize": 256}},
            "layers": [{"id": "base", "type": "raster", "source": "base"}],
        }
        return CompactDeck(
            layers=layers,
            initial_view_state=view,
            map_provider="mapbox",
            map_style=style,
            tooltip=tooltip,
        )
    return CompactDeck(layers=layers, initial_view_state=view, map_provider=None, tooltip=tooltip)


def _zone_layers(
    zones: pd.DataFrame | None,
    project: Callable[[float, float], tuple[float, float]],
    lang: str,
    legend: list[LegendEntry],
) -> list[pdk.Layer]:
    if zones is None or zones.empty:
        return []
    paths: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    for row in zones.itertuples(index=False):
        color = hex_to_rgba(ZONE_HEX.get(str(row.level), "#000000"))
        shape = getattr(row, "shape", None)
        if shape:
            for ring in outer_rings(shape):
                for piece in dashes(
                    _ring(ring, project), dash_m=ZONE_DASH_M, gap_m=ZONE_GAP_M, digits=5
                ):
                    paths.append({"path": piece, "color": color})
        elif (point := _point(row)) is not None:
            x, y = project(*point)
            points.append({"position": [x, y], "color": color})
    for level in ("sealed", "controlled", "precaution"):
        if (zones["level"] == level).any():
            legend.append(LegendEntry(t(f"zone.{level}", lang), ZONE_HEX[level], "line"))
    for level in ("sealed", "controlled", "precaution"):
        if any(
            row.level == level and not getattr(row, "shape", None) and _point(row)
            for row in zones.itertuples(index=False)
        ):
            label = t("map.zone_building", lang, level=t(f"zone.{level}", lang))
            legend.append(LegendEntry(label, ZONE_HEX[level], "ring"))
    out: list[pdk.Layer] = []
    if paths:
        out.append(
            pdk.Layer(
                "PathLayer",
                id="zones",
                data=paths,
                get_path="path",
                get_color="color",
                get_width=4,
                width_units=_literal("pixels"),
                cap_rounded=False,
                pickable=False,
            )
        )
    if points:
        out.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="zone_buildings",
                data=points,
                get_position="position",
                get_fill_color=[0, 0, 0, 0],
                get_line_color="color",
                stroked=True,
                filled=False,
                get_radius=25,
                radius_min_pixels=6,
                line_width_min_pixels=3,
            )
        )
    return out


def _point_layers(
    layers: MapLayers,
    project: Callable[[float, float], tuple[float, float]],
    lang: str,
    legend: list[LegendEntry],
) -> list[pdk.Layer]:
    out: list[pdk.Layer] = []
    for frame, layer_id, color_key, radius, label_key in (
        (layers.buildings, "buildings", "buildings", 6, "map.layer_buildings"),
        (layers.sites, "sites", "sites", 40, "map.layer_sites"),
        (layers.depots, "depots", "depots", 35, "map.layer_depots"),
    ):
        if frame is None or frame.empty:
            continue
        rows = []
        for row in frame.itertuples(index=False):
            point = _point(row)
            if point is None:
                continue
            x, y = project(*point)
            tip = map_tooltip([], display_name(row, lang))
            rows.append({"position": [round(x, 6), round(y, 6)], "tip": tip})
        out.append(
            pdk.Layer(
                "ScatterplotLayer",
                id=layer_id,
                data=rows,
                get_position="position",
                get_fill_color=hex_to_rgba(SERIES_HEX[color_key], 230),
                get_line_color=[255, 255, 255, 255],
                stroked=True,
                get_radius=radius,
                radius_min_pixels=2 if layer_id == "buildings" else 6,
                line_width_min_pixels=1,
                pickable=layer_id != "buildings",
            )
        )
        legend.append(LegendEntry(t(label_key, lang), SERIES_HEX[color_key], "dot"))
    return out


def _point(row: Any) -> tuple[float, float] | None:
    """A row's (lng, lat), or None when it has no location."""
    lng, lat = getattr(row, "lng", None), getattr(row, "lat", None)
    if lng is None or lat is None or pd.isna(lng) or pd.isna(lat):
        return None
    return float(lng), float(lat)


def legend_html(entries: list[LegendEntry]) -> str:
    """The legend as a small HTML block (rendered by the page next to the map)."""
    parts = []
    for entry in entries:
        if entry.kind == "line":
            swatch = f'<span class="ln" style="border-color:{entry.color}"></span>'
        elif entry.kind == "ring":
            swatch = (
                f'<span class="sw" style="border:3px solid {entry.color};'
                'background:transparent;border-radius:50%"></span>'
            )
        elif entry.kind == "dot":
            swatch = f'<span class="sw" style="background:{entry.color};border-radius:50%"></span>'
        else:
            swatch = f'<span class="sw" style="background:{entry.color}"></span>'
        parts.append(f"<span>{swatch}{_escape(entry.label)}</span>")
    return f'<div class="gc-legend">{"".join(parts)}</div>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- the Zones page

ZONE_AREA_LAYER_ID = GRID_LAYER_ID  # the page reads a clicked area as it reads a clicked grid
CASE_PLACES_LAYER_ID = "case_places"
# Fill of an area by what is suggested for it: act (seal), relax (step down or lift), or not.
SUGGESTION_HEX: dict[str, str] = {
    "act": "#EF9A9A",
    "relax": "#A5D6A7",
    "keep": "#ECEFF1",
}


def build_zone_map(
    *,
    areas: pd.DataFrame,
    zones: pd.DataFrame | None,
    places: pd.DataFrame | None,
    lang: str,
    basemap_url: str = "",
    basemap_datum: str = "wgs84",
    height_px: int = 520,
) -> GridMap:
    """Areas filled by the suggested change, zone orders outlined, places with cases as dots.

    `areas`: code, label, shape, fill ('act' | 'relax' | 'keep') and tip (plain text);
    `zones`: as for build_grid_map; `places`: lng, lat, level ('sealed' | 'controlled')
    and tip. Tooltips are plain text: pydeck escapes fields.
    """
    project = _projector(basemap_datum)
    polygons: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    lngs: list[float] = []
    lats: list[float] = []
    rows: Any = areas.itertuples(index=False)
    for row in rows:
        if not row.shape:
            continue
        rings = [_ring(r, project) for r in outer_rings(row.shape)]
        fill = hex_to_rgba(SUGGESTION_HEX.get(str(row.fill), SUGGESTION_HEX["keep"]), 190)
        for ring in rings:
            polygons.append({"polygon": ring, "fill": fill, "code": row.code, "tip": str(row.tip)})
            lngs.extend(p[0] for p in ring)
            lats.extend(p[1] for p in ring)
        if rings:
            cx, cy = ring_centroid(rings[0])
            text = str(row.label)
            labels.append(
                {"position": [cx, cy], "text": map_label(text), "short": short_label(text)}
            )
    layers: list[pdk.Layer] = [
        pdk.Layer(
            "PolygonLayer",
            id=ZONE_AREA_LAYER_ID,
            data=polygons,
            get_polygon="polygon",
            get_fill_color="fill",
            get_line_color=[120, 144, 156, 255],
            line_width_min_pixels=1,
            stroked=True,
            filled=True,
            pickable=True,
            auto_highlight=True,
            highlight_color=[255, 255, 255, 90],
        )
    ]
    legend = [
        LegendEntry(t("zpage.legend_act", lang), SUGGESTION_HEX["act"]),
        LegendEntry(t("zpage.legend_relax", lang), SUGGESTION_HEX["relax"]),
        LegendEntry(t("zpage.legend_keep", lang), SUGGESTION_HEX["keep"]),
    ]
    layers += _zone_layers(zones, project, lang, legend)
    if places is not None and not places.empty:
        dots: list[dict[str, Any]] = []
        for row in places.itertuples(index=False):
            point = _point(row)
            if point is None:
                continue
            x, y = project(*point)
            color = hex_to_rgba(ZONE_HEX.get(str(row.level), "#000000"), 220)
            dots.append({"position": [round(x, 5), round(y, 5)], "color": color, "tip": row.tip})
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id=CASE_PLACES_LAYER_ID,
                data=dots,
                get_position="position",
                get_fill_color="color",
                get_line_color=[255, 255, 255, 255],
                stroked=True,
                get_radius=30,
                radius_min_pixels=3,
                radius_max_pixels=9,
                line_width_min_pixels=1,
                pickable=True,
            )
        )
        legend.append(LegendEntry(t("zpage.legend_places", lang), ZONE_HEX["sealed"], "dot"))
        if not lngs:
            lngs = [d["position"][0] for d in dots]
            lats = [d["position"][1] for d in dots]
    lng, lat, zoom = fit_view(lngs or [0.0], lats or [0.0], height_px=height_px)
    layers.append(_label_layer(place_labels(labels, zoom=zoom, center_lat=lat, size=13), False))
    view = pdk.ViewState(longitude=lng, latitude=lat, zoom=zoom, pitch=0, bearing=0)
    return GridMap(deck=_deck(layers, view, basemap_url), legend=legend, size=(640, height_px))


# --------------------------------------------------------------------------- depots by stock

DEPOT_STOCK_LAYER_ID = "depot_stock"


def build_depot_map(
    *,
    grids: pd.DataFrame,
    depots: pd.DataFrame,
    legend: list[LegendEntry],
    basemap_url: str = "",
    basemap_datum: str = "wgs84",
    height_px: int = 460,
) -> GridMap:
    """Depot points in their own colours over pale grid outlines (the Supplies page's map).

    `grids` needs: shape (GeoJSON geometry dict); `depots`: depot_id, lng, lat, colour
    ('#RRGGBB'), tip (plain text), and is drawn in its order (the worst last, on top).
    """
    project = _projector(basemap_datum)
    outlines: list[dict[str, Any]] = []
    lngs: list[float] = []
    lats: list[float] = []
    for shape in grids["shape"]:
        if not shape:
            continue
        for ring in outer_rings(shape):
            points = _ring(ring, project)
            outlines.append({"polygon": points})
            lngs.extend(p[0] for p in points)
            lats.extend(p[1] for p in points)
    dots: list[dict[str, Any]] = []
    rows: Any = depots.itertuples(index=False)
    for row in rows:
        point = _point(row)
        if point is None:
            continue
        x, y = project(*point)
        dots.append(
            {
                "position": [round(x, 6), round(y, 6)],
                "fill": hex_to_rgba(str(row.colour), 240),
                "depot_id": int(row.depot_id),
                "tip": str(row.tip),
            }
        )
        lngs.append(x)
        lats.append(y)
    layers = [
        pdk.Layer(
            "PolygonLayer",
            id="grid_outlines",
            data=outlines,
            get_polygon="polygon",
            get_fill_color=hex_to_rgba(NO_DATA_HEX, 70),
            get_line_color=[120, 144, 156, 200],
            line_width_min_pixels=1,
            stroked=True,
            filled=True,
            pickable=False,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id=DEPOT_STOCK_LAYER_ID,
            data=dots,
            get_position="position",
            get_fill_color="fill",
            get_line_color=[255, 255, 255, 255],
            stroked=True,
            get_radius=45,
            radius_min_pixels=7,
            line_width_min_pixels=2,
            pickable=True,
        ),
    ]
    lng, lat, zoom = fit_view(lngs, lats, height_px=height_px)
    view = pdk.ViewState(longitude=lng, latitude=lat, zoom=zoom, pitch=0, bearing=0)
    return GridMap(deck=_deck(layers, view, basemap_url), legend=legend, size=(640, height_px))
