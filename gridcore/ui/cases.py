"""The Cases & contacts page's pieces: URL filters, figures, the curve, the chains, the forms.

Chart builders (`curve_figure`, `transmission_figure`) are pure; the rest draws with
Streamlit. Every write goes through gridcore.services.cases; nothing is written on a bad
submit, and a double tap writes once (forms.form_token).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gridcore.access import Actor, PermissionDenied
from gridcore.analytics import cases as case_analytics
from gridcore.i18n import (
    display_name,
    display_names,
    enum_label,
    fmt_date,
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_short_date,
    t,
)
from gridcore.models import (
    AREA_LEVEL_ORDER,
    CaseKind,
    ContactType,
    FoundVia,
    QuarantinePlace,
    TestResult,
    UserRole,
)
from gridcore.queries import cases as cq
from gridcore.services import cases as cs
from gridcore.services.base import ValidationFailed
from gridcore.ui import data, forms, views
from gridcore.ui.charts import _layout, nice_axis
from gridcore.ui.forms import each_once
from gridcore.ui.theme import SERIES_HEX

CASES_PAGE = "pages/cases.py"
COMMAND = (UserRole.admin, UserRole.leader)
# No floating tool bar: it covers the legends on a phone, and a kiosk has no mouse.
DEFAULT_DAYS = 28
ALL = "all"
NEW_PERSON = 0

# Colours of the curve, one per way of finding; reclassified cases are drawn apart.
FOUND_VIA_HEX: dict[str, str] = {
    FoundVia.quarantine: SERIES_HEX["quarantine"],
    FoundVia.screening: "#00838F",
    FoundVia.mass_testing: "#F9A825",
    FoundVia.community: SERIES_HEX["community"],
    FoundVia.reclassified: "#90A4AE",
}

CASES_CSS = """
<style>
@media (max-width: 640px) {
  [data-testid="stMain"] h1 {font-size: 1.9rem !important; padding-top: .5rem !important;}
  .st-key-cs_headline [data-testid="stHorizontalBlock"] {flex-direction: row !important;
    flex-wrap: wrap !important; gap: .5rem !important;}
  .st-key-cs_headline [data-testid="stColumn"] {flex: 1 1 calc(50% - .5rem) !important;
    min-width: calc(50% - .5rem) !important; width: calc(50% - .5rem) !important;}
  .st-key-cs_headline [data-testid="stMetricValue"] {font-size: 1.6rem !important;}
  .st-key-cs_headline [data-testid="stMetricLabel"] * {white-space: normal !important;
    overflow: visible !important; text-overflow: clip !important;}
}
</style>
"""

T = TypeVar("T")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as plain dicts keyed by column name."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


# --------------------------------------------------------------------------- filters in the URL


@dataclass(frozen=True)
class Filters:
    """What the page shows: an area's subtree (None: everything), a period, the map's level."""

    area_id: int | None
    area_code: str | None
    area_level: str | None
    start: date
    end: date
    map_level: str | None


def _from_url(param: str, key: str, decode: Callable[[str], T | None]) -> None:
    """Put ?param= into the widget `key` when the URL changed (a link, back, a reload)."""
    raw = st.query_params.get(param)
    seen = f"{key}_url"
    if raw is not None and raw != st.session_state.get(seen):
        st.session_state[seen] = raw
        value = decode(raw)
        if value is not None:
            st.session_state[key] = value


def _to_url(param: str, key: str, text: str | None) -> None:
    """Keep ?param= in step with the widget (removed when empty)."""
    if text is None:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != text:
        st.query_params[param] = text
    st.session_state[f"{key}_url"] = text


def area_name(row: Any, lang: str) -> str:
    """An area's name in the view's language, with its code."""
    return f"{views.area_label(row, lang)} · {row.code}"


def filters(lang: str) -> Filters:
    """The area, period and kind chosen (kept in the URL as ?area=&from=&to=&kind=&level=)."""
    choices = data.cached(cq.area_choices)
    codes = [str(c) for c in choices["code"]]
    by_code = {str(r.code): r for r in views.table_rows(choices)}
    labels = {ALL: t("cpage.all_areas", lang)} | {
        code: f"{t(f'cpage.level_{row.level}', lang)} · {area_name(row, lang)}"
        for code, row in by_code.items()
    }
    latest = data.cached(cq.latest_case_day)
    today = data.today()
    # A deployment fed only past bulletins opens on its last reported day.
    default_end = latest if latest is not None and latest < today else today

    _from_url("area", "cs_area", lambda raw: raw if raw in by_code else None)
    _from_url("from", "cs_from", lambda raw: forms.url_day(raw, today))
    _from_url("to", "cs_to", lambda raw: forms.url_day(raw, today))
    _from_url("kind", "cs_kind", lambda raw: raw if raw in _KINDS else None)
    if st.session_state.get("cs_area") not in labels:
        st.session_state["cs_area"] = ALL
    st.session_state.setdefault("cs_to", default_end)
    st.session_state.setdefault("cs_from", default_end - timedelta(days=DEFAULT_DAYS - 1))
    st.session_state.setdefault("cs_kind", ALL)

    area_col, from_col, to_col = st.columns([2, 1, 1])
    code = area_col.selectbox(
        t("cpage.area", lang), [ALL, *codes], format_func=labels.__getitem__, key="cs_area"
    )
    start = from_col.date_input(t("cpage.from", lang), key="cs_from", format="YYYY-MM-DD")
    end = to_col.date_input(t("cpage.to", lang), key="cs_to", format="YYYY-MM-DD")
    if not isinstance(start, date) or not isinstance(end, date):
        start, end = default_end - timedelta(days=DEFAULT_DAYS - 1), default_end
    if end < start:
        st.warning(t("cpage.range_swapped", lang))
        start, end = end, start
    _to_url("area", "cs_area", None if code == ALL else code)
    _to_url("from", "cs_from", start.isoformat())
    _to_url("to", "cs_to", end.isoformat())
    chosen = by_code.get(code)
    level = None if chosen is None else str(chosen.level)
    return Filters(
        area_id=None if chosen is None else int(chosen.area_id),
        area_code=None if chosen is None else code,
        area_level=level,
        start=start,
        end=end,
        map_level=_default_map_level(choices, level),
    )


_KINDS: tuple[str, ...] = (ALL, CaseKind.confirmed, CaseKind.asymptomatic)


def kind_toggle(lang: str) -> str | None:
    """Confirmed, asymptomatic or both (kept in the URL as ?kind=)."""
    kind = st.segmented_control(
        t("cpage.kind", lang),
        list(_KINDS),
        format_func=lambda k: (
            t("cpage.kind_all", lang) if k == ALL else enum_label("case_kind", k, lang)
        ),
        key="cs_kind",
        required=True,
    )
    kind = kind or ALL
    _to_url("kind", "cs_kind", None if kind == ALL else str(kind))
    return None if kind == ALL else str(kind)


def _default_map_level(choices: pd.DataFrame, level: str | None) -> str | None:
    """The level below the chosen area (or the top level with several shapes) that has shapes."""
    shaped = choices[choices["shaped"]]
    counts = shaped.groupby("level").size().to_dict()
    order = [str(lvl) for lvl in AREA_LEVEL_ORDER]
    below = order[order.index(level) + 1 :] if level in order else order
    for candidate in below:
        if counts.get(candidate, 0) >= (1 if level else 2):
            return candidate
    for candidate in reversed(order):
        if counts.get(candidate, 0):
            return candidate
    return None


# --------------------------------------------------------------------------- figures


def headline(lang: str, f: Filters, daily: pd.DataFrame, board: pd.DataFrame) -> None:
    """The period's new cases, community share, doubling time and quarantine in figures."""
    week = case_analytics.window_start(today=f.end)
    new = case_analytics.new_cases(daily, start=f.start, end=f.end)
    outside = case_analytics.new_cases(daily, start=f.start, end=f.end, community_only=True)
    share = case_analytics.share_found_in_quarantine(daily, start=week, end=f.end)
    doubling = case_analytics.doubling_time_7d(daily, today=f.end)
    active = data.cached(cq.active_case_count, within=f.area_id)
    cases, contacts = data.cached(cq.contacts_traced, start=f.start, end=f.end, within=f.area_id)
    per_case = case_analytics.contacts_per_case(contacts=contacts, cases=cases)
    figures = (
        ("cpage.m_new", fmt_int(new), "cpage.m_new_help"),
        ("cpage.m_outside", fmt_int(outside), "cpage.m_outside_help"),
        ("cpage.m_share", fmt_pct(share, lang), "cpage.m_share_help"),
        (
            "cpage.m_doubling",
            t("cpage.not_growing", lang)
            if doubling is None
            else t("cpage.days", lang, n=fmt_num(doubling, lang)),
            "cpage.m_doubling_help",
        ),
        ("cpage.m_active", fmt_int(active), "cpage.m_active_help"),
        ("cpage.m_quarantine", fmt_int(len(board)), "cpage.m_quarantine_help"),
        ("cpage.m_per_case", fmt_num(per_case, lang), "cpage.m_per_case_help"),
        ("cpage.m_tests_due", fmt_int(int(board["test_due_today"].sum())), "cpage.m_due_help"),
    )
    with st.container(key="cs_headline"):
        for start in range(0, len(figures), 4):
            for column, (label, value, help_key) in zip(
                st.columns(4), figures[start : start + 4], strict=False
            ):
                column.metric(t(label, lang), value, help=t(help_key, lang), border=True)
    st.caption(
        t(
            "cpage.period",
            lang,
            start=fmt_date(f.start, lang),
            end=fmt_date(f.end, lang),
            week=fmt_date(week, lang),
        )
    )


