"""Workforce: who carries how much, where staff are short, and what to move or post where.

Every role reads it (phones masked outside the reader's grids); administrators and leaders
apply the suggestions in one click and add workers or change their grids.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from gridcore.access import COMMAND_ROLES, Actor, PermissionDenied
from gridcore.i18n import enum_label, fmt_int, fmt_num, t
from gridcore.models import Employment, ServiceGroup, WorkerRole
from gridcore.queries import areas
from gridcore.queries import workforce as wq
from gridcore.services.base import ValidationFailed
from gridcore.services.workforce import create_worker, set_worker_grids
from gridcore.ui import data, forms, session, views
from gridcore.ui import workforce as wv

MAP_HEIGHT = 420
TABLE_HEIGHT = 380
FLASH = "wf_flash"
# Volunteers offered a one-click posting (the table lists every shortfall).
POSTING_BUTTONS = 10


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    st.html(wv.WORKFORCE_CSS)
    st.title(t("page.workforce", lang))
    _live(lang, actor)
    if actor.role in COMMAND_ROLES:
        _forms(lang, actor)


@session.live()
def _live(lang: str, actor: Actor) -> None:
    now = data.now().replace(second=0, microsecond=0)
    today = data.today()
    summary = data.cached(wq.workforce_summary, now=now, today=today)
    st.caption(t("wf.subtitle", lang, standard=fmt_int(summary.standard)))
    views.updated_caption(lang)
    flash = st.session_state.pop(FLASH, None)
    if flash:
        getattr(st, flash[0])(wv.plain_markdown(flash[1]))
    _headline(lang, summary)
    load = data.cached(wq.worker_workload, now=now, today=today, actor=actor)
    _workload(lang, load, summary)
    _reassignments(lang, actor, now, today)
    _staffing(lang, summary.standard)
    _postings(lang, actor)


def _headline(lang: str, summary: wq.WorkforceSummary) -> None:
    balance = summary.balance
    with st.container(key="wf_headline"):
        cols = st.columns(5)
        cols[0].metric(
            t("wf.active_workers", lang),
            fmt_int(summary.active_workers),
            help=t("wf.active_workers_help", lang, ft=summary.full_time, vol=summary.volunteers),
        )
        cols[1].metric(t("wf.open_tasks", lang), fmt_int(summary.open_tasks))
        cols[2].metric(
            t("wf.overdue_tasks", lang),
            fmt_int(summary.overdue_tasks),
            help=t("wf.unassigned_help", lang, n=summary.unassigned_open_tasks),
        )
        cols[3].metric(
            t("wf.understaffed", lang),
            fmt_int(summary.understaffed_grids),
            help=t("wf.understaffed_help", lang, standard=summary.standard),
        )
        cols[4].metric(
            t("wf.imbalance", lang),
            fmt_num(balance.cv, lang, 2),
            help=t("wf.imbalance_help", lang),
        )


def _workload(lang: str, load: pd.DataFrame, summary: wq.WorkforceSummary) -> None:
    balance = summary.balance
    st.subheader(t("wf.workload_title", lang))
    st.caption(t("wf.workload_caption", lang))
    left, right = st.columns([3, 2])
    with left:
        table = wv.workers_table(load, lang)
        st.dataframe(table, hide_index=True, width="stretch", height=TABLE_HEIGHT)
        forms.download_buttons(table, name=f"workers-{data.today()}", lang=lang, key="wf_dl_w")
    with right:
        st.markdown(f"**{t('wf.imbalance_title', lang)}**")
        if balance.workers == 0:
            st.info(t("wf.no_frontline", lang))
            return
        views.show_chart(wv.workload_chart(load, target=balance.target, lang=lang), key="wf_chart")
        st.caption(
            t(
                "wf.imbalance_caption",
                lang,
                workers=fmt_int(balance.workers),
                mean=fmt_num(balance.mean, lang),
                median=fmt_num(balance.median, lang),
                top=fmt_int(balance.max_score),
                cv=fmt_num(balance.cv, lang, 2),
                ratio=fmt_num(balance.max_over_median, lang),
            )
        )


def _reassignments(lang: str, actor: Actor, now: Any, today: Any) -> None:
    st.subheader(t("wf.moves_title", lang))
    st.caption(t("wf.moves_caption", lang))
    moves = data.cached(wq.suggested_reassignments, now=now, today=today)
    if moves.empty:
        st.info(t("wf.no_moves", lang))
        return
    may_apply = actor.role in COMMAND_ROLES
    for row in views.table_rows(moves):
        with st.container(border=True, key=f"wf_move_{int(row.task_id)}"):
            st.text(wv.reassignment_line(row, lang))
            if may_apply:
                st.button(
                    t("wf.apply_move", lang),
                    key=f"wf_apply_{int(row.task_id)}",
                    on_click=_apply_move,
                    args=(actor, row, lang),
                )
    forms.download_buttons(
        wv.reassignments_table(moves, lang), name=f"reassignments-{today}", lang=lang,
        key="wf_dl_m",
    )  # fmt: skip


def _apply_move(actor: Actor, row: Any, lang: str) -> None:
    outcome = wv.apply_reassignment(actor, row, lang)
    st.session_state[FLASH] = (outcome.kind, outcome.message)


def _staffing(lang: str, standard: int) -> None:
    st.subheader(t("wf.staffing_title", lang))
    st.caption(t("wf.staffing_caption", lang, standard=fmt_int(standard)))
    left, right = st.columns([2, 3])
    with left:
        gaps = data.cached(wq.staffing, understaffed_only=True)
        if gaps.empty:
            st.success(t("wf.no_understaffed", lang))
        else:
            table = wv.staffing_table(gaps, lang, standard)
            st.dataframe(table, hide_index=True, width="stretch", height=MAP_HEIGHT)
            forms.download_buttons(
                table, name=f"understaffed-grids-{data.today()}", lang=lang, key="wf_dl_s"
            )
    with right:
        frame = views.map_frame(lang)
        gmap = views.grid_map(
            frame=frame, measure="households_per_worker", lang=lang, height=MAP_HEIGHT
        )
        clicked = views.show_map(gmap, key="wf_map", height=MAP_HEIGHT, selectable=True)
        st.caption(t("wf.map_caption", lang))
        if clicked:
            views.open_grid(clicked)


def _postings(lang: str, actor: Actor) -> None:
    st.subheader(t("wf.postings_title", lang))
    st.caption(t("wf.postings_caption", lang))
    postings = data.cached(wq.volunteer_postings)
    if postings.empty:
        st.success(t("wf.no_postings", lang))
        return
    table = wv.postings_table(postings, lang)
    st.dataframe(
        table, hide_index=True, width="stretch", height=min(TABLE_HEIGHT, 38 + 35 * len(table))
    )
    forms.download_buttons(
        table, name=f"volunteer-postings-{data.today()}", lang=lang, key="wf_dl_p"
    )
    if actor.role not in COMMAND_ROLES:
        return
    movable = postings[postings["volunteer_id"].notna()].head(POSTING_BUTTONS)
    for row in views.table_rows(movable):
        key = f"{int(row.volunteer_id)}_{int(row.grid_id)}"
        with st.container(border=True, key=f"wf_posting_{key}"):
            st.text(
                t(
                    "wf.post_line",
                    lang,
                    name=row.volunteer_name,
                    group=enum_label("service_group", row.service_group, lang),
                    grid=row.grid_code,
                    source=row.from_grid_code or t("wf.no_grid", lang),
                )
            )
            st.button(
                t("wf.apply_post", lang),
                key=f"wf_post_{key}",
                on_click=_apply_post,
                args=(actor, row, lang),
            )


def _apply_post(actor: Actor, row: Any, lang: str) -> None:
    outcome = wv.apply_posting(actor, row, lang)
    st.session_state[FLASH] = (outcome.kind, outcome.message)


# --------------------------------------------------------------------------- forms


def _grid_options(lang: str) -> dict[int, str]:
    grids = data.cached(areas.grids)
    return {
        int(row.grid_id): f"{views.area_label(row, lang)} · {row.code}"
        for row in views.table_rows(grids)
    }


def _forms(lang: str, actor: Actor) -> None:
    st.subheader(t("wf.forms_title", lang))
    add, regrid = st.tabs([t("wf.add_tab", lang), t("wf.grids_tab", lang)])
    options = _grid_options(lang)
    with add:
        _add_form(lang, actor, options)
    with regrid:
        _grids_form(lang, actor, options)


_ADD_FIELDS = ("name", "phone", "role", "employment", "service_group", "grid_ids")


def _add_form(lang: str, actor: Actor, options: dict[int, str]) -> None:
    flash = st.session_state.pop("wf_add_flash", None)
    if flash:
        st.success(wv.plain_markdown(flash))
    token = forms.form_token("wf_add")
    # A new generation of keys after each worker added: the name, phone and grids start empty
    # (role, employment and group stay, for adding several alike).
    gen = int(st.session_state.get("wf_add_gen", 0))
    groups: list[str | None] = [None, *(g.value for g in ServiceGroup)]
    with st.form("wf_add_form", clear_on_submit=False):
        top = st.empty()
        name = st.text_input(t("wf.f_name", lang), max_chars=80, key=f"wf_f_name_{gen}")
        errors = {"name": st.empty()}
        phone = st.text_input(t("wf.f_phone", lang), help=t("wf.f_phone_help", lang),
                              key=f"wf_f_phone_{gen}")  # fmt: skip
        errors["phone"] = st.empty()
        c1, c2 = st.columns(2)
        role = c1.selectbox(
            t("wf.f_role", lang),
            [r.value for r in WorkerRole],
            index=len(WorkerRole) - 1,
            format_func=lambda v: enum_label("worker_role", v, lang),
            key="wf_f_role",
        )
        employment = c2.selectbox(
            t("wf.f_employment", lang),
            [e.value for e in Employment],
            index=len(Employment) - 1,
            format_func=lambda v: enum_label("employment", v, lang),
            key="wf_f_employment",
        )
        errors["role"], errors["employment"] = c1.empty(), c2.empty()
        group = st.selectbox(
            t("wf.f_group", lang),
            groups,
            format_func=lambda v: t("wf.f_group_none", lang) if v is None
            else enum_label("service_group", v, lang),
            help=t("wf.f_group_help", lang),
            key="wf_f_group",
        )  # fmt: skip
        errors["service_group"] = st.empty()
        grid_ids = st.multiselect(
            t("wf.f_grids", lang), list(options), format_func=options.__getitem__,
            key=f"wf_f_grids_{gen}",
        )  # fmt: skip
        errors["grid_ids"] = st.empty()
        submitted = st.form_submit_button(t("wf.f_add", lang), type="primary")
    if not submitted:
        return
    payload = {
        "name": name.strip(),
        "phone": phone.strip() or None,
        "role": role,
        "employment": employment,
        "service_group": group,
        "grid_ids": list(grid_ids),
    }
    try:
        with data.session() as s:
            worker = create_worker(session=s, data=payload, actor=actor, client_token=token)
    except ValidationFailed as exc:
        top.error(t("wf.fix_below", lang))
        for field, slot in errors.items():
            forms.show_field_error(slot, exc.errors, field, lang)
        rest = forms.other_errors(exc.errors, _ADD_FIELDS)
        if rest:
            top.error(" ".join(t(m, lang) for m in rest.values()))
        return
    except PermissionDenied:
        top.error(t("wf.not_allowed", lang))
        return
    data.invalidate()
    forms.renew_token("wf_add")
    st.session_state["wf_add_flash"] = t(
        "wf.added", lang, name=worker.name, role=enum_label("worker_role", worker.role, lang)
    )
    st.session_state["wf_add_gen"] = gen + 1
    st.rerun()


def _grids_form(lang: str, actor: Actor, options: dict[int, str]) -> None:
    flash = st.session_state.pop("wf_grids_flash", None)
    if flash:
        st.success(wv.plain_markdown(flash))
    choices = data.cached(wq.worker_choices)
    choices = choices[choices["active"]]
    if choices.empty:
        st.info(t("wf.no_workers", lang))
        return
    labels = {
        int(r.worker_id): f"{r.name} · {enum_label('worker_role', r.role, lang)}"
        f" · {r.grid_codes or t('wf.no_grid', lang)}"
        for r in views.table_rows(choices)
    }
    worker_id = st.selectbox(
        t("wf.f_worker", lang), list(labels), format_func=labels.__getitem__, key="wf_g_worker"
    )
    current = next(r.grid_ids for r in views.table_rows(choices) if int(r.worker_id) == worker_id)
    token = forms.form_token(f"wf_grids_{worker_id}")
    with st.form("wf_grids_form"):
        top = st.empty()
        grid_ids = st.multiselect(
            t("wf.f_grids", lang),
            list(options),
            default=[g for g in current if g in options],
            format_func=options.__getitem__,
            key=f"wf_g_grids_{worker_id}",
        )
        grid_error = st.empty()
        submitted = st.form_submit_button(t("wf.f_save_grids", lang), type="primary")
    if not submitted:
        return
    try:
        with data.session() as s:
            set_worker_grids(session=s, worker_id=int(worker_id), grid_ids=list(grid_ids),
                             actor=actor, client_token=token)  # fmt: skip
    except ValidationFailed as exc:
        top.error(t("wf.fix_below", lang))
        forms.show_field_error(grid_error, exc.errors, "grid_ids", lang)
        rest = forms.other_errors(exc.errors, ("grid_ids",))
        if rest:
            top.error(" ".join(t(m, lang) for m in rest.values()))
        return
    except PermissionDenied:
        top.error(t("wf.not_allowed", lang))
        return
    data.invalidate()
    forms.renew_token(f"wf_grids_{worker_id}")
    codes = ", ".join(options[g].split(" · ")[-1] for g in grid_ids) or t("wf.no_grid", lang)
    st.session_state["wf_grids_flash"] = t(
        "wf.grids_saved", lang, name=labels[int(worker_id)].split(" · ")[0], grids=codes
    )
    st.rerun()


page()
