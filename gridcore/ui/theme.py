"""One colour scheme for every page, chart and map; risk colours are the same everywhere."""

from __future__ import annotations

from gridcore.palette import (  # noqa: F401  (re-exported for the pages)
    NO_DATA_HEX,
    RISK_HEX,
    RISK_LEVELS,
    SEQUENTIAL_HEX,
    SERIES_HEX,
    ZONE_HEX,
)

# A headline figure against its target (Okabe–Ito colours, told apart with colour-blindness;
# each badge also carries a mark and a word).
STATUS_HEX: dict[str, str] = {"good": "#0072B2", "watch": "#E69F00", "act": "#D55E00"}

# Every plotly chart's config: no toolbar (on a phone it covers the legend).
CHART_CONFIG: dict[str, object] = {"displayModeBar": False}
# A grid with no full-time worker: set apart from the orange-brown count scale.
NO_WORKER_HEX = "#4A148C"


def hex_to_rgba(value: str, alpha: int = 255) -> list[int]:
    """'#RRGGBB' → [r, g, b, a] for deck.gl."""
    value = value.lstrip("#")
    return [int(value[i : i + 2], 16) for i in (0, 2, 4)] + [alpha]


KIOSK_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
header[data-testid="stHeader"], [data-testid="stToolbar"], footer {display: none !important;}
/* Type follows the window's height: the same panel fits 1280×720, 1920×1080 and 3840×2160. */
html, body, [data-testid="stAppViewContainer"] {font-size: clamp(14px, 2.5vh, 64px);}
.block-container {padding: 1.5vh 2.5vw 0 !important; max-width: 100% !important;}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {gap: 1.6vh;}
h1 {font-size: 2.2rem !important; padding: 0 0 .4vh !important; line-height: 1.2 !important;}
h2 {font-size: 1.9rem !important; padding: .2rem 0 !important;}
h3 {font-size: 1.5rem !important; padding: .1rem 0 !important;}
[data-testid="stMetric"] {padding: .6vh 1vw !important;}
[data-testid="stMetricValue"] {font-size: 3rem !important; font-weight: 700;
  line-height: 1.1 !important;}
[data-testid="stMetricValue"] > div {overflow: visible !important;}
[data-testid="stMetricLabel"] p {font-size: 1.25rem !important;}
[data-testid="stMetricDelta"] {font-size: 1.05rem !important;}
/* No help icons on a screen nobody points at. */
[data-testid="stMetricLabel"] [data-testid="stTooltipIcon"],
[data-testid="stMetricLabel"] svg, [data-testid="stTooltipHoverTarget"] svg {display: none;}
.gc-attention li {font-size: 1.3rem; margin-bottom: .5vh; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis;}
.gc-badge {font-size: 1rem;}
.gc-legend {font-size: 1.05rem;}
[data-testid="stTable"] th, [data-testid="stTable"] td {font-size: 1.3rem !important;
  padding: .35vh .6vw !important;}
[data-testid="stAlertContainer"] {padding: .8vh 1vw !important;}
[data-testid="stAlertContainer"] p {font-size: 1.3rem !important;}
[data-testid="stCaptionContainer"] {font-size: .95rem !important;}
.gc-target {font-size: 1rem !important; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis;}
[class*="st-key-gc_tile_"] {padding: .8vh 1vw !important; gap: .4vh !important;}
</style>
"""

BASE_CSS = """
<style>
[data-testid="stMetricValue"] {font-weight: 650;}
.gc-legend {display: flex; flex-wrap: wrap; gap: .35rem 1rem; align-items: center;
  margin: .25rem 0 .5rem;}
.gc-legend span.sw {display: inline-block; width: 1rem; height: 1rem; border-radius: 3px;
  margin-right: .35rem; vertical-align: -0.15rem; border: 1px solid rgba(0,0,0,.25);}
