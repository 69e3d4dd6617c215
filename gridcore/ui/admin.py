"""Pieces of the Administration page: localised tables of accounts, policy settings, kiosk links
and the audit log, and the QR code of a new kiosk link."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import segno

from gridcore.config import day_bounds_utc, get_settings
from gridcore.i18n import display_name, enum_label, fmt_datetime, has_key, t
from gridcore.models import KIOSK_PANELS
from gridcore.queries.access import KioskLinkRow
from gridcore.queries.policy import PolicySettingRow
from gridcore.services.policy import POLICY_RANGES

# Pixels: a QR code a phone or a webcam reads from a laptop screen at arm's length.
QR_WIDTH = 280
# Where a kiosk link points when the page cannot tell its own address.
FALLBACK_BASE_URL = "http://localhost:8501"

ADMIN_CSS = """
<style>
/* Tables hold users' text: GridCore's own downloads below each table, not the raw one. */
[data-testid="stElementToolbar"] {display: none !important;}
@media (max-width: 640px) {
  [data-testid="stMain"] h1 {font-size: 1.9rem !important; padding-top: .5rem !important;}
}
</style>
"""

# The unit each whole-number setting is counted in (test-day lists are days).
_POLICY_UNITS: dict[str, str] = {
    "round_max_hours": "hours",
    "residents_per_desk_min": "residents",
    "residents_per_desk_max": "residents",
    "residents_per_sampler": "residents",
    "households_per_fulltime_worker": "households",
    "target_hours_urgent_medical": "hours",
    "target_hours_medicine": "hours",
    "target_hours_food": "hours",
    "target_hours_other": "hours",
    "alert_coverage_lag_points": "points",
    "alert_missed_contact_tests": "tests",
    "alert_workload_score": "score",
}


def _local(moment: Any) -> datetime | None:
    if moment is None or pd.isna(moment):
        return None
    value = pd.Timestamp(moment)
    if value.tzinfo is None:
        value = value.tz_localize("UTC")
    return value.tz_convert(get_settings().tz).to_pydatetime()


def moment_text(moment: Any, lang: str) -> str:
    """A stored UTC moment in the deployment's time zone, as every page writes it."""
    local = _local(moment)
    return "—" if local is None else fmt_datetime(local, lang)


