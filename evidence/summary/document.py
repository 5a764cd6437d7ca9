"""The evidence summary as a document for a meeting: PDF (reportlab) and Word (python-docx).

Page one is the GRADE summary of findings (``evidence.summary.sof``): title, the question, catalogue
version and date, the table, its lettered footnotes and the certainty legend. The pages after it carry
the plain-language text, the figures (forest plot and posterior, or the harvest plot when nothing
pools), the results as reported, harms, certainty, methods, caveats, studies and risk of bias; the
last page is the provenance (catalogue version, result hash, package versions). Headings keep with the
paragraph after them and tables repeat their header row, so no page holds only a heading.
"""

from __future__ import annotations

import html
import io

import pandas as pd

from evidence.summary.content import EvidenceSummary
from evidence.summary.render import CAPTIONS, _sections, _unicode_styles, figures
from evidence.summary.sof import COLUMNS, LEGEND, sof_table

#: Column widths of the summary-of-findings table (cm): page one is A4 landscape, 26.7 cm of text width,
#: as GRADEpro prints it; the pages after it are portrait (17 cm).
SOF_WIDTHS = (3.6, 5.4, 3.4, 1.9, 2.6, 9.8)
MARGIN_CM = 1.5
#: Word's font: on every office machine, and metric-compatible Liberation Sans where LibreOffice renders.
FONT = "Arial"
HEADER_FILL = "D9E2EC"


def stamp(summary: EvidenceSummary) -> str:
    return (f"Catalogue version {summary.catalog_version} · generated {summary.generated.isoformat()} · "
            f"certainty drafted with the project's GRADE-style rules")


def provenance_rows(summary: EvidenceSummary) -> list[tuple[str, str]]:
    rows = [("Catalogue version", str(summary.catalog_version)), ("Generated", summary.generated.isoformat())]
    if summary.result is not None:
        rows.append(("Result hash", summary.result.hash))
    rows += [(f"Package: {k}", str(v)) for k, v in summary.versions.items()]
    return rows


def rob_rows(summary: EvidenceSummary) -> list[list[str]]:
    rob = summary.rob_table
    return [list(map(str, rob.columns))] + [["" if pd.isna(v) else str(v) for v in row] for row in rob.itertuples(index=False)]


# -- PDF -----------------------------------------------------------------------------------------

