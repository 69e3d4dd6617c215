"""Pieces of the Workforce page: localised tables, the workload chart, and the one-click actions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from gridcore.access import Actor, PermissionDenied
from gridcore.i18n import display_names, enum_label, fmt_datetime, fmt_int, fmt_num, t
from gridcore.queries import workforce as wq
from gridcore.services import tasks as task_services
from gridcore.services import workforce as workforce_services
from gridcore.services.base import ValidationFailed
from gridcore.ui import data
from gridcore.ui.charts import _FONT as CHART_FONT
from gridcore.ui.charts import nice_axis
from gridcore.ui.forms import cell_text, each_once
from gridcore.ui.theme import SEQUENTIAL_HEX, SERIES_HEX

# Phone-first: headline figures two to a row, buttons big enough for a thumb.
WORKFORCE_CSS = """
<style>
[class*="st-key-wf_apply_"] button, [class*="st-key-wf_post_"] button {min-height: 2.9rem;}
/* Tables hold names and phones: GridCore's own downloads below each table, not the raw one. */
[data-testid="stElementToolbar"] {display: none !important;}
@media (max-width: 640px) {
  [data-testid="stMain"] h1 {font-size: 1.9rem !important; padding-top: .5rem !important;}
  .st-key-wf_headline [data-testid="stHorizontalBlock"] {flex-direction: row !important;
    flex-wrap: wrap !important; gap: .5rem !important;}
  .st-key-wf_headline [data-testid="stColumn"] {flex: 1 1 calc(50% - .5rem) !important;
    min-width: calc(50% - .5rem) !important; width: calc(50% - .5rem) !important;}
  .st-key-wf_headline [data-testid="stMetricValue"] {font-size: 1.7rem !important;}
  [class*="st-key-wf_apply_"] button, [class*="st-key-wf_post_"] button {width: 100%;}
}
</style>
"""

# Bars in the workload chart beyond which worker names leave the axis (a street has hundreds).
NAMED_BARS = 30


def _label(prefix: str, value: Any, lang: str) -> str:
    text = cell_text(value)
    return enum_label(prefix, text, lang) if text else "—"


def _labels(prefix: str, values: pd.Series, lang: str) -> pd.Series:
    return each_once(values, lambda v: _label(prefix, v, lang))


def workers_table(load: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The workers and their workload, busiest first, with headers in `lang`."""
    return pd.DataFrame(
        {
            t("wf.col_name", lang): load["name"],
            t("wf.col_role", lang): _labels("worker_role", load["role"], lang),
            t("wf.col_employment", lang): _labels("employment", load["employment"], lang),
            t("wf.col_group", lang): _labels("service_group", load["service_group"], lang),
            t("wf.col_grids", lang): load["grid_codes"],
            t("wf.col_open", lang): load["open_tasks"],
            t("wf.col_overdue", lang): load["overdue_tasks"],
            t("wf.col_done_today", lang): load["done_today"],
            t("wf.col_score", lang): load["score"],
            t("wf.col_phone", lang): load["phone"].fillna(""),
        }
    )


def staffing_table(gaps: pd.DataFrame, lang: str, standard: int) -> pd.DataFrame:
    """Understaffed grids, ranked, with households per full-time worker against `standard`."""
    names = display_names(gaps, lang)
    ratio = [
        t("wf.no_fulltime", lang) if pd.isna(v) else fmt_num(float(v), lang)
        for v in gaps["households_per_worker"]
    ]
    return pd.DataFrame(
        {
            t("wf.col_grid", lang): [
                f"{n} · {c}" for n, c in zip(names, gaps["code"], strict=True)
            ],
            t("wf.col_households", lang): gaps["households"],
            t("wf.col_fulltime", lang): gaps["full_time_workers"],
            t("wf.col_per_worker", lang, standard=fmt_int(standard)): ratio,
            t("wf.col_needed", lang): gaps["needed"],
            t("wf.col_gap", lang): gaps["gap"],
        }
    )


