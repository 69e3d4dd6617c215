"""Pieces of the Supplies page: words, the heat table, the depot map, the tables shown."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pandas as pd
import streamlit as st

from gridcore.analytics.stock import SHORTAGE_LEVELS, worst_level
from gridcore.config import get_settings
from gridcore.i18n import (
    depot_name,
    display_name,
    enum_label,
    fmt_datetime,
    fmt_int,
    fmt_num,
    has_key,
    t,
)
from gridcore.ui.forms import each_once, html_text
from gridcore.ui.maps import GridMap, LegendEntry, build_depot_map

SUPPLIES_PAGE = "pages/supplies.py"

# Worst first, as analytics.stock.SHORTAGE_LEVELS; risk colours' family (red is bad).
SHORTAGE_HEX: dict[str, str] = {
    "out": "#8D2C00",
    "short": "#C62828",
    "low": "#F9A825",
    "ok": "#2E7D32",
    "none": "#CFD8DC",
}

SUPPLIES_CSS = """
<style>
.gc-note {border-radius: .5rem; padding: .75rem 1rem; margin: .25rem 0 .75rem;
  font-size: 1rem; line-height: 1.45;}
.gc-note.success {background: #E8F5E9; color: #1B5E20; border: 1px solid #A5D6A7;}
.gc-note.error {background: #FFEBEE; color: #B71C1C; border: 1px solid #EF9A9A;}
.gc-move {font-size: 1rem; line-height: 1.4; margin: .35rem 0;}
.gc-move .qty {font-weight: 700;}
.gc-move .far {color: #546E7A;}
[class*="st-key-sp_move_"] button {min-height: 2.6rem;}
.gc-heat {overflow: auto; max-height: 32rem; border: 1px solid #CFD8DC; border-radius: .5rem;}
.gc-heat table {border-collapse: separate; border-spacing: 0; font-size: .85rem;}
.gc-heat th, .gc-heat td {padding: .3rem .5rem; border-bottom: 1px solid #ECEFF1;
  white-space: nowrap; text-align: right;}
.gc-heat thead th {position: sticky; top: 0; background: #F5F7F8; z-index: 2;
  font-weight: 600; text-align: center;}
.gc-heat th.depot {position: sticky; left: 0; background: #FFFFFF; text-align: left;
  z-index: 1; font-weight: 500; max-width: 16rem; overflow: hidden; text-overflow: ellipsis;}
.gc-heat thead th.depot {z-index: 3; background: #F5F7F8;}
.gc-heat td.out {background: #8D2C00; color: #FFFFFF; font-weight: 700;}
.gc-heat td.short {background: #C62828; color: #FFFFFF; font-weight: 700;}
.gc-heat td.low {background: #F9A825; color: #1B1B1B;}
.gc-heat td.ok {background: #2E7D32; color: #FFFFFF;}
.gc-heat td.none {background: #CFD8DC; color: #1B1B1B;}
@media (max-width: 640px) {.gc-heat th.depot {max-width: 9rem;}}
/* Streamlit's own table download writes cells as they are (formulas included): the page
   offers GridCore's safe CSV and Excel downloads instead. */
[data-testid="stElementToolbar"] {display: none !important;}
@media (max-width: 640px) {
  [data-testid="stMain"] h1 {font-size: 1.9rem !important; padding-top: .5rem !important;}
  .st-key-sp_headline [data-testid="stHorizontalBlock"] {flex-direction: row !important;
    flex-wrap: wrap !important; gap: .5rem !important;}
  .st-key-sp_headline [data-testid="stColumn"] {flex: 1 1 calc(50% - .5rem) !important;
    min-width: calc(50% - .5rem) !important; width: calc(50% - .5rem) !important;}
}
</style>
"""


# --------------------------------------------------------------------------- words


def _rows(frame: pd.DataFrame) -> Iterator[Any]:
    """The rows of a frame as named tuples."""
    return frame.itertuples(index=False)


def item_name(row: Any, lang: str) -> str:
    """A supply item's name in the view's language."""
    return display_name(row, lang)


def unit_word(unit: Any, lang: str) -> str:
    """A unit ('boxes') in the view's language, when the catalogue knows it."""
    key = f"stock.unit.{unit}"
    return t(key, lang) if has_key(key) else str(unit)


def kind_word(kind: Any, lang: str) -> str:
    """A movement's kind in words ('Issue', '发放')."""
    return enum_label("stock.kind", kind, lang)


def level_word(level: Any, lang: str) -> str:
    """A shortage level in words ('Below minimum')."""
    return enum_label("stock.level", level, lang)


def cover_text(days: Any, lang: str) -> str:
    """Days of cover to one decimal; '—' when nothing is being used."""
    if days is None or (isinstance(days, float) and math.isnan(days)):
        return "—"
    return fmt_num(float(days), lang)


def notice(kind: str, message: str) -> None:
    """A success or error box whose text is shown as it is (names may hold any characters)."""
    st.html(f'<div class="gc-note {kind}">{html_text(message)}</div>')


def local_time(moment: Any, lang: str) -> str:
    """A moment in the deployment's time zone, to the minute."""
    if moment is None or (isinstance(moment, float) and math.isnan(moment)):
        return "—"
    return fmt_datetime(pd.Timestamp(moment).to_pydatetime().astimezone(get_settings().tz), lang)


class Names:
    """Depot and item names by id, in the view's language."""

    def __init__(self, depots: pd.DataFrame, items: pd.DataFrame, lang: str) -> None:
        self.lang = lang
        self.depots = {int(r.depot_id): depot_name(r, lang) for r in _rows(depots)}
        self.depot_levels = {int(r.depot_id): str(r.level) for r in _rows(depots)}
        self.items = {int(r.item_id): item_name(r, lang) for r in _rows(items)}
        self.units = {int(r.item_id): unit_word(r.unit, lang) for r in _rows(items)}
        self.categories = {int(r.item_id): str(r.category) for r in _rows(items)}

    def depot(self, depot_id: Any) -> str:
        if depot_id is None or (isinstance(depot_id, float) and math.isnan(depot_id)):
            return ""
        return self.depots.get(int(depot_id), str(depot_id))

    def item(self, item_id: Any) -> str:
        return self.items.get(int(item_id), str(item_id))

    def unit(self, item_id: Any) -> str:
        return self.units.get(int(item_id), "")


# --------------------------------------------------------------------------- tables


def heat_html(positions: pd.DataFrame, names: Names) -> str:
    """Depots × items as an HTML table: each cell the stock, coloured against its minimum.

    Names are escaped; an empty cell is an item the depot does not keep. A plain table is
    a fraction of the server's work of a styled data frame, and scrolls sideways on a phone
    with the depot column held in place.
    """
    depot_ids = sorted(set(positions["depot_id"].astype(int)))
    item_ids = sorted(set(positions["item_id"].astype(int)), key=names.item)
    cells = {
        (int(d), int(i)): (int(q), str(level), int(m))
        for d, i, q, level, m in zip(
            positions["depot_id"],
            positions["item_id"],
            positions["stock"],
            positions["level"],
            positions["min_stock"],
            strict=True,
        )
    }
    head = "".join(f"<th>{html_text(names.item(i))}</th>" for i in item_ids)
    parts = [
        '<div class="gc-heat"><table><thead><tr>',
        f'<th class="depot">{html_text(t("stock.col_depot", names.lang))}</th>{head}',
        "</tr></thead><tbody>",
    ]
    for d in depot_ids:
        parts.append(f'<tr><th class="depot">{html_text(names.depot(d))}</th>')
        for i in item_ids:
            found = cells.get((d, i))
            if found is None:
                parts.append("<td></td>")
                continue
            quantity, level, minimum = found
            tip = html_text(f"{quantity} / {minimum} {names.unit(i)}")
            parts.append(f'<td class="{level}" title="{tip}">{quantity:,}</td>')
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def legend_entries(lang: str) -> list[LegendEntry]:
    """The shortage colours, worst first."""
    return [LegendEntry(level_word(level, lang), SHORTAGE_HEX[level]) for level in SHORTAGE_LEVELS]


def cover_table(positions: pd.DataFrame, names: Names) -> pd.DataFrame:
    """Every depot and item, the least days of cover first (unused stock last)."""
    lang = names.lang
    ordered = positions.assign(
        _rank=positions["level"].map({level: n for n, level in enumerate(SHORTAGE_LEVELS)}),
        _cover=positions["days_of_cover"].fillna(math.inf),
    ).sort_values(["_rank", "_cover", "depot_id", "item_id"])
    return pd.DataFrame(
        {
            t("stock.col_depot", lang): [names.depot(d) for d in ordered["depot_id"]],
            t("stock.col_item", lang): [names.item(i) for i in ordered["item_id"]],
            # Labels and numbers shown once per distinct value (a district has 19,600 rows).
            t("stock.col_state", lang): each_once(
                ordered["level"], lambda v: level_word(v, lang)
            ).tolist(),
            t("stock.col_stock", lang): ordered["stock"].astype(int).tolist(),
            t("stock.col_minimum", lang): ordered["min_stock"].astype(int).tolist(),
            t("stock.col_unit", lang): [names.unit(i) for i in ordered["item_id"]],
            t("stock.col_daily_use", lang): each_once(
                ordered["daily_use"], lambda v: fmt_num(v, lang)
            ).tolist(),
            t("stock.col_cover", lang): each_once(
                ordered["days_of_cover"], lambda v: cover_text(v, lang)
            ).tolist(),
        }
    )


def transfer_table(transfers: pd.DataFrame, names: Names) -> pd.DataFrame:
    """The suggested transfers as shown and downloaded."""
    lang = names.lang
    return pd.DataFrame(
        {
            t("stock.col_item", lang): [names.item(i) for i in transfers["item_id"]],
            t("stock.col_quantity", lang): transfers["quantity"].astype(int).tolist(),
            t("stock.col_unit", lang): [names.unit(i) for i in transfers["item_id"]],
            t("stock.col_from", lang): [names.depot(d) for d in transfers["from_depot_id"]],
            t("stock.col_to", lang): [names.depot(d) for d in transfers["to_depot_id"]],
            t("stock.col_distance", lang): [
                "—" if v is None or v != v else fmt_num(float(v), lang, 2)
                for v in transfers["distance_km"]
            ],
        }
    )


def purchase_table(purchases: pd.DataFrame, names: Names) -> pd.DataFrame:
    """What the street must buy, per item."""
    lang = names.lang
    return pd.DataFrame(
        {
            t("stock.col_item", lang): [names.item(i) for i in purchases["item_id"]],
            t("stock.col_buy", lang): purchases["quantity"].astype(int).tolist(),
            t("stock.col_unit", lang): [names.unit(i) for i in purchases["item_id"]],
            t("stock.col_street_stock", lang): purchases["stock"].astype(int).tolist(),
            t("stock.col_street_minimum", lang): purchases["min_stock"].astype(int).tolist(),
            t("stock.col_daily_use", lang): [fmt_num(v, lang) for v in purchases["daily_use"]],
            t("stock.col_cover", lang): [cover_text(v, lang) for v in purchases["days_of_cover"]],
        }
    )


def history_table(rows: pd.DataFrame, names: Names) -> pd.DataFrame:
    """One page of the ledger as shown and downloaded."""
    lang = names.lang

    def number(value: Any) -> str:
        return "" if value is None or value != value else str(int(value))

    return pd.DataFrame(
        {
            t("stock.col_number", lang): rows["movement_id"].astype(int).tolist(),
            t("stock.col_when", lang): [local_time(v, lang) for v in rows["occurred_at"]],
            t("stock.col_depot", lang): [names.depot(d) for d in rows["depot_id"]],
            t("stock.col_item", lang): [names.item(i) for i in rows["item_id"]],
            t("stock.col_kind", lang): [kind_word(k, lang) for k in rows["kind"]],
            t("stock.col_change", lang): rows["quantity"].astype(int).tolist(),
            t("stock.col_unit", lang): [names.unit(i) for i in rows["item_id"]],
            t("stock.col_other_depot", lang): [
                names.depot(d) for d in rows["counterpart_depot_id"]
            ],
            t("stock.col_household", lang): [number(v) for v in rows["household_id"]],
            t("stock.col_request", lang): [number(v) for v in rows["request_id"]],
            t("stock.col_note", lang): rows["note"].fillna("").tolist(),
            t("stock.col_by", lang): rows["created_by"].fillna("").tolist(),
        }
    )


# --------------------------------------------------------------------------- the map


def depot_map_frame(positions: pd.DataFrame, depots: pd.DataFrame, names: Names) -> pd.DataFrame:
    """Each depot with a point: the colour of its worst shortage and a plain-text tip."""
    lang = names.lang
    by_depot: dict[int, list[Any]] = {}
    for r in _rows(positions):
        by_depot.setdefault(int(r.depot_id), []).append(r)
    rows = []
    for d in _rows(depots):
        held = by_depot.get(int(d.depot_id), [])
        worst = worst_level(str(r.level) for r in held)
        short = [r for r in held if r.level in ("out", "short")]
        tip = t(
            "stock.map_tip",
            lang,
            depot=names.depot(d.depot_id),
            state=level_word(worst, lang),
            n=fmt_int(len(short)),
        )
        if short:
            tip += " · " + ", ".join(
                f"{names.item(r.item_id)} {int(r.stock)}/{int(r.min_stock)}" for r in short[:3]
            )
        rows.append((int(d.depot_id), d.lng, d.lat, worst, SHORTAGE_HEX[worst], tip))
    frame = pd.DataFrame(rows, columns=["depot_id", "lng", "lat", "level", "colour", "tip"])
    # The worst are drawn last, on top of the others.
    rank = {level: n for n, level in enumerate(SHORTAGE_LEVELS)}
    return frame.sort_values("level", key=lambda s: -s.map(rank), kind="stable")


def depot_map(
    positions: pd.DataFrame, depots: pd.DataFrame, grids: pd.DataFrame, names: Names
) -> GridMap:
    """The depots on the map, coloured by their worst shortage, with the deployment's base map."""
    settings = get_settings()
    return build_depot_map(
        grids=grids,
        depots=depot_map_frame(positions, depots, names),
        legend=legend_entries(names.lang),
        basemap_url=settings.basemap_url,
        basemap_datum=settings.basemap_datum,
    )


def depot_choices(depots: pd.DataFrame, lang: str) -> dict[int, str]:
    """Depot id → name in the view's language, in id order."""
    return {int(r.depot_id): depot_name(r, lang) for r in _rows(depots)}