def curve_figure(curve: pd.DataFrame, *, lang: str, height: int = 360) -> go.Figure:
    """New cases per day stacked by how they were found; reclassified ones as a line apart."""
    days = [fmt_short_date(d, lang) for d in curve["day"]]
    fig = go.Figure()
    for found_via in case_analytics.FOUND_VIA_ORDER:
        if found_via == case_analytics.RECLASSIFIED:
            continue
        fig.add_bar(
            x=days,
            y=curve[found_via],
            name=enum_label("found_via", found_via, lang),
            marker_color=FOUND_VIA_HEX[found_via],
        )
    if int(curve[case_analytics.RECLASSIFIED].sum()):
        fig.add_scatter(
            x=days,
            y=curve[case_analytics.RECLASSIFIED],
            name=t("cpage.reclassified_line", lang),
            mode="lines+markers",
            line={"color": FOUND_VIA_HEX[FoundVia.reclassified], "dash": "dot"},
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(
        title_text=t("cpage.new_cases_axis", lang),
        **nice_axis(curve[["new", case_analytics.RECLASSIFIED]].max().max()),
    )
    fig.update_xaxes(type="category", nticks=12)
    return _layout(fig, height=height, large=False)


def transmission_figure(
    traced: cq.Transmission, *, lang: str, clusters: int = 12, height: int = 420
) -> go.Figure:
    """Chains of cases: one row per cluster (largest first), marker size by contacts traced."""
    frame = {int(r["case_id"]): r for r in records(traced.cases)}
    shown = traced.clusters[:clusters]
    labels = {
        i: t("cpage.cluster_label", lang, n=i + 1, people=fmt_int(cl.people))
        for i, cl in enumerate(shown)
    }
    fig = go.Figure()
    for i, cl in enumerate(shown):
        y = labels[i]
        for case_id in cl.cases:
            source = frame[case_id]["source_case"]
            if not pd.isna(source) and int(source) in frame:
                fig.add_scatter(
                    x=[frame[int(source)]["reported_date"], frame[case_id]["reported_date"]],
                    y=[y, y],
                    mode="lines",
                    line={"color": "#90A4AE", "width": 2},
                    hoverinfo="skip",
                    showlegend=False,
                )
    for found_via in case_analytics.FOUND_VIA_ORDER:
        xs, ys, sizes, tips = [], [], [], []
        for i, cl in enumerate(shown):
            for case_id in cl.cases:
                row = frame[case_id]
                if row["found_via"] != found_via:
                    continue
                xs.append(row["reported_date"])
                ys.append(labels[i])
                sizes.append(10 + 4 * min(int(row["contacts"]), 10))
                tips.append(
                    t(
                        "cpage.case_tip",
                        lang,
                        case=case_id,
                        grid=row["grid_code"],
                        kind=enum_label("case_kind", row["kind"], lang),
                        contacts=fmt_int(row["contacts"]),
                    )
                )
        if xs:
            fig.add_scatter(
                x=xs,
                y=ys,
                mode="markers",
                name=enum_label("found_via", found_via, lang),
                marker={
                    "size": sizes,
                    "color": FOUND_VIA_HEX[found_via],
                    "line": {"width": 1, "color": "white"},
                },
                text=tips,
                hovertemplate="%{text}<extra></extra>",
            )
    fig.update_xaxes(tickformat="%m-%d", type="date")
    order = [labels[i] for i in range(len(shown))]
    fig.update_yaxes(
        type="category", categoryorder="array", categoryarray=order[::-1], title_text=""
    )
    fig = _layout(fig, height=max(240, min(height, 90 + 32 * len(shown))), large=False)
    fig.update_layout(hovermode="closest")
    return fig


def incidence_map(lang: str, f: Filters, *, height: int) -> None:
    """Areas of the map level coloured by 7-day incidence per 10,000 residents."""
    if f.map_level is None:
        st.info(t("cpage.no_shapes", lang))
        return
    frame = data.cached(cq.incidence_by_area, level=f.map_level, today=f.end, within=f.area_id)
    frame = frame[frame["shape"].notna()].copy()
    if frame.empty:
        st.info(t("cpage.no_shapes", lang))
        return
    frame["label"] = [views.area_label(r, lang) for r in views.table_rows(frame)]
    gmap = views.grid_map(
        frame=frame,
        measure="incidence_7d_per_10k",
        lang=lang,
        height=height,
        show_labels=len(frame) <= 40,
    )
    views.show_map(gmap, key="cs_map", height=height, selectable=False)
    st.caption(
        t(
            "cpage.map_caption",
            lang,
            level=t(f"cpage.level_{f.map_level}", lang).lower(),
            day=fmt_date(f.end, lang),
        )
    )
    table = pd.DataFrame(
        {
            t("cpage.col_area", lang): frame["label"],
            t("cpage.col_new_7d", lang): frame["new_7d"],
            t("cpage.col_community_7d", lang): frame["community_7d"],
            t("cpage.col_residents", lang): frame["residents"],
            t("cpage.col_incidence", lang): frame["incidence_7d_per_10k"].round(1),
            t("cpage.col_days_since", lang): frame["days_since_community"],
        }
    ).sort_values(t("cpage.col_new_7d", lang), ascending=False)
    st.dataframe(table, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(table)))


