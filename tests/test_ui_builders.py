"""The pure chart and map builders: DataFrame in, figure or deck out."""

from __future__ import annotations

import json
import pickle
from datetime import date, timedelta

import pandas as pd
import pydeck as pdk
import pytest

from gridcore.ui import charts
from gridcore.ui.kiosk import text_lines
from gridcore.ui.maps import (
    GRID_LAYER_ID,
    MAP_COLUMNS,
    MapLayers,
    build_grid_map,
    fitted_bins,
    format_measure,
    frame_fingerprint,
    legend_html,
    map_tooltip,
    measure_color,
    measure_legend,
    place_labels,
    rank_by_measure,
    short_label,
)
from gridcore.ui.theme import NO_DATA_HEX, NO_WORKER_HEX, RISK_HEX, SEQUENTIAL_HEX


def _square(x: float, y: float, size: float = 0.01) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def grids() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["G1", "G2", "G3"],
            "name": ["Grid 1", "Grid 2", "Grid 3"],
            "label": ["Grid 1", "Grid 2", "第3网格"],
            "shape": [_square(121.40, 31.20), _square(121.41, 31.20), None],
            "risk_level": ["high", "normal", "low"],
            "active_cases": [7, 0, 1],
            "coverage": [0.42, float("nan"), 0.97],
            "households_per_worker": [float("nan"), 250.0, 320.0],
        }
    )


def _layers(deck_json: str) -> dict[str, dict]:
    return {layer["id"]: layer for layer in json.loads(deck_json)["layers"]}


def test_grids_are_filled_by_the_measure_and_grids_without_shape_skipped(grids) -> None:
    gmap = build_grid_map(grids=grids, measure="risk_level", lang="en")
    layer = _layers(gmap.deck.to_json())[GRID_LAYER_ID]
    fills = {row["code"]: row["fill"] for row in layer["data"]}
    assert set(fills) == {"G1", "G2"}
    assert fills["G1"][:3] == [0xC6, 0x28, 0x28]  # RISK_HEX["high"]
    assert [e.label for e in gmap.legend] == ["High risk", "Medium risk", "Low risk", "Normal"]


def test_offline_deck_has_no_base_map(grids) -> None:
    deck = json.loads(build_grid_map(grids=grids, measure="active_cases", lang="en").deck.to_json())
    # No provider: Streamlit then loads no style and no tiles from the internet.
    assert deck.get("mapProvider") in (None, "")
    assert not isinstance(deck.get("mapStyle"), dict)


def test_the_map_is_sent_without_indentation_and_reads_as_pydeck_wrote_it(grids) -> None:
    deck = build_grid_map(grids=grids, measure="risk_level", lang="en").deck
    sent = deck.to_json()
    indented = pdk.Deck.to_json(deck)
    assert "\n" not in sent and json.loads(sent) == json.loads(indented)
    assert len(sent) < 0.6 * len(indented)


def test_a_frame_fingerprint_follows_its_content_not_its_copy(grids) -> None:
    columns = (*MAP_COLUMNS, "coverage")
    same = pickle.loads(pickle.dumps(grids.copy(deep=True)))
    assert frame_fingerprint(same, columns) == frame_fingerprint(grids, columns)
    # A figure the map does not draw leaves it; a drawn figure or an outline changes it.
    other = grids.assign(households_per_worker=[1.0, 2.0, 3.0])
    assert frame_fingerprint(other, columns) == frame_fingerprint(grids, columns)
    changed = grids.assign(coverage=[0.42, float("nan"), 0.98])
    assert frame_fingerprint(changed, columns) != frame_fingerprint(grids, columns)
    moved = grids.assign(shape=[_square(121.40, 31.20), _square(121.42, 31.20), None])
    assert frame_fingerprint(moved, columns) != frame_fingerprint(grids, columns)


def test_a_frozen_deck_keeps_its_json(grids) -> None:
    deck = build_grid_map(grids=grids, measure="risk_level", lang="en").deck
    sent = deck.freeze().to_json()
    assert deck.to_json() is sent and json.loads(sent)["layers"]


def test_configured_base_map_is_a_raster_style(grids) -> None:
    url = "http://127.0.0.1:8080/{z}/{x}/{y}.png"
    deck = json.loads(
        build_grid_map(grids=grids, measure="coverage", lang="en", basemap_url=url).deck.to_json()
    )
    assert deck["mapStyle"]["sources"]["base"]["tiles"] == [url]


