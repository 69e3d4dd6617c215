"""Kiosk: the command overview for a projector — big type, no personal data, rotating panels."""

from __future__ import annotations

import time
from datetime import timedelta

import streamlit as st

from gridcore.config import get_settings
from gridcore.i18n import fmt_date, t
from gridcore.queries import overview
from gridcore.queries import testing as testing_queries
from gridcore.ui import alerts, charts, data, forms, session, views
from gridcore.ui import testing as tv

PANELS: tuple[str, ...] = ("headline", "alerts", "map", "testing", "trend")
# The alerts panel lists this many alerts not yet acknowledged, most severe first.
ALERTS_SHOWN = 10
# The testing panel lists this many grids, most people missing first.
GRIDS_BEHIND = 8


def page() -> None:
    session.require_actor()
    lang = session.language()
    _panel(lang)


# A refresh runs only this fragment, not app.py: `live` checks the link again at each one.
# When it has ended, the whole app reruns; app.py then shows its message alone, and with no
# fragment on the page the panels stop (no more refreshes, no more queries).
@session.live(run_every=get_settings().kiosk_rotate_seconds)
def _panel(lang: str) -> None:
    rotate = get_settings().kiosk_rotate_seconds
    # The panel follows the clock, so every projector shows the same one and a reload keeps it.
    name = PANELS[int(time.time() // rotate) % len(PANELS)]
    head, clock = st.columns([4, 1])
    head.title(t("kiosk.title", lang, day=fmt_date(data.today(), lang)))
    clock.markdown(f"## {data.now():%H:%M}")
    if name == "headline":
        views.headline_metrics(lang, columns=3)
    elif name == "alerts":
        alerts.kiosk_alerts(lang, limit=ALERTS_SHOWN)
    elif name == "map":
        left, right = st.columns([3, 2])
        with left:
            frame = views.map_frame(lang)
            gmap = views.grid_map(
                frame=frame, measure="risk_level", lang=lang, height=720, large_text=True
            )
            views.show_map(gmap, key=None, height=720, selectable=False)
        with right:
            st.header(t("overview.attention", lang))
            views.attention_list(lang, limit=6)
    elif name == "testing":
        _testing(lang)
    else:
        today = data.today()
        trend = data.cached(overview.daily_trend, start=today - timedelta(days=20), end=today)
        st.header(t("overview.trend", lang))
        st.plotly_chart(charts.case_trend(trend, lang=lang, height=380, large=True), key="k_cases")
        st.plotly_chart(
            charts.quarantine_trend(trend, lang=lang, height=340, large=True), key="k_quarantine"
        )
    st.caption(t("kiosk.footer", lang, seconds=rotate))


def _testing(lang: str) -> None:
    """The current round: will it finish in time, its figures, the grids most behind."""
    now = tv.minute_now()
    round_id = data.cached(testing_queries.current_round_id, now=now)
    summary = (
        data.cached(testing_queries.round_summary, round_id=round_id, now=now)
        if round_id is not None
        else None
    )
    if round_id is None or summary is None:
        st.info(t("tpage.no_rounds", lang))
        return
    st.header(forms.markdown_text(summary.round.name))
    kind, message = tv.forecast_message(summary, lang, now)
    getattr(st, kind)(message)
    tv.round_headline(summary, lang, only=tv.KIOSK_FIGURES)
    progress = data.cached(testing_queries.grid_progress, round_id=round_id, now=now)
    if not progress.empty:
        st.subheader(t("tpage.ranking_title", lang))
        # An HTML table, so the kiosk's large type applies; grid, state, missing, coverage.
        st.table(tv.ranked_grid_table(progress.head(GRIDS_BEHIND), lang).iloc[:, :4])


page()