def users_table(users: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The accounts with headers and values in `lang`."""
    return pd.DataFrame(
        {
            t("admin.col_username", lang): users["username"],
            t("admin.col_full_name", lang): users["full_name"].fillna(""),
            t("admin.col_role", lang): [enum_label("role", r, lang) for r in users["role"]],
            t("admin.col_grids", lang): [
                " ".join(codes) or t("admin.all_grids", lang) for codes in users["grid_codes"]
            ],
            t("admin.col_active", lang): [
                t("common.yes" if a else "admin.inactive", lang) for a in users["active"]
            ],
            t("admin.col_last_sign_in", lang): [
                moment_text(m, lang) if not pd.isna(m) else t("admin.never", lang)
                for m in users["last_sign_in"]
            ],
        }
    )


def policy_value_text(value: Any) -> str:
    """A setting as it is typed: 24, or 1, 2, 3, 5, 7 for test days."""
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def policy_label(key: str, lang: str) -> str:
    """A setting's name in `lang`."""
    return t(f"admin.policy.{key}", lang)


def policy_range_text(key: str, lang: str) -> str:
    """A setting's allowed range with its unit: '1–60 days'."""
    low, high = POLICY_RANGES[key]
    unit = t(f"admin.unit.{_POLICY_UNITS.get(key, 'days')}", lang)
    return t("admin.range", lang, low=low, high=high, unit=unit)


def policy_table(rows: list[PolicySettingRow], lang: str) -> pd.DataFrame:
    """Every setting: value in force, default, allowed range, who changed it and when."""
    return pd.DataFrame(
        {
            t("admin.col_setting", lang): [policy_label(r.key, lang) for r in rows],
            t("admin.col_value", lang): [policy_value_text(r.value) for r in rows],
            t("admin.col_default", lang): [policy_value_text(r.default) for r in rows],
            t("admin.col_range", lang): [policy_range_text(r.key, lang) for r in rows],
            t("admin.col_changed_by", lang): [r.changed_by or "—" for r in rows],
            t("admin.col_changed_at", lang): [moment_text(r.changed_at, lang) for r in rows],
        }
    )


def kiosk_table(links: list[KioskLinkRow], lang: str) -> pd.DataFrame:
    """The kiosk links, newest first (no token: tokens are never stored)."""
    return pd.DataFrame(
        {
            t("admin.col_link", lang): [link.id for link in links],
            t("admin.col_label", lang): [link.label or "—" for link in links],
            t("admin.col_created_by", lang): [link.created_by for link in links],
            t("admin.col_created", lang): [moment_text(link.created_at, lang) for link in links],
            t("admin.col_expires", lang): [moment_text(link.expires_at, lang) for link in links],
            t("admin.col_state", lang): [
                enum_label("kiosk_link_state", link.state, lang) for link in links
            ],
            t("admin.col_interval", lang): [
                link.interval_seconds or get_settings().kiosk_rotate_seconds for link in links
            ],
            t("admin.col_panels", lang): [panels_text(link.panels, lang) for link in links],
        }
    )


def panels_text(panels: tuple[str, ...], lang: str) -> str:
    """A link's panels in words, in order ('all' for every panel)."""
    if panels == KIOSK_PANELS:
        return t("admin.all_panels", lang)
    return ("、" if lang == "zh" else ", ").join(t(f"kiosk.panel.{p}", lang) for p in panels)


def base_url(page_url: str | None) -> str:
    """The app's address (scheme and host) from the address of this page."""
    parts = urlsplit(page_url or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return FALLBACK_BASE_URL


def kiosk_url(base: str, token: str) -> str:
    """The address a projector opens for a kiosk link."""
    return f"{base.rstrip('/')}/?kiosk=1&token={token}"


def qr_svg(url: str) -> str:
    """A QR code of `url` as an SVG drawn by GridCore (segno; no text of anyone's in it)."""
    out = io.BytesIO()
    # With its namespace: st.image shows an SVG as an image, which needs one.
    segno.make(url, error="m").save(
        out, kind="svg", scale=6, border=4, dark="#000", light="#fff", xmldecl=False, svgns=True
    )
    return out.getvalue().decode()


def code_label(prefix: str, code: str, lang: str) -> str:
    """An audit code (an action, a subject) in `lang` when the catalogue names it."""
    key = f"{prefix}.{code}"
    return t(key, lang) if has_key(key) else code


def audit_area_label(row: Any, lang: str) -> str:
    """An area of the audit filter: its level and name in `lang` ("Community · Maple Garden")."""
    return f"{enum_label('level', row.level, lang)} · {display_name(row, lang)}"


def audit_table(entries: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Audit entries with headers in `lang`; the area's name in `lang`; changes as JSON text."""
    return pd.DataFrame(
        {
            t("admin.col_entry", lang): entries["audit_id"],
            t("admin.col_at", lang): [moment_text(m, lang) for m in entries["at"]],
            t("admin.col_who", lang): entries["username"],
            t("admin.col_action", lang): [
                code_label("audit_action", a, lang) for a in entries["action"]
            ],
            t("admin.col_subject", lang): [
                code_label("audit_entity", e, lang) for e in entries["entity"]
            ],
            t("admin.col_subject_id", lang): entries["entity_id"].fillna(""),
            t("admin.col_area", lang): [
                display_name(row, lang, "area_name")
                for row in entries[["area_name", "area_name_zh"]].to_dict("records")
            ],
            t("admin.col_changes", lang): [
                json.dumps(c, ensure_ascii=False) if c else "" for c in entries["changes"]
            ],
        }
    )


def day_range_utc(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Local calendar days `start`…`end` (both included) as a UTC half-open range."""
    tz = get_settings().tz
    return (
        None if start is None else day_bounds_utc(start, tz)[0],
        None if end is None else day_bounds_utc(end, tz)[1],
    )
