"""Grid map: every grid coloured by a chosen measure, with zone orders and optional layers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gridcore.i18n import t
from gridcore.queries import areas, stock, testing, zones
from gridcore.ui import data, session, views
from gridcore.ui.maps import MEASURES, MapLayers, format_measure, rank_by_measure

MAP_HEIGHT = 620


def page() -> None:
    session.require_actor()
    lang = session.language()
    st.title(t("page.grid_map", lang))
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    measure = c1.selectbox(
        t("map.measure", lang),
        MEASURES,
        format_func=lambda m: t(f"measure.{m}", lang),
        key="map_measure",
    )
    show_buildings = c2.toggle(t("map.layer_buildings", lang), key="map_buildings")
    show_sites = c3.toggle(t("map.layer_sites", lang), value=True, key="map_sites")
    show_depots = c4.toggle(t("map.layer_depots", lang), key="map_depots")
    _live(lang, measure, show_buildings, show_sites, show_depots)


@session.live()
def _live(
    lang: str, measure: str, show_buildings: bool, show_sites: bool, show_depots: bool
) -> None:
    views.updated_caption(lang)
    frame = views.map_frame(lang)
    if frame.empty:
        st.info(t("map.no_grids", lang))
        return
    today = data.today()
    latest_round = frame["latest_round_id"].dropna()
    round_id = int(latest_round.iloc[0]) if not latest_round.empty else None
    layers = MapLayers(
        zones=data.cached(zones.zone_orders, today=today),
        buildings=data.cached(areas.buildings) if show_buildings else None,
        sites=data.cached(testing.site_points, round_id=round_id)
        if show_sites and round_id
        else None,
        depots=data.cached(stock.depots) if show_depots else None,
    )
    gmap = views.grid_map(frame=frame, measure=measure, lang=lang, layers=layers, height=MAP_HEIGHT)
    clicked = views.show_map(gmap, key="grid_map", height=MAP_HEIGHT, selectable=True)
    if clicked:
        views.open_grid(clicked)
    st.caption(t("map.click_hint", lang))
    _ranking(frame, measure, lang)


def _ranking(frame: pd.DataFrame, measure: str, lang: str) -> None:
    """The grids ranked by the measure, with a picker to open one (works on a phone too)."""
    ranked = rank_by_measure(frame, measure)
    columns = {"code": ranked["code"], "grid": ranked["label"]}
    columns[measure] = pd.Series([format_measure(measure, v, lang) for v in ranked[measure]])
    if measure != "risk_level":
        columns["risk_level"] = pd.Series([t(f"risk.{v}", lang) for v in ranked["risk_level"]])
    table = pd.DataFrame({k: list(v) for k, v in columns.items()})
    table.columns = [
        t("table.code", lang),
        t("table.grid", lang),
        *(t(f"measure.{m}", lang) for m in list(columns)[2:]),
    ]
    with st.expander(t("map.ranking", lang), expanded=False):
        st.dataframe(table, hide_index=True, width="stretch", height=360)
    pick_col, go_col = st.columns([3, 1])
    options = list(ranked["code"])
    labels = dict(zip(ranked["code"], ranked["label"], strict=True))
    code = pick_col.selectbox(
        t("map.open_grid", lang),
        options,
        format_func=lambda c: f"{labels[c]} · {c}",
        key="map_pick",
    )
    go_col.write("")
    if go_col.button(t("map.open", lang), key="map_open", width="stretch") and code:
        views.open_grid(code)


page()
