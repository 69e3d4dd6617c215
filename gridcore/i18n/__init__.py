"""Translation: one lookup function over complete English and Chinese catalogues.

Catalogues are split by subject into modules `gridcore/i18n/catalog_*.py`, each
defining `EN` and `ZH` dicts with the same keys; a test fails on any key missing
from either language.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import date, datetime
from functools import lru_cache
from typing import Any

LANGUAGES: tuple[str, ...] = ("en", "zh")
DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=1)
def catalogues() -> dict[str, dict[str, str]]:
    """Every catalogue module merged: language → key → text."""
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    package = importlib.import_module(__name__)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.startswith("catalog_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for lang in LANGUAGES:
            table: dict[str, str] = getattr(module, lang.upper())
            clash = merged[lang].keys() & table.keys()
            if clash:
                raise RuntimeError(f"i18n keys defined twice: {sorted(clash)[:5]}")
            merged[lang].update(table)
    return merged


def normalise_language(lang: str | None) -> str:
    """A supported language code ('zh', 'zh-CN', 'ZH' → 'zh'); English otherwise."""
    code = (lang or "").strip().lower()[:2]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """The text for `key` in `lang`, with {params} filled in; the key itself if unknown."""
    table = catalogues()[normalise_language(lang)]
    text = table.get(key)
    if text is None:
        text = catalogues()[DEFAULT_LANGUAGE].get(key, key)
    return text.format(**params) if params else text


def has_key(key: str) -> bool:
    """Whether `key` is in the catalogues."""
    return key in catalogues()[DEFAULT_LANGUAGE]


def fmt_int(value: float | int | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A whole number with thousands separators ('—' when unknown)."""
    if value is None or value != value:  # None or NaN
        return "—"
    return f"{round(value):,}"


def fmt_num(value: float | None, lang: str = DEFAULT_LANGUAGE, digits: int = 1) -> str:
    """A decimal number with `digits` places ('—' when unknown)."""
    if value is None or value != value:
        return "—"
    return f"{value:,.{digits}f}"


def fmt_pct(value: float | None, lang: str = DEFAULT_LANGUAGE, digits: int = 1) -> str:
    """A share in 0..1 as a percentage ('—' when unknown)."""
    if value is None or value != value:
        return "—"
    return f"{value * 100:.{digits}f}%"


def fmt_date(value: date | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A calendar day: '22 Nov 2026' or '2026年11月22日'."""
    if value is None:
        return "—"
    if normalise_language(lang) == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {value.strftime('%b')} {value.year}"


def fmt_short_date(value: date | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A day without the year: '22 Nov' or '11月22日'."""
    if value is None:
        return "—"
    if normalise_language(lang) == "zh":
        return f"{value.month}月{value.day}日"
    return f"{value.day} {value.strftime('%b')}"


def fmt_datetime(value: datetime | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A moment in local time, to the minute."""
    if value is None:
        return "—"
    return f"{fmt_date(value.date(), lang)} {value:%H:%M}"


def enum_label(prefix: str, value: Any, lang: str = DEFAULT_LANGUAGE) -> str:
    """The label of an enumeration value, from the key '<prefix>.<value>'."""
    raw = getattr(value, "value", value)
    return t(f"{prefix}.{raw}", lang)