# --------------------------------------------------------------------------- tables


def _labels(series: pd.Series, prefix: str, lang: str) -> pd.Series:
    return each_once(
        series, lambda v: enum_label(prefix, v, lang) if isinstance(v, str) and v else "—"
    )


def _days(series: pd.Series, lang: str) -> pd.Series:
    return each_once(series, lambda d: fmt_date(d, lang) if isinstance(d, date) else "—")


def active_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Active cases as the page shows them."""
    person = frame["resident_name"].where(frame["resident_name"].notna(), frame["address"])
    return pd.DataFrame(
        {
            t("cpage.col_case", lang): frame["case_id"],
            t("cpage.col_reported", lang): _days(frame["reported_date"], lang),
            t("cpage.col_kind", lang): _labels(frame["kind"], "case_kind", lang),
            t("cpage.col_found", lang): _labels(frame["found_via"], "found_via", lang),
            t("cpage.col_grid", lang): frame["grid_code"],
            t("cpage.col_person", lang): person.fillna("—"),
            t("cpage.col_building", lang): [
                n or "—" for n in display_names(frame, lang, "building")
            ],
            t("cpage.col_contacts", lang): frame["contacts"],
        }
    )


def _yes(value: Any, lang: str) -> str:
    return t("cpage.yes", lang) if bool(value) else ""


def board_table(board: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The quarantine board as the page shows it."""
    return pd.DataFrame(
        {
            t("cpage.col_person", lang): board["person_name"],
            t("cpage.col_grid", lang): board["grid_code"].fillna("—"),
            t("cpage.col_case", lang): board["case_id"],
            t("cpage.col_type", lang): _labels(board["contact_type"], "contact_type", lang),
            t("cpage.col_place", lang): _labels(
                board["quarantine_place"], "quarantine_place", lang
            ),
            t("cpage.col_start", lang): _days(board["start_date"], lang),
            t("cpage.col_end", lang): _days(board["planned_end_date"], lang),
            t("cpage.col_days_left", lang): board["days_left"],
            t("cpage.col_due", lang): [_yes(v, lang) for v in board["test_due_today"]],
            t("cpage.col_missed", lang): board["missed_tests"],
            t("cpage.col_next", lang): _days(board["next_test"], lang),
        }
    )


