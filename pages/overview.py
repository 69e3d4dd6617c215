"""Command overview: headline figures, a risk map, the 3-week trend, what needs attention."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from gridcore.i18n import fmt_date, t
from gridcore.queries import overview
from gridcore.ui import alerts, charts, data, forms, meeting, session, views


def page() -> None:
    session.require_actor()
    lang = session.language()
    st.title(t("page.overview", lang))
    st.caption(t("overview.subtitle", lang, day=fmt_date(data.today(), lang)))
    forms.briefing_buttons(lang=lang, key="overview_briefing")
    _live(lang)


@session.live()
def _live(lang: str) -> None:
    actor = session.require_actor()
    views.updated_caption(lang)
    views.positives_alert(lang, actor)
    mark = meeting.last_mark()
    meeting.meeting_bar(lang, actor, mark)
    views.headline_metrics(lang, since_meeting=meeting.changes(mark))
    alerts.alert_panel(lang, actor)
    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("overview.risk_map", lang))
        frame = views.map_frame(lang)
        gmap = views.grid_map(
            frame=frame, measure="risk_level", lang=lang, height=380, show_labels=False
        )
        clicked = views.show_map(gmap, key="overview_map", height=380, selectable=True)
        if clicked:
            views.open_grid(clicked)
    with right:
        st.subheader(t("overview.attention", lang))
        views.attention_list(lang)
        meeting.attention_since(lang, mark)
    st.subheader(t("overview.trend", lang))
    today = data.today()
    trend = data.cached(overview.daily_trend, start=today - timedelta(days=20), end=today)
    if trend.empty or (trend["new_cases"].sum() == 0 and trend["in_quarantine"].sum() == 0):
        st.info(t("overview.no_trend", lang))
        return
    c1, c2 = st.columns(2)
    views.show_chart(charts.case_trend(trend, lang=lang), key="trend_cases", where=c1)
    views.show_chart(charts.quarantine_trend(trend, lang=lang), key="trend_quarantine", where=c2)


page()
