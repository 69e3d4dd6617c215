"""The command meeting briefing: what the overview and the subject pages compute, on paper.

`make_briefing` composes the subjects' own queries (overview, testing, stock, requests,
workforce, zones) into sections of plain words, small tables and two charts; it computes
nothing of its own beyond counting rows. gridcore.io.briefing writes it as a PDF or as a
printable HTML page: both show the same sections.

No personal data: counts and area (or depot) names only. Residents, workers, households,
request descriptions and the free-text reasons of zone orders are never read into it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlmodel import Session

from gridcore.access import SYSTEM
from gridcore.analytics import zones as zone_analytics
from gridcore.analytics.risk import RISK_LEVELS, Reason
from gridcore.config import get_settings
from gridcore.i18n import (
    depot_name,
    display_name,
    fmt_date,
    fmt_datetime,
    fmt_int,
    fmt_num,
    fmt_pct,
    has_key,
    t,
)
from gridcore.models import AreaLevel
from gridcore.palette import NO_DATA_HEX, RISK_HEX, SERIES_HEX
from gridcore.queries import areas, overview, requests, stock, workforce
from gridcore.queries import testing as testing_queries
from gridcore.queries import zones as zone_queries

TREND_DAYS = 21  # the overview's trend: three weeks
ROWS_SHOWN = 12  # rows of a table before "and N more"
LINES_SHOWN = 8  # suggestions of one kind (zones, transfers, purchases) before "and N more"
GRIDS_NAMED = 8  # grids named in the reassignment line
REASONS_SHOWN = 3  # reasons per grid, as on the overview

SECTIONS: tuple[str, ...] = (
    "headline",
    "map",
    "curve",
    "testing",
    "shortages",
    "overdue",
    "understaffed",
    "decisions",
)


@dataclass(frozen=True)
class Table:
    """A small table of text: its header, its rows, and how many rows were left out."""

    header: list[str]
    rows: list[list[str]]
    more: int = 0
    widths: tuple[int, ...] | None = None  # relative column widths (equal when None)


@dataclass(frozen=True)
class Section:
    """One part of the briefing: a heading, then lines, a picture (PNG) and a table."""

    key: str
    heading: str
    lines: list[str] = field(default_factory=list)
    image: bytes | None = None
    table: Table | None = None


@dataclass(frozen=True)
class Briefing:
    """The whole briefing in one language, made at `made_at` (local time)."""

    lang: str
    title: str
    subtitle: str
    made_at: datetime
    sections: list[Section]
    footer: str


# --------------------------------------------------------------------------- fonts


# The font found once (fc-list takes a subprocess; a font found stays found). None is not
# kept: a font installed while the server runs is found at the next briefing.
_FOUND_FONT: list[Path] = []


def cjk_font() -> Path | None:
    """A TrueType font with Chinese characters (fontconfig's first), or None."""
    if _FOUND_FONT and _FOUND_FONT[0].is_file():
        return _FOUND_FONT[0]
    _FOUND_FONT.clear()
    found = _look_for_cjk_font()
    if found is not None:
        _FOUND_FONT.append(found)
    return found


def _look_for_cjk_font() -> Path | None:
    import subprocess

    try:
        found = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        found = ""
    files = sorted(
        {line.split(":")[0].strip() for line in found.splitlines() if line.strip()},
        # WenQuanYi Zen Hei (fonts-wqy-zenhei, what `make run` installs) when it is there.
        key=lambda f: ("wqy-zenhei" not in f, not f.endswith((".ttc", ".ttf")), f),
    )
    for name in (*files, *KNOWN_CJK_FONTS):
        path = Path(name)
        if path.suffix.lower() in (".ttc", ".ttf", ".otf") and path.is_file():
            return path
    return None


KNOWN_CJK_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


# --------------------------------------------------------------------------- composing


def make_briefing(
    *, session: Session, lang: str, now: datetime, font: Path | None = None
) -> Briefing:
    """The briefing as of `now` (aware; shown in the deployment's time zone), in `lang`."""
    local = now.astimezone(get_settings().tz)
    today = local.date()
    metrics = overview.grid_metrics(session=session, today=today, now=now)
    # Without a Chinese font a chart could only draw boxes: its few words are then English.
    chart_lang = lang if font is not None else "en"
    sections = [
        _headline(session, lang, today, now),
        _risk_map(session, lang, chart_lang, metrics, font),
        _curve(session, lang, chart_lang, today, font),
        _testing(session, lang, now),
        _shortages(session, lang, now),
        _overdue(session, lang, now),
        _understaffed(session, lang),
        _decisions(session, lang, today, now),
    ]
    return Briefing(
        lang=lang,
        title=t("brief.title", lang),
        subtitle=t("brief.subtitle", lang, when=f"{fmt_date(today, lang)} {local:%H:%M}"),
        made_at=local,
        sections=sections,
        footer=t("brief.footer", lang, when=f"{fmt_date(today, lang)} {local:%H:%M}"),
    )


def _rows(frame: pd.DataFrame) -> Iterator[Any]:
    """The rows of a frame as named tuples."""
    return frame.itertuples(index=False)


def _grid_name(row: Any, lang: str) -> str:
    return f"{display_name(row, lang)} · {_get(row, 'code')}"


def _get(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, dict) else getattr(row, name)


def _reason(reason: Reason, lang: str) -> str:
    """A reason in words, its dates in the reader's language."""
    params = {k: fmt_date(v, lang) if isinstance(v, date) else v for k, v in reason.params.items()}
    return t(reason.key, lang, **params)


def _join(parts: Sequence[str], lang: str) -> str:
    return ("；" if lang == "zh" else "; ").join(parts)


def _table(
    header: list[str], rows: list[list[str]], widths: tuple[int, ...] | None = None
) -> Table:
    return Table(
        header=header, rows=rows[:ROWS_SHOWN], more=max(0, len(rows) - ROWS_SHOWN), widths=widths
    )


def _capped(lines: list[str], lang: str, limit: int = LINES_SHOWN) -> list[str]:
    """The first `limit` lines, and "… and N more." for the rest."""
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], t("brief.more_rows", lang, n=len(lines) - limit)]


