"""The catalogues are complete in both languages, and every key the code asks for exists."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import string
from pathlib import Path
from types import ModuleType

import pytest

import gridcore.i18n as i18n
from gridcore.i18n import catalogues, t

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3400-\u9fff]")
# Words that stay the same in Chinese: names of the product's formats and systems.
PROPER_NAMES = {"GridCore", "Excel", "GeoJSON", "Streamlit", "PostgreSQL", "SQLite", "WGS", "GCJ"}
# Functions whose first argument (or `key=`) is a catalogue key.
KEY_FUNCTIONS = {"t", "has_key"}


def _catalogue_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"gridcore.i18n.{info.name}")
        for info in sorted(pkgutil.iter_modules(i18n.__path__), key=lambda m: m.name)
        if info.name.startswith("catalog_")
    ]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _without_placeholders(text: str) -> str:
    return re.sub(r"\{[^{}]*\}", "", text)


def _is_code(text: str) -> bool:
    """A number, a symbol or a code that reads the same in both languages ('CSV', 'GCJ-02')."""
    words = re.findall(r"[A-Za-z]+", _without_placeholders(text))
    return all(w.isupper() or w in PROPER_NAMES for w in words)


def test_there_are_catalogues() -> None:
    assert [m.__name__ for m in _catalogue_modules()], "no gridcore/i18n/catalog_*.py found"
    assert t("app.name", "en") == "GridCore"


@pytest.mark.parametrize("module", _catalogue_modules(), ids=lambda m: m.__name__.split(".")[-1])
def test_each_catalogue_has_the_same_keys_in_both_languages(module: ModuleType) -> None:
    en: dict[str, str] = module.EN
    zh: dict[str, str] = module.ZH
    assert sorted(en.keys() - zh.keys()) == [], "keys missing from ZH"
    assert sorted(zh.keys() - en.keys()) == [], "keys missing from EN"


def test_merged_catalogues_have_identical_keys() -> None:
    merged = catalogues()
    assert merged["en"].keys() == merged["zh"].keys()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_text_is_empty(lang: str) -> None:
    empty = sorted(k for k, v in catalogues()[lang].items() if not v.strip())
    assert empty == []


def test_every_chinese_text_is_translated() -> None:
    """A Chinese text equal to the English one must be a number or a code."""
    en, zh = catalogues()["en"], catalogues()["zh"]
    untranslated = sorted(k for k, v in zh.items() if v == en[k] and not _is_code(v))
    assert untranslated == []


def test_chinese_texts_are_written_in_chinese() -> None:
    """No English sentence is left in the Chinese catalogue (codes and symbols aside)."""
    zh = catalogues()["zh"]
    english = sorted(k for k, v in zh.items() if not CJK.search(v) and not _is_code(v))
    assert english == []


def test_both_languages_take_the_same_parameters() -> None:
    """t(key, lang, **params) must not fail in one language only."""
    en, zh = catalogues()["en"], catalogues()["zh"]
    mismatched = sorted(k for k in en if _placeholders(en[k]) != _placeholders(zh[k]))
    assert mismatched == []


def test_code_detection() -> None:
    assert _is_code("CSV")
    assert _is_code("{count}")
    assert _is_code("GCJ-02")
    assert not _is_code("Grid map")


def _source_files() -> list[Path]:
    files = [ROOT / "app.py"] if (ROOT / "app.py").exists() else []
    files += sorted((ROOT / "pages").glob("*.py"))
    files += sorted(p for p in (ROOT / "gridcore").rglob("*.py") if "migrations" not in p.parts)
    return files


def _literal_keys(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, key) for every t("…") / i18n.t("…") / Reason("…") call with a literal key."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in KEY_FUNCTIONS and name != "Reason":
            continue
        arg: ast.expr | None = node.args[0] if node.args else None
        for kw in node.keywords:
            if kw.arg == "key":
                arg = kw.value
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.append((node.lineno, arg.value))
    return found


def test_key_scanner_finds_calls() -> None:
    tree = ast.parse('t("a.b", lang)\ni18n.t(\'c.d\')\nReason(key="e.f", params={})\nt(name)\n')
    assert [k for _, k in _literal_keys(tree)] == ["a.b", "c.d", "e.f"]


def test_every_key_used_in_the_code_exists() -> None:
    known = catalogues()["en"].keys()
    missing = [
        f"{path.relative_to(ROOT)}:{line} {key!r}"
        for path in _source_files()
        for line, key in _literal_keys(ast.parse(path.read_text(encoding="utf-8")))
        if key not in known
    ]
    assert missing == []


def test_numbers_dates_and_times_have_one_form_per_kind() -> None:
    from datetime import date, datetime

    from gridcore.i18n import fmt_date, fmt_datetime, fmt_int, fmt_pct, fmt_short_date, fmt_time

    moment = datetime(2026, 12, 2, 18, 20)
    assert (fmt_int(12345.4, "zh"), fmt_pct(0.1234, "en"), fmt_int(None)) == (
        "12,345",
        "12.3%",
        "—",
    )
    assert fmt_date(date(2026, 11, 22), "zh") == "2026年11月22日"
    assert fmt_date(date(2026, 11, 22), "en") == "22 Nov 2026"
    assert fmt_short_date(date(2026, 11, 22), "en") == "22 Nov"
    assert (fmt_time(moment), fmt_datetime(moment, "zh")) == ("18:20", "12月2日 18:20")
    assert fmt_datetime(moment, "en") == "2 Dec 18:20"


def test_a_name_is_shown_in_the_readers_language_with_fallback() -> None:
    from gridcore.i18n import display_name

    assert display_name({"name": "Depot A", "name_zh": "甲仓库"}, "zh") == "甲仓库"
    assert display_name({"name": "Depot A", "name_zh": "甲仓库"}, "en") == "Depot A"
    assert display_name({"name": "Depot A", "name_zh": None}, "zh") == "Depot A"
    assert display_name({"name": "", "name_zh": "甲仓库"}, "en") == "甲仓库"
    assert display_name({"name": None, "name_zh": float("nan")}, "en") == ""


def test_a_named_pair_of_columns_a_frame_and_a_text_parameter_use_the_same_fallback() -> None:
    import pandas as pd

    from gridcore.i18n import Named, display_name, display_names
    from gridcore.models import TestSite

    site = TestSite(round_id=1, name="Site A", name_zh="甲采样点")
    assert (display_name(site, "zh"), display_name(site, "zh-CN"), display_name(site)) == (
        "甲采样点", "甲采样点", "Site A",
    )  # fmt: skip
    row = {"building": "No. 1, Lane 151", "building_zh": None}
    assert display_name(row, "zh", "building") == "No. 1, Lane 151"
    frame = pd.DataFrame({"site_name": ["A", "B", ""], "site_name_zh": ["甲", None, "丙"]})
    assert display_names(frame, "zh", "site_name") == ["甲", "B", "丙"]
    assert display_names(frame, "en", "site_name") == ["A", "B", "丙"]
    # A frame without the Chinese column shows the one name in both languages.
    assert display_names(frame[["site_name"]], "zh", "site_name") == ["A", "B", ""]
    depot = Named("Grid 1-1 depot", "一号网格物资点")
    assert t("tpage.round_open", "zh", name=depot) == "一号网格物资点 · 进行中"
    assert t("tpage.round_open", "en", name=depot) == "Grid 1-1 depot · open"
    assert t("tpage.round_open", "zh", name=Named("Round 3")) == "Round 3 · 进行中"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_numbers_read_as_the_locale_writes_them(lang: str) -> None:
    """The quick path for numbers gives what Babel's locale pattern gives, signs, zeros and
    halves included."""
    values = [0, -0.0, 0.05, -0.04, 0.5, 1.5, 2.5, 12.25, 999.95, -1234.5, 1234567.891, 1e20]
    values += [v * 7919.37 for v in range(-500, 500)]
    for digits in (0, 1, 2):
        pattern, locale = i18n._number_format(digits, lang)
        for value in values:
            shown = round(value, digits)
            assert i18n._number(shown, digits, lang) == pattern.apply(shown, locale), value
    assert i18n.fmt_int(1234567, lang) == "1,234,567"
    assert i18n.fmt_num(-1234.56, lang) == "-1,234.6"
