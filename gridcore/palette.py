"""The colours every page, chart, map and the briefing share; risk colours are the same everywhere.

Here, outside gridcore.ui, so that the briefing (made without Streamlit) uses them too.
"""

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
