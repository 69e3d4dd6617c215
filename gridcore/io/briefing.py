"""The briefing (gridcore.briefing) written out: a PDF (fpdf2) or a printable HTML page.

Both walk the same sections in the same order. The PDF embeds a Chinese TrueType font
(briefing.cjk_font: WenQuanYi Zen Hei from fonts-wqy-zenhei when installed); without one
it cannot draw Chinese, so it is written in English and says so on its first page instead
of printing empty boxes. The HTML page escapes every text and inlines its charts, so it
prints the same offline.
"""

from __future__ import annotations

import base64
import html
import io
import string
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from gridcore.briefing import Briefing, Section, Table, cjk_font, make_briefing, quiet
from gridcore.config import local_now
from gridcore.i18n import normalise_language, t

FORMATS: tuple[str, ...] = ("pdf", "html")
MIME_TYPES: dict[str, str] = {"pdf": "application/pdf", "html": "text/html"}
FONT = "briefing"
FALLBACK_FONT = "helvetica"  # fpdf2's built-in font: Latin-1 only


def briefing_bytes(
    *, session: Session, lang: str, fmt: str = "pdf", now: datetime | None = None
) -> bytes:
    """The briefing as of `now` (default: now), in `lang` ('zh' or 'en'), as a PDF or HTML page."""
    font = cjk_font()
    lang = normalise_language(lang)
    notice = None
    if font is None and fmt == "pdf":
        # No font to draw Chinese with: English, with the reason on the first page.
        notice = t("brief.no_cjk_font", "en")
        lang = "en"
    briefing = make_briefing(session=session, lang=lang, now=now or local_now(), font=font)
    if fmt == "html":
        return briefing_html(briefing).encode("utf-8")
    return briefing_pdf(briefing, font=font, notice=notice)


def file_name(briefing_day: str, fmt: str) -> str:
    """'briefing-2026-03-21.pdf'."""
    return f"briefing-{briefing_day}.{fmt}"


# --------------------------------------------------------------------------- PDF