def test_gcj02_base_map_moves_the_shapes(grids) -> None:
    plain = _layers(build_grid_map(grids=grids, measure="coverage", lang="en").deck.to_json())
    shifted = _layers(
        build_grid_map(
            grids=grids, measure="coverage", lang="en", basemap_datum="gcj02"
        ).deck.to_json()
    )
    a = plain[GRID_LAYER_ID]["data"][0]["polygon"][0]
    b = shifted[GRID_LAYER_ID]["data"][0]["polygon"][0]
    assert b[0] - a[0] == pytest.approx(0.0045, abs=0.0005)


def test_measure_colours_follow_the_bins() -> None:
    assert measure_color("active_cases", 0) == SEQUENTIAL_HEX[0]
    assert measure_color("active_cases", 2) == SEQUENTIAL_HEX[1]
    assert measure_color("active_cases", 11) == SEQUENTIAL_HEX[4]
    assert measure_color("coverage", float("nan")) == NO_DATA_HEX
    assert measure_color("households_per_worker", float("nan")) == NO_WORKER_HEX
    assert measure_color("risk_level", "medium") == RISK_HEX["medium"]
    assert [e.label for e in measure_legend("active_cases", "en")][:3] == ["0", "1–2", "3–5"]
    assert measure_legend("coverage", "zh")[-1].label == "无检测轮次"


def test_zone_orders_are_outlined_and_in_the_legend(grids) -> None:
    zones = pd.DataFrame(
        {"level": ["sealed"], "shape": [_square(121.40, 31.20)], "lng": [None], "lat": [None]}
    )
    gmap = build_grid_map(
        grids=grids, measure="risk_level", lang="zh", layers=MapLayers(zones=zones)
    )
    layer = _layers(gmap.deck.to_json())["zones"]
    assert layer["@@type"] == "PathLayer"
    assert "extensions" not in layer  # dashed as plain paths
    # The square's outline is 2 × (952.2 m + 1,113.2 m) = 4,130.8 m; a 60 m dash every
    # 90 m gives 45 whole periods (4,050 m) and one more dash: 46 dashes.
    assert len(layer["data"]) == 46
    assert {tuple(piece["color"]) for piece in layer["data"]} == {tuple(layer["data"][0]["color"])}
    assert gmap.legend[-1].label == "封控区" and gmap.legend[-1].kind == "line"
    assert "封控区" in legend_html(gmap.legend)


def test_format_measure_is_localised() -> None:
    assert format_measure("coverage", 0.5, "en") == "50.0%"
    assert format_measure("risk_level", "high", "zh") == "高风险"
    assert format_measure("households_per_worker", float("nan"), "en") == "No full-time worker"


def test_case_trend_stacks_quarantine_and_community() -> None:
    days = [date(2026, 3, 1) + timedelta(days=i) for i in range(3)]
    trend = pd.DataFrame(
        {
            "day": days,
            "new_cases": [4, 6, 2],
            "outside_quarantine": [1, 2, 0],
            "in_quarantine": [10, 20, 15],
            "active_cases": [4, 10, 12],
        }
    )
    fig = charts.case_trend(trend, lang="en")
    inside, outside = fig.data
    assert list(inside.y) == [3, 4, 2] and list(outside.y) == [1, 2, 0]
    assert fig.layout.barmode == "stack"
    assert charts.case_trend(trend, lang="zh").data[1].name == "社会面发现"


def test_ranking_puts_the_worst_grid_first(grids) -> None:
    assert list(rank_by_measure(grids, "risk_level")["code"]) == ["G1", "G3", "G2"]
    assert list(rank_by_measure(grids, "active_cases")["code"]) == ["G1", "G3", "G2"]
    # Low coverage is worst; a grid without a round comes first so it is not forgotten.
    assert list(rank_by_measure(grids, "coverage")["code"]) == ["G2", "G1", "G3"]
    assert list(rank_by_measure(grids, "households_per_worker")["code"]) == ["G1", "G3", "G2"]


def test_quarantine_and_cases_have_their_own_axes() -> None:
    trend = pd.DataFrame(
        {
            "day": [date(2026, 3, 1), date(2026, 3, 2)],
            "new_cases": [1, 2],
            "outside_quarantine": [0, 1],
            "in_quarantine": [3000, 4000],
            "active_cases": [10, 12],
        }
    )
    fig = charts.quarantine_trend(trend, lang="en")
    quarantine, cases = fig.data
    assert list(quarantine.y) == [3000, 4000] and quarantine.yaxis in (None, "y")
    assert list(cases.y) == [10, 12] and cases.yaxis == "y2"
    assert fig.layout.yaxis2.side == "right"


