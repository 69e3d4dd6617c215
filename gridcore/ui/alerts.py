"""Alerts on the overview (with acknowledgement) and on the kiosk (a compact list)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy.exc import IntegrityError

from gridcore.access import COMMAND_ROLES, Actor, PermissionDenied
from gridcore.analytics.alerts import COMMUNITY_POSITIVE, STOCK_SHORT, Alert
from gridcore.config import get_settings
from gridcore.i18n import fmt_datetime, fmt_int, fmt_pct, t
from gridcore.queries import alerts as alert_queries
from gridcore.queries.alerts import AlertRow
from gridcore.services.alerts import acknowledge_alert
from gridcore.services.base import WriteBusy, retrying
from gridcore.ui import data, forms
from gridcore.ui.theme import RISK_HEX

# Alerts shown one per line with their button; the next ones wait in an expander, LISTED in
# all (a district has more than a thousand standing: a page of them helps nobody, and each
# line is a row of widgets to draw). Every alert is in the download.
SHOWN = 6
LISTED = 50


def standing() -> list[AlertRow]:
    """Every alert standing now (cached like every overview figure)."""
    today, now = data.today(), data.now().replace(second=0, microsecond=0)
    return data.cached(alert_queries.current_alerts, today=today, now=now)


def message(alert: Alert, lang: str) -> str:
    """What the alert says, in plain text (counts only, no personal data)."""
    params = dict(alert.params)
    for name in ("coverage", "schedule"):
        if name in params:
            params[name] = fmt_pct(params[name], lang)
    for name in ("n", "out", "tests", "missing", "days", "score"):
        if name in params:
            params[name] = fmt_int(params[name], lang)
    key = f"alerts.rule.{alert.rule}"
    if alert.rule == COMMUNITY_POSITIVE and alert.params.get("days") == 1:
        key += ".today"
    elif alert.rule == STOCK_SHORT and alert.params.get("out") == 0:
        key += ".none_out"
    return t(key, lang, **params)


def severity_badge(severity: str, lang: str) -> str:
    """An alert's severity as a coloured badge (the risk colours), HTML."""
    color = RISK_HEX.get(severity, "#607D8B")
    label = t(f"alerts.severity.{severity}", lang)
    return f'<span class="gc-badge" style="background:{color}">{label}</span>'


def place_name(alert: Alert, lang: str) -> str:
    """The area's name in the view's language."""
    place = alert.place
    return place.name_zh if lang == "zh" and place.name_zh else place.name


def _line_html(row: AlertRow, lang: str) -> str:
    alert = row.alert
    text = (
        f"{severity_badge(alert.severity, lang)} <b>{forms.html_text(place_name(alert, lang))}</b>"
        f" — {forms.html_text(message(alert, lang))}"
    )
    who = _acknowledged(row, lang)
    if who:
        text += f' <span class="gc-acked">· {forms.html_text(who)}</span>'
    return text


def _acknowledged(row: AlertRow, lang: str) -> str:
    """Who acknowledged the alert and when ('' while nobody has)."""
    if not row.acknowledged or row.acknowledged_at is None:
        return ""
    when = fmt_datetime(row.acknowledged_at.astimezone(get_settings().tz), lang)
    return t("alerts.acknowledged_by", lang, user=row.acknowledged_by, time=when)


def _line(row: AlertRow, lang: str, actor: Actor) -> None:
    """One alert, with its Acknowledge button for those who may."""
    text_col, button_col = st.columns([5, 1], vertical_alignment="center")
    text_col.html(f'<div class="gc-alert">{_line_html(row, lang)}</div>')
    if row.acknowledged or actor.role not in COMMAND_ROLES:
        return
    alert = row.alert
    if not button_col.button(
        t("alerts.acknowledge", lang),
        key=f"ack_{alert.key}",
        help=t("alerts.acknowledge_help", lang),
    ):
        return
    try:
        with data.session() as s:
            retrying(
                lambda: acknowledge_alert(
                    session=s, actor=actor, alert_key=alert.key, situation=alert.situation
                ),
                session=s,
            )
    except PermissionDenied:
        st.error(t("alerts.not_allowed", lang))
        return
    except WriteBusy as exc:
        st.error(t(exc.key, lang))
        return
    except IntegrityError:
        # Acknowledged by someone else at the same moment: theirs stands (one row per situation).
        pass
    data.invalidate()
    st.rerun()


def alert_panel(lang: str, actor: Actor) -> None:
    """The overview's alerts: those not acknowledged first, each with its button."""
    st.subheader(t("alerts.title", lang))
    rows = standing()
    if not rows:
        st.success(t("alerts.none", lang))
        return
    pending = [r for r in rows if not r.acknowledged]
    seen = [r for r in rows if r.acknowledged]
    st.caption(
        t("alerts.summary", lang, n=fmt_int(len(rows), lang), open=fmt_int(len(pending), lang))
    )
    for row in pending[:SHOWN]:
        _line(row, lang, actor)
    if len(pending) > SHOWN:
        with st.expander(t("alerts.more", lang, n=fmt_int(len(pending) - SHOWN, lang))):
            for row in pending[SHOWN:LISTED]:
                _line(row, lang, actor)
            forms.more_caption("alerts.not_listed", len(pending) - LISTED, lang)
    if seen:
        with st.expander(t("alerts.acknowledged_list", lang, n=fmt_int(len(seen), lang))):
            st.html(
                '<ul class="gc-attention">'
                + "".join(f"<li>{_line_html(r, lang)}</li>" for r in seen[:LISTED])
                + "</ul>"
            )
            forms.more_caption("alerts.not_listed", len(seen) - LISTED, lang)
    if len(pending) > LISTED or len(seen) > LISTED:
        forms.download_buttons(
            lambda: export_frame(rows, lang), name="alerts", lang=lang, key="alerts_dl"
        )


def export_frame(rows: list[AlertRow], lang: str) -> pd.DataFrame:
    """Every standing alert as a download, most urgent first: severity, area, what, and who
    acknowledged it when."""
    return pd.DataFrame(
        {
            t("alerts.col_severity", lang): [
                t(f"alerts.severity.{r.alert.severity}", lang) for r in rows
            ],
            t("alerts.col_area", lang): [place_name(r.alert, lang) for r in rows],
            t("alerts.col_alert", lang): [message(r.alert, lang) for r in rows],
            t("alerts.col_acknowledged", lang): [_acknowledged(r, lang) for r in rows],
        }
    )


def kiosk_alerts(lang: str, *, limit: int = 6) -> None:
    """The kiosk's compact list: severity, area, what (no names), and how many were seen."""
    rows = standing()
    st.header(t("alerts.title", lang))
    if not rows:
        st.success(t("alerts.none", lang))
        return
    pending = [r.alert for r in rows if not r.acknowledged]
    seen = len(rows) - len(pending)
    lines = [
        f"<li>{severity_badge(a.severity, lang)} <b>{forms.html_text(place_name(a, lang))}</b>"
        f" — {forms.html_text(message(a, lang))}</li>"
        for a in pending[:limit]
    ]
    rest = len(pending) - limit
    if rest > 0:
        lines.append(f"<li>{t('alerts.kiosk_more', lang, n=fmt_int(rest, lang))}</li>")
    if seen:
        lines.append(f"<li>{t('alerts.kiosk_acknowledged', lang, n=fmt_int(seen, lang))}</li>")
    st.html(f'<ul class="gc-attention gc-alerts">{"".join(lines)}</ul>')
