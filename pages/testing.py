"""Testing: one round's coverage and finish against the deadline, grids behind, pace, staff.

Kiosk-ready: the live part shows figures only, never a resident's name or phone. Leaders
open and close rounds here; leaders, administrators and grid workers enter results.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from gridcore.access import Actor, PermissionDenied
from gridcore.config import get_settings
from gridcore.i18n import display_name, enum_label, fmt_int, pick_name, t
from gridcore.models import AreaLevel, UserRole
from gridcore.policy import DEFAULT_POLICY
from gridcore.queries import areas
from gridcore.queries import testing as tq
from gridcore.services import testing as ts
from gridcore.services.base import ValidationFailed
from gridcore.ui import charts, data, forms, session, views
from gridcore.ui import testing as tv
from gridcore.ui.forms import markdown_text as md

MAP_HEIGHT = 460
# No floating tool bar: it covers the legends on a phone, and a kiosk has no mouse.
COMMAND = (UserRole.admin, UserRole.leader)


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    st.html(tv.TESTING_CSS)
    st.title(t("page.testing", lang))
    flash = st.session_state.pop("tp_flash", None)
    if flash:
        st.success(flash)
    round_id = tv.pick_round(lang, key="tp_round")
    if round_id is None:
        st.info(t("tpage.no_rounds_leader" if actor.role in COMMAND else "tpage.no_rounds", lang))
    else:
        _live(lang, round_id)
    if actor.role in COMMAND:
        _manage(lang, actor, round_id)
    if round_id is not None and actor.can_write:
        _results(lang, actor, round_id)


# --------------------------------------------------------------------------- live view


@session.live()
def _live(lang: str, round_id: int) -> None:
    now = tv.minute_now()
    summary = data.cached(tq.round_summary, round_id=round_id, now=now)
    if summary is None:
        st.warning(t("tpage.unknown_round", lang, round=round_id))
        return
    info = summary.round
    st.caption(
        t(
            "tpage.subtitle",
            lang,
            start=tv.local_time(info.start_at, lang),
            deadline=tv.local_time(info.deadline_at, lang),
        )
    )
    views.updated_caption(lang)
    kind, message = tv.forecast_message(summary, lang, now)
    getattr(st, kind)(message)
    tv.round_headline(summary, lang)
    _unhandled_positives(lang)
    progress = data.cached(tq.grid_progress, round_id=round_id, now=now)
    if progress.empty:
        st.info(t("tpage.no_grids", lang))
        return
    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("tpage.map_title", lang))
        frame = tv.coverage_map_frame(progress, lang)
        gmap = views.grid_map(frame=frame, measure="coverage", lang=lang, height=MAP_HEIGHT)
        clicked = views.show_map(gmap, key="tp_map", height=MAP_HEIGHT, selectable=True)
        st.caption(t("tpage.map_hint", lang))
        if clicked:
            tv.open_roll_call(clicked, round_id)
    with right:
        st.subheader(tv.ranking_title(progress, lang))
        event = st.dataframe(
            tv.ranked_grid_table(progress, lang),
            hide_index=True,
            width="stretch",
            height=MAP_HEIGHT,
            on_select="rerun",
            selection_mode="single-row",
            key="tp_ranking",
        )
        rows = _selected_rows(event)
        if rows:
            tv.open_roll_call(str(progress["code"].iloc[rows[0]]), round_id)
    _charts(lang, summary, round_id, now)


def _selected_rows(event: Any) -> list[int]:
    try:
        return list(event["selection"]["rows"])
    except (KeyError, TypeError):
        return []


def _unhandled_positives(lang: str) -> None:
    """Positive samples with no case yet: which grid, and what to do next (no names)."""
    unhandled = data.cached(tq.unhandled_positives, actor=None)
    if unhandled.empty:
        return
    with st.container(border=True):
        st.error(t("tpage.unhandled_title", lang, n=fmt_int(len(unhandled))))
        for row in views.table_rows(unhandled.head(10)):
            line, link = st.columns([3, 1])
            line.markdown(
                t(
                    "tpage.unhandled_line",
                    lang,
                    grid=md(row.grid_code),
                    round=md(display_name(row, lang, "round_name")),
                    sampled=tv.local_time(row.sampled_at, lang),
                )
            )
            link.page_link(
                tv.GRID_PAGE,
                label=t("tpage.open_grid", lang, grid=md(row.grid_code)),
                query_params={"grid": row.grid_code},
            )
            with link:
                views.new_case_link(int(row.resident_id), lang=lang)
        st.caption(t("tpage.unhandled_next", lang))


def _charts(lang: str, summary: tq.RoundSummary, round_id: int, now: datetime) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader(t("tpage.throughput_title", lang))
        throughput = data.cached(tq.hourly_throughput, round_id=round_id)
        if throughput.empty:
            st.info(t("tpage.no_throughput", lang))
        else:
            views.show_chart(charts.site_throughput(throughput, lang=lang), key="tp_throughput")
    with right:
        st.subheader(t("tpage.staffing_title", lang))
        staff = summary.staffing
        views.show_chart(
            charts.staffing_need(tv.staffing_frame(staff, lang), lang=lang), key="tp_staffing"
        )
        st.caption(
            t(
                "tpage.staffing_caption",
                lang,
                residents=fmt_int(staff.residents),
                desks_min=fmt_int(staff.desks_min),
                desks_max=fmt_int(staff.desks_max),
                desks=fmt_int(staff.desks),
                sites=fmt_int(summary.sites),
                samplers=fmt_int(staff.samplers_needed),
                workers=fmt_int(staff.workers),
            )
        )
        if staff.desks_short or staff.samplers_short:
            st.warning(
                t(
                    "tpage.staff_short",
                    lang,
                    desks=fmt_int(staff.desks_short),
                    samplers=fmt_int(staff.samplers_short),
                )
            )
    left, right = st.columns(2)
    with left:
        st.subheader(t("tpage.rounds_title", lang))
        st.caption(t("tpage.rounds_caption", lang))
        trend = data.cached(tq.coverage_over_rounds, now=now)
        views.show_chart(charts.coverage_over_rounds(trend, lang=lang), key="tp_rounds")
    with right:
        st.subheader(t("tpage.positives_title", lang))
        st.caption(t("tpage.positives_caption", lang))
        positives = data.cached(tq.positives_per_round)
        views.show_chart(charts.positives_by_round(positives, lang=lang), key="tp_positives")


# --------------------------------------------------------------------------- open / close


def _manage(lang: str, actor: Actor, round_id: int | None) -> None:
    with st.expander(t("tpage.manage", lang), expanded=round_id is None):
        _open_form(lang, actor)
        if round_id is not None:
            _close_form(lang, actor, round_id)


def _scope_options(lang: str) -> dict[int, str]:
    """Streets, communities and grids that a round can cover, labelled by level."""
    options: dict[int, str] = {}
    for level, key in (
        (AreaLevel.street, "tpage.scope_street"),
        (AreaLevel.community, "tpage.scope_community"),
        (AreaLevel.grid, "tpage.scope_grid"),
    ):
        shapes = data.cached(areas.area_shapes, level=level)
        for row in views.table_rows(shapes):
            name = pick_name(row.name, row.name_zh, lang)
            options[int(row.area_id)] = t(key, lang, name=f"{name} · {row.code}")
    return options


def _local_moment(day: Any, clock: time) -> datetime:
    tz = get_settings().tz
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


_OPEN_FIELDS = ("name", "area_ids", "start_at", "deadline_at", "sites")


def _open_form(lang: str, actor: Actor) -> None:
    st.subheader(t("tpage.open_title", lang))
    options = _scope_options(lang)
    start = (data.now() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    deadline = start + timedelta(hours=DEFAULT_POLICY.round_max_hours)
    token = forms.form_token("tp_open")
    sites_default = pd.DataFrame(
        {
            "name": pd.Series([], dtype="string"),
            "other_name": pd.Series([], dtype="string"),
            "hourly_capacity": [],
            "desks": [],
        }
    )
    with st.form("tp_open_round", clear_on_submit=False):
        top = st.empty()
        name = st.text_input(t("tpage.f_name", lang), help=t("tpage.f_name_help", lang))
        name_error = st.empty()
        other_name = st.text_input(t("tpage.f_name_other", lang))
        scope = st.multiselect(
            t("tpage.f_scope", lang),
            list(options),
            format_func=options.__getitem__,
            help=t("tpage.f_scope_help", lang),
            placeholder=t("widget.choose_options", lang),
        )
        scope_error = st.empty()
        c1, c2 = st.columns(2)
        start_day = c1.date_input(t("tpage.f_start_day", lang), value=start.date())
        start_time = c2.time_input(t("tpage.f_start_time", lang), value=start.time(), step=900)
        start_error = st.empty()
        c3, c4 = st.columns(2)
        deadline_day = c3.date_input(t("tpage.f_deadline_day", lang), value=deadline.date())
        deadline_time = c4.time_input(
            t("tpage.f_deadline_time", lang), value=deadline.time(), step=900
        )
        deadline_error = st.empty()
        st.markdown(f"**{t('tpage.f_sites', lang)}**")
        st.caption(t("tpage.f_sites_help", lang))
        sites = st.data_editor(
            sites_default,
            num_rows="dynamic",
            width="stretch",
            column_config={
                "name": st.column_config.TextColumn(t("tpage.f_site_name", lang), max_chars=120),
                "other_name": st.column_config.TextColumn(
                    t("tpage.f_site_name_other", lang), max_chars=120
                ),
                "hourly_capacity": st.column_config.NumberColumn(
                    t("tpage.f_site_capacity", lang), min_value=1, step=1, default=300
                ),
                "desks": st.column_config.NumberColumn(
                    t("tpage.f_site_desks", lang), min_value=1, step=1, default=1
                ),
            },
            key="tp_open_sites",
        )
        sites_error = st.empty()
        submitted = st.form_submit_button(t("tpage.f_open", lang), type="primary")
    if not submitted:
        return
    payload = {
        **_both_names(name, other_name, lang),
        "area_ids": list(scope),
        "start_at": _local_moment(start_day, start_time),
        "deadline_at": _local_moment(deadline_day, deadline_time),
        "sites": _site_rows(sites, lang),
    }
    try:
        with data.session() as s:
            created = ts.open_round(session=s, data=payload, actor=actor, client_token=token)
            info = tq.round_info(session=s, round_id=int(created.id or 0))
    except ValidationFailed as exc:
        top.error(t("tpage.fix_below", lang))
        for slot, field in (
            (name_error, "name"),
            (scope_error, "area_ids"),
            (start_error, "start_at"),
            (deadline_error, "deadline_at"),
            (sites_error, "sites"),
        ):
            forms.show_field_error(slot, exc.errors, field, lang)
        rest = forms.other_errors(exc.errors, _OPEN_FIELDS)
        if rest:
            top.error(" ".join(t(m, lang) for m in rest.values()))
        return
    except PermissionDenied:
        top.error(t("tpage.not_allowed", lang))
        return
    data.invalidate()
    forms.renew_token("tp_open")
    # The round picker adopts a ?round= it has not seen yet: the new round is shown.
    st.query_params["round"] = str(created.id)
    st.session_state.pop("tp_round_url", None)
    st.session_state["tp_flash"] = t(
        "tpage.opened",
        lang,
        name=md(display_name(created, lang)),
        grids=len(info.grid_ids) if info else 0,
    )
    st.rerun()


def _both_names(typed: Any, other: Any, lang: str) -> dict[str, str | None]:
    """`name` and `name_zh` from a name typed in the view's language and one in the other:
    in Chinese the first is the Chinese name, and stands for the English one when that is
    left empty."""
    typed, other = str(typed or "").strip(), str(other or "").strip()
    if lang == "zh":
        return {"name": other or typed, "name_zh": typed or None}
    return {"name": typed, "name_zh": other or None}


def _site_rows(sites: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    """The sites typed into the editor (rows left completely empty are ignored)."""
    rows = []
    for row in sites.to_dict("records"):
        values = {k: (None if pd.isna(v) else v) for k, v in row.items()}
        if all(v in (None, "") for v in values.values()):
            continue
        rows.append(
            {
                **_both_names(values.get("name"), values.get("other_name"), lang),
                "hourly_capacity": values.get("hourly_capacity") or 300,
                "desks": values.get("desks") or 1,
            }
        )
    return rows


def _close_form(lang: str, actor: Actor, round_id: int) -> None:
    info = data.cached(tq.round_info, round_id=round_id)
    if info is None:
        return
    st.subheader(t("tpage.close_title", lang))
    if info.closed_at is not None:
        st.caption(t("tpage.already_closed", lang, closed=tv.local_time(info.closed_at, lang)))
        return
    with st.form("tp_close_round"):
        confirm = st.checkbox(t("tpage.close_confirm", lang, name=display_name(info, lang)))
        confirm_error = st.empty()
        submitted = st.form_submit_button(t("tpage.f_close", lang))
    if not submitted:
        return
    if not confirm:
        confirm_error.error(t("tpage.close_confirm_missing", lang))
        return
    try:
        with data.session() as s:
            ts.close_round(session=s, round_id=round_id, actor=actor)
    except ValidationFailed as exc:
        confirm_error.error(" ".join(t(m, lang) for m in exc.errors.values()))
        return
    except PermissionDenied:
        confirm_error.error(t("tpage.not_allowed", lang))
        return
    data.invalidate()
    st.session_state["tp_flash"] = t("tpage.closed", lang, name=md(display_name(info, lang)))
    st.rerun()


# --------------------------------------------------------------------------- results


def _results(lang: str, actor: Actor, round_id: int) -> None:
    st.subheader(t("tpage.results_title", lang))
    batch, positive = st.tabs([t("tpage.results_batch", lang), t("tpage.results_positive", lang)])
    with batch:
        _batch_form(lang, actor, round_id)
    with positive:
        _positive_search(lang, actor, round_id)


def _batch_form(lang: str, actor: Actor, round_id: int) -> None:
    with st.form("tp_batch", clear_on_submit=False):
        top = st.empty()
        tube = st.text_input(t("tpage.f_tube", lang), help=t("tpage.f_tube_help", lang))
        tube_error = st.empty()
        result = st.radio(
            t("tpage.f_result", lang),
            ["negative", "invalid"],
            format_func=lambda r: enum_label("result", r, lang),
            horizontal=True,
        )
        submitted = st.form_submit_button(t("tpage.f_mark", lang), type="primary")
    if not submitted:
        return
    if not tube.strip():
        tube_error.error(t("tpage.tube_required", lang))
        return
    try:
        with data.session() as s:
            changed = ts.record_results_batch(
                session=s, actor=actor, tube_code=tube.strip(), round_id=round_id, result=result
            )
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            (tube_error if field in ("tube_code", "record_ids") else top).error(t(message, lang))
        return
    except PermissionDenied:
        top.error(t("tpage.not_allowed", lang))
        return
    data.invalidate()
    label = enum_label("result", result, lang)
    if changed:
        st.success(t("tpage.marked", lang, n=fmt_int(changed), result=label))
    else:
        st.info(t("tpage.marked_none", lang, result=label))


def _positive_search(lang: str, actor: Actor, round_id: int) -> None:
    text = st.text_input(t("tpage.f_find", lang), key="tp_pos_find")
    flash = st.session_state.pop("tp_pos_flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])
    if len(text.strip()) < 2:
        return
    found = data.cached(tq.find_residents, round_id=round_id, text=text.strip(), actor=actor)
    if found.empty:
        st.info(t("tpage.no_match", lang, text=md(text.strip())))
        return
    for row in views.table_rows(found):
        building = md(display_name(row, lang, "building"))
        label = f"{md(row.name)} · {md(row.grid_code)} · {building} {md(row.unit)}"
        line, action = st.columns([3, 1])
        if not row.sampled:
            line.markdown(f"{label} — {t('tpage.not_sampled_yet', lang)}")
            continue
        line.markdown(f"{label} — {tv.local_time(row.sampled_at, lang)}")
        action.button(
            t("tpage.f_positive", lang),
            key=f"tp_pos_{int(row.record_id)}",
            on_click=_mark_positive,
            args=(lang, actor, int(row.record_id), str(row.name), str(row.grid_code)),
            width="stretch",
        )


def _mark_positive(lang: str, actor: Actor, record_id: int, name: str, grid: str) -> None:
    try:
        with data.session() as s:
            ts.record_positive(session=s, record_id=record_id, actor=actor)
    except ValidationFailed as exc:
        st.session_state["tp_pos_flash"] = (
            "error",
            " ".join(t(m, lang) for m in exc.errors.values()),
        )
        return
    except PermissionDenied:
        st.session_state["tp_pos_flash"] = ("error", t("tpage.not_allowed", lang))
        return
    data.invalidate()
    st.session_state["tp_pos_flash"] = (
        "success",
        t("tpage.positive_saved", lang, name=md(name), grid=md(grid)),
    )


page()