.gc-legend span.ln {display: inline-block; width: 1.4rem; height: 0; border-top: 3px dashed;
  margin-right: .35rem; vertical-align: .25rem;}
.gc-badge {display: inline-block; padding: .05rem .5rem; border-radius: .6rem; color: #fff;
  font-size: .85rem; font-weight: 600;}
.gc-attention {padding-left: 1.1rem;}
.gc-acked {color: #607D8B; font-size: .85rem;}
.gc-alert {line-height: 1.6;}
/* A still map (the 'move map' switch off, a phone's default): a vertical swipe scrolls the
   page, two fingers zoom the map. A moving map takes every gesture. On a narrow screen a
   vertical swipe always scrolls the page. */
@media (max-width: 640px) {
  [data-testid="stDeckGlJsonChart"] div, [data-testid="stDeckGlJsonChart"] canvas
    {touch-action: pan-y !important;}
}
[class*="st-key-gcmap_still"] [data-testid="stDeckGlJsonChart"] div,
[class*="st-key-gcmap_still"] [data-testid="stDeckGlJsonChart"] canvas
  {touch-action: pan-y !important;}
[class*="st-key-gcmap_move"] [data-testid="stDeckGlJsonChart"] div,
[class*="st-key-gcmap_move"] [data-testid="stDeckGlJsonChart"] canvas
  {touch-action: none !important;}
.gc-attention li {margin-bottom: .25rem;}
.gc-attention {margin-bottom: 0;}
.gc-target {font-size: .85rem; color: #37474F;}
/* The attention list's links read as links, not as more text. */
[class*="st-key-gc_attention_"] a, [class*="st-key-gc_attention_"] a * {color: #0B57A4 !important;
  text-decoration: underline;}
.gc-status {display: inline-block; padding: .05rem .5rem; border-radius: .6rem;
  font-weight: 650; margin-right: .3rem;}
__STATUS_CSS__/* On a phone a chart's hover toolbar (full screen) would cover its legend. */
@media (max-width: 640px) {
  [data-testid="stElementContainer"]:has([data-testid="stPlotlyChart"])
    [data-testid="stElementToolbar"] {display: none !important;}
}
</style>
"""


def streamlit_texts_css(lang: str, max_upload_mb: int) -> str:
    """Streamlit's own fixed texts (the file uploader's "Upload" and "200MB per file") in the
    reader's language, where Streamlit has no setting for them; nothing for English."""
    if lang != "zh":
        return ""
    return f"""<style>
[data-testid="stFileUploaderDropzoneInstructions"] * {{font-size: 0 !important;}}
[data-testid="stFileUploaderDropzoneInstructions"]::after {{
  content: "每个文件不超过 {max_upload_mb} MB（CSV、XLSX）"; font-size: .85rem; opacity: .7;}}
[data-testid="stFileUploaderDropzone"] button,
[data-testid="stFileUploaderDropzone"] button *:not([data-testid="stIconMaterial"])
  {{font-size: 0 !important;}}
[data-testid="stFileUploaderDropzone"] button::after {{content: "上传文件"; font-size: 1rem;}}
</style>"""


def _status_css() -> str:
    """The status badges and the coloured edge of a headline tile, one rule per status."""
    text = {"good": "#fff", "watch": "#000", "act": "#000"}
    # An 'act now' tile is also tinted, so that it stands out from 'watch' at a glance.
    tint = {"good": "transparent", "watch": "transparent", "act": "#FDF0E8"}
    rules = []
    for status, colour in STATUS_HEX.items():
        rules.append(f".gc-status-{status} {{background: {colour}; color: {text[status]};}}")
        rules.append(
            f'[class*="st-key-gc_tile_{status}"] {{border-color: {colour} !important; '
            f"border-left-width: 6px !important; background: {tint[status]};}}"
        )
    return "\n".join(rules) + "\n"


BASE_CSS = BASE_CSS.replace("__STATUS_CSS__", _status_css())
