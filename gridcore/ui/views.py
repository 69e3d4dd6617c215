"""Shared page pieces: data frames for the maps, headline metrics, attention lists."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gridcore.access import Actor, PermissionDenied
from gridcore.analytics.overview import ACT, GOOD, HEADLINE_TARGETS, WATCH, figure_status
from gridcore.config import get_settings
from gridcore.i18n import display_name, enum_label, fmt_datetime, fmt_int, fmt_pct, t
from gridcore.models import AreaLevel, CaseKind, FoundVia
from gridcore.queries import areas, overview
from gridcore.queries import testing as testing_queries
from gridcore.services.base import ValidationFailed
from gridcore.services.cases import create_case
from gridcore.ui import data, forms, lightmap, session
from gridcore.ui.maps import (
    GRID_LAYER_ID,
    MAP_COLUMNS,
    CompactDeck,
    GridMap,
    MapLayers,
    build_grid_map,
    frame_fingerprint,
    layers_fingerprint,
    legend_html,
)
from gridcore.ui.theme import CHART_CONFIG, RISK_HEX


def table_rows(frame: pd.DataFrame) -> Iterator[Any]:
    """The rows of a query's frame as named tuples, for a page to lay out one by one."""
    return frame.itertuples(index=False)


def area_label(row: Any, lang: str) -> str:
    """An area's name in the view's language (the English name when no Chinese one)."""
    return display_name(row, lang)


def grid_overview() -> overview.GridOverview:
    """Every grid's figures and the whole attention list, as of this minute: one cached read
    shared by the maps, the attention list, the meeting's comparison and the kiosk."""
    today, now = data.today(), data.now().replace(second=0, microsecond=0)
    return data.cached(overview.grid_overview, today=today, now=now)


def map_frame(lang: str) -> pd.DataFrame:
    """Grid metrics joined with grid shapes and a localised label, for the maps."""
    frame = grid_overview().metrics
    shapes = data.cached(areas.area_shapes, level=AreaLevel.grid)
    merged = frame.merge(shapes[["code", "shape"]], on="code", how="left")
    merged["label"] = [area_label(r, lang) for r in merged.itertuples(index=False)]
    return merged


def map_height(height: int) -> int:
    """A map's height for this screen: at most 440 px on a phone, so the page shows around it."""
    return min(height, 440) if session.is_phone() else height


def map_movable(key: str, lang: str) -> bool:
    """The phone's 'move map' switch of the map `key`: off, a vertical swipe over the map
    scrolls the page; on, one finger moves the map. At a desk the map always moves."""
    if not session.is_phone():
        return True
    return bool(
        st.toggle(
            t("map.move", lang),
            value=not session.is_phone(),
            key=f"{key}_move",
            help=t("map.move_help", lang),
        )
    )


def grid_map(
    *,
    frame: pd.DataFrame,
    measure: str,
    lang: str,
    layers: MapLayers | None = None,
    height: int = 560,
    large_text: bool = False,
    highlight_code: str | None = None,
    show_labels: bool = True,
    width: int | None = None,
) -> GridMap:
    """The grid map with the deployment's base-map settings, fitted to this screen's width
    (or to `width` px where the page knows it)."""
    settings = get_settings()
    phone = session.is_phone()
    options: dict[str, Any] = {
        "measure": measure,
        "lang": lang,
        "basemap_url": settings.basemap_url,
        "basemap_datum": settings.basemap_datum,
        "height_px": map_height(height),
        "width_px": width or (PHONE_MAP_WIDTH if phone else 640),
        "large_text": large_text,
        "highlight_code": highlight_code,
        "show_labels": show_labels,
    }
    content = (
        "grids",
        frame_fingerprint(frame, (*MAP_COLUMNS, measure)),
        layers_fingerprint(layers),
        tuple(sorted(options.items())),
    )
    return shared_map(content, lambda: build_grid_map(grids=frame, layers=layers, **options))


def shared_map(content: tuple[Any, ...], build: Callable[[], GridMap]) -> GridMap:
    """The map of `content` (its kind, and digests of what it shows), built by `build` once
    and shared by every session looking at the same figures."""
    shared: GridMap = _shared_maps()(content, _build=build)
    return shared