def test_tooltips_are_plain_text_from_one_function(grids) -> None:
    """pydeck shows fields as text: no markup may reach a tooltip field."""
    grids = grids.assign(label=["<b>Grid 1</b>", "Grid 2", "第3网格"])
    gmap = build_grid_map(grids=grids, measure="coverage", lang="zh")
    tooltip = gmap.deck._tooltip  # what Streamlit sends beside the deck
    assert tooltip["text"] == "{tip}" and "html" not in tooltip
    tips = [row["tip"] for row in _layers(gmap.deck.to_json())[GRID_LAYER_ID]["data"]]
    assert tips[1] == "Grid 2 (G2)\n核酸覆盖率（最新轮次）: —\n风险等级: 常态"
    assert all("<" not in tip and ">" not in tip for tip in tips)
    assert map_tooltip([("a", "<x>")], "t<b>") == "t‹b›\na: ‹x›"


def test_labels_show_a_real_dash_and_leave_out_what_overlaps() -> None:
    assert short_label("第1-02网格") == "1–02" and short_label("Grid 3") == "3"
    near = [
        {"position": [121.400, 31.2], "text": "第1–01网格", "short": "1–01"},
        {"position": [121.401, 31.2], "text": "第1–02网格", "short": "1–02"},
        {"position": [121.430, 31.2], "text": "第1–03网格", "short": "1–03"},
    ]
    # Zoom 16: 0.001° is about 186 px; every full name (about 80 px wide) fits.
    assert [p["text"] for p in place_labels(near, zoom=16, center_lat=31.2, size=13)] == [
        "第1–01网格",
        "第1–02网格",
        "第1–03网格",
    ]
    # Zoom 13: 0.001° is 23 px: the full names collide, so all are short, and the second
    # (30 px wide, 23 px away) still overlaps the first and is left out.
    assert [p["text"] for p in place_labels(near, zoom=13, center_lat=31.2, size=13)] == [
        "1–01",
        "1–03",
    ]


def test_a_flat_measure_gets_a_scale_that_separates_the_grids() -> None:
    # Mid-round every grid is under 50%: the fixed scale would paint them one colour.
    values = [0.12, 0.24, 0.31, 0.44]
    bins = fitted_bins("coverage", values)
    assert bins == (0.1, 0.2, 0.3, 0.4, 0.5)
    colours = {measure_color("coverage", v, bins) for v in values}
    assert len(colours) == 4
    labels = [e.label for e in measure_legend("coverage", "en", bins)]
    assert labels[:2] == ["< 20%", "20%–30%"] and labels[-2] == "≥ 50%"
    # Spread over the fixed bins already: the fixed scale stays.
    assert fitted_bins("coverage", [0.1, 0.85, 0.99]) is None
    assert fitted_bins("risk_level", ["high", "low"]) is None


def test_every_mark_is_in_the_legend_with_distinct_colours(grids) -> None:
    zones = pd.DataFrame({"level": ["sealed"], "shape": [None], "lng": [121.401], "lat": [31.201]})
    gmap = build_grid_map(
        grids=grids, measure="households_per_worker", lang="zh", layers=MapLayers(zones=zones)
    )
    kinds = {(e.label, e.kind) for e in gmap.legend}
    assert ("封控区楼栋", "ring") in kinds and ("无专职网格员", "fill") in kinds
    fills = [e.color for e in gmap.legend if e.kind == "fill"]
    assert len(fills) == len(set(fills))


# --------------------------------------------------------------------------- round ticks


@pytest.mark.parametrize(
    ("top", "integer", "step"),
    [
        (0, True, 1),  # nothing yet: whole numbers
        (3, True, 1),  # few cases: 0, 1, 2, 3 — never 0.5
        (1, False, 0.2),
        (8.4, True, 2),
        (12, True, 5),  # a count never steps by 2.5
        (12, False, 2.5),
        (83.7, True, 20),  # not 27.9 / 55.8 / 83.7
        (1234, True, 250),
        (0.37, False, 0.1),
    ],
)
def test_nice_step(top: float, integer: bool, step: float) -> None:
    assert charts.nice_step(top, integer=integer) == step


def test_nice_axis_for_counts_and_percentages() -> None:
    counts = charts.nice_axis([3, None, float("nan"), 7])
    assert counts == {"tickmode": "linear", "tick0": 0, "dtick": 2, "tickformat": ",d"}
    percent = charts.nice_axis(64.3, percent=True)  # the axis still runs to 100%
    assert percent == {"tickmode": "linear", "tick0": 0, "dtick": 20, "ticksuffix": "%"}


