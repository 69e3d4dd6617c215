"""Shared pieces of the Testing page, the roll call and the sampling desk."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from gridcore.access import Actor
from gridcore.analytics.testing import Staffing
from gridcore.config import get_settings
from gridcore.i18n import (
    display_name,
    display_names,
    enum_label,
    fmt_datetime,
    fmt_int,
    fmt_num,
    fmt_pct,
    pick_name,
    t,
)
from gridcore.models import AreaLevel
from gridcore.queries import areas
from gridcore.queries import testing as testing_queries
from gridcore.services import testing as ts
from gridcore.ui import data, forms
from gridcore.ui.forms import cell_text

ROLL_CALL_PAGE = "pages/roll_call.py"
GRID_PAGE = "pages/grid_detail.py"

# Phone-first layout of the roll call and the desk; print shows only the list.
TESTING_CSS = """
<style>
.gc-tap button, [class*="st-key-rc_s_"] button, [class*="st-key-desk_r_"] button {
  min-height: 3.2rem; font-size: 1.05rem; text-align: left; justify-content: flex-start;
  white-space: normal; line-height: 1.3;}
[class*="st-key-rc_s_"] button p, [class*="st-key-desk_r_"] button p {font-size: 1.05rem;}
.gc-person {font-size: 1.05rem; line-height: 1.45; margin: .1rem 0 .15rem;}
.gc-person .tags {display: inline-block; background: #FFF3E0; color: #8D2C00;
  border-radius: .4rem; padding: 0 .4rem; font-weight: 600; margin-left: .25rem;}
