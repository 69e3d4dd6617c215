"""The command meeting on the overview: the mark, and what moved since it."""

from __future__ import annotations

import streamlit as st

from gridcore.access import COMMAND_ROLES, Actor, PermissionDenied
from gridcore.analytics.meeting import AttentionState, attention_changes, changes_since
from gridcore.config import get_settings
from gridcore.i18n import fmt_datetime, fmt_int, t
from gridcore.queries import meeting as meeting_queries
from gridcore.queries import overview
from gridcore.queries.meeting import WHOLE_LIST, MeetingMark
from gridcore.services.base import WriteBusy, retrying
from gridcore.services.meeting import mark_meeting_held
from gridcore.ui import data, forms
from gridcore.ui.views import grid_overview, risk_badge

_MARKED = "_meeting_marked"
_FORM = "meeting_mark"


def last_mark() -> MeetingMark | None:
    """The meeting marked held last (None: none yet)."""
    return data.cached(meeting_queries.last_meeting)


def meeting_bar(lang: str, actor: Actor, mark: MeetingMark | None) -> None:
    """When the last meeting was marked and by whom; the button that marks one (command)."""
    text_col, button_col = st.columns([4, 1], vertical_alignment="center")
    if mark is None:
        text_col.caption(t("meeting.none", lang))
    else:
        held = mark.held_at.astimezone(get_settings().tz)
        text_col.caption(
            t(
                "meeting.last",
                lang,
                time=fmt_datetime(held, lang),
                user=forms.markdown_text(mark.held_by),
            )
        )
    if (marked := st.session_state.pop(_MARKED, None)) is not None:
        text_col.success(t("meeting.marked", lang, time=marked))
    if actor.role not in COMMAND_ROLES:
        return
    if not button_col.button(
        t("meeting.mark", lang), key="meeting_mark", help=t("meeting.mark_help", lang)
    ):
        return
    now = data.now()
    try:
        with data.session() as s:
            retrying(
                lambda: mark_meeting_held(
                    session=s,
                    actor=actor,
                    today=data.today(),
                    now=now,
                    client_token=forms.form_token(_FORM),
                ),
                session=s,
            )
    except PermissionDenied:
        st.error(t("meeting.not_allowed", lang))
        return
    except WriteBusy as exc:
        st.error(t(exc.key, lang))
        return
    forms.renew_token(_FORM)
    data.invalidate()
    st.session_state[_MARKED] = fmt_datetime(now, lang)
    st.rerun()


def changes(mark: MeetingMark | None) -> dict[str, float | None] | None:
    """Each headline figure's change since the mark; None when no meeting was marked."""
    if mark is None:
        return None
    today, now = data.today(), data.now().replace(second=0, microsecond=0)
    headline = data.cached(overview.headline, today=today, now=now)
    values = {name: getattr(headline, name).value for name in mark.figures}
    return changes_since(values, mark.figures)


def _names(states: list[AttentionState], lang: str) -> str:
    """Each grid's severity badge and name, listed as the language lists names."""
    return ("、" if lang == "zh" else ", ").join(
        f"{risk_badge(s.severity, lang)} "
        + forms.html_text(s.name_zh if lang == "zh" and s.name_zh else s.name)
        for s in states
    )


def _count(key: str, n: int, lang: str) -> str:
    """'New (2):' — a group of the comparison and how many grids are in it."""
    return t("meeting.attention_count", lang, label=t(key, lang), n=fmt_int(n, lang))


def attention_since(lang: str, mark: MeetingMark | None) -> None:
    """The attention list against the mark: grids new on it, worse, and resolved."""
    if mark is None:
        return
    items = grid_overview().attention[:WHOLE_LIST]
    moved = attention_changes(mark.attention, meeting_queries.attention_states(items))
    st.markdown(f"**{t('meeting.attention_title', lang)}**")
    if moved.empty:
        st.caption(t("meeting.attention_unchanged", lang))
        return
    lines = [
        f"<li><b>{_count(key, len(states), lang)}</b> {_names(states, lang)}</li>"
        for key, states in (
            ("meeting.attention_new", moved.new),
            ("meeting.attention_worse", moved.worse),
            ("meeting.attention_resolved", moved.resolved),
        )
        if states
    ]
    st.html(f'<ul class="gc-attention gc-since">{"".join(lines)}</ul>')