def board_summary(board: pd.DataFrame, lang: str) -> None:
    """Who ends today, whose test is due or missed, and the places in use."""
    places = board["quarantine_place"].value_counts().to_dict()
    figures = (
        ("cpage.b_ends_today", int(board["ends_today"].sum())),
        ("cpage.b_due", int(board["test_due_today"].sum())),
        ("cpage.b_missed", int((board["missed_tests"] > 0).sum())),
        ("cpage.b_central", int(places.get(QuarantinePlace.central, 0))),
        ("cpage.b_home", int(places.get(QuarantinePlace.home, 0))),
    )
    with st.container(key="cs_board_figures"):
        for column, (label, value) in zip(st.columns(len(figures)), figures, strict=True):
            column.metric(t(label, lang), fmt_int(value), border=True)


# --------------------------------------------------------------------------- shared form pieces


def _writable_grids(actor: Actor, lang: str) -> dict[int, str]:
    """Grids the actor may write in, labelled."""
    choices = data.cached(cq.area_choices)
    grids = choices[choices["level"] == "grid"]
    return {
        int(r.area_id): area_name(r, lang)
        for r in views.table_rows(grids)
        if actor.may_write_grid(int(r.area_id))
    }


def _show_errors(errors: dict[str, str], slots: dict[str, Any], top: Any, lang: str) -> None:
    for field, slot in slots.items():
        forms.show_field_error(slot, errors, field, lang)
    rest = forms.other_errors(errors, tuple(slots))
    if rest:
        top.error(" ".join(t(m, lang) for m in dict.fromkeys(rest.values())))


def _person_picker(lang: str, actor: Actor, key: str, prefill: int | None = None) -> int:
    """Find a resident by name, phone or ID digits; NEW_PERSON for someone not registered."""
    text = st.text_input(
        t("cpage.find_person", lang), key=f"{key}_find", help=t("cpage.find_person_help", lang)
    )
    options: dict[int, str] = {NEW_PERSON: t("cpage.new_person", lang)}
    if prefill is not None:
        found = data.cached(cq.resident_summary, resident_id=prefill, actor=actor)
        if found is not None and actor.may_write_grid(int(found["grid_id"])):
            options[prefill] = _resident_label(found, lang)
    if len(text.strip()) >= 2:
        matches = data.cached(cq.find_residents, text=text.strip(), actor=actor)
        for row in records(matches):
            options[int(row["resident_id"])] = _resident_label(row, lang)
        if matches.empty:
            st.caption(t("cpage.no_match", lang))
    if st.session_state.get(f"{key}_person") not in options:
        st.session_state[f"{key}_person"] = prefill if prefill in options else NEW_PERSON
    choice = st.selectbox(
        t("cpage.person", lang),
        list(options),
        format_func=options.__getitem__,
        key=f"{key}_person",
    )
    return int(choice)


