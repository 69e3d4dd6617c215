"""Roll call: who in one grid has not been sampled in a round, household by household.

Opened directly on a phone as `?grid=CODE&round=ID`. A grid worker taps "Sampled" when a
door-to-door sample is taken; the person leaves the list at once. The query masks names
and phones for accounts that may not see them; this page never unmasks.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gridcore.access import Actor, PermissionDenied
from gridcore.i18n import display_names, fmt_int, fmt_pct, pick_name, t
from gridcore.queries import testing as tq
from gridcore.queries import workforce
from gridcore.services import testing as ts
from gridcore.services.base import ValidationFailed, WriteBusy, retrying
from gridcore.ui import data, forms, session, views
from gridcore.ui import testing as tv
from gridcore.ui.forms import markdown_text as md

ALL = "__all__"


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    st.html(tv.TESTING_CSS)
    head = st.container()
    with st.expander(t("tpage.rc_change", lang)):
        round_id = tv.pick_round(lang, key="rc_round")
        progress = (
            data.cached(tq.grid_progress, round_id=round_id, now=tv.minute_now())
            if round_id is not None
            else None
        )
        code = (
            _pick_grid(lang, actor, progress)
            if progress is not None and not progress.empty
            else None
        )
    if round_id is None or progress is None or code is None:
        head.title(t("page.roll_call", lang))
        head.info(t("tpage.no_rounds" if round_id is None else "tpage.no_grids", lang))
        return
    grid = progress[progress["code"] == code].iloc[0]
    head.title(t("tpage.rc_title", lang, grid=md(pick_name(grid["name"], grid["name_zh"], lang))))
    _roll_call(lang, actor, round_id, int(grid["grid_id"]), code)


def _pick_grid(lang: str, actor: Actor, progress: pd.DataFrame) -> str | None:
    """The grid from ?grid=, else the actor's own grid, else the grid most behind."""
    codes = [str(c) for c in progress["code"]]
    labels = {
        str(r.code): f"{pick_name(r.name, r.name_zh, lang)} · {r.code} · "
        + t("tpage.rc_missing", lang, n=fmt_int(r.missing))
        for r in views.table_rows(progress)
    }
    requested = st.query_params.get("grid")
    if requested is not None and requested != st.session_state.get("rc_grid_url"):
        st.session_state["rc_grid_url"] = requested
        if requested in codes:
            st.session_state["rc_grid"] = requested
        else:
            st.warning(t("tpage.rc_not_in_round", lang, grid=md(requested)))
    if st.session_state.get("rc_grid") not in codes:
        own = [str(c) for c, g in zip(codes, progress["grid_id"], strict=True)
               if actor.grid_ids and int(g) in actor.grid_ids]  # fmt: skip
        st.session_state["rc_grid"] = own[0] if own else codes[0]
    code = str(
        st.selectbox(t("tpage.rc_grid", lang), codes, format_func=labels.__getitem__, key="rc_grid")
    )
    if requested != code:
        st.query_params["grid"] = code
        st.session_state["rc_grid_url"] = code
    return code


