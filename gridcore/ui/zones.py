"""Pieces of the Zones page: the as-of day in the URL, the order board, the map, the texts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from gridcore.analytics import zones as zone_analytics
from gridcore.analytics.risk import Reason
from gridcore.config import get_settings
from gridcore.i18n import display_name, fmt_date, fmt_int, pick_name, t
from gridcore.models import AreaLevel
from gridcore.policy import Policy
from gridcore.queries import areas
from gridcore.ui import data, forms
from gridcore.ui.forms import cell_text
from gridcore.ui.maps import GridMap, build_zone_map, frame_fingerprint
from gridcore.ui.views import shared_map, table_rows

AS_OF_PARAM = "as_of"
# On a phone the five headline figures go two to a row instead of five stacked screens.
ZONES_CSS = """
<style>
/* These tables hold typed text (reasons, addresses): their export is GridCore's own, which
   neutralises spreadsheet formulas, not the table's raw download. */
.st-key-zn_board [data-testid="stElementToolbar"],
.st-key-zn_unordered [data-testid="stElementToolbar"],
.st-key-zn_places [data-testid="stElementToolbar"] {display: none !important;}
@media (max-width: 640px) {
  .st-key-zn_headline [data-testid="stHorizontalBlock"] {flex-direction: row !important;
    flex-wrap: wrap !important; gap: .5rem !important;}
  .st-key-zn_headline [data-testid="stColumn"] {flex: 1 1 calc(50% - .5rem) !important;
    min-width: calc(50% - .5rem) !important; width: calc(50% - .5rem) !important;}
  .st-key-zn_headline [data-testid="stMetricValue"] {font-size: 1.7rem !important;}
}
</style>
"""
# At most this many places with cases go on the map (newest first); the table has them all.
MAX_MAP_PLACES = 3000
_FILL = {
    zone_analytics.ISSUE: "act",
    zone_analytics.ESCALATE: "act",
    zone_analytics.STEP_DOWN: "relax",
    zone_analytics.LIFT: "relax",
}
# The form's action that carries out each suggestion.
FORM_ACTION = {
    zone_analytics.ISSUE: "issue",
    zone_analytics.ESCALATE: "issue",
    zone_analytics.STEP_DOWN: "step_down",
    zone_analytics.LIFT: "lift",
    zone_analytics.KEEP: "extend",
    zone_analytics.NONE: "issue",
}


# --------------------------------------------------------------------------- the as-of day


def parse_day(raw: str | None) -> date | None:
    """A YYYY-MM-DD day from the URL, or None when it is not one."""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def pick_as_of(lang: str, *, key: str = "zn_as_of") -> date:
    """The day the page is read as of: ?as_of= when valid, else today; kept in the URL."""
    today = data.today()
    seen = f"{key}_url"
    raw = st.query_params.get(AS_OF_PARAM)
    if raw != st.session_state.get(seen):
        st.session_state[seen] = raw
        day = forms.url_day(raw, today)
        if raw and day is None:
            st.warning(t("zpage.bad_as_of", lang, value=forms.markdown_text(raw)))
        st.session_state[key] = day or today
    if not isinstance(st.session_state.get(key), date):
        st.session_state[key] = today
    chosen = st.columns([1, 2])[0].date_input(
        t("zpage.as_of", lang), key=key, help=t("zpage.as_of_help", lang), format="YYYY-MM-DD"
    )
    day = chosen if isinstance(chosen, date) else today
    wanted = None if day == today else day.isoformat()
    if raw != wanted:
        if wanted is None:
            st.query_params.pop(AS_OF_PARAM, None)
        else:
            st.query_params[AS_OF_PARAM] = wanted
        st.session_state[seen] = wanted
    return day


# --------------------------------------------------------------------------- words


def reason_text(reason: Reason, lang: str) -> str:
    """A reason in words, its dates written in the view's language."""
    params = {
        name: fmt_date(value, lang) if isinstance(value, date) else value
        for name, value in reason.params.items()
    }
    return t(reason.key, lang, **params)


