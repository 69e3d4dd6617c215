"""The kiosk's panels that compose several subjects: cases and zones, supplies, workforce.

Each shows a row of big figures and one or two short tables of grids, depots or items, with
no personal data: counts, places and items only. Type comes from KIOSK_CSS (the window's
height); `rows` is how many table rows fit under the figures.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import streamlit as st

from gridcore.analytics.risk import level_rank
from gridcore.analytics.stock import SHORTAGE_LEVELS
from gridcore.i18n import display_names, fmt_int, fmt_num, t
from gridcore.queries import overview, policy, requests, workforce, zones
from gridcore.queries import stock as stock_queries
from gridcore.ui import data
from gridcore.ui import stock as sv
from gridcore.ui.views import grid_overview
from gridcore.ui.zones import level_text

# Shortage levels a supplies panel lists (an item under its minimum, or out).
_SHORT = ("out", "short")

# The kiosk's type scales with the window's height: a character of a message is about this
# share of the height wide (a Chinese one twice as wide); measured at 1280×720, where a line
# of the testing panel's forecast holds about 118 characters.
CHAR_SHARE = 0.0143
# The page's side margins, in px.
SIDE_MARGINS_PX = 64


def text_lines(text: str, *, width: int, height: int) -> int:
    """How many lines `text` takes across a kiosk window of `width` × `height` px."""
    units = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    per_line = max(1, int((width - SIDE_MARGINS_PX) / (CHAR_SHARE * height)))
    return max(1, math.ceil(units / per_line))


def minute_now() -> datetime:
    """Now (local time) to the minute, so every projector shares the cached figures."""
    return data.now().replace(second=0, microsecond=0)


def figures(items: Sequence[tuple[str, str]]) -> None:
    """A row of big figures, one bordered tile each: (label, value)."""
    for n, (column, (label, value)) in enumerate(zip(st.columns(len(items)), items, strict=True)):
        column.container(border=True, key=f"gc_tile_none_kiosk_{n}").metric(label, value)


def _table(frame: pd.DataFrame) -> None:
    """An HTML table (so the kiosk's large type applies), without its index."""
    st.table(frame, hide_index=True)


def cases_panel(lang: str, *, rows: int) -> None:
    """Today's new cases and people in quarantine, grids under each zone level, and the grids
    at most risk (risk level, then new cases)."""
    today, now = data.today(), minute_now()
    head = data.cached(overview.headline, today=today, now=now)
    status = data.cached(zones.grid_zone_status, as_of=today)
    levels = status["level"].value_counts()
    figures(
        [
            (t("headline.new_cases", lang), fmt_int(head.new_cases.value)),
            (t("kiosk.in_quarantine", lang), fmt_int(head.in_quarantine.value)),
            *(
                (t(f"kiosk.grids_{level}", lang), fmt_int(int(levels.get(level, 0))))
                for level in zones.ZONE_SEVERITY
            ),
        ]
    )
    metrics = grid_overview().metrics
    st.subheader(t("kiosk.cases_top", lang))
    if metrics.empty:
        st.info(t("kiosk.no_grids", lang))
        return
    top = (
        metrics.assign(_rank=metrics["risk_level"].map(level_rank))
        .sort_values(
            ["_rank", "new_cases_today", "new_cases_7d", "code"],
            ascending=[True, False, False, True],
        )
        .head(max(2, rows))
    )
    _table(
        pd.DataFrame(
            {
                t("kiosk.col_grid", lang): display_names(top, lang),
                t("kiosk.col_risk", lang): [t(f"risk.{v}", lang) for v in top["risk_level"]],
                t("kiosk.col_new_today", lang): top["new_cases_today"].astype(int).tolist(),
                t("kiosk.col_new_7d", lang): top["new_cases_7d"].astype(int).tolist(),
                t("kiosk.col_quarantine", lang): top["in_quarantine"].astype(int).tolist(),
                t("kiosk.col_zone", lang): [level_text(v, lang) for v in top["zone_level"]],
            }
        )
    )


def supplies_panel(lang: str, *, rows: int) -> None:
    """Depot and item pairs under their minimum or under the alert's days of cover, and the
    urgent requests past their target."""
    now = minute_now()
    picture = data.cached(stock_queries.supply_picture, now=now)
    cover_days = data.cached(policy.current_policy).alert_cover_days
    positions = picture.positions
    cover = positions["days_of_cover"].astype(float)
    below = positions["level"].isin(_SHORT)
    thin = cover < cover_days
    figures(
        [
            (t("kiosk.below_minimum", lang), fmt_int(int(below.sum()))),
            (t("kiosk.thin_cover", lang, days=cover_days), fmt_int(int(thin.sum()))),
            (
                t("kiosk.urgent_overdue", lang),
                fmt_int(data.cached(requests.overdue_urgent_count, at=now)),
            ),
        ]
    )
    st.subheader(t("kiosk.shortages", lang))
    short = positions[below | thin]
    if short.empty:
        st.success(t("kiosk.no_shortages", lang))
        return
    ordered = short.assign(
        _rank=short["level"].map({level: n for n, level in enumerate(SHORTAGE_LEVELS)}),
        _cover=short["days_of_cover"].astype(float).fillna(math.inf),
    ).sort_values(["_rank", "_cover", "depot_id", "item_id"])
    shown = ordered.head(max(2, rows))
    names = sv.Names(
        data.cached(stock_queries.depot_list), data.cached(stock_queries.item_list), lang
    )
    _table(
        pd.DataFrame(
            {
                t("kiosk.col_depot", lang): [names.depot(d) for d in shown["depot_id"]],
                t("kiosk.col_item", lang): [names.item(i) for i in shown["item_id"]],
                t("kiosk.col_stock", lang): [
                    f"{fmt_int(int(s))} / {fmt_int(int(m))}"
                    for s, m in zip(shown["stock"], shown["min_stock"], strict=True)
                ],
                t("kiosk.col_cover", lang): [
                    sv.cover_text(v, lang) for v in shown["days_of_cover"]
                ],
            }
        )
    )
    if len(ordered) > len(shown):
        st.caption(t("kiosk.more", lang, n=fmt_int(len(ordered) - len(shown))))


def workforce_panel(lang: str, *, rows: int) -> None:
    """Understaffed grids and overloaded workers (counts per grid, no names)."""
    today, now = data.today(), minute_now()
    staffing = data.cached(workforce.staffing, understaffed_only=True)
    load = data.cached(workforce.overloaded_workers, now=now, today=today)
    summary = data.cached(workforce.workforce_summary, now=now, today=today)
    figures(
        [
            (t("headline.understaffed_grids", lang), fmt_int(len(staffing))),
            (t("kiosk.overloaded", lang), fmt_int(load.workers)),
            (t("kiosk.overdue_tasks", lang), fmt_int(summary.overdue_tasks)),
            (t("kiosk.unassigned_tasks", lang), fmt_int(summary.unassigned_open_tasks)),
        ]
    )
    left, right = st.columns(2)
    shown = max(2, rows)
    with left:
        st.subheader(t("kiosk.understaffed", lang, standard=fmt_int(summary.standard)))
        if staffing.empty:
            st.success(t("kiosk.none_understaffed", lang))
        else:
            top = staffing.head(shown)
            _table(
                pd.DataFrame(
                    {
                        t("kiosk.col_grid", lang): display_names(top, lang),
                        t("kiosk.col_per_worker", lang): [
                            fmt_num(v, lang, digits=0) for v in top["households_per_worker"]
                        ],
                        t("kiosk.col_gap", lang): top["gap"].astype(int).tolist(),
                    }
                )
            )
            if len(staffing) > len(top):
                st.caption(t("kiosk.more", lang, n=fmt_int(len(staffing) - len(top))))
    with right:
        st.subheader(t("kiosk.overloaded_by_grid", lang, score=load.score))
        if load.by_grid.empty:
            st.success(t("kiosk.none_overloaded", lang))
        else:
            top = load.by_grid.head(shown)
            _table(
                pd.DataFrame(
                    {
                        t("kiosk.col_grid", lang): display_names(top, lang),
                        t("kiosk.col_workers", lang): top["overloaded_workers"].astype(int),
                        t("kiosk.col_overdue", lang): top["overdue_tasks"].astype(int),
                    }
                )
            )