.gc-person a {font-weight: 600;}
.gc-hh {font-weight: 700; font-size: 1.1rem;}
.gc-hh .sub {font-weight: 400; color: #546E7A; font-size: .95rem; margin-left: .35rem;}
.gc-print table {border-collapse: collapse; width: 100%; font-size: 12px;}
.gc-print th, .gc-print td {border: 1px solid #B0BEC5; padding: 2px 4px; text-align: left;
  vertical-align: top;}
.gc-print h4 {margin: .6rem 0 .2rem; font-size: 14px;}
.gc-print .tick {width: 2.2rem;}
@media (max-width: 640px) {
  [data-testid="stMain"] h1 {font-size: 1.9rem !important; padding-top: .5rem !important;}
  .st-key-tp_headline [data-testid="stHorizontalBlock"] {flex-direction: row !important;
    flex-wrap: wrap !important; gap: .5rem !important;}
  .st-key-tp_headline [data-testid="stColumn"] {flex: 1 1 calc(50% - .5rem) !important;
    min-width: calc(50% - .5rem) !important; width: calc(50% - .5rem) !important;}
  .st-key-tp_headline [data-testid="stMetricValue"] {font-size: 1.7rem !important;}
}
@media print {
  [data-testid="stSidebar"], header[data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDecoration"], .stButton, .stDownloadButton, [data-testid="stElementToolbar"],
  .gc-noprint, [data-testid="stExpandSidebarButton"] {display: none !important;}
  .block-container {padding: 0 !important; max-width: 100% !important;}
  .gc-print table {font-size: 10px;}
}
</style>
"""


# --------------------------------------------------------------------------- rounds


def round_label(row: Any, lang: str) -> str:
    """A round's name with whether it is open or closed."""
    key = "tpage.round_open" if row.status == testing_queries.OPEN else "tpage.round_closed"
    return t(key, lang, name=display_name(row, lang))


def pick_round(lang: str, *, key: str, open_only: bool = False) -> int | None:
    """A round chosen by the user: ?round= first, then the current round; None without rounds.

    The choice is kept in the URL (?round=) so that a link opens the same round.
    """
    rounds = data.cached(testing_queries.rounds)
    if open_only:
        rounds = rounds[rounds["status"] == testing_queries.OPEN]
    if rounds.empty:
        return None
    ids = [int(r) for r in rounds["round_id"]]
    labels = dict(
        zip(ids, (round_label(r, lang) for r in rounds.itertuples(index=False)), strict=True)
    )
    seen = f"{key}_url"
    raw = st.query_params.get("round")
    if raw is not None and raw != st.session_state.get(seen):
        st.session_state[seen] = raw
        round_id = forms.url_id(raw)
        if round_id is not None and round_id in ids:
            st.session_state[key] = round_id
        else:
            st.warning(t("tpage.unknown_round", lang, round=forms.markdown_text(raw)))
    if st.session_state.get(key) not in ids:
        current = data.cached(testing_queries.current_round_id, now=minute_now())
        st.session_state[key] = current if current in ids else ids[0]
    chosen = int(st.selectbox(t("tpage.round", lang), ids, format_func=labels.__getitem__, key=key))
    if raw != str(chosen):
        st.query_params["round"] = str(chosen)
        st.session_state[seen] = str(chosen)
    return chosen


def minute_now() -> datetime:
    """Now (local time) to the minute, so cached figures are shared within a minute."""
    return data.now().replace(second=0, microsecond=0)


def local_time(moment: datetime | None, lang: str) -> str:
    """A moment shown in the deployment's time zone, to the minute."""
    if moment is None or moment != moment:
        return "—"
    return fmt_datetime(moment.astimezone(get_settings().tz), lang)


def _local_day(moment: datetime) -> date:
    return moment.astimezone(get_settings().tz).date()


def clock_time(moment: datetime | None) -> str:
    """HH:MM in the deployment's time zone."""
    if moment is None or moment != moment:
        return "—"
    return f"{moment.astimezone(get_settings().tz):%H:%M}"


def duration(hours: float, lang: str) -> str:
    """A length of time in hours and minutes ('2 h 15 min', '2小时15分钟')."""
    minutes = max(0, round(abs(hours) * 60))
    if minutes < 60:
        return t("tpage.minutes", lang, m=minutes)
    return t("tpage.hours_minutes", lang, h=minutes // 60, m=minutes % 60)


def forecast_message(
    summary: testing_queries.RoundSummary, lang: str, now: datetime
) -> tuple[str, str]:
    """('success' | 'error' | 'warning' | 'info', sentence): will the round finish in time?"""
    info, fc, missing = summary.round, summary.forecast, summary.street.missing
    deadline = local_time(info.deadline_at, lang)
    if info.closed_at is not None:
        late_hours = (info.closed_at - info.deadline_at).total_seconds() / 3600
        closed = local_time(info.closed_at, lang)
        if late_hours <= 0:
            return "success", t("tpage.closed_on_time", lang, closed=closed, deadline=deadline)
        return "warning", t(
            "tpage.closed_late",
            lang,
            closed=closed,
            deadline=deadline,
            late=duration(late_hours, lang),
        )
    if missing <= 0:
        return "success", t("tpage.everyone_sampled", lang)
    if now >= info.deadline_at:
        return "error", t("tpage.past_deadline", lang, deadline=deadline, missing=fmt_int(missing))
    if fc.projected_finish is None:
        return "warning", t("tpage.no_pace", lang, missing=fmt_int(missing), deadline=deadline)
    gap = (fc.projected_finish - info.deadline_at).total_seconds() / 3600
    finish = local_time(fc.projected_finish, lang)
    if fc.on_time:
        return "success", t(
            "tpage.on_time", lang, finish=finish, deadline=deadline, margin=duration(gap, lang)
        )
    return "error", t(
        "tpage.late", lang, finish=finish, deadline=deadline, late=duration(gap, lang)
    )


# --------------------------------------------------------------------------- grids


def coverage_map_frame(progress: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The round's grids with their shapes and labels, for the map coloured by `coverage`."""
    shapes = data.cached(areas.area_shapes, level=AreaLevel.grid)
    merged = progress.merge(shapes[["code", "shape"]], on="code", how="left")
    merged["label"] = [
        pick_name(n, z, lang) for n, z in zip(merged["name"], merged["name_zh"], strict=True)
    ]
    return merged


def schedule_word(*, missing: int, behind: bool, lang: str) -> str:
    """'Behind', 'On track' or 'Done' for one grid of a round."""
    if missing <= 0:
        return t("tpage.done", lang)
    return t("tpage.behind", lang) if behind else t("tpage.on_track", lang)


# The forecast sentence above them names the projected finish in full.
KIOSK_FIGURES = ("tpage.coverage", "tpage.missing", "tpage.pace", "tpage.deadline")


def round_headline(
    summary: testing_queries.RoundSummary, lang: str, only: tuple[str, ...] | None = None
) -> None:
    """A round's figures (all eight, or `only` these), four to a row; no personal data."""
    street, fc, info = summary.street, summary.forecast, summary.round
    if info.closed_at is not None:
        finish = "—"
    elif fc.projected_finish is None:
        finish = t("tpage.finish_unknown", lang)
    elif _local_day(fc.projected_finish) == _local_day(info.deadline_at):
        finish = clock_time(fc.projected_finish)
    else:  # a clock time alone would read as the deadline's day; month-day keeps it short
        finish = f"{fc.projected_finish.astimezone(get_settings().tz):%m-%d %H:%M}"
    pace = summary.pace.per_hour
    figures: tuple[tuple[str, str, str | None], ...] = (
        ("tpage.coverage", fmt_pct(street.coverage, lang), "tpage.coverage_help"),
        ("tpage.missing", fmt_int(street.missing), "tpage.missing_help"),
        ("tpage.behind_grids", fmt_int(summary.behind_grids), "tpage.behind_grids_help"),
        ("tpage.positives", fmt_int(street.positives), None),
        (
            "tpage.pace",
            fmt_num(pace, lang, 0) if pace is not None else "—",
            "tpage.pace_help",
        ),
        ("tpage.finish", finish, None),
        ("tpage.deadline", clock_time(info.deadline_at), None),
        ("tpage.pending", fmt_int(street.pending), None),
    )
    if only is not None:
        figures = tuple(f for f in figures if f[0] in only)
    box = st.container(key="tp_headline")
    for start in range(0, len(figures), 4):
        cols = box.columns(4)
        for col, (label, value, help_key) in zip(cols, figures[start : start + 4], strict=False):
            col.metric(
                t(label, lang),
                value,
                help=t(help_key, lang) if help_key else None,
                border=True,
            )
    st.caption(
        t(
            "tpage.sampled_of",
            lang,
            sampled=fmt_int(street.expected - street.missing),
            expected=fmt_int(street.expected),
        )
    )


def ranking_title(progress: pd.DataFrame, lang: str) -> str:
    """The grid list's title: 'behind schedule first', or that no grid is behind."""
    behind = progress["behind"].astype(bool) & (progress["missing"] > 0)
    return t("tpage.ranking_title" if behind.any() else "tpage.ranking_none_behind", lang)


def ranked_grid_table(progress: pd.DataFrame, lang: str, *, codes: bool = True) -> pd.DataFrame:
    """The progress frame as shown, in its order (behind-schedule grids first); `codes=False`
    names grids without their codes (a projector's short names)."""
    return pd.DataFrame(
        {
            t("tpage.col_grid", lang): [
                f"{pick_name(n, z, lang)} · {c}" if codes else pick_name(n, z, lang)
                for n, z, c in zip(
                    progress["name"], progress["name_zh"], progress["code"], strict=True
                )
            ],
            t("tpage.col_state", lang): [
                schedule_word(missing=int(m), behind=bool(b), lang=lang)
                for m, b in zip(progress["missing"], progress["behind"], strict=True)
            ],
            t("tpage.col_missing", lang): progress["missing"].astype(int),
            t("tpage.col_coverage", lang): [fmt_pct(v, lang) for v in progress["coverage"]],
            t("tpage.col_sampled", lang): progress["sampled"].astype(int),
            t("tpage.col_expected", lang): progress["expected"].astype(int),
            t("tpage.col_positives", lang): progress["positives"].astype(int),
            t("tpage.col_pending", lang): progress["pending"].astype(int),
            t("tpage.col_community", lang): [
                pick_name(n, z, lang)
                for n, z in zip(
                    progress["community_name"], progress["community_name_zh"], strict=True
                )
            ],
        }
    )


def open_roll_call(code: str, round_id: int) -> None:
    """Go to the roll call of grid `code` in round `round_id`."""
    st.switch_page(ROLL_CALL_PAGE, query_params={"grid": code, "round": str(round_id)})


def staffing_frame(staffing: Staffing, lang: str) -> pd.DataFrame:
    """Needed against present, for the staffing chart (desks: the lower end of the range)."""
    return pd.DataFrame(
        {
            "label": [t("tpage.staff_desks", lang), t("tpage.staff_samplers", lang)],
            "needed": [staffing.desks_min, staffing.samplers_needed],
            "present": [staffing.desks, staffing.workers],
        }
    )


# --------------------------------------------------------------------------- residents


def vulnerability_words(tags: Any, lang: str) -> str:
    """Vulnerability tags as words ('Elderly living alone, Bedridden')."""
    words = [enum_label("vulnerability", tag, lang) for tag in list(tags or [])]
    return "、".join(words) if lang == "zh" else ", ".join(words)


def needs_visit(tags: Any) -> bool:
    """Whether a resident's tags mean they cannot come to a site (a home visit is needed)."""
    return bool(set(tags or []) & {"elderly_alone", "bedridden", "disabled"})


def age(birth_year: Any) -> int | None:
    """Age this year, or None when the birth year is unknown."""
    if birth_year is None or birth_year != birth_year:
        return None
    return data.today().year - int(birth_year)


def roll_call_export(roll: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The roll call as a table for download and print, with headers in the view's language."""
    return pd.DataFrame(
        {
            t("tpage.rc_col_building", lang): display_names(roll, lang, "building"),
            t("tpage.rc_col_unit", lang): roll["unit"],
            t("tpage.rc_col_name", lang): roll["name"],
            t("tpage.rc_col_phone", lang): roll["phone"],
            t("tpage.rc_col_birth_year", lang): roll["birth_year"].astype("Int64"),
            t("tpage.rc_col_sex", lang): [
                enum_label("sex", s, lang) if isinstance(s, str) and s else "" for s in roll["sex"]
            ],
            t("tpage.rc_col_tags", lang): [
                vulnerability_words(v, lang) for v in roll["vulnerability"]
            ],
            t("tpage.rc_col_household_missing", lang): roll["household_missing"],
            t("tpage.rc_col_task", lang): [
                t("tpage.yes", lang) if v else "" for v in roll["door_to_door_task"]
            ],
        }
    )


def roll_call_print_html(roll: pd.DataFrame, lang: str, title: str) -> str:
    """The whole roll call as compact tables, one per building, with a tick column to fill in."""
    export = roll_call_export(roll, lang)
    headers = [c for c in export.columns if c != t("tpage.rc_col_building", lang)]
    parts = [f'<div class="gc-print"><h3>{html.escape(title)}</h3>']
    for building, rows in export.groupby(t("tpage.rc_col_building", lang), sort=False):
        parts.append(f"<h4>{html.escape(str(building))}</h4><table><tr>")
        parts += [f"<th>{html.escape(h)}</th>" for h in headers]
        parts.append('<th class="tick">✓</th></tr>')
        for record in rows[headers].itertuples(index=False, name=None):
            cells = "".join(f"<td>{html.escape(cell_text(v))}</td>" for v in record)
            parts.append(f"<tr>{cells}<td></td></tr>")
        parts.append("</table>")
    parts.append("</div>")
    return "".join(parts)


# --------------------------------------------------------------------------- forms


def desk_status_word(status: str, lang: str) -> str:
    """A health status in words ('In hospital')."""
    return enum_label("health", status, lang)


def sample_undo(actor: Actor, record_id: int) -> Callable[[str], bool]:
    """The undo of one recorded sample, for `forms.offer_undo` (audited by the service)."""
    return partial(_undo_sample, actor, record_id)


def _undo_sample(actor: Actor, record_id: int, client_token: str) -> bool:
    with data.session() as s:
        return ts.undo_sample(
            session=s, record_id=record_id, actor=actor, client_token=client_token
        )


def own_sites_first(sites: pd.DataFrame, grids: pd.DataFrame, actor: Actor) -> list[str]:
    """Site ids (as text) with the sites of the actor's own communities (or grids) first,
    each group in its listed order; everyone without grids of their own gets the list as is."""
    ids = [str(int(i)) for i in sites["site_id"].tolist()]
    if not actor.grid_ids:
        return ids
    own_grids = grids[grids["grid_id"].isin(actor.grid_ids)]
    own_areas = {int(a) for a in own_grids["community_id"].dropna().tolist()} | set(actor.grid_ids)
    own = [
        str(int(site))
        for site, area in zip(sites["site_id"].tolist(), sites["area_id"].tolist(), strict=True)
        if not pd.isna(area) and int(area) in own_areas
    ]
    return own + [i for i in ids if i not in own]