def _build_shared_map(content: tuple[Any, ...], *, _build: Callable[[], GridMap]) -> GridMap:
    """A map for every session to share (`content` is its key; `_build` is not hashed): its
    deck's JSON is made once."""
    gmap = _build()
    if isinstance(gmap.deck, CompactDeck):
        gmap.deck.freeze()
    return gmap


@cache
def _shared_maps() -> Any:
    """The maps shared between sessions, kept as long as query results are."""
    return st.cache_resource(ttl=data.cache_ttl_seconds(), max_entries=32, show_spinner=False)(
        _build_shared_map
    )


def show_map(
    gmap: GridMap, *, key: str | None, height: int, selectable: bool, light: bool = False
) -> str | None:
    """Draw a grid map and its legend; return the code of a grid the user clicked or tapped.

    On a phone a vertical swipe over the map scrolls the page (two fingers zoom and move the
    map) unless the 'move map' switch is on; a tap opens the grid under the finger. `light`
    draws the light map whatever the browser (see map_renderer).
    """
    if light or map_renderer() == "light":
        return _show_light_map(gmap, key=key, height=height, selectable=selectable)
    phone = session.is_phone()
    movable = map_movable(key, session.language()) if key else not phone
    box = st.container(key=f"gcmap_{'move' if movable else 'still'}_{key or 'view'}")
    event = box.pydeck_chart(
        gmap.deck,
        height=map_height(height),
        key=key,
        # On a phone only the tap script opens a grid: deck's own pick of the same tap can
        # arrive after the page has changed, and a part of the old page then blanks the new one.
        on_select="rerun" if selectable and not phone else "ignore",
        selection_mode="single-object",
    )
    tapped = None
    if selectable:
        with box:
            tapped = _map_tap()(key=f"{key}_tap", on_tap_change=lambda: None).tap
    st.html(legend_html(gmap.legend))
    if not selectable:
        return None
    if tapped and str(tapped) in gmap.codes:
        return str(tapped)
    try:
        objects = event["selection"]["objects"].get(GRID_LAYER_ID) or []  # type: ignore[index]
    except (KeyError, TypeError, AttributeError):
        return None
    return str(objects[0]["code"]) if objects else None


# Where this session's browser said whether its WebGL is software-rendered.
SOFTWARE_WEBGL_KEY = "_gc_software_webgl"


def map_renderer() -> str:
    """'webgl' (deck.gl) or 'light' (SVG) for this session's maps.

    With GRIDCORE_MAP_RENDERER=auto the browser is asked once whether its WebGL is drawn in
    software; until it has answered the light map is shown (it is a full map, and draws in
    milliseconds), then the answer holds for the session.
    """
    setting = get_settings().map_renderer
    if setting != "auto":
        return setting
    software = st.session_state.get(SOFTWARE_WEBGL_KEY)
    if software is None:
        reported = _webgl_probe()(key="gc_webgl_probe", on_software_change=lambda: None).software
        if reported is None:
            return "light"
        software = st.session_state[SOFTWARE_WEBGL_KEY] = bool(reported)
    return "light" if software else "webgl"


def _show_light_map(gmap: GridMap, *, key: str | None, height: int, selectable: bool) -> str | None:
    """The map as SVG (same colours, outlines, labels and legend); a click or tap on a grid
    opens it.

    On a page the map is as tall as it is at the column's width, up to `height` (the WebGL
    map's box, where a street wider than the box leaves empty bands above and below it); a
    kiosk panel is laid out to fit the projector's screen, so there it keeps `height`.
    """
    if gmap.svg is None:
        width, fitted_height = gmap.size
        gmap.svg = lightmap.svg_of(gmap.deck.to_json(), width=width, height=fitted_height)
    shown_height = map_height(height)
    fit = not session.is_kiosk()
    tapped = _light_map()(
        key=f"{key or 'view'}_light",
        data={
            "svg": gmap.svg,
            "version": str(hash(gmap.svg)),
            "height": shown_height,
            "fit": fit,
            "selectable": selectable,
        },
        height="content" if fit else shown_height,
        on_tap_change=lambda: None,
    ).tap
    st.html(legend_html(gmap.legend))
    if selectable and tapped and str(tapped) in gmap.codes:
        return str(tapped)
    return None


@cache
def _light_map() -> Any:
    """The light-map component, registered once per process."""
    return st.components.v2.component(
        "gridcore_light_map", js=lightmap.LIGHT_MAP_JS, isolate_styles=False
    )