def _resident_label(row: dict[str, Any], lang: str) -> str:
    building = display_name(row, lang, "building")
    return f"{row['name']} · {row['grid_code']} · {building} {row['unit']}"


# A saved form's fields, blank again for the next entry (set before the widgets are drawn).
_BLANK: dict[str, dict[str, Any]] = {
    "cs_nc": {"cs_nc_find": "", "cs_nc_person": NEW_PERSON, "cs_nc_grid": None,
              "cs_nc_name": "", "cs_nc_address": "", "cs_nc_note": ""},
    "cs_ct": {"cs_ct_find": "", "cs_ct_person": NEW_PERSON, "cs_ct_name": "",
              "cs_ct_phone": "", "cs_ct_grid": None},
}  # fmt: skip


def _clear_next_run(form: str) -> None:
    """Blank the form's fields on the next run (a drawn widget's value cannot change now)."""
    st.session_state[f"{form}_blank"] = True


def _blank_if_saved(form: str) -> None:
    if st.session_state.pop(f"{form}_blank", False):
        for key, value in _BLANK[form].items():
            st.session_state[key] = value


def _not_allowed(top: Any, lang: str) -> None:
    top.error(t("cpage.not_allowed", lang))


# --------------------------------------------------------------------------- new case


_CASE_FIELDS = ("resident_id", "grid_id", "address", "kind", "found_via", "reported_date")


def new_case_section(lang: str, actor: Actor) -> None:
    """Enter a case: a registered resident found by search, or a person with an address."""
    grids = _writable_grids(actor, lang)
    if not grids:
        st.info(t("cpage.no_grids", lang))
        return
    _blank_if_saved("cs_nc")
    raw = st.query_params.get("resident")
    prefill = forms.url_id(raw)
    resident_id = _person_picker(lang, actor, "cs_nc", prefill)
    found_default = st.query_params.get("found", FoundVia.community)
    kinds = [CaseKind.confirmed, CaseKind.asymptomatic, CaseKind.suspected]
    found_options = list(FoundVia)
    with st.form("cs_new_case", clear_on_submit=False):
        top = st.empty()
        grid_id: int | None = None
        address = name = ""
        grid_slot = address_slot = st.empty()
        if resident_id == NEW_PERSON:
            grid_id = st.selectbox(
                t("cpage.f_grid", lang),
                list(grids),
                format_func=grids.__getitem__,
                index=None,
                placeholder=t("cpage.choose", lang),
                key="cs_nc_grid",
            )
            grid_slot = st.empty()
            name = st.text_input(
                t("cpage.f_name_optional", lang),
                max_chars=80,
                key="cs_nc_name",
            )
            address = st.text_input(
                t("cpage.f_address", lang),
                max_chars=200,
                help=t("cpage.f_address_help", lang),
                key="cs_nc_address",
            )
            address_slot = st.empty()
        kind_col, found_col, day_col = st.columns(3)
        kind = kind_col.selectbox(
            t("cpage.f_kind", lang),
            kinds,
            format_func=lambda k: enum_label("case_kind", k, lang),
            key="cs_nc_kind",
        )
        found = found_col.selectbox(
            t("cpage.f_found", lang),
            found_options,
            index=found_options.index(FoundVia(found_default))
            if found_default in tuple(FoundVia)
            else found_options.index(FoundVia.community),
            format_func=lambda v: enum_label("found_via", v, lang),
            key="cs_nc_found",
        )
        day = day_col.date_input(
            t("cpage.f_reported", lang),
            value=data.today(),
            max_value=data.today(),
            format="YYYY-MM-DD",
            key="cs_nc_day",
        )
        day_slot = st.empty()
        note = st.text_input(
            t("cpage.f_note", lang),
            max_chars=300,
            key="cs_nc_note",
        )
        submitted = st.form_submit_button(t("cpage.f_save_case", lang), type="primary")
    # Said under the button: on a phone the top of the form is out of sight by now.
    flash = st.session_state.pop("cs_case_flash", None)
    if flash:
        st.success(flash)
    if not submitted:
        return
    if resident_id == NEW_PERSON and grid_id is None:
        grid_slot.error(t("services.error.grid_not_found", lang))
        return
    if resident_id != NEW_PERSON:
        found_row = data.cached(cq.resident_summary, resident_id=resident_id, actor=actor)
        grid_id = None if found_row is None else int(found_row["grid_id"])
    note_text = " · ".join(p for p in (name.strip(), note.strip()) if p) or None
    payload = {
        "resident_id": None if resident_id == NEW_PERSON else resident_id,
        "grid_id": grid_id,
        "address": address.strip() or None,
        "kind": kind,
        "found_via": found,
        "reported_date": day,
        "note": note_text,
    }
    try:
        with data.session() as s:
            case = cs.create_case(
                session=s, data=payload, actor=actor, client_token=forms.form_token("cs_new_case")
            )
            case_id = case.id
    except ValidationFailed as exc:
        slots = {"grid_id": grid_slot, "address": address_slot, "reported_date": day_slot}
        _show_errors(exc.errors, slots, top, lang)
        return
    except PermissionDenied:
        _not_allowed(top, lang)
        return
    forms.renew_token("cs_new_case")
    data.invalidate()
    st.session_state["cs_case_flash"] = t("cpage.case_saved", lang, case=case_id)
    _clear_next_run("cs_nc")
    st.session_state["cs_ct_case"] = case_id
    if "resident" in st.query_params:
        del st.query_params["resident"]
    st.rerun()