@session.live()
def _roll_call(lang: str, actor: Actor, round_id: int, grid_id: int, code: str) -> None:
    progress = data.cached(tq.grid_progress, round_id=round_id, now=tv.minute_now())
    row = progress[progress["grid_id"] == grid_id]
    roll = data.cached(tq.roll_call, round_id=round_id, grid_id=grid_id, actor=actor)
    roll = roll.assign(building=display_names(roll, lang, "building"))
    flash = st.session_state.pop("rc_flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])
    forms.show_undo("rollcall", lang)
    if not row.empty:
        figures = row.iloc[0]
        st.markdown(
            f"**{t('tpage.rc_missing', lang, n=fmt_int(len(roll)))}** · "
            f"{t('tpage.rc_households', lang, n=fmt_int(roll['household_id'].nunique()))} · "
            f"{t('tpage.rc_needs_visit', lang, n=fmt_int(_visits(roll)))} · "
            f"{t('tpage.coverage', lang)} {fmt_pct(figures['coverage'], lang)}"
        )
    if roll.empty:
        st.success(t("tpage.rc_all_done", lang))
        return
    if not actor.sees_personal_data_of(grid_id):
        # Counts and the grid only: no list of people, no print sheet, no download.
        st.info(t("security.viewer_no_personal", lang))
        return
    writable = actor.may_write_grid(grid_id)
    if not writable:
        st.caption(t("tpage.rc_read_only", lang))
    st.caption(t("tpage.rc_intro", lang))
    if writable:
        _tasks_button(lang, actor, round_id, grid_id, roll)
    printable = st.session_state.get("rc_print", False)
    if printable:
        st.caption(t("tpage.rc_print_hint", lang))
        label = (
            pick_name(row["name"].iloc[0], row["name_zh"].iloc[0], lang) if not row.empty else code
        )
        st.html(tv.roll_call_print_html(roll, lang, t("tpage.rc_title", lang, grid=label)))
    else:
        _households(lang, actor, round_id, roll, writable)
    st.divider()
    st.toggle(t("tpage.rc_print", lang), key="rc_print")
    forms.download_buttons(
        tv.roll_call_export(roll, lang), name=f"roll-call-{code}-round-{round_id}", lang=lang,
        key="rc_download",
    )  # fmt: skip


def _visits(roll: pd.DataFrame) -> int:
    return sum(tv.needs_visit(tags) for tags in roll["vulnerability"])


def _households(lang: str, actor: Actor, round_id: int, roll: pd.DataFrame, writable: bool) -> None:
    """One building at a time, one block per household, one tap per person."""
    counts = roll.groupby("building", sort=False).size()
    options = [ALL, *counts.index]
    chosen = st.selectbox(
        t("tpage.rc_building", lang),
        options,
        index=1 if len(options) > 2 else 0,
        format_func=lambda b: (
            t("tpage.rc_all_buildings", lang)
            if b == ALL
            else t("tpage.rc_building_option", lang, building=b, n=fmt_int(counts[b]))
        ),
        key="rc_building",
    )
    shown = roll if chosen == ALL else roll[roll["building"] == chosen]
    for building, in_building in shown.groupby("building", sort=False):
        if chosen == ALL:
            st.subheader(md(building))
        for unit, people in in_building.groupby("unit", sort=False):
            _household(lang, actor, round_id, str(unit), people, writable)


def _household(
    lang: str, actor: Actor, round_id: int, unit: str, people: pd.DataFrame, writable: bool
) -> None:
    """One flat: who is missing there, and a "Sampled" button for each."""
    with st.container(border=True, key=f"rc_hh_{int(people['household_id'].iloc[0])}"):
        task = (
            f' · <span class="sub">{t("tpage.rc_task_open", lang)}</span>'
            if bool(people["door_to_door_task"].iloc[0])
            else ""
        )
        st.html(
            f'<div class="gc-hh">{forms.html_text(t("tpage.rc_household", lang, unit=unit))}'
            f'<span class="sub">{t("tpage.rc_household_missing", lang, n=len(people))}</span>'
            f"{task}</div>"
        )
        for person in views.table_rows(people):
            st.html(_person_html(person, lang))
            if writable:
                st.button(
                    t("tpage.rc_sampled", lang, name=md(person.name)),
                    key=f"rc_s_{int(person.resident_id)}",
                    on_click=_mark_sampled,
                    args=(lang, actor, round_id, int(person.resident_id), str(person.name)),
                    type="primary",
                    width="stretch",
                )


def _person_html(person: object, lang: str) -> str:
    name = forms.html_text(getattr(person, "name", ""))
    phone = getattr(person, "phone", None)
    parts = [f"<b>{name}</b>"]
    if isinstance(phone, str) and phone:
        if "*" in phone:
            parts.append(forms.html_text(phone))
        else:
            parts.append(f'<a href="tel:{forms.html_text(phone)}">{forms.html_text(phone)}</a>')
    years = tv.age(getattr(person, "birth_year", None))
    if years is not None:
        parts.append(t("tpage.rc_age", lang, age=years))
    tags = getattr(person, "vulnerability", [])
    line = " · ".join(parts)
    if tags:
        words = tv.vulnerability_words(tags, lang)
        if tv.needs_visit(tags):
            words = f"{t('tpage.rc_visit', lang)}: {words}"
        line += f' <span class="tags">{forms.html_text(words)}</span>'
    return f'<div class="gc-person">{line}</div>'


def _mark_sampled(lang: str, actor: Actor, round_id: int, resident_id: int, name: str) -> None:
    """Record a door-to-door sample; the next run no longer lists the person."""
    try:
        with data.session() as s:
            record = retrying(
                lambda: ts.record_sample(
                    session=s,
                    resident_id=resident_id,
                    round_id=round_id,
                    actor=actor,
                    door_to_door=True,
                    client_token=forms.form_token(f"rollcall_{resident_id}"),
                ),
                session=s,
            )
    except WriteBusy as exc:
        st.session_state["rc_flash"] = ("error", f"{name}: {t(exc.key, lang)}")
        return
    except ValidationFailed as exc:
        st.session_state["rc_flash"] = ("error", " ".join(t(m, lang) for m in exc.errors.values()))
        data.invalidate()
        return
    except PermissionDenied:
        st.session_state["rc_flash"] = ("error", t("tpage.not_allowed", lang))
        return
    forms.renew_token(f"rollcall_{resident_id}")
    data.invalidate()
    forms.offer_undo(
        "rollcall",
        message=t("tpage.rc_recorded", lang, name=md(name)),
        undo=tv.sample_undo(actor, record.id or 0),
        done_message=t("undo.sample_done", lang, name=md(name)),
    )


def _tasks_button(lang: str, actor: Actor, round_id: int, grid_id: int, roll: pd.DataFrame) -> None:
    """Door-to-door tasks, asked first: how many, and that they go to the workers in turn."""
    households = int(roll.loc[~roll["door_to_door_task"], "household_id"].nunique())
    if not st.session_state.get("rc_tasks_ask"):
        st.button(
            t("tpage.rc_tasks", lang),
            help=t("tpage.rc_tasks_help", lang),
            key="rc_tasks",
            on_click=lambda: st.session_state.update(rc_tasks_ask=True),
            width="stretch",
        )
        return
    if households == 0:
        st.session_state["rc_tasks_ask"] = False
        st.info(t("tpage.rc_tasks_none", lang))
        return
    workers = data.cached(workforce.grid_workers, grid_id=grid_id, actor=actor)
    with st.container(border=True, key="rc_tasks_confirm"):
        st.warning(
            t("rc.tasks_ask", lang, n=fmt_int(households), workers=fmt_int(len(workers)))
            if len(workers)
            else t("rc.tasks_ask_nobody", lang, n=fmt_int(households))
        )
        yes, no = st.columns(2)
        yes.button(
            t("rc.tasks_yes", lang, n=fmt_int(households)),
            key="rc_tasks_yes",
            on_click=_create_tasks,
            args=(lang, actor, round_id, grid_id),
            type="primary",
            width="stretch",
        )
        no.button(
            t("rc.tasks_no", lang),
            key="rc_tasks_no",
            on_click=lambda: st.session_state.update(rc_tasks_ask=False),
            width="stretch",
        )


def _create_tasks(lang: str, actor: Actor, round_id: int, grid_id: int) -> None:
    st.session_state["rc_tasks_ask"] = False
    try:
        with data.session() as s:
            created = ts.create_door_to_door_tasks(
                session=s, round_id=round_id, grid_id=grid_id, actor=actor
            )
    except ValidationFailed as exc:
        st.session_state["rc_flash"] = ("error", " ".join(t(m, lang) for m in exc.errors.values()))
        return
    except PermissionDenied:
        st.session_state["rc_flash"] = ("error", t("tpage.not_allowed", lang))
        return
    data.invalidate()
    if created:
        st.session_state["rc_flash"] = ("success", t("tpage.rc_tasks_created", lang, n=created))
    else:
        st.session_state["rc_flash"] = ("info", t("tpage.rc_tasks_none", lang))


page()