def test_every_chart_ticks_at_round_values() -> None:
    trend = pd.DataFrame(
        {
            "day": pd.date_range("2026-03-01", periods=3).date,
            "new_cases": [1, 3, 2],
            "outside_quarantine": [0, 1, 1],
            "in_quarantine": [120, 279, 250],
            "active_cases": [1, 2, 3],
        }
    )
    cases = charts.case_trend(trend, lang="en")
    assert (cases.layout.yaxis.dtick, cases.layout.yaxis.tick0) == (1, 0)
    quarantine = charts.quarantine_trend(trend, lang="zh")
    assert (quarantine.layout.yaxis.dtick, quarantine.layout.yaxis2.dtick) == (100, 1)
    rounds = pd.DataFrame({"round_name": ["R1", "R2"], "coverage": [0.643, 0.9]})
    coverage = charts.testing_by_round(rounds, lang="en")
    assert (coverage.layout.yaxis.dtick, coverage.layout.yaxis.ticksuffix) == (20, "%")


def test_a_kiosk_message_takes_the_lines_its_length_asks_for() -> None:
    """The testing panel's forecast, late (the longest): two lines on a 1280×720 projector,
    one on a wider window; a Chinese character is as wide as two Latin ones."""
    late = (
        "Late: at the recent pace the round finishes at 4 Dec 09:21, 51 min after the "
        "deadline (4 Dec 08:30). Send more samplers or door-to-door teams to the grids behind."
    )
    assert text_lines(late, width=1280, height=720) == 2
    assert text_lines(late, width=2560, height=720) == 1
    assert text_lines("On track.", width=1280, height=720) == 1
    assert text_lines("测" * 60, width=1280, height=720) == 2
    assert text_lines("测" * 50, width=1280, height=720) == 1


def _workload(scores: list[int]) -> pd.DataFrame:
    from gridcore.queries.workforce import WORKLOAD_COLUMNS

    rows = [
        (i, f"W{i}", "", "grid_worker", "full_time", None, "G1", s, 0, 0, s, True)
        for i, s in enumerate(scores, start=1)
    ]
    return pd.DataFrame(rows, columns=WORKLOAD_COLUMNS)


@pytest.mark.parametrize("workers", [5, 3_000])
def test_the_workload_chart_colours_only_the_bars_above_the_rounded_up_balance(workers) -> None:
    from gridcore.ui.theme import SERIES_HEX
    from gridcore.ui.workforce import workload_chart

    scores = [9, 6, 5, 2, 1] * (workers // 5)
    figure = workload_chart(_workload(scores), target=4.2, lang="en")
    bar = json.loads(figure.to_json())["data"][0]
    scale = dict((stop, colour) for stop, colour in bar["marker"]["colorscale"])
    shown = [scale[v] for v in _plain(bar["marker"]["color"])]
    over, calm = SEQUENTIAL_HEX[3], SERIES_HEX["neutral"]
    assert shown == [over if s > 5 else calm for s in scores]
    assert _plain(bar["y"]) == scores


def _plain(values) -> list:
    """A plotly JSON array as a list (plotly writes large numeric arrays in binary form)."""
    if isinstance(values, dict):
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def test_the_cover_table_shows_each_row_in_the_order_of_need() -> None:
    from gridcore.ui import stock as sv

    depots = pd.DataFrame(
        {"depot_id": [1, 2], "name": ["East", "West"], "name_zh": ["东仓", "西仓"],
         "level": ["grid", "grid"]}
    )  # fmt: skip
    items = pd.DataFrame(
        {"item_id": [7], "name": ["Masks"], "name_zh": ["口罩"], "unit": ["box"],
         "category": ["protective"]}
    )  # fmt: skip
    positions = pd.DataFrame(
        {"depot_id": [1, 2, 1, 2], "item_id": [7, 7, 7, 7], "stock": [40, 3, 5, 90],
         "min_stock": [20, 20, 20, 20], "issued_7d": [0, 0, 0, 0],
         "daily_use": [2.0, 1.5, 1.5, float("nan")],
         "days_of_cover": [20.0, 2.0, 3.3333, float("nan")],
         "level": ["ok", "short", "short", "ok"]}
    )  # fmt: skip
    table = sv.cover_table(positions, sv.Names(depots, items, "zh"))
    assert table.index.tolist() == [0, 1, 2, 3]
    rows = table.values.tolist()
    assert [r[0] for r in rows] == ["西仓", "东仓", "东仓", "西仓"]  # least cover first
    assert [r[3] for r in rows] == [3, 5, 40, 90]
    assert [r[-1] for r in rows] == ["2.0", "3.3", "20.0", "—"]
    assert rows[0][2] == rows[1][2] != rows[2][2]  # the level's words, once per level