# --------------------------------------------------------------------------- contacts


def _case_options(actor: Actor, lang: str, within: int | None) -> dict[int, str]:
    """Active cases the actor may trace contacts for, newest first."""
    frame = data.cached(cq.active_cases, actor=actor, within=within)
    options = {}
    for row in views.table_rows(frame):
        if not actor.may_write_grid(int(row.grid_id)):
            continue
        who = row.resident_name if isinstance(row.resident_name, str) else row.address or "—"
        options[int(row.case_id)] = t(
            "cpage.case_option",
            lang,
            case=row.case_id,
            grid=row.grid_code,
            day=fmt_short_date(row.reported_date, lang),
            kind=enum_label("case_kind", row.kind, lang),
            who=who,
        )
    return options


_CONTACT_FIELDS = ("person_name", "phone", "grid_id", "resident_id", "start_date")


def contacts_section(lang: str, actor: Actor, f: Filters) -> None:
    """A case's contacts, and a form to add one (a resident or a new person)."""
    options = _case_options(actor, lang, f.area_id)
    if not options:
        st.info(t("cpage.no_active_cases", lang))
        return
    _from_url("case", "cs_ct_case", lambda raw: int(raw) if raw.isdigit() else None)
    if st.session_state.get("cs_ct_case") not in options:
        st.session_state["cs_ct_case"] = next(iter(options))
    case_id = int(
        st.selectbox(
            t("cpage.f_case", lang),
            list(options),
            format_func=options.__getitem__,
            key="cs_ct_case",
        )
    )
    _to_url("case", "cs_ct_case", str(case_id))
    traced = data.cached(cq.case_contacts, case_id=case_id, actor=actor)
    if traced.empty:
        st.caption(t("cpage.no_contacts_yet", lang))
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    t("cpage.col_person", lang): traced["person_name"],
                    t("cpage.col_type", lang): _labels(
                        traced["contact_type"], "contact_type", lang
                    ),
                    t("cpage.col_place", lang): _labels(
                        traced["quarantine_place"], "quarantine_place", lang
                    ),
                    t("cpage.col_start", lang): _days(traced["start_date"], lang),
                    t("cpage.col_end", lang): _days(traced["planned_end_date"], lang),
                    t("cpage.col_status", lang): _labels(traced["status"], "contact_status", lang),
                }
            ),
            hide_index=True,
            width="stretch",
        )
    st.markdown(f"**{t('cpage.add_contact', lang)}**")
    _blank_if_saved("cs_ct")
    resident_id = _person_picker(lang, actor, "cs_ct")
    grids = _writable_grids(actor, lang)
    policy = data.cached(cq.contact_policy)
    with st.form("cs_contact", clear_on_submit=False):
        top = st.empty()
        name = phone = ""
        grid_id: int | None = None
        name_slot = phone_slot = grid_slot = st.empty()
        if resident_id == NEW_PERSON:
            name = st.text_input(
                t("cpage.f_person_name", lang),
                max_chars=80,
                key="cs_ct_name",
            )
            name_slot = st.empty()
            phone = st.text_input(
                t("cpage.f_phone", lang),
                max_chars=20,
                key="cs_ct_phone",
            )
            phone_slot = st.empty()
            grid_id = st.selectbox(
                t("cpage.f_grid", lang),
                list(grids),
                format_func=grids.__getitem__,
                index=None,
                placeholder=t("cpage.choose", lang),
                key="cs_ct_grid",
            )
            grid_slot = st.empty()
        type_col, place_col, start_col = st.columns(3)
        contact_type = type_col.radio(
            t("cpage.f_type", lang),
            list(ContactType),
            format_func=lambda v: enum_label("contact_type", v, lang),
            key="cs_ct_type",
        )
        place = place_col.radio(
            t("cpage.f_place", lang),
            list(QuarantinePlace),
            index=1,
            format_func=lambda v: enum_label("quarantine_place", v, lang),
            key="cs_ct_place",
        )
        start = start_col.date_input(
            t("cpage.f_start", lang),
            value=data.today(),
            max_value=data.today(),
            format="YYYY-MM-DD",
            key="cs_ct_start",
        )
        start_slot = st.empty()
        st.caption(
            t(
                "cpage.policy_caption",
                lang,
                close=case_analytics.quarantine_days(contact_type="close", policy=policy),
                secondary=case_analytics.quarantine_days(contact_type="secondary", policy=policy),
            )
        )
        submitted = st.form_submit_button(t("cpage.f_save_contact", lang), type="primary")
    flash = st.session_state.pop("cs_contact_flash", None)
    if flash:
        st.success(flash)
    if not submitted:
        return
    if resident_id == NEW_PERSON and grid_id is None:
        grid_slot.error(t("services.error.grid_not_found", lang))
        return
    payload: dict[str, Any] = {
        "case_id": case_id,
        "resident_id": None if resident_id == NEW_PERSON else resident_id,
        "person_name": name.strip() or None,
        "phone": phone.strip() or None,
        "grid_id": grid_id,
        "contact_type": contact_type,
        "quarantine_place": place,
        "identified_date": start,
        "start_date": start,
    }
    try:
        with data.session() as s:
            contact = cs.create_contact(
                session=s, data=payload, actor=actor, client_token=forms.form_token("cs_contact")
            )
            end, new_id = contact.planned_end_date, contact.id
    except ValidationFailed as exc:
        slots = {
            "person_name": name_slot,
            "phone": phone_slot,
            "grid_id": grid_slot,
            "start_date": start_slot,
        }
        _show_errors(exc.errors, slots, top, lang)
        return
    except PermissionDenied:
        _not_allowed(top, lang)
        return
    forms.renew_token("cs_contact")
    data.invalidate()
    st.session_state["cs_contact_flash"] = t("cpage.contact_saved", lang, end=fmt_date(end, lang))
    # The quarantine board's follow-up opens on the contact just added.
    st.session_state["cs_fu_next"] = new_id
    _clear_next_run("cs_ct")
    st.rerun()