@cache
def _webgl_probe() -> Any:
    """The WebGL probe component, registered once per process."""
    return st.components.v2.component(
        "gridcore_webgl_probe", js=lightmap.WEBGL_PROBE_JS, isolate_styles=False
    )


# deck.gl opens what it picked under a hovering mouse; in a browser with a touch screen its own
# click mostly selects nothing (measured in Chromium at 390 px and on a touch laptop; after this
# script's mousemove it sometimes does, up to a second late), and a finger never hovers. This
# script tells the map the pointer is where the finger touches (so its tooltip shows that grid),
# and on a short tap without movement reports the grid code the tooltip names ("name (code)",
# maps.grid_tooltip_title). Plain desktops keep deck's click; on a phone only this script opens.
_MAP_TAP_JS = r"""
export default function (component) {
  const { setTriggerValue, parentElement } = component;
  if (!(navigator.maxTouchPoints > 0)) return;
  const box = parentElement.closest('[class*="st-key-gcmap"]');
  if (!box) return;
  let down = null;
  const chartOf = (event) =>
    event.target.closest && event.target.closest('[data-testid="stDeckGlJsonChart"]');
  const onDown = (event) => {
    if (!event.isPrimary || !chartOf(event)) { down = null; return; }
    down = { x: event.clientX, y: event.clientY, id: event.pointerId, moved: 0 };
    event.target.dispatchEvent(new MouseEvent("mousemove", {
      bubbles: true, clientX: event.clientX, clientY: event.clientY, buttons: 0 }));
  };
  const onMove = (event) => {
    if (down && event.pointerId === down.id && event.isTrusted) {
      down.moved = Math.max(down.moved, Math.hypot(event.clientX - down.x, event.clientY - down.y));
    }
  };
  const onUp = (event) => {
    const start = down; down = null;
    // A swipe (the page scrolled, or the map moved) is not a tap.
    if (!start || event.pointerId !== start.id || event.type === "pointercancel") return;
    if (start.moved > 12) return;
    const chart = chartOf(event);
    if (!chart) return;
    const began = performance.now();
    const read = () => {
      const tip = chart.querySelector(".deck-tooltip");
      const shown = tip && tip.style.display !== "none" && tip.innerText;
      const found = shown && tip.innerText.split("\n")[0].match(/\(([^()]+)\)\s*$/);
      if (found) { setTriggerValue("tap", found[1]); return; }
      if (performance.now() - began < 5000) requestAnimationFrame(read);
    };
    requestAnimationFrame(read);
  };
  box.addEventListener("pointerdown", onDown, true);
  box.addEventListener("pointermove", onMove, true);
  box.addEventListener("pointerup", onUp, true);
  box.addEventListener("pointercancel", onUp, true);
  return () => {
    box.removeEventListener("pointermove", onMove, true);
    box.removeEventListener("pointercancel", onUp, true);
    box.removeEventListener("pointerdown", onDown, true);
    box.removeEventListener("pointerup", onUp, true);
  };
}
"""


@cache
def _map_tap() -> Any:
    """The map-tap component, registered once per process."""
    return st.components.v2.component("gridcore_map_tap", js=_MAP_TAP_JS, isolate_styles=False)


# Reports the browser window's size (and again when it changes), so a screen that must fit
# without scrolling (the kiosk) can size its map and charts in pixels.
_VIEWPORT_JS = r"""
export default function (component) {
  const { setStateValue } = component;
  let last = "";
  const report = () => {
    const size = { width: window.innerWidth, height: window.innerHeight };
    const key = `${size.width}x${size.height}`;
    if (key !== last) { last = key; setStateValue("size", size); }
  };
  let timer = null;
  const onResize = () => { clearTimeout(timer); timer = setTimeout(report, 300); };
  report();
  window.addEventListener("resize", onResize);
  return () => { clearTimeout(timer); window.removeEventListener("resize", onResize); };
}
"""


@cache
def _viewport() -> Any:
    """The window-size component, registered once per process."""
    return st.components.v2.component("gridcore_viewport", js=_VIEWPORT_JS, isolate_styles=False)


