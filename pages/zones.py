"""Zones: every order in force on a day, its step-down countdown and the suggested change.

Anyone signed in reads it; administrators and leaders issue, extend, step down and lift
orders in the one form at the bottom (the services refuse everyone else). ?as_of=YYYY-MM-DD
reads the page as of a past day, so an outbreak can be followed day by day.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from gridcore.access import COMMAND_ROLES, Actor, PermissionDenied
from gridcore.i18n import fmt_date, fmt_int, pick_name, t
from gridcore.models import ZoneLevel
from gridcore.queries import zones as zq
from gridcore.services import zones as zs
from gridcore.services.base import ValidationFailed
from gridcore.ui import data, forms, session, views
from gridcore.ui import zones as zv
from gridcore.ui.views import table_rows

MAP_HEIGHT = 520
ACTIONS = ("issue", "extend", "step_down", "lift")


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    st.html(zv.ZONES_CSS)
    st.title(t("page.zones", lang))
    as_of = zv.pick_as_of(lang)
    board = data.cached(zq.zone_board, as_of=as_of)
    grids = data.cached(zq.grid_suggestions, as_of=as_of)
    _headline(board, grids, lang)
    _map(board, grids, as_of, lang, actor)
    _board(board, lang)
    _unordered(grids, lang)
    _places(as_of, lang, actor)
    if actor.role in COMMAND_ROLES:
        _form(board, grids, lang, actor)
    else:
        st.caption(t("zpage.read_only", lang))


def _headline(board: pd.DataFrame, grids: pd.DataFrame, lang: str) -> None:
    due = board[(board["days_left"].fillna(-1) == 0)]
    figures = (
        ("zpage.m_sealed", int((board["level"] == ZoneLevel.sealed).sum())),
        ("zpage.m_controlled", int((board["level"] == ZoneLevel.controlled).sum())),
        ("zpage.m_due", len(due)),
        ("zpage.m_overdue", int((board["overdue_days"] > 0).sum())),
        ("zpage.m_unordered", int((grids["action"] == "issue").sum())),
    )
    with st.container(key="zn_headline"):
        for column, (key, value) in zip(st.columns(len(figures)), figures, strict=True):
            column.metric(t(key, lang), fmt_int(value), help=t(f"{key}_help", lang), border=True)


def _map(board: pd.DataFrame, grids: pd.DataFrame, as_of: date, lang: str, actor: Actor) -> None:
    st.subheader(t("zpage.map_title", lang))
    policy = data.cached(zq.zone_policy)
    places = data.cached(zq.case_places, as_of=as_of, area_ids=None, actor=actor)
    places = zv.place_zones(places, as_of=as_of, policy=policy)
    zones = data.cached(zq.zone_orders, today=as_of)
    gmap = zv.zone_map(areas_frame=zv.map_areas(grids, lang), zones=zones, places=places, lang=lang)
    clicked = views.show_map(gmap, key="zn_map", height=MAP_HEIGHT, selectable=True)
    st.caption(t("zpage.map_hint", lang))
    if clicked and clicked != st.session_state.get("zn_clicked"):
        st.session_state["zn_clicked"] = clicked
        _pick_grid_code(clicked, board, grids)


def _pick_grid_code(code: str, board: pd.DataFrame, grids: pd.DataFrame) -> None:
    """A grid clicked on the map: its order (if any) and the grid are picked for the form."""
    found = grids[grids["code"] == code]
    if found.empty:
        return
    row = found.iloc[0]
    st.session_state["zn_pick_grid"] = int(row["grid_id"])
    orders = board[(board["grid_code"] == code) & board["building_id"].isna()]
    st.session_state["zn_pick_order"] = int(orders.iloc[0]["order_id"]) if len(orders) else None
    st.session_state["zn_action"] = zv.FORM_ACTION.get(str(row["action"]), "issue")


def _board(board: pd.DataFrame, lang: str) -> None:
    st.subheader(t("zpage.board_title", lang))
    if board.empty:
        st.info(t("zpage.no_orders", lang))
        return
    table = zv.board_table(board, lang)
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="zn_board",
    )
    st.caption(t("zpage.board_hint", lang))
    forms.download_buttons(table, name="zone-orders", lang=lang, key="zn_board_dl")
    rows = _selected_rows(event)
    if rows and rows[0] < len(board):
        row = board.iloc[rows[0]]
        order_id = int(row["order_id"])
        if st.session_state.get("zn_board_pick") != order_id:
            st.session_state["zn_board_pick"] = order_id
            st.session_state["zn_pick_order"] = order_id
            st.session_state["zn_action"] = zv.FORM_ACTION.get(str(row["action"]), "extend")


def _selected_rows(event: Any) -> list[int]:
    try:
        return list(event["selection"]["rows"])
    except (KeyError, TypeError):
        return []


def _unordered(grids: pd.DataFrame, lang: str) -> None:
    wanted = grids[grids["action"] == "issue"]
    if wanted.empty:
        return
    st.subheader(t("zpage.unordered_title", lang))
    st.dataframe(zv.grids_table(wanted, lang), hide_index=True, width="stretch", key="zn_unordered")


def _places(as_of: date, lang: str, actor: Actor) -> None:
    policy = data.cached(zq.zone_policy)
    places = data.cached(zq.case_places, as_of=as_of, area_ids=None, actor=actor)
    if places.empty:
        return
    places = zv.place_zones(places, as_of=as_of, policy=policy)
    st.subheader(t("zpage.places_title", lang))
    st.caption(
        t(
            "zpage.places_caption",
            lang,
            n=fmt_int(len(places)),
            day=fmt_date(as_of, lang),
            shown=fmt_int(min(len(places), zv.MAX_MAP_PLACES)),
        )
    )
    table = zv.places_table(places, lang, policy=policy)
    st.dataframe(table.head(500), hide_index=True, width="stretch", key="zn_places")
    forms.download_buttons(table, name=f"case-places-{as_of.isoformat()}", lang=lang, key="zn_dl")


# --------------------------------------------------------------------------- the form


@session.live(refresh=False)
def _form(board: pd.DataFrame, grids: pd.DataFrame, lang: str, actor: Actor) -> None:
    """The one form; switching what to do reruns only the form, a write reruns the page."""
    st.subheader(t("zpage.form_title", lang))
    flash = st.session_state.pop("zn_flash", None)
    if flash:
        st.success(flash)  # next to the form the user just sent, not out of sight at the top
    if st.session_state.get("zn_action") not in ACTIONS:
        st.session_state["zn_action"] = "issue"
    action = st.segmented_control(
        t("zpage.f_action", lang),
        ACTIONS,
        format_func=lambda a: t(f"zpage.do_{a}", lang),
        key="zn_action",
    )
    action = action or "issue"
    if action == "issue":
        _issue_form(grids, lang, actor)
    elif board.empty:
        st.info(t("zpage.no_orders", lang))
    else:
        _order_form(action, board, lang, actor)


def _done(message: str, key: str) -> None:
    data.invalidate()
    forms.renew_token(key)
    # The picked row or area stays picked on the page; the form starts afresh.
    st.session_state.pop("zn_pick_order", None)
    st.session_state["zn_flash"] = message
    st.rerun()


def _show_errors(exc: ValidationFailed, top: Any, slots: dict[str, Any], lang: str) -> None:
    top.error(t("zpage.fix_below", lang))
    for field, slot in slots.items():
        forms.show_field_error(slot, exc.errors, field, lang)
    rest = forms.other_errors(exc.errors, tuple(slots))
    if rest:
        top.error(" ".join(t(m, lang) for m in rest.values()))


def _issue_form(grids: pd.DataFrame, lang: str, actor: Actor) -> None:
    options = {
        int(r.grid_id): f"{pick_name(r.name, r.name_zh, lang)} · {r.code}"
        for r in table_rows(grids)
    }
    if not options:
        st.info(t("zpage.no_grids", lang))
        return
    ids = list(options)
    picked = st.session_state.get("zn_pick_grid")
    suggested = {int(r.grid_id): str(r.suggested_level) for r in table_rows(grids)}
    default_level = ZoneLevel(suggested.get(picked or 0) or ZoneLevel.sealed)
    levels = list(ZoneLevel)
    token = forms.form_token("zn_issue")
    with st.form("zn_issue_form"):
        top = st.empty()
        grid = st.selectbox(
            t("zpage.f_grid", lang),
            ids,
            index=ids.index(picked) if picked in ids else 0,
            format_func=options.__getitem__,
            key=f"zn_issue_grid_{picked}_{lang}",  # labels follow the language
        )
        grid_error = st.empty()
        level = st.radio(
            t("zpage.f_level", lang),
            levels,
            index=levels.index(default_level),
            format_func=lambda v: t(f"zone.{v}", lang),
            horizontal=True,
            key=f"zn_issue_level_{picked}_{lang}",
        )
        c1, c2 = st.columns(2)
        start = c1.date_input(
            t("zpage.f_start", lang), value=data.today(), format="YYYY-MM-DD", key="zn_issue_start"
        )
        end = c2.date_input(
            t("zpage.f_end", lang),
            value=None,
            format="YYYY-MM-DD",
            help=t("zpage.f_end_help", lang),
        )
        end_error = st.empty()
        reason = st.text_input(t("zpage.f_reason", lang), max_chars=300)
        reason_error = st.empty()
        submitted = st.form_submit_button(t("zpage.do_issue", lang), type="primary")
    if not submitted:
        return
    try:
        with data.session() as s:
            order = zs.issue_zone_order(
                session=s,
                data={
                    "area_id": grid,
                    "level": level,
                    "start_date": start,
                    "end_date": end,
                    "reason": reason.strip(),
                },
                actor=actor,
                client_token=token,
            )
    except ValidationFailed as exc:
        _show_errors(
            exc,
            top,
            {"area_id": grid_error, "end_date": end_error, "reason": reason_error},
            lang,
        )
        return
    except PermissionDenied:
        top.error(t("zpage.not_allowed", lang))
        return
    _done(
        t(
            "zpage.issued",
            lang,
            level=t(f"zone.{order.level}", lang),
            area=options[grid],
            day=fmt_date(order.start_date, lang),
        ),
        "zn_issue",
    )


def _order_form(action: str, board: pd.DataFrame, lang: str, actor: Actor) -> None:
    labels = {int(r.order_id): zv.order_label(r, lang) for r in table_rows(board)}
    ids = list(labels)
    picked = st.session_state.get("zn_pick_order")
    key = f"zn_{action}"
    token = forms.form_token(key)
    with st.form(f"{key}_form"):
        top = st.empty()
        order_id = st.selectbox(
            t("zpage.f_order", lang),
            ids,
            index=ids.index(picked) if picked in ids else 0,
            format_func=labels.__getitem__,
            key=f"{key}_order_{picked}_{lang}",
        )
        order_error = st.empty()
        if action == "extend":
            day = st.date_input(
                t("zpage.f_new_end", lang),
                value=None,
                format="YYYY-MM-DD",
                help=t("zpage.f_new_end_help", lang),
            )
        else:
            day = st.date_input(
                t(f"zpage.f_{action}_from", lang), value=data.today(), format="YYYY-MM-DD"
            )
        day_error = st.empty()
        reason = ""
        if action == "step_down":
            reason = st.text_input(t("zpage.f_reason", lang), max_chars=300)
        submitted = st.form_submit_button(t(f"zpage.do_{action}", lang), type="primary")
    if not submitted:
        return
    slots = {"order_id": order_error, "end_date": day_error, "on": day_error, "reason": day_error}
    try:
        with data.session() as s:
            if action == "extend":
                order = zs.extend_zone_order(
                    session=s,
                    order_id=order_id,
                    end_date=day,
                    actor=actor,
                    today=data.today(),
                    client_token=token,
                )
                message = t(
                    "zpage.extended" if order.end_date else "zpage.opened",
                    lang,
                    order=labels[order_id],
                    day=fmt_date(order.end_date, lang),
                )
            elif action == "step_down":
                order = zs.step_down_zone_order(
                    session=s,
                    order_id=order_id,
                    actor=actor,
                    on=day,
                    reason=reason,
                    client_token=token,
                )
                message = t(
                    "zpage.stepped_down",
                    lang,
                    order=labels[order_id],
                    level=t(f"zone.{order.level}", lang),
                    day=fmt_date(order.start_date, lang),
                )
            else:
                order = zs.lift_zone_order(
                    session=s, order_id=order_id, actor=actor, on=day, client_token=token
                )
                message = t("zpage.lifted", lang, order=labels[order_id], day=fmt_date(day, lang))
    except ValidationFailed as exc:
        _show_errors(exc, top, slots, lang)
        return
    except PermissionDenied:
        top.error(t("zpage.not_allowed", lang))
        return
    _done(message, key)


page()