# --------------------------------------------------------------------------- follow-up


def _contact_label(row: Any, lang: str) -> str:
    """A contact as the follow-up list names them; never changes with their tests (a
    selectbox keeps its choice by the label)."""
    grid = row.grid_code if isinstance(row.grid_code, str) else "—"
    return t("cpage.contact_option", lang, name=row.person_name, grid=grid, n=row.contact_id)


def _contact_state(row: dict[str, Any], lang: str) -> str:
    """What a contact needs today: a test, missed tests, release."""
    state = []
    if row["test_due_today"]:
        state.append(t("cpage.state_due", lang))
    if row["missed_tests"]:
        state.append(t("cpage.state_missed", lang, n=row["missed_tests"]))
    if row["ends_today"]:
        state.append(t("cpage.state_ends", lang))
    return ("，" if lang == "zh" else ", ").join(state)


# Contacts offered in the follow-up form's list, the most urgent first: a district's board
# holds tens of thousands, which no list can offer; an area filter narrows the board.
FOLLOW_UP_CHOICES = 500


def follow_up_section(lang: str, actor: Actor, board: pd.DataFrame) -> None:
    """Record a contact's test on a due day; end or extend their quarantine."""
    mine = board[[actor.may_write_grid(None if pd.isna(g) else int(g)) for g in board["grid_id"]]]
    if mine.empty:
        flash = st.session_state.pop("cs_follow_flash", None)
        if flash:
            st.success(flash)
        st.info(t("cpage.no_contacts_in_scope", lang))
        return
    # Those needing something today first: a test due or missed, a release.
    urgent = mine["test_due_today"] | (mine["missed_tests"] > 0) | mine["ends_today"]
    ordered = pd.concat([mine[urgent], mine[~urgent]])
    chosen = st.session_state.pop("cs_fu_next", None)
    offered = ordered.head(FOLLOW_UP_CHOICES)
    # The contact just added, and the one the form shows, stay offered past the cut.
    keep = {c for c in (chosen, st.session_state.get("cs_fu_contact")) if c is not None}
    past_cut = ordered["contact_id"].isin(keep) & ~ordered["contact_id"].isin(offered["contact_id"])
    if past_cut.any():
        offered = pd.concat([offered, ordered[past_cut]])
    options = {int(r.contact_id): _contact_label(r, lang) for r in views.table_rows(offered)}
    if len(ordered) > FOLLOW_UP_CHOICES:
        st.caption(
            t(
                "cpage.follow_up_cut",
                lang,
                shown=fmt_int(FOLLOW_UP_CHOICES, lang),
                n=fmt_int(len(ordered), lang),
            )
        )
    if chosen in options:
        st.session_state["cs_fu_contact"] = chosen
    if st.session_state.get("cs_fu_contact") not in options:
        st.session_state["cs_fu_contact"] = next(iter(options))
    contact_id = int(
        st.selectbox(
            t("cpage.f_contact", lang),
            list(options),
            format_func=options.__getitem__,
            key="cs_fu_contact",
        )
    )
    (row,) = records(mine[mine["contact_id"] == contact_id])
    today = data.today()
    tested = set(row["tested_days"])
    due_days = [d for d in row["test_days"] if d <= today and d not in tested]
    st.caption(
        t(
            "cpage.schedule_caption",
            lang,
            days="、".join(fmt_short_date(d, lang) for d in row["test_days"])
            if lang == "zh"
            else ", ".join(fmt_short_date(d, lang) for d in row["test_days"]),
            done=fmt_int(len(tested)),
            end=fmt_date(row["planned_end_date"], lang),
        )
    )
    state = _contact_state(row, lang)
    if state:
        st.warning(t("cpage.today_state", lang, state=state))
    test_col, end_col = st.columns(2)
    with test_col:
        resident = row["resident_id"]
        _test_form(lang, actor, contact_id, due_days, None if pd.isna(resident) else int(resident))
    with end_col:
        _end_form(lang, actor, contact_id, row["planned_end_date"])
    flash = st.session_state.pop("cs_follow_flash", None)
    if flash:
        st.success(flash)
    positive = st.session_state.pop("cs_follow_case_link", None)
    if positive is not None:
        views.new_case_link(int(positive), lang=lang, found_via=FoundVia.quarantine)


