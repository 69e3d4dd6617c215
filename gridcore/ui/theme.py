"""One colour scheme for every page, chart and map; risk colours are the same everywhere."""

from __future__ import annotations

RISK_LEVELS: tuple[str, ...] = ("high", "medium", "low", "normal")

RISK_HEX: dict[str, str] = {
    "high": "#C62828",
    "medium": "#EF6C00",
    "low": "#F9A825",
    "normal": "#2E7D32",
}

ZONE_HEX: dict[str, str] = {
    "sealed": "#B71C1C",
    "controlled": "#E65100",
    "precaution": "#1565C0",
}

# Sequential scale (light → dark), used for counts and rates where more is worse.
SEQUENTIAL_HEX: tuple[str, ...] = ("#FFF3E0", "#FFCC80", "#FF9800", "#E65100", "#8D2C00")

# Series colours for charts.
SERIES_HEX: dict[str, str] = {
    "cases": "#C62828",
    "community": "#6A1B9A",
    "quarantine": "#1565C0",
    "coverage": "#2E7D32",
    "neutral": "#546E7A",
    "sites": "#00838F",
    "depots": "#5D4037",
    "buildings": "#37474F",
}

NO_DATA_HEX = "#CFD8DC"

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
.block-container {padding-top: 1.2rem; max-width: 100% !important;}
html, body, [data-testid="stAppViewContainer"] {font-size: 22px;}
h1 {font-size: 3.0rem !important;}
h2 {font-size: 2.3rem !important;}
h3 {font-size: 1.9rem !important;}
[data-testid="stMetricValue"] {font-size: 4.2rem !important; font-weight: 700;}
[data-testid="stMetricLabel"] p {font-size: 1.5rem !important;}
[data-testid="stMetricDelta"] {font-size: 1.4rem !important;}
.gc-attention li {font-size: 1.5rem; margin-bottom: .4rem;}
[data-testid="stTable"] th, [data-testid="stTable"] td {font-size: 1.5rem !important;}
[data-testid="stAlertContainer"] p {font-size: 1.5rem !important;}
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