def viewport_size(default: tuple[int, int] = (1920, 1080)) -> tuple[int, int]:
    """The browser window's width and height in CSS pixels (`default` until it has reported)."""
    size = _viewport()(key="gc_viewport", on_size_change=lambda: None).size
    try:
        return max(320, int(size["width"])), max(320, int(size["height"]))
    except (KeyError, TypeError, ValueError):
        return default


CASES_PAGE = "pages/cases.py"
GRID_PAGE = "pages/grid_detail.py"

# The width the whole street must fit on a 390 px phone (the page's padding taken off).
PHONE_MAP_WIDTH = 350


def open_grid(code: str) -> None:
    """Go to the Grid detail page of `code`."""
    st.switch_page(GRID_PAGE, query_params={"grid": code})


def reasons_text(reasons: list[Any], lang: str) -> str:
    """Reasons (i18n key + params) as one sentence."""
    return (
        "；".join(t(r.key, lang, **r.params) for r in reasons)
        if lang == "zh"
        else "; ".join(t(r.key, lang, **r.params) for r in reasons)
    )


def risk_badge(level: str, lang: str) -> str:
    """A coloured risk-level badge (HTML)."""
    color = RISK_HEX.get(level, "#607D8B")
    return f'<span class="gc-badge" style="background:{color}">{t(f"risk.{level}", lang)}</span>'


# (headline field, label key, percentage?, is a rise good?)
_HEADLINE: tuple[tuple[str, str, bool, bool | None], ...] = (
    ("new_cases", "headline.new_cases", False, False),
    ("new_cases_outside_quarantine", "headline.outside_quarantine", False, False),
    ("active_cases", "headline.active_cases", False, False),
    ("in_quarantine", "headline.in_quarantine", False, None),
    ("latest_round_coverage", "headline.coverage", True, True),
    ("open_requests", "headline.open_requests", False, False),
    ("overdue_requests", "headline.overdue_requests", False, False),
    ("supplies_below_min", "headline.supplies_below_min", False, False),
    ("understaffed_grids", "headline.understaffed_grids", False, False),
)

# A status's mark beside its word, so that it reads without its colour too.
_STATUS_MARK: dict[str, str] = {GOOD: "✓", WATCH: "●", ACT: "▲"}


def _missing(value: float | None) -> bool:
    return value is None or value != value


def target_text(field: str, *, pct: bool, staffing_standard: int, lang: str) -> str:
    """The target of headline figure `field` in words ('Target: 0', 'Target: at least 90%')."""
    target = HEADLINE_TARGETS.get(field)
    if target is None:
        return t("target.none", lang)
    value = fmt_pct(target.value, lang, digits=0) if pct else fmt_int(target.value)
    if field == "understaffed_grids":
        return t("target.staffing", lang, value=value, n=fmt_int(staffing_standard))
    return t("target.at_least" if target.higher_is_better else "target.at_most", lang, value=value)


def status_html(status: str | None, target: str, lang: str) -> str:
    """A tile's status badge (colour, mark and word) and its target, as HTML."""
    badge = ""
    if status is not None:
        word = f"{_STATUS_MARK[status]} {t(f'status.{status}', lang)}"
        badge = f'<span class="gc-status gc-status-{status}">{forms.html_text(word)}</span> '
    return f'<div class="gc-target">{badge}{forms.html_text(target)}</div>'


def delta_text(diff: float, *, pct: bool, lang: str) -> str:
    """A change of a headline figure: '+3', '-1.5 pp' (percentage points), or '±0'."""
    if not diff:
        return "±0"
    if pct:
        return t("headline.points", lang, value=f"{diff * 100:+.1f}")
    return f"{diff:+,.0f}"


