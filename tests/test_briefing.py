"""The command meeting briefing on the tiny world: every section in both languages, the known
figures, no personal data, the page without a Chinese font, and `python -m gridcore brief`.

Answers from gridcore/demo/tiny.py: understaffed grids T-C1-G2 (no full-time worker) and
T-C2-G1 (10 households for 1 full-time worker, standard 5); "now" is the anchor day at 12:00.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli
from pypdf import PdfReader
from sqlmodel import Session, select
from tiny_world import TinyWorld

from gridcore import briefing
from gridcore.config import local_now
from gridcore.i18n import fmt_date, t
from gridcore.io import briefing as briefing_io
from gridcore.models import Contact, Resident, Worker
from tests.factories import make_case, make_street_with_grids

HAN = re.compile(r"[\u4e00-\u9fff]")


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def _personal(session: Session) -> list[str]:
    """Every name and phone of a resident, worker or contact in the world."""
    found: set[str] = set()
    for model in (Resident, Worker, Contact):
        for row in session.exec(select(model)).all():
            found |= {str(v) for v in (getattr(row, "name", None), row.phone) if v}
    return sorted(found)


def _squeezed(text: str) -> str:
    """Text without whitespace: a PDF may break a name across lines."""
    return re.sub(r"\s+", "", text)


def _section(text: str, key: str, lang: str) -> str:
    """The squeezed text of one section: from its heading to the next section's heading."""
    keys = list(briefing.SECTIONS)
    end = text.rindex(_squeezed(t(f"brief.{keys[keys.index(key) + 1]}", lang)))
    return text[text.rindex(_squeezed(t(f"brief.{key}", lang)), 0, end) : end]


def test_the_briefing_in_both_languages(tiny: TinyWorld, tiny_session: Session) -> None:
    personal = _personal(tiny_session)
    assert len(personal) > 100, "the tiny world has residents with names and phones"
    font = briefing.cjk_font()
    assert font is not None, "make browser-deps (or make run) installs fonts-wqy-zenhei"
    for lang in ("zh", "en"):
        made = briefing.make_briefing(session=tiny_session, lang=lang, now=tiny.now, font=font)
        pdf = briefing_io.briefing_pdf(made, font=font)
        assert pdf.startswith(b"%PDF")
        text = _text(pdf)
        squeezed = _squeezed(text)
        assert t("brief.title", lang) in text
        for key in briefing.SECTIONS:
            assert t(f"brief.{key}", lang) in text, (lang, key)
        # Dated and timed: the anchor day at 12:00 local time.
        assert f"{fmt_date(tiny.anchor, lang)} 12:00" in text
        understaffed = _section(squeezed, "understaffed", lang)
        assert re.findall(r"T-C\d-G\d", understaffed) == ["T-C1-G2", "T-C2-G1"]
        if lang == "zh":
            assert len(HAN.findall(text)) > 200
            assert "第一社区2号网格" in squeezed  # grid names in Chinese
        else:
            assert not HAN.search(text)
        leaked = [p for p in personal if _squeezed(p) in squeezed]
        assert leaked == [], lang
    # The printable page: the same sections from the same briefing, and no one's name either.
    page = briefing_io.briefing_html(made)
    for key in briefing.SECTIONS:
        assert f'<section id="{key}"><h2>{t(f"brief.{key}", "en")}</h2>' in page
    assert page.count('src="data:image/png;base64,') == 2  # the map and the curve
    assert f"{fmt_date(tiny.anchor, 'en')} 12:00" in page
    assert [p for p in personal if p in page] == []


def test_the_command_writes_the_briefing(
    tiny_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "briefing.pdf"
    # Without a Chinese font on the machine, a Chinese briefing says so, in English.
    monkeypatch.setattr(briefing_io, "cjk_font", lambda: None)
    run = run_cli("brief", "--out", str(out), "--lang", "zh", url=tiny_url)
    assert run.code == 0, run
    assert str(out) in run.out
    text = _text(out.read_bytes())
    assert "No Chinese font was found" in text
    assert t("brief.title", "en") in text and t("brief.decisions", "en") in text
    assert "???" not in text  # no character the built-in font lacks


def test_the_command_refuses_an_unknown_language(tiny_url: str, tmp_path: Path) -> None:
    out = tmp_path / "briefing.pdf"
    run = run_cli("brief", "--out", str(out), "--lang", "fr", url=tiny_url)
    assert run.code == 2
    assert "unknown language 'fr'" in run.err and "--lang zh" in run.err
    assert not out.exists()


def test_a_second_briefing_with_the_same_figures_draws_no_chart_again(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The charts are kept by what they show: the same figures and language give the same
    PNG without drawing it again; a new case (a changed figure) draws the curve again."""
    drawn: list[str] = []

    def drawing(kind: str) -> Any:
        def draw(*args: Any, **kwargs: Any) -> bytes:
            drawn.append(kind)
            return f"{kind}-{len(drawn)}".encode()

        return draw

    monkeypatch.setattr(briefing, "CHARTS", briefing.ChartCache(max_entries=3))
    monkeypatch.setattr(briefing, "_draw_risk_map", drawing("map"))
    monkeypatch.setattr(briefing, "_draw_curve", drawing("curve"))
    world = make_street_with_grids(session)
    make_case(session, grid=world.grids[0])
    now = local_now()

    def images() -> list[bytes | None]:
        made = briefing.make_briefing(session=session, lang="en", now=now, font=None)
        return [section.image for section in made.sections if section.key in ("map", "curve")]

    first = images()
    assert sorted(drawn) == ["curve", "map"]
    assert images() == first and len(drawn) == 2  # the same figures: nothing drawn
    make_case(session, grid=world.grids[1], found_via="community")
    changed = images()
    assert "curve" in drawn[2:] and changed[1] != first[1]
    # Bounded: three charts kept at most, the least recently used dropped first.
    assert len(briefing.CHARTS) == 3