def _headline(session: Session, lang: str, today: date, now: datetime) -> Section:
    h = overview.headline(session=session, today=today, now=now)
    figures = (
        ("new_cases", "headline.new_cases", False),
        ("new_cases_outside_quarantine", "headline.outside_quarantine", False),
        ("active_cases", "headline.active_cases", False),
        ("in_quarantine", "headline.in_quarantine", False),
        ("latest_round_coverage", "headline.coverage", True),
        ("open_requests", "headline.open_requests", False),
        ("overdue_requests", "headline.overdue_requests", False),
        ("supplies_below_min", "headline.supplies_below_min", False),
        ("understaffed_grids", "headline.understaffed_grids", False),
    )
    rows = []
    for name, key, pct in figures:
        figure = getattr(h, name)
        show = fmt_pct if pct else fmt_int
        rows.append([t(key, lang), show(figure.value, lang), show(figure.previous, lang)])
    lines = []
    if h.latest_round_name:
        lines.append(t("brief.latest_round", lang, round=h.latest_round_name))
    return Section(
        key="headline",
        heading=t("brief.headline", lang),
        lines=lines,
        table=Table(
            header=[t("brief.col_figure", lang), t("brief.col_now", lang),
                    t("brief.col_yesterday", lang)],
            rows=rows,
        ),
    )  # fmt: skip


def _risk_map(
    session: Session, lang: str, chart_lang: str, metrics: pd.DataFrame, font: Path | None
) -> Section:
    counts = metrics["risk_level"].value_counts().to_dict()
    line = " · ".join(f"{t(f'risk.{level}', lang)} {counts.get(level, 0)}" for level in RISK_LEVELS)
    shapes = areas.area_shapes(session=session, level=AreaLevel.grid)
    merged = metrics.merge(shapes[["code", "shape"]], on="code", how="left")
    image = risk_map_png(merged, lang=chart_lang, font=font)
    lines = [t("brief.map_counts", lang, counts=line)]
    if image is None:
        lines.append(t("brief.map_no_shapes", lang))
    return Section(key="map", heading=t("brief.map", lang), lines=lines, image=image)


def _curve(session: Session, lang: str, chart_lang: str, today: date, font: Path | None) -> Section:
    trend = overview.daily_trend(
        session=session, start=today - timedelta(days=TREND_DAYS - 1), end=today
    )
    week = trend[trend["day"] > today - timedelta(days=7)]
    lines = [
        t(
            "brief.curve_week",
            lang,
            cases=fmt_int(int(week["new_cases"].sum()), lang),
            outside=fmt_int(int(week["outside_quarantine"].sum()), lang),
        )
    ]
    image = None
    if trend["new_cases"].sum() == 0:
        lines.append(t("overview.no_trend", lang))
    else:
        image = curve_png(trend, lang=chart_lang, font=font)
    return Section(key="curve", heading=t("brief.curve", lang), lines=lines, image=image)


