"""The mass-testing chart builders: a frame in, a plotly figure out, figures known by hand."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from gridcore.i18n import catalogues
from gridcore.ui import charts
from gridcore.ui.theme import SERIES_HEX

TZ = ZoneInfo("Asia/Shanghai")


def _hour(h: int, day: int = 21) -> datetime:
    return datetime(2026, 3, day, h, tzinfo=TZ)


def _throughput() -> pd.DataFrame:
    """Site A 7 then 12 samples, site B 18 in the second hour, 2 door to door in the first."""
    return pd.DataFrame(
        {
            "site_id": pd.array([1, None, 1, 2], dtype="Int64"),
            "site_name": ["Site A", "", "Site A", "Site B"],
            "method": ["site", "door_to_door", "site", "site"],
            "hour": [_hour(7), _hour(7), _hour(8), _hour(8)],
            "sampled": [7, 2, 12, 18],
            "hourly_capacity": pd.array([300, None, 300, 200], dtype="Int64"),
        }
    )


def test_throughput_stacks_sites_per_hour_with_door_to_door_last() -> None:
    fig = charts.site_throughput(_throughput(), lang="en")
    bars = [trace for trace in fig.data if trace.type == "bar"]
    assert [b.name for b in bars] == ["Site A", "Site B", "Door to door"]
    assert list(bars[0].x) == ["07:00", "08:00"]
    assert list(bars[0].y) == [7, 12]
    assert list(bars[1].y) == [0, 18]
    assert list(bars[2].y) == [2, 0]
    assert fig.layout.barmode == "stack"


def test_throughput_capacity_line_is_the_sum_of_the_sites() -> None:
    fig = charts.site_throughput(_throughput(), lang="en")
    lines = [trace for trace in fig.data if trace.type == "scatter"]
    assert len(lines) == 1
    assert list(lines[0].y) == [500, 500]


def test_throughput_hours_of_an_earlier_day_carry_the_date() -> None:
    frame = _throughput()
    frame.loc[0, "hour"] = _hour(23, day=20)
    fig = charts.site_throughput(frame, lang="en")
    assert list(fig.data[0].x) == ["03-20 23:00", "07:00", "08:00"]


def test_throughput_of_nothing_is_an_empty_figure() -> None:
    empty = _throughput().iloc[0:0]
    assert len(charts.site_throughput(empty, lang="en").data) == 0


def test_throughput_in_chinese() -> None:
    fig = charts.site_throughput(_throughput(), lang="zh")
    assert fig.data[2].name == catalogues()["zh"]["tpage.chart.door_to_door"] == "上门采样"


def _rounds() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["Round 1", "Round 2"],
            "coverage_6h": [0.5, 0.625],
            "coverage_12h": [0.8, 0.9],
            "coverage_24h": [0.97, math.nan],
        }
    )


def test_coverage_over_rounds_groups_the_checkpoints_in_percent() -> None:
    fig = charts.coverage_over_rounds(_rounds(), lang="en")
    assert [trace.name for trace in fig.data] == ["After 6 h", "After 12 h", "After 24 h"]
    assert list(fig.data[0].y) == [50.0, 62.5]
    assert list(fig.data[2].y) == [97.0, None]  # not reached yet: no bar, not zero
    assert list(fig.data[0].text) == ["50%", "62%"]  # only the 6-hour bars are labelled
    assert fig.data[2].text is None
    assert fig.layout.barmode == "group"


def test_round_names_are_in_the_readers_language_and_stacked_on_the_axis() -> None:
    rounds = _rounds().assign(
        name=["Round 1 (11-04)", "Old · 旧名"], name_zh=["第1轮全员核酸（11月4日）", None]
    )
    fig = charts.coverage_over_rounds(rounds, lang="en")
    assert list(fig.data[0].x) == ["Round 1<br>(11-04)", "Old<br>旧名"]
    fig = charts.coverage_over_rounds(rounds, lang="zh")
    assert list(fig.data[0].x) == ["第1轮全员核酸<br>（11月4日）", "Old<br>旧名"]


def test_throughput_sums_the_quieter_sites_beyond_the_busiest() -> None:
    """Sites 1..4 sampled 10, 20, 30, 40 in one hour; with room for 2, sites 1 and 2 are summed."""
    frame = pd.DataFrame(
        {
            "site_id": pd.array([1, 2, 3, 4], dtype="Int64"),
            "site_name": ["S1", "S2", "S3", "S4"],
            "method": ["site"] * 4,
            "hour": [_hour(9)] * 4,
            "sampled": [10, 20, 30, 40],
            "hourly_capacity": pd.array([100] * 4, dtype="Int64"),
        }
    )
    fig = charts.site_throughput(frame, lang="en", max_sites=2)
    bars = [trace for trace in fig.data if trace.type == "bar"]
    assert [(b.name, list(b.y)) for b in bars] == [
        ("S3", [30]),
        ("S4", [40]),
        ("2 other sites", [30]),
    ]
    assert list(fig.data[-1].y) == [400]  # the capacity of all four sites
    # A single quieter site keeps its own name rather than becoming "1 other sites".
    three = charts.site_throughput(frame.iloc[1:], lang="en", max_sites=2)
    assert [trace.name for trace in three.data if trace.type == "bar"] == ["S2", "S3", "S4"]


def test_positives_by_round_bars_and_rate_on_its_own_axis() -> None:
    rounds = pd.DataFrame(
        {"name": ["Round 1", "Round 2"], "positives": [0, 1], "positives_per_10k": [0.0, 256.4]}
    )
    fig = charts.positives_by_round(rounds, lang="en")
    bar, line = fig.data
    assert list(bar.y) == [0, 1]
    assert bar.marker.color == SERIES_HEX["cases"]
    assert list(line.y) == [0.0, 256.4]
    assert line.yaxis == "y2"
    assert fig.layout.yaxis2.overlaying == "y"


def test_positives_rate_unknown_when_nothing_sampled() -> None:
    rounds = pd.DataFrame({"name": ["Round 1"], "positives": [0], "positives_per_10k": [math.nan]})
    assert list(charts.positives_by_round(rounds, lang="en").data[1].y) == [None]


def test_staffing_shortfall_is_red_and_enough_is_green() -> None:
    need = pd.DataFrame({"label": ["Desks", "Samplers"], "needed": [1, 3], "present": [2, 1]})
    fig = charts.staffing_need(need, lang="en")
    needed, present = fig.data
    assert list(needed.x) == [1, 3]
    assert list(present.x) == [2, 1]
    assert list(present.marker.color) == [SERIES_HEX["coverage"], SERIES_HEX["cases"]]
    assert needed.name == "Needed" and present.name == "Present"
    zh = charts.staffing_need(need, lang="zh")
    assert zh.data[0].name == "所需"


def test_the_grid_list_says_when_no_grid_is_behind() -> None:
    from gridcore.ui.testing import ranking_title

    texts = catalogues()["zh"]
    on_track = pd.DataFrame({"behind": [False, False], "missing": [3, 0]})
    # A grid 'behind' with nobody missing is done, not behind.
    done = pd.DataFrame({"behind": [True, False], "missing": [0, 4]})
    behind = pd.DataFrame({"behind": [False, True], "missing": [3, 1]})
    assert ranking_title(on_track, "zh") == texts["tpage.ranking_none_behind"]
    assert ranking_title(done, "zh") == texts["tpage.ranking_none_behind"]
    assert ranking_title(behind, "zh") == texts["tpage.ranking_title"]
