"""Translation: one lookup function over complete English and Chinese catalogues.

Catalogues are split by subject into modules `gridcore/i18n/catalog_*.py`, each
defining `EN` and `ZH` dicts with the same keys; a test fails on any key missing
from either language.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import NumberPattern, parse_pattern

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


@dataclass(frozen=True)
class Named:
    """A name in both languages, as a parameter of `t` (filled in by `display_name`) or in a
    query's result (a site, building, depot or round named in a reason or a headline)."""

    name: str
    name_zh: str | None = None

    def __str__(self) -> str:
        return self.name


def t(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """The text for `key` in `lang`, with {params} filled in (a `Named` in the reader's
    language); the key itself if unknown."""
    table = catalogues()[normalise_language(lang)]
    text = table.get(key)
    if text is None:
        text = catalogues()[DEFAULT_LANGUAGE].get(key, key)
    if not params:
        return text
    filled = {k: display_name(v, lang) if isinstance(v, Named) else v for k, v in params.items()}
    return text.format(**filled)


def has_key(key: str) -> bool:
    """Whether `key` is in the catalogues."""
    return key in catalogues()[DEFAULT_LANGUAGE]


# Babel formats numbers, dates and times for the reader's locale (pinned in requirements.txt).
# The patterns are fixed per language so every page shows the same form.

_LOCALES = {"en": "en_GB", "zh": "zh_Hans_CN"}
_DATE_PATTERNS = {
    "date": {"en": "d MMM y", "zh": "y年M月d日"},
    "short_date": {"en": "d MMM", "zh": "M月d日"},
}


def _unknown(value: Any) -> bool:
    return value is None or value != value  # None or NaN (pandas NA compares unknown)


@lru_cache(maxsize=16)
def _number_format(digits: int, lang: str) -> tuple[NumberPattern, Locale]:
    """The parsed pattern and locale of a number (a dashboard formats thousands per run)."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return parse_pattern(pattern), Locale.parse(_LOCALES[normalise_language(lang)])


def _number(value: float, digits: int, lang: str) -> str:
    pattern, locale = _number_format(digits, lang)
    if _PLAIN_DIGITS.get(locale.language, False):
        # Grouped by 3 with "," and "." as in Python's own format (tests/test_i18n.py holds
        # the two to the same output); tables format tens of thousands of numbers per run.
        return f"{value:,.{digits}f}"
    return str(pattern.apply(value, locale))


def _plain_digits(locale: Locale) -> bool:
    """Whether the locale's numbers read as Python formats them: 1,234.5."""
    symbols = locale.number_symbols["latn"]
    grouping = locale.decimal_formats[None].grouping
    return bool(symbols["group"] == "," and symbols["decimal"] == "." and grouping == (3, 3))


_PLAIN_DIGITS = {
    locale.language: _plain_digits(locale) for locale in map(Locale.parse, _LOCALES.values())
}


def _day(value: date, kind: str, lang: str) -> str:
    # A moment's day (Babel formats a datetime's date alone): tables repeat the same few
    # hundred days thousands of times, each formatted once.
    day = date(value.year, value.month, value.day)
    return _formatted_day(day, kind, normalise_language(lang))


@lru_cache(maxsize=4096)
def _formatted_day(day: date, kind: str, code: str) -> str:
    return str(format_date(day, _DATE_PATTERNS[kind][code], locale=_LOCALES[code]))


def fmt_int(value: float | int | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A whole number with thousands separators ('—' when unknown)."""
    try:
        if _unknown(value):
            return "—"
    except TypeError:  # pandas.NA
        return "—"
    assert value is not None
    return _number(round(value), 0, lang)


def fmt_num(value: float | None, lang: str = DEFAULT_LANGUAGE, digits: int = 1) -> str:
    """A decimal number with `digits` places ('—' when unknown)."""
    if _unknown(value):
        return "—"
    assert value is not None
    return _number(round(value, digits), digits, lang)


def fmt_pct(value: float | None, lang: str = DEFAULT_LANGUAGE, digits: int = 1) -> str:
    """A share in 0..1 as a percentage ('—' when unknown)."""
    if _unknown(value):
        return "—"
    assert value is not None
    return _number(round(value * 100, digits), digits, lang) + "%"


def fmt_date(value: date | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A calendar day: '22 Nov 2026' or '2026年11月22日'."""
    if value is None:
        return "—"
    return _day(value, "date", lang)


def fmt_short_date(value: date | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A day without the year: '22 Nov' or '11月22日'."""
    if value is None:
        return "—"
    return _day(value, "short_date", lang)


def fmt_time(value: datetime | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A time of day, to the minute: '18:20' (24-hour clock in both languages)."""
    if value is None:
        return "—"
    return f"{value:%H:%M}"


def fmt_datetime(value: datetime | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """A moment, to the minute: '2 Dec 18:20' or '12月2日 18:20' (the one form on every page)."""
    if value is None:
        return "—"
    return f"{_day(value.date(), 'short_date', lang)} {fmt_time(value, lang)}"


def pick_name(name: Any, name_zh: Any, lang: str = DEFAULT_LANGUAGE) -> str:
    """Of a name and its Chinese form, the one for `lang`, falling back to the other ('' if
    neither is known)."""
    plain = None if _unknown(name) or name == "" else str(name)
    chinese = None if _unknown(name_zh) or name_zh == "" else str(name_zh)
    first, second = (chinese, plain) if normalise_language(lang) == "zh" else (plain, chinese)
    return first or second or ""


def display_name(row: Any, lang: str = DEFAULT_LANGUAGE, field: str = "name") -> str:
    """A named thing's name in the reader's language: `<field>_zh` in Chinese, `<field>`
    otherwise, each falling back to the other. `row` is any object (or mapping) with those
    fields; `field` names the pair ('name', 'site_name', 'building', 'title', …)."""
    get = row.get if isinstance(row, dict) else lambda k, d=None: getattr(row, k, d)
    return pick_name(get(field, None), get(f"{field}_zh", None), lang)


def display_names(frame: Any, lang: str = DEFAULT_LANGUAGE, field: str = "name") -> list[str]:
    """`display_name` of every row of a DataFrame (a missing `<field>_zh` column is all unknown)."""
    plain = list(frame[field])
    chinese = list(frame[f"{field}_zh"]) if f"{field}_zh" in frame.columns else [None] * len(plain)
    return [pick_name(n, z, lang) for n, z in zip(plain, chinese, strict=True)]


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def depot_name(row: Any, lang: str) -> str:
    """A depot's name in the reader's language; in Chinese, a depot known only by a name
    without Chinese words is its area's name + 仓库."""
    name = display_name(row, lang)
    area_zh = getattr(row, "area_name_zh", None)
    if lang == "zh" and not has_chinese(name) and isinstance(area_zh, str) and area_zh:
        return f"{area_zh}仓库"
    return name


def enum_label(prefix: str, value: Any, lang: str = DEFAULT_LANGUAGE) -> str:
    """The label of an enumeration value, from the key '<prefix>.<value>'."""
    raw = getattr(value, "value", value)
    return t(f"{prefix}.{raw}", lang)