def level_text(level: Any, lang: str) -> str:
    """A zone level's name ('No order' for none)."""
    return t(f"zone.{level}", lang) if level else t("zone.none", lang)


def suggestion_text(action: str, level: str, lang: str) -> str:
    """The suggested change in a few words ('Step down to controlled', 'Keep')."""
    return t(f"zones.action.{action}", lang, level=level_text(level, lang))


def countdown_text(days_left: Any, overdue_days: int, lang: str) -> str:
    """'3 days left', 'Due today', 'Overdue by 2 days' or 'No timer'."""
    if days_left is None or days_left is pd.NA or days_left != days_left:
        return t("zpage.no_timer", lang)
    if overdue_days > 0:
        return t(
            "zpage.overdue" if overdue_days != 1 else "zpage.overdue.one", lang, n=overdue_days
        )
    if int(days_left) == 0:
        return t("zpage.due_today", lang)
    return t("zpage.days_left" if days_left != 1 else "zpage.days_left.one", lang, n=days_left)


def order_target(row: Any, lang: str) -> str:
    """What an order covers: 'Grid 1-1 · T-C1-G1', or a building and its grid."""
    grid = f"{display_name(row, lang, 'grid_name')} · {row.grid_code}"
    building = display_name(row, lang, "building_name")
    if building:
        return t("zpage.building_in", lang, building=building, grid=grid)
    return grid


def order_label(row: Any, lang: str) -> str:
    """An order as a choice in the form: its target, level and start."""
    return t(
        "zpage.order_label",
        lang,
        target=order_target(row, lang),
        level=level_text(row.level, lang),
        since=fmt_date(row.start_date, lang),
    )


# --------------------------------------------------------------------------- tables


