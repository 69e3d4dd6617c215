"""Kiosk: the command overview for a projector — big type, no personal data, rotating panels."""

from __future__ import annotations

import time
from datetime import timedelta

import streamlit as st

from gridcore.i18n import display_name, fmt_date, t
from gridcore.queries import overview
from gridcore.queries import testing as testing_queries
from gridcore.ui import alerts, charts, data, forms, kiosk, session, views
from gridcore.ui import testing as tv

# The testing panel lists this many grids, most people missing first.
GRIDS_BEHIND = 8


# The turn of the rotation this browser tab shows, and since when (time.time()).
SLOT_KEY = "kiosk_slot"

# Parts of the window's height (the rest: the title row, the footer and the gaps).
BODY_SHARE = 0.72
# One attention line, one table row: this share of the window's height each.
LINE_SHARE = 0.062


def page() -> None:
    session.require_actor()
    view = session.kiosk_view()
    if view is None:  # withdrawn since app.py checked it: the next run shows the refusal
        st.rerun()
    assert view is not None
    lang = session.language()
    width, height = views.viewport_size()
    # A refresh runs only this fragment, not app.py: `live` checks the link again at each one.
    # When it has ended, the whole app reruns; app.py then shows its message alone, and with
    # no fragment on the page the panels stop (no more refreshes, no more queries).
    session.live(run_every=view.interval)(_panel)(lang, width, height, view)


def _panel(lang: str, width: int, height: int, view: session.KioskView) -> None:
    """One of the link's panels, sized to a window of `width` × `height` px (type scales with
    its height in KIOSK_CSS)."""
    slot = _slot(view)
    name = view.panels[slot % len(view.panels)]
    body = int(height * BODY_SHARE)
    lines = max(3, int(BODY_SHARE / LINE_SHARE) - 2)
    head, clock = st.columns([4, 1], vertical_alignment="bottom")
    head.title(t("kiosk.title", lang, day=fmt_date(data.today(), lang)))
    clock.markdown(f"## {data.now():%H:%M}")
    with data.read_times() as reads:
        _body(name, lang, width=width, height=height, body=body, lines=lines)
    as_of = min(reads) if reads else data.now()
    coming = data.now() + timedelta(seconds=view.interval)
    following = view.panels[(slot + 1) % len(view.panels)]
    # A link with one panel shows it again, refreshed; otherwise the next panel and when.
    st.caption(
        t(
            "kiosk.footer" if len(view.panels) > 1 else "kiosk.footer_one",
            lang,
            as_of=f"{as_of:%H:%M}",
            panel=t(f"kiosk.panel.{following}", lang),
            time=f"{coming:%H:%M:%S}",
            seconds=view.interval,
        )
    )


def _slot(view: session.KioskView) -> int:
    """Which turn of the rotation to show now (the panel: turn modulo the number of panels).

    The panel follows the clock, so projectors show the same one and a reload keeps it. Each
    refresh shows the next panel though, none skipped, when refreshes run late or bunch up
    after the browser was busy (a software-drawn map can hold it for seconds): one that comes
    within half an interval of a new panel draws that panel again. The clock takes over once
    the display is a whole rotation behind.
    """
    now = time.time()
    clock = int(now // view.interval)
    last = st.session_state.get(SLOT_KEY)
    if not (isinstance(last, tuple) and len(last) == 2):
        turn, since = clock, now
    elif now - last[1] < view.interval / 2:
        turn, since = last
    elif -1 <= clock - (last[0] + 1) < len(view.panels):
        turn, since = last[0] + 1, now
    else:
        turn, since = clock, now
    st.session_state[SLOT_KEY] = (turn, since)
    return int(turn)


def _body(name: str, lang: str, *, width: int, height: int, body: int, lines: int) -> None:
    """The panel `name` itself."""
    if name == "headline":
        views.headline_metrics(lang, columns=3)
    elif name == "alerts":
        # As many alerts not yet acknowledged as fit, most severe first (two lines: the rest).
        alerts.kiosk_alerts(lang, limit=lines - 2)
    elif name == "map":
        left, right = st.columns([3, 2])
        with left:
            frame = views.map_frame(lang)
            gmap = views.grid_map(
                frame=frame,
                measure="risk_level",
                lang=lang,
                height=body,
                large_text=True,
                width=int(width * 0.55),
            )
            # Always the light map: deck.gl keeps every WebGL map taken off the screen in
            # memory (visgl/deck.gl#10355), and a kiosk shows its map panel all day long.
            views.show_map(gmap, key=None, height=body, selectable=False, light=True)
        with right:
            st.header(t("overview.attention", lang))
            views.attention_list(lang, limit=lines - 1, shown=lines - 1, links=False)
    elif name == "testing":
        _testing(lang, rows=lines - 4, width=width, height=height)
    elif name == "cases":
        kiosk.cases_panel(lang, rows=lines)
    elif name == "supplies":
        kiosk.supplies_panel(lang, rows=lines - 1)
    elif name == "workforce":
        kiosk.workforce_panel(lang, rows=lines - 1)
    else:
        today = data.today()
        trend = data.cached(overview.daily_trend, start=today - timedelta(days=20), end=today)
        st.header(t("overview.trend", lang))
        chart_height = (body - int(height * LINE_SHARE)) // 2
        views.show_chart(
            charts.case_trend(trend, lang=lang, height=chart_height, large=True), key="k_cases"
        )
        views.show_chart(
            charts.quarantine_trend(trend, lang=lang, height=chart_height, large=True),
            key="k_quarantine",
        )


def _testing(lang: str, rows: int, *, width: int, height: int) -> None:
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
    st.header(forms.markdown_text(display_name(summary.round, lang)))
    kind, message = tv.forecast_message(summary, lang, now)
    getattr(st, kind)(message)
    # A forecast of two lines (a late round says what to do) leaves a table row less.
    rows -= kiosk.text_lines(message, width=width, height=height) - 1
    tv.round_headline(summary, lang, only=tv.KIOSK_FIGURES)
    progress = data.cached(testing_queries.grid_progress, round_id=round_id, now=now)
    if not progress.empty:
        st.subheader(tv.ranking_title(progress, lang))
        # An HTML table, so the kiosk's large type applies; grid, state, missing, coverage.
        shown = progress.head(max(2, min(GRIDS_BEHIND, rows)))
        st.table(tv.ranked_grid_table(shown, lang, codes=False).iloc[:, :4])


page()