def _testing(session: Session, lang: str, now: datetime) -> Section:
    heading = t("brief.testing", lang)
    round_id = testing_queries.latest_round_id(session=session, at=now)
    summary = (
        None
        if round_id is None
        else testing_queries.round_summary(session=session, round_id=round_id, now=now)
    )
    if summary is None:
        return Section(key="testing", heading=heading, lines=[t("headline.no_round", lang)])
    street, tz = summary.street, get_settings().tz
    lines = [
        t(
            "brief.round_line",
            lang,
            round=display_name(summary.round, lang),
            sampled=fmt_int(street.sampled, lang),
            expected=fmt_int(street.expected, lang),
            coverage=fmt_pct(street.coverage, lang),
            missing=fmt_int(street.missing, lang),
        ),
        t(
            "brief.round_results",
            lang,
            positives=fmt_int(street.positives, lang),
            pending=fmt_int(street.pending, lang),
        ),
    ]
    deadline = fmt_datetime(summary.round.deadline_at.astimezone(tz), lang)
    if summary.round.closed_at is not None:
        lines.append(t("brief.round_closed", lang, deadline=deadline))
    elif summary.forecast.projected_finish is not None:
        key = "brief.round_on_time" if summary.forecast.on_time else "brief.round_late"
        finish = fmt_datetime(summary.forecast.projected_finish.astimezone(tz), lang)
        lines.append(t(key, lang, finish=finish, deadline=deadline))
    else:
        lines.append(t("brief.round_no_pace", lang, deadline=deadline))
    if summary.behind_grids:
        lines.append(t("brief.round_behind", lang, n=fmt_int(summary.behind_grids, lang)))
    grids = testing_queries.grid_progress(session=session, round_id=summary.round.id, now=now)
    rows = [
        [_grid_name(r, lang), fmt_pct(r.coverage, lang), fmt_int(r.missing, lang),
         t("brief.yes", lang) if r.behind else ""]
        for r in _rows(grids)
        if r.missing > 0
    ]  # fmt: skip
    table = _table(
        [t("brief.col_grid", lang), t("brief.col_coverage", lang), t("brief.col_missing", lang),
         t("brief.col_behind", lang)],
        rows,
        widths=(3, 1, 1, 1),
    )  # fmt: skip
    return Section(key="testing", heading=heading, lines=lines, table=table if rows else None)


def _supply_names(session: Session, lang: str) -> tuple[dict[int, str], dict[int, str]]:
    depots = stock.depot_list(session=session)
    items = stock.item_list(session=session)
    return (
        {int(r.depot_id): depot_name(r, lang) for r in _rows(depots)},
        {int(r.item_id): _item_with_unit(r, lang) for r in _rows(items)},
    )


def _item_with_unit(row: Any, lang: str) -> str:
    """'Antigen test kits (boxes)': the quantities of suggestions are in this unit."""
    key = f"stock.unit.{row.unit}"
    unit = t(key, lang) if has_key(key) else str(row.unit or "")
    return (
        t("brief.item_unit", lang, item=display_name(row, lang), unit=unit)
        if unit
        else display_name(row, lang)
    )


SHORT_LEVELS: tuple[str, ...] = ("out", "short")


def _shortages(session: Session, lang: str, now: datetime) -> Section:
    picture = stock.supply_picture(session=session, now=now)
    depots, items = _supply_names(session, lang)
    short = picture.positions[picture.positions["level"].isin(SHORT_LEVELS)]
    short = short.assign(_cover=short["days_of_cover"].fillna(float("inf"))).sort_values(
        ["_cover", "depot_id", "item_id"], kind="stable"
    )
    rows = [
        [depots.get(int(r.depot_id), ""), items.get(int(r.item_id), ""),
         fmt_int(r.stock, lang), fmt_int(r.min_stock, lang),
         fmt_num(r.days_of_cover, lang) if pd.notna(r.days_of_cover) else "—"]
        for r in _rows(short)
    ]  # fmt: skip
    heading = t("brief.shortages", lang)
    if not rows:
        return Section(key="shortages", heading=heading, lines=[t("brief.none_short", lang)])
    lines = [t("brief.short_count", lang, n=fmt_int(len(rows), lang))]
    table = _table(
        [t("brief.col_depot", lang), t("brief.col_item", lang), t("brief.col_stock", lang),
         t("brief.col_minimum", lang), t("brief.col_cover", lang)],
        rows,
        widths=(2, 2, 1, 1, 1),
    )  # fmt: skip
    return Section(key="shortages", heading=heading, lines=lines, table=table)


