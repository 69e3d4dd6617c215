"""Cases & contacts: the epidemic curve, incidence per area, active cases, the quarantine board,
the chains of transmission, and the forms to enter a case, trace its contacts and follow them.

The area, the period and the kind stay in the URL (?area=&from=&to=&kind=), so a link opens
the same view. Viewers see figures with names masked and no forms; grid workers write in
their own grids; leaders and administrators everywhere.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from gridcore.access import Actor
from gridcore.analytics import cases as case_analytics
from gridcore.i18n import t
from gridcore.queries import cases as cq
from gridcore.ui import cases as cv
from gridcore.ui import data, forms, session, views

MAP_HEIGHT = 440
NEW_CASE_TAB = "new"


def page() -> None:
    actor = session.require_actor()
    lang = session.language()
    st.html(cv.CASES_CSS)
    st.title(t("page.cases", lang))
    f = cv.filters(lang)
    # Two weeks before the period's end as well: the doubling time compares two weeks.
    first = min(f.start, f.end - timedelta(days=2 * case_analytics.WINDOW_DAYS - 1))
    daily = data.cached(cq.daily_counts, start=first, end=f.end, within=f.area_id)
    board = data.cached(cq.quarantine_board, actor=actor, today=data.today(), within=f.area_id)
    cv.headline(lang, f, daily, board)

    labels = [
        t("cpage.tab_curve", lang),
        t("cpage.tab_active", lang),
        t("cpage.tab_board", lang),
        t("cpage.tab_chains", lang),
    ]
    if actor.can_write:
        labels += [t("cpage.tab_new_case", lang), t("cpage.tab_contacts", lang)]
    opening = labels[4] if actor.can_write and st.query_params.get("tab") == NEW_CASE_TAB else None
    tabs = st.tabs(labels, default=opening)
    with tabs[0]:
        _curve_and_map(lang, f, daily)
    with tabs[1]:
        _active(lang, actor, f)
    with tabs[2]:
        _board(lang, actor, board)
    with tabs[3]:
        _chains(lang, f)
    if actor.can_write:
        with tabs[4]:
            cv.new_case_section(lang, actor)
        with tabs[5]:
            cv.contacts_section(lang, actor, f)


def _curve_and_map(lang: str, f: cv.Filters, daily: pd.DataFrame) -> None:
    kind = cv.kind_toggle(lang)
    st.subheader(t("cpage.curve_title", lang))
    curve = case_analytics.epidemic_curve(daily, start=f.start, end=f.end, kind=kind)
    views.show_chart(cv.curve_figure(curve, lang=lang), key="cs_curve")
    st.caption(t("cpage.curve_caption", lang))
    st.subheader(t("cpage.map_title", lang))
    cv.incidence_map(lang, f, height=MAP_HEIGHT)


def _active(lang: str, actor: Actor, f: cv.Filters) -> None:
    frame = data.cached(cq.active_cases, actor=actor, within=f.area_id)
    if frame.empty:
        st.info(t("cpage.no_active_cases", lang))
        return
    shown = cv.active_table(frame, lang)
    st.dataframe(shown, hide_index=True, width="stretch", on_select="ignore")
    forms.download_buttons(shown, name="active-cases", lang=lang, key="cs_active_dl")


def _board(lang: str, actor: Actor, board: pd.DataFrame) -> None:
    if board.empty:
        st.info(t("cpage.board_empty", lang))
    else:
        cv.board_summary(board, lang)
        shown = cv.board_table(board, lang)
        st.dataframe(shown, hide_index=True, width="stretch")
        forms.download_buttons(shown, name="quarantine-board", lang=lang, key="cs_board_dl")
    if actor.can_write and not board.empty:
        st.subheader(t("cpage.follow_title", lang))
        cv.follow_up_section(lang, actor, board)


def _chains(lang: str, f: cv.Filters) -> None:
    traced = data.cached(cq.transmission, start=f.start, end=f.end, within=f.area_id)
    if traced.cases.empty:
        st.info(t("cpage.no_cases_in_period", lang))
        return
    views.show_chart(cv.transmission_figure(traced, lang=lang), key="cs_chains")
    linked = sum(1 for c in traced.clusters if len(c.cases) > 1)
    st.caption(
        t(
            "cpage.chains_caption",
            lang,
            clusters=len(traced.clusters),
            linked=linked,
            cases=len(traced.cases),
        )
    )


page()