def _test_form(
    lang: str, actor: Actor, contact_id: int, due_days: list[date], resident_id: int | None
) -> None:
    st.markdown(f"**{t('cpage.test_title', lang)}**")
    if not due_days:
        st.caption(t("cpage.no_test_due", lang))
        return
    key = f"cs_test_{contact_id}"
    with st.form(key, clear_on_submit=False):
        top = st.empty()
        day = st.selectbox(
            t("cpage.f_test_day", lang),
            list(reversed(due_days)),
            format_func=lambda d: fmt_date(d, lang),
            key=f"{key}_day",
        )
        day_slot = st.empty()
        result = st.radio(
            t("cpage.f_result", lang),
            list(cs.CONTACT_TEST_RESULTS),
            horizontal=True,
            format_func=lambda r: enum_label("result", r, lang),
            key=f"{key}_result",
        )
        submitted = st.form_submit_button(t("cpage.f_save_test", lang), type="primary")
    if not submitted:
        return
    try:
        with data.session() as s:
            cs.record_contact_test(
                session=s,
                data={"contact_id": contact_id, "day": day, "result": result},
                actor=actor,
                client_token=forms.form_token(key),
            )
    except ValidationFailed as exc:
        _show_errors(exc.errors, {"day": day_slot}, top, lang)
        return
    except PermissionDenied:
        _not_allowed(top, lang)
        return
    forms.renew_token(key)
    data.invalidate()
    message = "cpage.test_saved_positive" if result == TestResult.positive else "cpage.test_saved"
    st.session_state["cs_follow_flash"] = t(message, lang, day=fmt_date(day, lang))
    if result == TestResult.positive and resident_id is not None:
        st.session_state["cs_follow_case_link"] = resident_id
    st.rerun()


_END, _EXTEND = "end", "extend"


def _end_form(lang: str, actor: Actor, contact_id: int, planned_end: date) -> None:
    st.markdown(f"**{t('cpage.end_title', lang)}**")
    key = f"cs_end_{contact_id}"
    with st.form(key, clear_on_submit=False):
        top = st.empty()
        action = st.radio(
            t("cpage.f_action", lang),
            [_END, _EXTEND],
            horizontal=True,
            format_func=lambda a: t(f"cpage.action_{a}", lang),
            key=f"{key}_action",
        )
        new_end = st.date_input(
            t("cpage.f_new_end", lang),
            value=planned_end + timedelta(days=3),
            min_value=planned_end + timedelta(days=1),
            format="YYYY-MM-DD",
            key=f"{key}_new_end",
        )
        end_slot = st.empty()
        submitted = st.form_submit_button(t("cpage.f_save_end", lang), type="primary")
    if not submitted:
        return
    try:
        with data.session() as s:
            if action == _END:
                cs.release_contact(session=s, contact_id=contact_id, actor=actor)
                message = t("cpage.released", lang)
            else:
                contact = cs.extend_quarantine(
                    session=s,
                    contact_id=contact_id,
                    planned_end_date=new_end,
                    actor=actor,
                    client_token=forms.form_token(key),
                )
                message = t("cpage.extended", lang, end=fmt_date(contact.planned_end_date, lang))
    except ValidationFailed as exc:
        _show_errors(exc.errors, {"planned_end_date": end_slot}, top, lang)
        return
    except PermissionDenied:
        _not_allowed(top, lang)
        return
    forms.renew_token(key)
    data.invalidate()
    st.session_state["cs_follow_flash"] = message
    st.session_state.pop("cs_fu_contact", None)
    st.rerun()