def reassignment_line(row: Any, lang: str) -> str:
    """One suggestion in plain words (shown with st.text: names are never Markdown)."""
    due = (
        t("wf.overdue_since", lang, due=fmt_datetime(_local(row.due_at), lang))
        if bool(row.overdue)
        else t("wf.due", lang, due=fmt_datetime(_local(row.due_at), lang))
        if not pd.isna(row.due_at)
        else t("wf.no_due", lang)
    )
    key = "wf.move_line_new_grid" if bool(row.adds_grid) else "wf.move_line"
    return t(
        key,
        lang,
        task=int(row.task_id),
        kind=enum_label("task_kind", row.kind, lang),
        grid=row.grid_code,
        due=due,
        giver=row.from_name,
        taker=row.to_name,
        giver_after=int(row.from_score_after),
        taker_after=int(row.to_score_after),
    )


def reassignments_table(moves: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The suggested reassignments as a table (for the download)."""
    return pd.DataFrame(
        {
            t("wf.col_task", lang): moves["task_id"],
            t("wf.col_kind", lang): [enum_label("task_kind", k, lang) for k in moves["kind"]],
            t("wf.col_grid", lang): moves["grid_code"],
            t("wf.col_from", lang): moves["from_name"],
            t("wf.col_to", lang): moves["to_name"],
            t("wf.col_from_after", lang): moves["from_score_after"],
            t("wf.col_to_after", lang): moves["to_score_after"],
        }
    )


def postings_table(postings: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Volunteer shortfalls by grid and service group, with whom to post."""
    who = [
        t("wf.recruit", lang, n=int(short))
        if pd.isna(volunteer)
        else (f"{name} · {src}" if src else t("wf.unposted", lang, name=name))
        for volunteer, name, src, short in zip(
            postings["volunteer_id"],
            postings["volunteer_name"],
            postings["from_grid_code"],
            postings["shortfall"],
            strict=True,
        )
    ]
    return pd.DataFrame(
        {
            t("wf.col_grid", lang): postings["grid_code"],
            t("wf.col_group", lang): [
                enum_label("service_group", g, lang) for g in postings["service_group"]
            ],
            t("wf.col_need", lang): [
                t(f"wf.need.{g}", lang, n=int(n))
                for g, n in zip(postings["service_group"], postings["need"], strict=True)
            ],
            t("wf.col_needed", lang): postings["needed"],
            t("wf.col_present", lang): postings["present"],
            t("wf.col_shortfall", lang): postings["shortfall"],
            t("wf.col_suggested", lang): who,
        }
    )


def workload_chart(load: pd.DataFrame, *, target: float, lang: str, height: int = 300) -> go.Figure:
    """Frontline workers' workload scores, busiest first, with the balance as a dashed line.

    Bars above the balance rounded up (what a reassignment may bring a taker to) are
    coloured as overloaded.

    Built as one layout (no add_hline / update_* calls): plotly validates each call, and
    this chart is drawn on every refresh of the page.
    """
    front = load[load["frontline"]].reset_index(drop=True)
    # 1 for an overloaded bar, 0 for the others, through a two-colour scale: plotly checks a
    # list of colour names one by one (a second for the district's 9,000 workers), numbers at once.
    overloaded = (front["score"].to_numpy() > math.ceil(target)).astype(int)
    named = len(front) <= NAMED_BARS
    x = list(front["name"]) if named else list(range(1, len(front) + 1))
    bar = go.Bar(
        x=x,
        y=list(front["score"]),
        marker={
            "color": overloaded,
            "colorscale": [[0, SERIES_HEX["neutral"]], [1, SEQUENTIAL_HEX[3]]],
            "cmin": 0,
            "cmax": 1,
        },
        customdata=list(front["name"]),
        hovertemplate="%{customdata}: %{y}<extra></extra>",
    )
    layout = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "font": {"family": CHART_FONT, "size": 13},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "showlegend": False,
        "hovermode": "closest",
        "bargap": 0.15,
        "xaxis": {
            "showgrid": False,
            "showticklabels": named,
            "type": "category" if named else "linear",
            "title": {"text": "" if named else t("wf.chart_workers", lang)},
        },
        "yaxis": {
            "gridcolor": "#ECEFF1",
            "rangemode": "tozero",
            "title": {"text": t("wf.chart_score", lang)},
            **nice_axis([*front["score"], target]),
        },
        "shapes": [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": target,
                "y1": target,
                "line": {"color": SERIES_HEX["cases"], "dash": "dash", "width": 2},
            }
        ],
        "annotations": [
            {
                "xref": "paper",
                "x": 1,
                "xanchor": "right",
                "y": target,
                "yanchor": "bottom",
                "text": t("wf.chart_balance", lang, value=fmt_num(target, lang)),
                "showarrow": False,
                "font": {"color": SERIES_HEX["cases"]},
            }
        ],
    }
    return go.Figure(data=[bar], layout=layout)


