"""Pure plotly builders: a DataFrame in, a Figure out, one colour scheme throughout."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from gridcore.i18n import display_names, fmt_short_date, t
from gridcore.ui.theme import RISK_HEX, SERIES_HEX

_FONT = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "Source Sans Pro", sans-serif'


# Steps between ticks, times a power of ten: a count never steps by 2.5.
_STEPS: tuple[float, ...] = (1, 2, 2.5, 5, 10)


def nice_step(top: float, *, integer: bool, max_ticks: int = 5) -> float:
    """The step between an axis's ticks from 0 to `top`: 1, 2, 2.5 or 5 × 10ⁿ, at most
    `max_ticks` steps; whole numbers (at least 1) for counts."""
    if not top > 0 or top != top:
        return 1.0
    raw = top / max_ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for multiple in _STEPS:
        step = round(multiple * magnitude, 12)
        if integer and (step < 1 or step != int(step)):
            continue
        if step >= raw:
            return float(step)
    return float(max(1.0, 10 * magnitude)) if integer else 10 * magnitude


def nice_axis(
    values: Iterable[Any] | float, *, integer: bool = True, percent: bool = False
) -> dict[str, Any]:
    """Plotly axis settings whose ticks are round: whole numbers for counts, 0–100 in tens
    or twenties with a '%' for percentages (values then in 0–100). `values`: the highest
    value shown, or every value (stacked bars: pass the stack totals)."""
    if isinstance(values, Iterable):
        shown = [float(v) for v in values if v is not None and v == v]
        top = max(shown, default=0.0)
    else:
        top = float(values)
    if percent:
        top, integer = max(top, 100.0), True
    step = nice_step(top, integer=integer)
    axis: dict[str, Any] = {"tickmode": "linear", "tick0": 0, "dtick": step}
    if percent:
        axis["ticksuffix"] = "%"
    elif integer:
        axis["tickformat"] = ",d"
    return axis


def _layout(fig: go.Figure, *, height: int, large: bool) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        font={"family": _FONT, "size": 20 if large else 13},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        plot_bgcolor="white",
        paper_bgcolor="white",
        hovermode="x unified",
        bargap=0.15,
    )
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(gridcolor="#ECEFF1", rangemode="tozero")
    return fig


def case_trend(
    trend: pd.DataFrame, *, lang: str, height: int = 320, large: bool = False
) -> go.Figure:
    """Daily new cases split by where they were found (quarantine or community)."""
    days = [fmt_short_date(d, lang) for d in trend["day"]]
    inside = trend["new_cases"] - trend["outside_quarantine"]
    fig = go.Figure()
    fig.add_bar(
        x=days,
        y=inside,
        name=t("chart.found_in_quarantine", lang),
        marker_color=SERIES_HEX["quarantine"],
    )
    fig.add_bar(
        x=days,
        y=trend["outside_quarantine"],
        name=t("chart.found_in_community", lang),
        marker_color=SERIES_HEX["community"],
    )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text=t("chart.new_cases", lang), **nice_axis(trend["new_cases"]))
    return _layout(fig, height=height, large=large)


def quarantine_trend(
    trend: pd.DataFrame, *, lang: str, height: int = 320, large: bool = False
) -> go.Figure:
    """People in quarantine (left axis) and active cases (right axis), day by day.

    Quarantine counts run to thousands while active cases stay in tens: one shared axis
    would flatten the cases line.
    """
    days = [fmt_short_date(d, lang) for d in trend["day"]]
    fig = go.Figure()
    fig.add_scatter(
        x=days,
        y=trend["in_quarantine"],
        name=t("chart.in_quarantine", lang),
        mode="lines",
        line={"color": SERIES_HEX["quarantine"], "width": 3},
    )
    fig.add_scatter(
        x=days,
        y=trend["active_cases"],
        name=t("chart.active_cases", lang),
        mode="lines",
        line={"color": SERIES_HEX["cases"], "width": 3},
        yaxis="y2",
    )
    fig = _layout(fig, height=height, large=large)
    fig.update_layout(
        yaxis={
            "title": {"text": t("chart.in_quarantine", lang)},
            "rangemode": "tozero",
            **nice_axis(trend["in_quarantine"]),
        },
        yaxis2={
            "title": {"text": t("chart.active_cases", lang)},
            **nice_axis(trend["active_cases"]),
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
    )
    return fig


def risk_bar(
    counts: dict[str, int], *, lang: str, height: int = 120, large: bool = False
) -> go.Figure:
    """Grids per risk level as one stacked horizontal bar."""
    fig = go.Figure()
    for level in ("high", "medium", "low", "normal"):
        fig.add_bar(
            y=[""],
            x=[counts.get(level, 0)],
            name=t(f"risk.{level}", lang),
            orientation="h",
            marker_color=RISK_HEX[level],
            text=[counts.get(level, 0)],
            textposition="inside",
        )
    fig.update_layout(barmode="stack", showlegend=True, hovermode="closest")
    fig.update_xaxes(visible=False)
    return _layout(fig, height=height, large=large)


def testing_by_round(
    rounds: pd.DataFrame, *, lang: str, height: int = 280, large: bool = False
) -> go.Figure:
    """Coverage per testing round (bars) for one grid or area."""
    fig = go.Figure()
    fig.add_bar(
        x=display_names(rounds, lang, "round_name"),
        y=rounds["coverage"] * 100,
        name=t("chart.coverage", lang),
        marker_color=SERIES_HEX["coverage"],
        text=[f"{v * 100:.0f}%" if v == v else "—" for v in rounds["coverage"]],
        textposition="outside",
    )
    fig.update_yaxes(
        title_text=t("chart.coverage_pct", lang), range=[0, 110], **nice_axis(100, percent=True)
    )
    return _layout(fig, height=height, large=large)


# --------------------------------------------------------------------------- mass testing

# One colour per sampling site, door to door always the same grey-blue.
_SITE_HEX: tuple[str, ...] = (
    "#00838F",
    "#1565C0",
    "#6A1B9A",
    "#2E7D32",
    "#EF6C00",
    "#5D4037",
    "#AD1457",
    "#455A64",
)
_DOOR_HEX = "#90A4AE"
# The "needed" bars of a staffing chart: a neutral grey, so that only a shortfall is red.
NEED_HEX = "#B0BEC5"


def site_throughput(
    throughput: pd.DataFrame,
    *,
    lang: str,
    height: int = 380,
    large: bool = False,
    max_sites: int = 4,
) -> go.Figure:
    """Samples per local clock hour, stacked by site, door-to-door last.

    `throughput`: site_name, method ('site'|'door_to_door'), hour (local datetime), sampled,
    hourly_capacity. The `max_sites` busiest sites get their own colour, the rest are summed
    as "other sites"; the dotted line is the summed hourly capacity of every site.
    """
    fig = go.Figure()
    hours = sorted(set(throughput["hour"]))
    if not hours:
        return _layout(fig, height=height, large=large)
    last_day = hours[-1].date()
    labels = [f"{h:%H}:00" if h.date() == last_day else f"{h:%m-%d %H}:00" for h in hours]
    position = {h: i for i, h in enumerate(hours)}

    def per_hour(rows: pd.DataFrame) -> list[int]:
        y = [0] * len(hours)
        for hour, sampled in zip(rows["hour"], rows["sampled"], strict=True):
            y[position[hour]] += int(sampled)
        return y

    sites = throughput[throughput["method"] == "site"]
    sites = sites.assign(site_name=display_names(sites, lang, "site_name"))
    totals = sites.groupby("site_name", sort=True)["sampled"].sum()
    ranked = sorted(totals.index, key=lambda name: (-int(totals[name]), str(name)))
    shown, others = ranked[:max_sites], ranked[max_sites:]
    if len(others) == 1:
        shown, others = ranked, []
    for index, name in enumerate(sorted(shown)):
        colour = _SITE_HEX[index % len(_SITE_HEX)]
        rows = sites[sites["site_name"] == name]
        fig.add_bar(x=labels, y=per_hour(rows), name=str(name), marker_color=colour)
    if others:
        rows = sites[sites["site_name"].isin(others)]
        fig.add_bar(
            x=labels,
            y=per_hour(rows),
            name=t("tpage.chart.other_sites", lang, n=len(others)),
            marker_color=SERIES_HEX["neutral"],
        )
    door = throughput[throughput["method"] == "door_to_door"]
    if not door.empty:
        fig.add_bar(
            x=labels,
            y=per_hour(door),
            name=t("tpage.chart.door_to_door", lang),
            marker_color=_DOOR_HEX,
        )
    capacity = (
        sites.drop_duplicates("site_name")["hourly_capacity"].fillna(0).astype(int).sum()
        if not sites.empty
        else 0
    )
    if capacity:
        fig.add_scatter(
            x=labels,
            y=[capacity] * len(labels),
            name=t("tpage.chart.site_capacity", lang),
            mode="lines",
            line={"color": SERIES_HEX["neutral"], "dash": "dot", "width": 2},
        )
    fig.update_layout(barmode="stack")
    hourly = throughput.groupby("hour")["sampled"].sum()
    fig.update_yaxes(
        title_text=t("tpage.chart.samples_per_hour", lang),
        **nice_axis([*hourly.to_list(), capacity]),
    )
    return _layout(fig, height=height, large=large)


def _round_label(name: object) -> str:
    """A round's name on a category axis: its parts one above the other (a bracketed date,
    '第3轮全员核酸（3月18日）' or 'Round 3 (03-18)', under the name)."""
    text = str(name).replace("（", " · （").replace(" (", " · (")
    return "<br>".join(part.strip() for part in text.split(" · ") if part.strip())


# (column, label key, colour) of the coverage reached N hours after each round opened.
_ROUND_MARKS: tuple[tuple[str, str, str], ...] = (
    ("coverage_6h", "tpage.chart.after_6h", "#A5D6A7"),
    ("coverage_12h", "tpage.chart.after_12h", "#66BB6A"),
    ("coverage_24h", "tpage.chart.after_24h", "#2E7D32"),
)


def coverage_over_rounds(
    rounds: pd.DataFrame, *, lang: str, height: int = 320, large: bool = False
) -> go.Figure:
    """Coverage reached 6, 12 and 24 hours into each round (grouped bars), oldest first.

    `rounds`: name, coverage_6h, coverage_12h, coverage_24h (0..1, NaN when not reached yet).
    A street that gets faster shows taller 6-hour bars round after round.
    """
    fig = go.Figure()
    names = [_round_label(n) for n in display_names(rounds, lang)]
    for column, key, colour in _ROUND_MARKS:
        values = [v * 100 if v == v else None for v in rounds[column]]
        # Only the first checkpoint is labelled: it says most about speed, and fits a phone.
        text = [f"{v:.0f}%" if v is not None else "" for v in values]
        fig.add_bar(
            x=names,
            y=values,
            name=t(key, lang),
            marker_color=colour,
            text=text if column == _ROUND_MARKS[0][0] else None,
            textposition="outside",
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(
        title_text=t("chart.coverage_pct", lang), range=[0, 112], **nice_axis(100, percent=True)
    )
    return _layout(fig, height=height, large=large)


def positives_by_round(
    rounds: pd.DataFrame, *, lang: str, height: int = 300, large: bool = False
) -> go.Figure:
    """Positive samples per round (bars) and per 10,000 sampled (line, right axis).

    `rounds`: name, positives, positives_per_10k.
    """
    names = [_round_label(n) for n in display_names(rounds, lang)]
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=[int(v) for v in rounds["positives"]],
        name=t("tpage.chart.positives", lang),
        marker_color=SERIES_HEX["cases"],
    )
    fig.add_scatter(
        x=names,
        y=[v if v == v else None for v in rounds["positives_per_10k"]],
        name=t("tpage.chart.positives_per_10k", lang),
        mode="lines+markers",
        line={"color": SERIES_HEX["community"], "width": 3},
        yaxis="y2",
    )
    fig = _layout(fig, height=height, large=large)
    fig.update_layout(
        yaxis={
            "title": {"text": t("tpage.chart.positives", lang)},
            "rangemode": "tozero",
            **nice_axis(rounds["positives"]),
        },
        yaxis2={
            "title": {"text": t("tpage.chart.positives_per_10k", lang)},
            **nice_axis(rounds["positives_per_10k"], integer=False),
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
    )
    return fig


def staffing_need(
    need: pd.DataFrame, *, lang: str, height: int = 220, large: bool = False
) -> go.Figure:
    """What a round needs against what it has, one row per resource (horizontal bars).

    `need`: label, needed, present — `needed` the policy's figure (the higher end of a
    range), `present` red when short of it.
    """
    labels = [str(v) for v in need["label"]]
    present_colours = [
        SERIES_HEX["cases"] if p < n else SERIES_HEX["coverage"]
        for p, n in zip(need["present"], need["needed"], strict=True)
    ]
    fig = go.Figure()
    fig.add_bar(
        y=labels,
        x=[int(v) for v in need["needed"]],
        name=t("tpage.chart.needed", lang),
        orientation="h",
        marker_color=NEED_HEX,
        text=[int(v) for v in need["needed"]],
        textposition="auto",
    )
    fig.add_bar(
        y=labels,
        x=[int(v) for v in need["present"]],
        name=t("tpage.chart.present", lang),
        orientation="h",
        marker_color=present_colours,
        text=[int(v) for v in need["present"]],
        textposition="auto",
    )
    fig.update_layout(barmode="group", hovermode="closest")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(**nice_axis([*need["needed"], *need["present"]]))
    return _layout(fig, height=height, large=large)
