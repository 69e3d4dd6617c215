"""The Zones page's pure pieces: its map builder, the countdown words, places' zones."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from gridcore.analytics.risk import Reason
from gridcore.i18n import t
from gridcore.policy import DEFAULT_POLICY
from gridcore.ui import zones as zv
from gridcore.ui.maps import CASE_PLACES_LAYER_ID, SUGGESTION_HEX, build_zone_map
from gridcore.ui.theme import hex_to_rgba

SQUARE = {"type": "Polygon", "coordinates": [[[121.0, 31.0], [121.01, 31.0], [121.01, 31.01],
                                              [121.0, 31.0]]]}  # fmt: skip


def test_the_zone_map_fills_areas_by_suggestion_and_draws_places() -> None:
    areas = pd.DataFrame(
        [{"code": "G1", "label": "Grid 1", "shape": SQUARE, "fill": "act", "tip": "<b>x</b>"}]
    )
    zones = pd.DataFrame([{"level": "sealed", "shape": SQUARE, "lng": None, "lat": None}])
    places = pd.DataFrame(
        [
            {"lng": 121.005, "lat": 31.005, "level": "controlled", "tip": "A · 2 cases"},
            {"lng": None, "lat": None, "level": "sealed", "tip": "no point"},
        ]
    )
    gmap = build_zone_map(areas=areas, zones=zones, places=places, lang="en")
    deck = json.loads(gmap.deck.to_json())
    layers = {layer["id"]: layer for layer in deck["layers"]}
    assert set(layers) == {"grids", "zones", CASE_PLACES_LAYER_ID, "labels"}
    assert layers["grids"]["data"][0]["fill"] == hex_to_rgba(SUGGESTION_HEX["act"], 190)
    assert layers["grids"]["data"][0]["tip"] == "<b>x</b>"  # a field: pydeck escapes it
    dots = layers[CASE_PLACES_LAYER_ID]["data"]
    assert [d["tip"] for d in dots] == ["A · 2 cases"]  # the place without a point is left out
    labels = [entry.label for entry in gmap.legend]
    assert t("zpage.legend_places", "en") in labels and t("zone.sealed", "en") in labels


def test_countdown_words() -> None:
    assert zv.countdown_text(3, 0, "en") == t("zpage.days_left", "en", n=3)
    assert zv.countdown_text(1, 0, "zh") == t("zpage.days_left.one", "zh")
    assert zv.countdown_text(0, 0, "en") == t("zpage.due_today", "en")
    assert zv.countdown_text(0, 4, "en") == t("zpage.overdue", "en", n=4)
    assert zv.countdown_text(pd.NA, 0, "en") == t("zpage.no_timer", "en")


def test_reasons_write_their_dates_in_the_language() -> None:
    reason = Reason("zones.why.keep", {"n": 3, "day": date(2026, 3, 28)})
    assert zv.reason_text(reason, "en") == "3 more quiet days needed: may step down on 28 Mar 2026"
    assert zv.reason_text(reason, "zh") == "还需3天无新增：2026年3月28日起可降级"


def test_places_get_the_zone_they_would_have_had() -> None:
    places = pd.DataFrame(
        {
            "place": ["A", "B", "C"],
            "lng": [1.0, 2.0, 3.0],
            "lat": [1.0, 2.0, 3.0],
            "area_id": [1, 1, 2],
            "last_case_day": [date(2022, 4, 10), date(2022, 4, 3), date(2022, 3, 20)],
            "cases": [4, 1, 2],
        }
    )
    zoned = zv.place_zones(places, as_of=date(2022, 4, 12), policy=DEFAULT_POLICY)
    # A: 2 days after its case → sealed, 5 left; B: 9 days → controlled, 5 left; C: 23 → lifted.
    assert list(zoned["place"]) == ["A", "B"]
    assert list(zoned["level"]) == ["sealed", "controlled"]
    assert list(zoned["days_left"]) == [5, 5]


def test_a_bad_as_of_is_not_a_day() -> None:
    assert zv.parse_day("2022-04-12") == date(2022, 4, 12)
    assert zv.parse_day("2022-13-40") is None
    assert zv.parse_day("") is None


def test_the_places_table_names_its_window() -> None:
    places = pd.DataFrame(
        {"place": ["A"], "cases": [2], "last_case_day": [date(2022, 4, 10)],
         "level": ["sealed"], "days_left": [5]}
    )  # fmt: skip
    table = zv.places_table(places, "zh", policy=DEFAULT_POLICY)
    assert list(table.columns) == ["地点", "病例数（14天）", "最近病例", "应划区域", "倒计时"]
    assert table.iloc[0].tolist() == ["A", 2, "2022年4月10日", "封控区", "剩余5天"]


def _square(west: float, south: float, side: float) -> dict[str, object]:
    ring = [[west, south], [west + side, south], [west + side, south + side], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_zone_map_labels_keep_their_dash_and_never_overlap() -> None:
    # Forty small grids in a row: full names cannot all fit, so the short form is used, and
    # the map's font draws the hyphen as a dash (an en dash), never as '·'.
    areas = pd.DataFrame(
        [
            {"code": f"G{i}", "label": f"第1-{i:02d}网格", "shape": _square(121 + i * 0.002, 31.0,
             0.002), "fill": "keep", "tip": ""}
            for i in range(40)
        ]
    )  # fmt: skip
    gmap = build_zone_map(areas=areas, zones=pd.DataFrame(), places=None, lang="zh")
    deck = json.loads(gmap.deck.to_json())
    labels = next(layer for layer in deck["layers"] if layer["id"] == "labels")["data"]
    texts = [label["text"] for label in labels]
    assert texts and all("-" not in text and "·" not in text for text in texts)
    assert all(text.startswith("1–") for text in texts)  # the short form for all
    assert len(texts) < 40  # those that would overlap another are left out