def headline_metrics(
    lang: str, *, columns: int = 4, since_meeting: Mapping[str, float | None] | None = None
) -> None:
    """Today's headline figures, each against its target (good / watch / act) and yesterday,
    and with `since_meeting` (each figure's change since the last meeting) a line under each."""
    today, now = data.today(), data.now().replace(second=0, microsecond=0)
    h = data.cached(overview.headline, today=today, now=now)
    round_name = (
        display_name(h.latest_round_name, lang)
        if h.latest_round_name
        else t("headline.no_round", lang)
    )
    for start in range(0, len(_HEADLINE), columns):
        cols = st.columns(columns)
        for col, (field, key, pct, rise_good) in zip(
            cols, _HEADLINE[start : start + columns], strict=False
        ):
            figure = getattr(h, field)
            value = fmt_pct(figure.value, lang) if pct else fmt_int(figure.value)
            delta: str | None = None
            colour, arrow = "off", "off"
            if not (_missing(figure.value) or _missing(figure.previous)):
                diff = figure.value - figure.previous
                delta = delta_text(diff, pct=pct, lang=lang)
                if diff and rise_good is not None:
                    colour, arrow = ("normal" if rise_good else "inverse"), "auto"
                elif diff:
                    arrow = "auto"
            status = figure_status(figure.value, HEADLINE_TARGETS.get(field))
            tile = col.container(border=True, key=f"gc_tile_{status or 'none'}_{field}")
            tile.metric(
                t(key, lang),
                value,
                delta=delta,
                delta_color=colour,  # type: ignore[arg-type]
                delta_arrow=arrow,  # type: ignore[arg-type]
                delta_description=t("headline.vs_yesterday", lang) if delta else None,
                help=t(f"{key}_help", lang, round=forms.markdown_text(round_name)),
            )
            target = target_text(field, pct=pct, staffing_standard=h.staffing_standard, lang=lang)
            tile.html(status_html(status, target, lang))
            if since_meeting is not None:
                moved = since_meeting.get(field)
                tile.caption(
                    t("meeting.since_unknown", lang)
                    if moved is None
                    else t("meeting.since", lang, delta=delta_text(moved, pct=pct, lang=lang))
                )


# The page that acts on a reason (by the start of its key), with its title key.
_REASON_PAGES: tuple[tuple[str, str, str], ...] = (
    ("reason.zone_", "pages/zones.py", "page.zones"),
    ("reason.stepdown_", "pages/zones.py", "page.zones"),
    ("reason.community_cases_7d", CASES_PAGE, "page.cases"),
    ("reason.incidence_7d", CASES_PAGE, "page.cases"),
    ("reason.active_cases", CASES_PAGE, "page.cases"),
    ("reason.contacts_end_today", CASES_PAGE, "page.cases"),
    ("reason.testing_", "pages/testing.py", "page.testing"),
    ("reason.overdue_requests", "pages/requests.py", "page.requests"),
    ("reason.supplies_below_min", "pages/supplies.py", "page.supplies"),
    ("reason.households_per_worker", "pages/workforce.py", "page.workforce"),
    ("reason.no_fulltime_worker", "pages/workforce.py", "page.workforce"),
)
# Grids shown before the 'more' expander of the attention list.
ATTENTION_SHOWN = 5


def reason_pages(reasons: list[Any]) -> list[tuple[str, str]]:
    """The pages that act on `reasons` (file, title key), each once, in the reasons' order."""
    pages: list[tuple[str, str]] = []
    for reason in reasons:
        for prefix, path, title in _REASON_PAGES:
            if reason.key.startswith(prefix) and (path, title) not in pages:
                pages.append((path, title))
                break
    return pages


def attention_list(
    lang: str, *, limit: int = 30, shown: int | None = None, links: bool = True
) -> None:
    """The 'needs attention' list, what to do first at the top: each grid's severity, every
    reason, a link to the grid and to the pages that act on it; grids after the first
    `shown` in an expander. Without `links` (the kiosk) only the first `shown` grids."""
    items = grid_overview().attention[:limit]
    if not items:
        st.success(t("attention.all_clear", lang))
        return
    shown = ATTENTION_SHOWN if shown is None else shown
    if not links:
        lines = [_attention_line(item, lang) for item in items[:shown]]
        st.html(f'<ul class="gc-attention">{"".join(lines)}</ul>')
        return
    for item in items[:shown]:
        _attention_item(item, lang)
    rest = items[shown:]
    if rest:
        with st.expander(t("attention.more_grids", lang, n=fmt_int(len(rest)))):
            for item in rest:
                _attention_item(item, lang)


def _attention_name(item: Any, lang: str) -> str:
    return display_name(item, lang, "grid_name")


def _attention_line(item: Any, lang: str) -> str:
    """One grid of the list as an HTML list item: badge, name and every reason."""
    badge = risk_badge(item.severity, lang)
    name = forms.html_text(_attention_name(item, lang))
    return f"<li>{badge} <b>{name}</b> — {forms.html_text(reasons_text(item.reasons, lang))}</li>"