def _latin(text: str) -> str:
    """Text the built-in font can draw (only used when no Chinese font exists)."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _texts(briefing: Briefing, notice: str | None) -> Iterator[str]:
    """Every text the PDF draws (the font is cut down to their characters)."""
    yield from (briefing.title, briefing.subtitle, briefing.footer, notice or "", BULLET)
    yield string.printable + t("brief.more_rows", briefing.lang, n=0)
    for section in briefing.sections:
        yield section.heading
        yield from section.lines
        if section.table is not None:
            yield from section.table.header
            yield from (cell for row in section.table.rows for cell in row)


def _font_subset(font: Path, text: str, folder: Path) -> Path:
    """`font` cut down to the characters of `text`, as a TrueType file in `folder`.

    A Chinese font holds some 30,000 glyphs: reading all of it takes fpdf2 about a second
    per document, the few hundred the briefing uses a tenth of that.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    with quiet("fontTools"):
        loaded = TTFont(str(font), fontNumber=0, lazy=True, recalcTimestamp=False)
        options = subset.Options()
        options.layout_features = []
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.hinting = False  # hints are for screens at small sizes; print needs none
        # Embedded bitmaps are for screens at tiny sizes; the subsetter cannot cut them.
        options.drop_tables += ["EBDT", "EBLC", "EBSC", "BDF", "FFTM"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(loaded)
        path = folder / "briefing-font.ttf"
        loaded.save(str(path))
    return path


BULLET = "· "


def briefing_pdf(briefing: Briefing, *, font: Path | None, notice: str | None = None) -> bytes:
    """The briefing as an A4 PDF: title, date and time, the sections, a footer on every page."""
    with tempfile.TemporaryDirectory(prefix="gridcore-briefing-") as folder:
        subset = (
            None
            if font is None
            else _font_subset(font, "".join(_texts(briefing, notice)), Path(folder))
        )
        with quiet("fpdf"), quiet("fontTools"):
            return _PdfWriter(briefing, subset).write(notice)


class _PdfWriter:
    """One briefing laid out on A4 pages by fpdf2."""

    def __init__(self, briefing: Briefing, font: Path | None) -> None:
        from fpdf import FPDF

        self.briefing = briefing
        self.clean = (lambda s: s) if font is not None else _latin
        footer = briefing.footer
        clean = self.clean

        class _Pdf(FPDF):
            def footer(self) -> None:
                self.set_y(-12)
                self.set_font(size=8)
                self.set_text_color(110, 110, 110)
                self.cell(0, 6, clean(f"{footer} · {self.page_no()}/{{nb}}"), align="C")

        self.pdf = _Pdf(format="A4")
        if font is not None:
            self.pdf.add_font(FONT, fname=str(font))
        self.pdf.set_font(FONT if font is not None else FALLBACK_FONT, size=10)

    def write(self, notice: str | None) -> bytes:
        pdf, b = self.pdf, self.briefing
        pdf.set_title(self.clean(b.title))
        pdf.set_creator("GridCore")
        pdf.set_creation_date(b.made_at)
        pdf.set_auto_page_break(auto=True, margin=16)
        pdf.add_page()
        self.text(b.title, size=18, height=9)
        self.text(b.subtitle, colour=(80, 80, 80))
        if notice:
            pdf.ln(2)
            pdf.set_fill_color(255, 236, 179)
            pdf.multi_cell(0, 6, self.clean(notice), fill=True, new_x="LMARGIN", new_y="NEXT")
        for section in b.sections:
            self.section(section)
        return bytes(pdf.output())

    def text(
        self, value: str, *, size: float = 10, height: float = 6,
        colour: tuple[int, int, int] = (0, 0, 0),
    ) -> None:  # fmt: skip
        self.pdf.set_font(size=size)
        self.pdf.set_text_color(*colour)
        self.pdf.multi_cell(0, height, self.clean(value), align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_font(size=10)

    def section(self, section: Section) -> None:
        pdf = self.pdf
        # A heading never sits alone at the foot of a page.
        if pdf.will_page_break(40 if section.image is None else 90):
            pdf.add_page()
        pdf.ln(4)
        self.text(section.heading, size=13, height=8, colour=(21, 101, 192))
        bullet = BULLET if len(section.lines) > 1 else ""
        for line in section.lines:
            self.text(bullet + line, height=5.5)
        if section.image is not None:
            pdf.ln(1)
            pdf.image(io.BytesIO(section.image), w=pdf.epw * 0.8)
        if section.table is not None:
            pdf.ln(2)
            self.table(section.table)

    def table(self, table: Table) -> None:
        from fpdf.fonts import FontFace

        pdf = self.pdf
        pdf.set_font(size=9)
        with pdf.table(
            headings_style=FontFace(fill_color=(236, 239, 241)),
            line_height=5.5,
            text_align="LEFT",
            col_widths=table.widths,
        ) as grid:
            for values in (table.header, *table.rows):
                row = grid.row()
                for value in values:
                    row.cell(self.clean(value))
        pdf.set_font(size=10)
        if table.more:
            self.text(t("brief.more_rows", self.briefing.lang, n=table.more), size=9, height=5,
                      colour=(90, 90, 90))  # fmt: skip


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:"WenQuanYi Zen Hei","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",
 Arial,sans-serif;color:#212121;max-width:190mm;margin:12mm auto;font-size:11pt}
h1{font-size:20pt;margin:0 0 2mm}h2{font-size:14pt;color:#1565C0;background:#ECEFF1;
 padding:1mm 2mm;margin:6mm 0 2mm;break-after:avoid}
.sub{color:#505050}.footer{color:#6E6E6E;font-size:9pt;margin-top:8mm;text-align:center}
table{border-collapse:collapse;width:100%;font-size:10pt;margin:2mm 0}
th,td{border:1px solid #B0BEC5;padding:1mm 2mm;text-align:left;vertical-align:top}
th{background:#ECEFF1}img{max-width:100%}section{break-inside:avoid-page}
@media print{body{margin:0 auto}}
"""


def briefing_html(briefing: Briefing) -> str:
    """The briefing as one printable HTML page (charts inlined, every text escaped)."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if briefing.lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{esc(briefing.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(briefing.title)}</h1>",
        f'<p class="sub">{esc(briefing.subtitle)}</p>',
    ]
    for section in briefing.sections:
        parts.append(f'<section id="{esc(section.key)}"><h2>{esc(section.heading)}</h2>')
        if len(section.lines) > 1:
            parts.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in section.lines) + "</ul>")
        elif section.lines:
            parts.append(f"<p>{esc(section.lines[0])}</p>")
        if section.image is not None:
            data = base64.b64encode(section.image).decode("ascii")
            parts.append(f'<img alt="{esc(section.heading)}" src="data:image/png;base64,{data}">')
        if section.table is not None:
            table = section.table
            head = "".join(f"<th>{esc(h)}</th>" for h in table.header)
            body = "".join(
                "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in table.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            if table.more:
                more = t("brief.more_rows", briefing.lang, n=table.more)
                parts.append(f'<p class="sub">{esc(more)}</p>')
        parts.append("</section>")
    parts.append(f'<p class="footer">{esc(briefing.footer)}</p></body></html>')
    return "\n".join(parts)