def _overdue(session: Session, lang: str, now: datetime) -> Section:
    board = requests.request_board(session=session, now=now, actor=SYSTEM)
    late = board[board["overdue"].astype(bool)] if not board.empty else board
    heading = t("brief.overdue", lang)
    if late.empty:
        return Section(key="overdue", heading=heading, lines=[t("brief.none_overdue", lang)])
    grids = {r["code"]: r for r in areas.grid_rows(session=session)}
    grouped = (
        late.groupby(["grid_code", "category"], sort=False)
        .agg(n=("request_id", "size"), oldest=("age_hours", "max"))
        .reset_index()
        .sort_values(["n", "oldest"], ascending=False, kind="stable")
    )
    rows = [
        [_grid_name(grids[r.grid_code], lang) if r.grid_code in grids else str(r.grid_code),
         t(f"request_category.{r.category}", lang), fmt_int(r.n, lang), fmt_num(r.oldest, lang)]
        for r in _rows(grouped)
    ]  # fmt: skip
    lines = [t("brief.overdue_count", lang, n=fmt_int(len(late), lang))]
    table = _table(
        [t("brief.col_grid", lang), t("brief.col_category", lang), t("brief.col_count", lang),
         t("brief.col_oldest", lang)],
        rows,
        widths=(3, 1, 1, 1),
    )  # fmt: skip
    return Section(key="overdue", heading=heading, lines=lines, table=table)


def _understaffed(session: Session, lang: str) -> Section:
    frame = workforce.staffing(session=session, understaffed_only=True)
    heading = t("brief.understaffed", lang)
    if frame.empty:
        return Section(
            key="understaffed", heading=heading, lines=[t("brief.none_understaffed", lang)]
        )
    rows = [
        [_grid_name(r, lang), fmt_int(r.households, lang), fmt_int(r.full_time_workers, lang),
         fmt_num(r.households_per_worker, lang) if pd.notna(r.households_per_worker) else "—",
         fmt_int(r.needed, lang), fmt_int(r.gap, lang)]
        for r in _rows(frame)
    ]  # fmt: skip
    table = _table(
        [t("brief.col_grid", lang), t("brief.col_households", lang), t("brief.col_fulltime", lang),
         t("brief.col_per_worker", lang), t("brief.col_needed", lang), t("brief.col_gap", lang)],
        rows,
        widths=(3, 1, 1, 1, 1, 1),
    )  # fmt: skip
    lines = [t("brief.understaffed_count", lang, n=fmt_int(len(frame), lang))]
    return Section(key="understaffed", heading=heading, lines=lines, table=table)


# Zone suggestions that ask command for a decision (keeping an order, or none, asks nothing).
DECIDE_ZONES: tuple[str, ...] = (
    zone_analytics.ISSUE,
    zone_analytics.ESCALATE,
    zone_analytics.STEP_DOWN,
    zone_analytics.LIFT,
)


def _zone_words(action: str, level: str, lang: str) -> str:
    level_word = t(f"zone.{level}", lang) if level else t("zone.none", lang)
    return t(f"zones.action.{action}", lang, level=level_word)


def _zone_decisions(session: Session, lang: str, today: date) -> list[str]:
    """The Zones page's suggestions that ask for a decision: orders in force, grids without."""
    lines = []
    for r in _rows(zone_queries.zone_board(session=session, as_of=today)):
        if r.action in DECIDE_ZONES:
            area = _grid_name({"name": r.grid_name, "name_zh": r.grid_name_zh,
                               "code": r.grid_code}, lang)  # fmt: skip
            building = display_name(r, lang, "building_name")
            if building:
                area = t("zpage.building_in", lang, building=building, grid=area)
            words = _zone_words(r.action, r.suggested_level, lang)
            why = _reason(r.why, lang)
            lines.append(t("brief.decision", lang, area=area, action=words, why=why))
    for r in _rows(zone_queries.grid_suggestions(session=session, as_of=today)):
        if r.action == zone_analytics.ISSUE:
            words = _zone_words(r.action, r.suggested_level, lang)
            why = _reason(r.why, lang)
            lines.append(t("brief.decision", lang, area=_grid_name(r, lang), action=words, why=why))
    return _capped(lines, lang)