def board_table(board: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The orders in force as the page shows them (localised column names and values)."""
    rows = []
    for row in table_rows(board):
        last = row.last_case_day if isinstance(row.last_case_day, date) else None
        rows.append(
            {
                t("zpage.col_area", lang): order_target(row, lang),
                t("zpage.col_level", lang): level_text(row.level, lang),
                t("zpage.col_since", lang): fmt_date(row.start_date, lang),
                t("zpage.col_last_case", lang): fmt_date(last, lang),
                t("zpage.col_stepdown", lang): fmt_date(row.stepdown_date, lang),
                t("zpage.col_countdown", lang): countdown_text(
                    row.days_left, int(row.overdue_days), lang
                ),
                t("zpage.col_suggestion", lang): suggestion_text(
                    row.action, row.suggested_level, lang
                ),
                t("zpage.col_why", lang): reason_text(row.why, lang),
                t("zpage.col_reason", lang): cell_text(row.reason),
            }
        )
    return pd.DataFrame(rows, columns=board_columns(lang))


def board_columns(lang: str) -> list[str]:
    keys = ("area", "level", "since", "last_case", "stepdown", "countdown", "suggestion", "why")
    return [t(f"zpage.col_{k}", lang) for k in (*keys, "reason")]


def grids_table(grids: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Grids with a suggested order they do not have: name, cases, suggestion and why."""
    rows = [
        {
            t("zpage.col_area", lang): f"{pick_name(r.name, r.name_zh, lang)} · {r.code}",
            t("zpage.col_community_cases", lang): int(r.community_cases_recent),
            t("zpage.col_last_case", lang): fmt_date(
                r.last_case_day if isinstance(r.last_case_day, date) else None, lang
            ),
            t("zpage.col_suggestion", lang): suggestion_text(r.action, r.suggested_level, lang),
            t("zpage.col_why", lang): reason_text(r.why, lang),
        }
        for r in table_rows(grids)
    ]
    return pd.DataFrame(rows)


def place_zones(places: pd.DataFrame, *, as_of: date, policy: Policy) -> pd.DataFrame:
    """Places with the zone they would have had as of `as_of`: level, days_left, next_step."""
    frame = places.copy()
    zones = [
        zone_analytics.place_zone(last_case_day=day, as_of=as_of, policy=policy)
        for day in frame["last_case_day"]
    ]
    frame["level"] = [z.level if z else "" for z in zones]
    frame["days_left"] = [z.days_left if z else None for z in zones]
    frame["next_step"] = [z.next_step if z else None for z in zones]
    return frame[frame["level"] != ""].reset_index(drop=True)


def place_tip(row: Any, lang: str) -> str:
    """A place's tooltip: plain text."""
    return t(
        "zpage.place_tip",
        lang,
        place=cell_text(row.place),
        cases=fmt_int(row.cases),
        last=fmt_date(row.last_case_day, lang),
        level=level_text(row.level, lang),
        countdown=countdown_text(row.days_left, 0, lang),
    )


def places_table(places: pd.DataFrame, lang: str, *, policy: Policy) -> pd.DataFrame:
    """Places with cases as the page lists them (cases: those in the places' window)."""
    days = zone_analytics.place_window_days(policy)
    return pd.DataFrame(
        {
            t("zpage.col_place", lang): [cell_text(p) for p in places["place"]],
            t("zpage.col_cases", lang, days=days): places["cases"].astype(int),
            t("zpage.col_place_last", lang): [fmt_date(d, lang) for d in places["last_case_day"]],
            t("zpage.col_would_be", lang): [level_text(v, lang) for v in places["level"]],
            t("zpage.col_countdown", lang): [
                countdown_text(d, 0, lang) for d in places["days_left"]
            ],
        }
    )


# --------------------------------------------------------------------------- the map


def map_areas(grids: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The areas drawn on the map with their fill and tooltip.

    Grids when the deployment has them (filled by their suggestion), else the lowest level
    that has shapes (a district deployment draws its districts).
    """
    suggestions = {int(r.grid_id): r for r in table_rows(grids)}
    for level in (AreaLevel.grid, AreaLevel.community, AreaLevel.street, AreaLevel.district):
        shapes = data.cached(areas.area_shapes, level=level)
        if not shapes.empty:
            break
    rows = []
    for row in table_rows(shapes):
        label = pick_name(row.name, row.name_zh, lang)
        found = suggestions.get(int(row.area_id))
        fill, tip = "keep", f"{label} · {row.code}"
        if found is not None:
            fill = _FILL.get(found.action, "keep")
            tip += " · " + t(
                "zpage.area_tip",
                lang,
                level=level_text(found.level, lang),
                suggestion=suggestion_text(found.action, found.suggested_level, lang),
                why=reason_text(found.why, lang),
            )
        rows.append(
            {"area_id": row.area_id, "code": row.code, "label": label, "shape": row.shape,
             "fill": fill, "tip": tip}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=["area_id", "code", "label", "shape", "fill", "tip"])


def zone_map(
    *, areas_frame: pd.DataFrame, zones: pd.DataFrame, places: pd.DataFrame, lang: str
) -> GridMap:
    """The Zones map with the deployment's base-map settings."""
    settings = get_settings()
    shown = places.head(MAX_MAP_PLACES).copy()
    shown["tip"] = [place_tip(r, lang) for r in table_rows(shown)]
    # Built once per content (a district's zone outlines are dashed in Python) and shared.
    content = (
        "zones",
        *(frame_fingerprint(frame) for frame in (areas_frame, zones, shown)),
        lang,
        settings.basemap_url,
        settings.basemap_datum,
    )
    return shared_map(
        content,
        lambda: build_zone_map(
            areas=areas_frame,
            zones=zones,
            places=shown,
            lang=lang,
            basemap_url=settings.basemap_url,
            basemap_datum=settings.basemap_datum,
        ),
    )