def _attention_item(item: Any, lang: str) -> None:
    """One grid of the list: its line, then links to the grid and the pages that act."""
    box = st.container(key=f"gc_attention_{item.grid_code}")
    box.html(f'<ul class="gc-attention">{_attention_line(item, lang)}</ul>')
    targets = [(GRID_PAGE, "attention.open_grid"), *reason_pages(item.reasons)]
    row = box.container(horizontal=True, gap="small")
    for path, title in targets:
        if path == GRID_PAGE:
            label = t(title, lang, grid=forms.markdown_text(_attention_name(item, lang)))
            params = {"grid": item.grid_code}
        else:
            label, params = t(title, lang), {}
        row.page_link(path, label=label, query_params=params or None)


def show_chart(fig: go.Figure, *, key: str, where: Any = None) -> None:
    """A plotly chart in `where` (the page by default) with the house config: no toolbar;
    on a phone a swipe over it scrolls the page instead of zooming the chart."""
    if session.is_phone():
        fig.update_layout(dragmode=False)
    (where or st).plotly_chart(fig, key=key, config=CHART_CONFIG, width="stretch")


def updated_caption(lang: str) -> None:
    """'Updated at HH:MM:SS · refreshes every N s'."""
    st.caption(
        t(
            "frame.updated_at",
            lang,
            time=data.now().strftime("%H:%M:%S"),
            seconds=get_settings().refresh_seconds,
        )
    )


def positives_alert(lang: str, actor: Actor) -> None:
    """An alert for positive results with no case yet, and a one-step 'open a case' for each."""
    positives = data.cached(testing_queries.unhandled_positives, actor=actor)
    if positives.empty:
        return
    st.error(t("alert.positives", lang, n=len(positives)))
    with st.expander(t("alert.positives_open", lang), expanded=False):
        for row in positives.to_dict("records"):
            grid_id = int(row["grid_id"])
            sampled = row["sampled_at"].astimezone(get_settings().tz)
            st.markdown(
                t(
                    "alert.positive_line",
                    lang,
                    name=forms.markdown_text(row["name"]),
                    grid=forms.markdown_text(row["grid_code"]),
                    round=forms.markdown_text(display_name(row, lang, "round_name")),
                    time=fmt_datetime(sampled, lang),
                )
            )
            if not actor.may_write_grid(grid_id):
                continue
            _open_case_form(lang, actor, row)
            new_case_link(int(row["resident_id"]), lang=lang)


def new_case_link(resident_id: int, *, lang: str, found_via: str = FoundVia.mass_testing) -> None:
    """A link to the full new-case form on the Cases page, the resident filled in."""
    st.page_link(
        CASES_PAGE,
        label=t("cpage.open_case_form", lang),
        query_params={"resident": str(resident_id), "found": str(found_via), "tab": "new"},
    )


def _open_case_form(lang: str, actor: Actor, row: Any) -> None:
    """Open a case for one positive result: kind chosen, the rest taken from the record."""
    key = f"open_case_{row['record_id']}"
    with st.form(key, border=False):
        kind_col, button_col = st.columns([3, 1])
        kind = kind_col.selectbox(
            t("alert.case_kind", lang),
            (CaseKind.asymptomatic, CaseKind.confirmed),
            format_func=lambda k: enum_label("case_kind", k, lang),
            key=f"{key}_kind",
        )
        submitted = button_col.form_submit_button(t("alert.open_case", lang), type="primary")
    if not submitted:
        return
    token = st.session_state.setdefault(f"{key}_token", uuid.uuid4().hex)
    try:
        with data.session() as s:
            create_case(
                session=s,
                data={
                    "resident_id": int(row["resident_id"]),
                    "grid_id": int(row["grid_id"]),
                    "kind": kind,
                    "reported_date": data.today(),
                    "found_via": FoundVia.mass_testing,
                    "note": t("alert.case_note", lang, round=display_name(row, lang, "round_name")),
                },
                actor=actor,
                client_token=token,
            )
    except ValidationFailed as exc:
        for message in exc.errors.values():
            st.error(t(message, lang))
        return
    except PermissionDenied:
        st.error(t("alert.not_allowed", lang))
        return
    st.session_state.pop(f"{key}_token", None)
    data.invalidate()
    st.success(t("alert.case_opened", lang))
    st.rerun()