def _local(moment: Any) -> Any:
    if moment is None or pd.isna(moment):
        return None
    return pd.Timestamp(moment).tz_convert(data.now().tzinfo).to_pydatetime()


_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()#+-.!|<>~$:&")


def plain_markdown(text: str) -> str:
    """`text` as Markdown that shows it literally (names in a success message, say)."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIALS else c for c in text)


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Outcome:
    """What a one-click action did: 'success' or 'error', and the words to say."""

    kind: str
    message: str


def apply_reassignment(actor: Actor, row: Any, lang: str) -> Outcome:
    """Give the task to the suggested worker (adding the grid if they do not serve it yet)."""
    try:
        with data.session() as s:
            holder = wq.task_holder(session=s, task_id=int(row.task_id))
            if holder is None or holder != (int(row.from_worker_id), True):
                return Outcome("error", t("wf.move_stale", lang, task=int(row.task_id)))
            grids = workforce_services.worker_grid_ids(s, int(row.to_worker_id))
            added = int(row.grid_id) not in grids
            if added:
                workforce_services.set_worker_grids(
                    session=s,
                    worker_id=int(row.to_worker_id),
                    grid_ids=[*grids, int(row.grid_id)],
                    actor=actor,
                )
            task_services.assign_task(
                session=s, task_id=int(row.task_id), worker_id=int(row.to_worker_id), actor=actor
            )
    except ValidationFailed as exc:
        return Outcome("error", " ".join(t(m, lang) for m in exc.errors.values()))
    except PermissionDenied:
        return Outcome("error", t("wf.not_allowed", lang))
    data.invalidate()
    key = "wf.moved_new_grid" if added else "wf.moved"
    return Outcome(
        "success",
        t(key, lang, task=int(row.task_id), giver=row.from_name, taker=row.to_name,
          grid=row.grid_code),
    )  # fmt: skip


def apply_posting(actor: Actor, row: Any, lang: str) -> Outcome:
    """Post the suggested volunteer to the grid (moving them from the grid they leave)."""
    volunteer = int(row.volunteer_id)
    try:
        with data.session() as s:
            grids = workforce_services.worker_grid_ids(s, volunteer)
            keep = [g for g in grids if pd.isna(row.from_grid_id) or g != int(row.from_grid_id)]
            workforce_services.set_worker_grids(
                session=s,
                worker_id=volunteer,
                grid_ids=sorted({*keep, int(row.grid_id)}),
                actor=actor,
            )
    except ValidationFailed as exc:
        return Outcome("error", " ".join(t(m, lang) for m in exc.errors.values()))
    except PermissionDenied:
        return Outcome("error", t("wf.not_allowed", lang))
    data.invalidate()
    return Outcome(
        "success",
        t("wf.posted", lang, name=row.volunteer_name, grid=row.grid_code,
          group=enum_label("service_group", row.service_group, lang)),
    )  # fmt: skip
