"""Requests & tasks: residents' requests by status, overdue ones, per grid, time to resolve;
taking, assigning, progressing and closing a request; the tasks they and the roll call make.
"""

from __future__ import annotations

import streamlit as st

from gridcore.access import Actor
from gridcore.i18n import t
from gridcore.ui import forms, session
from gridcore.ui import requests as rv
from gridcore.ui import tasks as tv


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    st.html(rv.REQUESTS_CSS)
    st.title(t("page.requests", lang))
    rv.flash()
    # Only the open tab runs (the map, the forms); the open tab survives a form's rerun.
    board, overdue, on_map, resolution, take, tasks = st.tabs(
        [
            t("req.tab_board", lang),
            t("req.tab_overdue", lang),
            t("req.tab_map", lang),
            t("req.tab_resolution", lang),
            t("req.tab_take", lang),
            t("req.tab_tasks", lang),
        ],
        key="req_tab",
        on_change="rerun",
    )
    if board.open:
        with board:
            _board(lang, actor)
    if overdue.open:
        with overdue:
            rv.show_overdue(rv.board(actor), lang)
    if on_map.open:
        with on_map:
            rv.show_map(lang)
    if resolution.open:
        with resolution:
            rv.show_resolution(lang, actor)
    if take.open:
        with take:
            rv.take_form(lang, actor)
            if actor.can_write:
                st.divider()
                st.subheader(t("req.act_title", lang))
                rv.act_form(lang, actor, rv.board(actor))
    if tasks.open:
        with tasks:
            tv.task_table(lang, actor)
            tv.task_form(lang, actor)
            tv.visits_button(lang, actor)


@session.live()
def _board(lang: str, actor: Actor) -> None:
    frame = rv.board(actor)
    rv.show_board(frame, lang)
    st.divider()
    forms.download_buttons(
        rv.export_frame(frame, lang), name="requests", lang=lang, key="req_board_dl"
    )


page()