def to_pdf(summary: EvidenceSummary) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import (
        BaseDocTemplate,
        Frame,
        Image,
        KeepTogether,
        NextPageTemplate,
        PageBreak,
        PageTemplate,
        Paragraph,
        Spacer,
        Table,
        TableStyle,
    )

    styles = _unicode_styles(getSampleStyleSheet())
    for name in ("Heading1", "Heading2", "Heading3"):
        styles[name].keepWithNext = 1
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=7.8, leading=9.3)
    head = ParagraphStyle("head", parent=small, fontName="DejaVu-Bold")
    note = ParagraphStyle("note", parent=small, fontSize=7, leading=8.5)
    title = ParagraphStyle("title", parent=styles["Title"], fontSize=14, leading=17, spaceBefore=0, spaceAfter=4)
    e = html.escape
    grid = [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    shaded = [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#" + HEADER_FILL))]

    def pairs(rows, widths, across: int = 1):
        """(label, text) rows as a table, ``across`` pairs to a line (the question fits in two lines)."""
        cells = [[Paragraph(e(a), head), Paragraph(e(b), small)] for a, b in rows]
        lines = [sum(cells[i:i + across], []) for i in range(0, len(cells), across)]
        lines[-1] += [""] * (2 * across - len(lines[-1]))
        t = Table(lines, colWidths=widths * across)
        t.setStyle(TableStyle(grid))
        return t

    def page_number(canvas, doc):
        canvas.saveState()
        canvas.setFont("DejaVu", 7)
        canvas.drawRightString(canvas._pagesize[0] - MARGIN_CM * cm, 0.8 * cm, f"{summary.title} · page {doc.page}")
        canvas.restoreState()

    rows, notes = sof_table(summary.cards)
    m = MARGIN_CM * cm
    story = [NextPageTemplate("portrait"), Paragraph(e(summary.title), title),
             pairs(summary.question, [2.4 * cm, sum(SOF_WIDTHS) * cm / 2 - 2.4 * cm], across=2), Spacer(1, 3),
             Paragraph(e(stamp(summary)), note),
             # not kept with the table: a table taller than the rest of the page may then start here
             Paragraph("Summary of findings", ParagraphStyle("sof", parent=styles["Heading2"], keepWithNext=0))]
    sof = Table([[Paragraph(e(c), head) for c in COLUMNS]] + [[Paragraph(e(c), small) for c in r.cells()] for r in rows],
                colWidths=[w * cm for w in SOF_WIDTHS], repeatRows=1)
    sof.setStyle(TableStyle(grid + shaded))
    story += [sof, Spacer(1, 4)]
    story += [Paragraph(e(f"[{letter}] {text}"), note) for letter, text in notes]
    story += [Spacer(1, 3), Paragraph(e(LEGEND), note), PageBreak()]
    for i, (heading, paras) in enumerate(_sections(summary)):
        story.append(Paragraph(e(heading), styles["Heading2"]))
        story += [Paragraph(e(("• " if len(paras) > 1 else "") + p), styles["Normal"]) for p in paras]
        if i == 0:  # the synthesis' figures right after what the evidence says
            for name, png in figures(summary).items():
                img = Image(io.BytesIO(png))
                scale = min(17 * cm / img.drawWidth, 12 * cm / img.drawHeight)
                img.drawWidth, img.drawHeight = img.drawWidth * scale, img.drawHeight * scale
                caption = [Paragraph(e(CAPTIONS[name]), note)] if name in CAPTIONS else []
                story.append(KeepTogether([Paragraph(e(name), styles["Heading2"]), img, *caption]))
    story.append(Paragraph("Studies", styles["Heading2"]))
    story += [Paragraph(e(f"{i}. {r['text']}"), styles["Normal"]) for i, r in enumerate(summary.references, 1)]
    if len(summary.rob_table):
        story.append(Paragraph("Risk of bias", styles["Heading2"]))
        t = Table([[Paragraph(e(c), small) for c in row] for row in rob_rows(summary)], repeatRows=1)
        t.setStyle(TableStyle(grid + shaded))
        story.append(t)
    story += [Paragraph("Provenance", styles["Heading2"]), pairs(provenance_rows(summary), [4 * cm, 13 * cm])]
    buf = io.BytesIO()
    wide, tall = landscape(A4), A4
    doc = BaseDocTemplate(buf, pagesize=wide, title=summary.title, author="Child-labour evidence", invariant=1)
    doc.addPageTemplates([
        PageTemplate("landscape", [Frame(m, m, wide[0] - 2 * m, wide[1] - 2 * m, id="sof")], onPage=page_number,
                     pagesize=wide),
        PageTemplate("portrait", [Frame(2 * cm, 1.6 * cm, tall[0] - 4 * cm, tall[1] - 3.2 * cm, id="body")],
                     onPage=page_number, pagesize=tall)])
    doc.build(story)
    return buf.getvalue()


# -- Word ----------------------------------------------------------------------------------------

def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _row_flags(row, header: bool = False) -> None:
    """Rows never split across pages; the header row repeats on each page."""
    from docx.oxml import OxmlElement

    pr = row._tr.get_or_add_trPr()
    pr.append(OxmlElement("w:cantSplit"))
    if header:
        pr.append(OxmlElement("w:tblHeader"))


def _table(doc, rows: list[list[str]], widths_cm=None, size: float = 8, header: bool = True, bold_first_col: bool = False):
    from docx.shared import Cm, Pt

    t = doc.add_table(rows=len(rows), cols=len(rows[0]))
    t.style = "Table Grid"
    t.autofit = widths_cm is None
    for j, w in enumerate(widths_cm or []):
        t.columns[j].width = Cm(w)  # the grid LibreOffice and Word lay out by
    for i, values in enumerate(rows):
        _row_flags(t.rows[i], header=header and i == 0)
        for j, v in enumerate(values):
            cell = t.cell(i, j)
            if widths_cm:
                cell.width = Cm(widths_cm[j])
            par = cell.paragraphs[0]
            par.paragraph_format.space_after = Pt(0)
            run = par.add_run(v)
            run.font.size = Pt(size)
            run.bold = (header and i == 0) or (bold_first_col and j % 2 == 0)
            if header and i == 0:
                _shade(cell, HEADER_FILL)
    return t


def to_docx(summary: EvidenceSummary) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Cm, Pt

    def page(sec, wide: bool) -> None:
        sec.orientation = WD_ORIENT.LANDSCAPE if wide else WD_ORIENT.PORTRAIT
        sec.page_width, sec.page_height = (Cm(29.7), Cm(21.0)) if wide else (Cm(21.0), Cm(29.7))
        sec.left_margin = sec.right_margin = Cm(MARGIN_CM if wide else 2)
        sec.top_margin = sec.bottom_margin = Cm(MARGIN_CM)

    doc = Document()
    page(doc.sections[0], wide=True)
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        doc.styles[name].font.name = FONT
    doc.styles["Normal"].font.size = Pt(10)
    doc.styles["Title"].font.size = Pt(16)
    doc.styles["Heading 1"].font.size = Pt(13)
    doc.core_properties.title = summary.title

    def small(text: str, size: float = 7) -> None:
        p = doc.add_paragraph()
        p.paragraph_format.space_after = Pt(1)
        p.add_run(text).font.size = Pt(size)

    doc.add_heading(summary.title, level=0)
    q = [list(summary.question[i]) + list(summary.question[i + 1] if i + 1 < len(summary.question) else ("", ""))
         for i in range(0, len(summary.question), 2)]
    half = sum(SOF_WIDTHS) / 2
    _table(doc, q, [2.4, half - 2.4, 2.4, half - 2.4], size=8.5, header=False, bold_first_col=True)
    small(stamp(summary))
    doc.add_heading("Summary of findings", level=1)
    rows, notes = sof_table(summary.cards)
    _table(doc, [list(COLUMNS)] + [r.cells() for r in rows], SOF_WIDTHS, size=8)
    for letter, text in notes:
        small(f"[{letter}] {text}")
    small(LEGEND)
    page(doc.add_section(WD_SECTION.NEW_PAGE), wide=False)
    for i, (heading, paras) in enumerate(_sections(summary)):
        doc.add_heading(heading, level=1)
        for p in paras:
            doc.add_paragraph(p, style="List Bullet" if len(paras) > 1 else None)
        if i == 0:  # the synthesis' figures right after what the evidence says
            for name, png in figures(summary).items():
                doc.add_heading(name, level=1)
                doc.add_picture(io.BytesIO(png), width=Cm(17))
                if name in CAPTIONS:
                    small(CAPTIONS[name], 8)
    doc.add_heading("Studies", level=1)
    for r in summary.references:
        doc.add_paragraph(r["text"], style="List Number")
    if len(summary.rob_table):
        doc.add_heading("Risk of bias", level=1)
        _table(doc, rob_rows(summary), size=8)
    doc.add_heading("Provenance", level=1)
    _table(doc, [list(r) for r in provenance_rows(summary)], [5, 12], size=8, header=False, bold_first_col=True)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