def _supply_decisions(session: Session, lang: str, now: datetime) -> list[str]:
    """The Supplies page's suggested transfers, then its purchase orders."""
    picture = stock.supply_picture(session=session, now=now)
    depots, items = _supply_names(session, lang)
    transfers = [
        t("brief.transfer", lang, n=fmt_int(r.quantity, lang), item=items.get(int(r.item_id), ""),
          source=depots.get(int(r.from_depot_id), ""), target=depots.get(int(r.to_depot_id), ""))
        for r in _rows(picture.transfers)
    ]  # fmt: skip
    purchases = [
        t("brief.purchase", lang, n=fmt_int(r.quantity, lang), item=items.get(int(r.item_id), ""))
        for r in _rows(picture.purchases)
    ]
    return [*_capped(transfers, lang), *_capped(purchases, lang)]


def _workforce_decisions(session: Session, lang: str, today: date, now: datetime) -> list[str]:
    """The Workforce page's reassignments, counted per grid (never naming a worker)."""
    moves = workforce.suggested_reassignments(session=session, now=now, today=today)
    if moves.empty:
        return []
    per_grid = moves.groupby("grid_code").size().sort_values(ascending=False, kind="stable")
    named = [f"{code} ({n})" for code, n in per_grid.items()]
    if len(named) > GRIDS_NAMED:
        named = [*named[:GRIDS_NAMED], "…"]
    return [t("brief.reassign", lang, n=fmt_int(len(moves), lang), grids=", ".join(named))]


def _decisions(session: Session, lang: str, today: date, now: datetime) -> Section:
    lines = [
        *_zone_decisions(session, lang, today),
        *_supply_decisions(session, lang, now),
        *_workforce_decisions(session, lang, today, now),
    ]
    # Grids that need a look: the overview's list, with its reasons.
    attention = overview.needs_attention(session=session, today=today, now=now)
    rows = [
        [_grid_name({"name": a.grid_name, "name_zh": a.grid_name_zh, "code": a.grid_code}, lang),
         t(f"risk.{a.severity}", lang),
         _join([_reason(r, lang) for r in a.reasons[:REASONS_SHOWN]], lang)]
        for a in attention
    ]  # fmt: skip
    if not lines and not rows:
        lines.append(t("brief.none_decisions", lang))
    table = (
        Table(
            header=[
                t("brief.col_grid", lang),
                t("brief.col_risk", lang),
                t("brief.col_reasons", lang),
            ],
            rows=rows,
            widths=(3, 1, 5),
        )  # fmt: skip
        if rows
        else None
    )
    return Section(key="decisions", heading=t("brief.decisions", lang), lines=lines, table=table)


# --------------------------------------------------------------------------- charts


@contextmanager
def quiet(logger: str) -> Iterator[None]:
    """Silence a library's warnings about fonts (they are about glyphs we never draw)."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _figure_font(font: Path | None) -> Any:
    """matplotlib settings that draw text with `font` (Chinese when it has it)."""
    from matplotlib import font_manager

    if font is None:
        return {}
    font_manager.fontManager.addfont(str(font))
    name = font_manager.FontProperties(fname=str(font)).get_name()
    return {"font.family": [name, "DejaVu Sans"], "axes.unicode_minus": False}


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    return buffer.getvalue()


def _rings(shape: dict[str, Any] | None) -> list[list[list[float]]]:
    """The outer rings of a GeoJSON Polygon or MultiPolygon."""
    if not shape:
        return []
    if shape.get("type") == "Polygon":
        return [shape["coordinates"][0]]
    if shape.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in shape["coordinates"]]
    return []


class ChartCache:
    """Charts already drawn, by what they show: the same figures in the same language (and
    font) give the same PNG, drawn once. Bounded: the least recently used goes first.

    A briefing is made on a click, and between two clicks the figures seldom change; drawing
    a chart with matplotlib is most of a briefing's time.
    """

    def __init__(self, max_entries: int = 16) -> None:
        self.max_entries = max_entries
        self._images: OrderedDict[str, bytes | None] = OrderedDict()
        self._lock = threading.Lock()

    def image(self, inputs: Any, draw: Callable[[], bytes | None]) -> bytes | None:
        """The chart of `inputs` (anything whose repr says all it shows), drawn if new."""
        key = hashlib.sha256(repr(inputs).encode("utf-8")).hexdigest()
        with self._lock:
            if key in self._images:
                self._images.move_to_end(key)
                return self._images[key]
        image = draw()  # outside the lock: two first clicks at once may both draw
        with self._lock:
            self._images[key] = image
            self._images.move_to_end(key)
            while len(self._images) > self.max_entries:
                self._images.popitem(last=False)
        return image

    def clear(self) -> None:
        with self._lock:
            self._images.clear()

    def __len__(self) -> int:
        return len(self._images)


# Two charts per briefing, in two languages: a few days of figures.
CHARTS = ChartCache(max_entries=16)


def risk_map_png(frame: pd.DataFrame, *, lang: str, font: Path | None) -> bytes | None:
    """The grids drawn from their shapes, filled with their risk colour; None without shapes.

    Drawn once for the same grids, levels, language and font (CHARTS)."""
    drawn = [(ring, str(r.risk_level)) for r in _rows(frame) for ring in _rings(r.shape)]
    if not drawn:
        return None
    labels = (
        [(str(r.code), _rings(r.shape)[:1]) for r in _rows(frame) if _rings(r.shape)]
        if len(frame) <= 12  # a few grids: their codes fit inside them
        else []
    )
    inputs = ("risk_map", lang, str(font), drawn, labels)
    return CHARTS.image(inputs, lambda: _draw_risk_map(drawn, labels, lang=lang, font=font))


def _draw_risk_map(
    drawn: list[tuple[list[list[float]], str]],
    labels: list[tuple[str, list[list[list[float]]]]],
    *,
    lang: str,
    font: Path | None,
) -> bytes:
    """Draw the risk map with matplotlib (see risk_map_png)."""
    import math

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch, Polygon

    with quiet("matplotlib.font_manager"), plt.rc_context(_figure_font(font)):
        figure, axes = plt.subplots(figsize=(7.0, 4.6))
        for ring, level in drawn:
            axes.add_patch(
                Polygon(ring, closed=True, facecolor=RISK_HEX.get(level, NO_DATA_HEX),
                        edgecolor="white", linewidth=0.8)
            )  # fmt: skip
        axes.autoscale_view()
        lat = sum(point[1] for ring, _ in drawn for point in ring) / sum(len(r) for r, _ in drawn)
        axes.set_aspect(1 / max(0.2, math.cos(math.radians(lat))))
        for code, rings in labels:
            xs = [p[0] for p in rings[0]]
            ys = [p[1] for p in rings[0]]
            axes.text(sum(xs) / len(xs), sum(ys) / len(ys), code,
                      ha="center", va="center", fontsize=8, color="white")  # fmt: skip
        axes.set_axis_off()
        axes.legend(
            handles=[Patch(color=RISK_HEX[level], label=t(f"risk.{level}", lang))
                     for level in RISK_LEVELS],
            loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
        )  # fmt: skip
        image = _png(figure)
        plt.close(figure)
    return image


def curve_png(trend: pd.DataFrame, *, lang: str, font: Path | None) -> bytes:
    """New cases a day (community cases darker), as the overview's trend.

    Drawn once for the same days, counts, language and font (CHARTS)."""
    days = list(trend["day"])
    inside = [int(n) for n in trend["new_cases"] - trend["outside_quarantine"]]
    outside = [int(n) for n in trend["outside_quarantine"]]
    inputs = ("curve", lang, str(font), days, inside, outside)
    image = CHARTS.image(inputs, lambda: _draw_curve(days, inside, outside, lang=lang, font=font))
    assert image is not None
    return image


def _draw_curve(
    days: list[date], inside: list[int], outside: list[int], *, lang: str, font: Path | None
) -> bytes:
    """Draw the epidemic curve with matplotlib (see curve_png)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from gridcore.i18n import fmt_short_date

    with quiet("matplotlib.font_manager"), plt.rc_context(_figure_font(font)):
        figure, axes = plt.subplots(figsize=(7.0, 2.8))
        xs = list(range(len(days)))
        axes.bar(xs, outside, color=SERIES_HEX["community"],
                 label=t("brief.curve_outside", lang))  # fmt: skip
        axes.bar(xs, inside, bottom=outside, color=SERIES_HEX["cases"],
                 label=t("brief.curve_inside", lang))  # fmt: skip
        ticks = xs[::3] if xs[-1] in xs[::3] else [*xs[::3], xs[-1]]
        axes.set_xticks(ticks, [fmt_short_date(days[i], lang) for i in ticks], fontsize=8)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel(t("brief.curve_axis", lang))
        axes.spines[["top", "right"]].set_visible(False)
        axes.legend(frameon=False, fontsize=8)
        image = _png(figure)
        plt.close(figure)
    return image
